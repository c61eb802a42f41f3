package main

import (
	"bufio"
	"encoding/json"
	stdlog "log"
	"net"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"
	"go.uber.org/zap"

	"herald/channels"
	"herald/metrics"
	"herald/queue"
)

// A burst of 500 delivery outcomes writes 500 delivery lines: the production logger must not
// sample them away (it used to keep 104).
func TestNoSamplingOfDeliveryLines(t *testing.T) {
	// The console format (zap's development config) never sampled; json is production's.
	for _, format := range []string{"json"} {
		t.Run(format, func(t *testing.T) {
			cfg, err := loggerConfig("info", format)
			if err != nil {
				t.Fatal(err)
			}
			path := filepath.Join(t.TempDir(), "log")
			cfg.OutputPaths = []string{path}
			log, err := cfg.Build()
			if err != nil {
				t.Fatal(err)
			}
			for i := range 500 {
				log.Info("delivery", zap.String("article_id", "a"), zap.Int("n", i), zap.String("status", "sent"))
			}
			_ = log.Sync()
			f, err := os.Open(path)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			seen := map[float64]bool{}
			sc := bufio.NewScanner(f)
			for sc.Scan() {
				var line map[string]any
				if json.Unmarshal(sc.Bytes(), &line) == nil && line["msg"] == "delivery" {
					seen[line["n"].(float64)] = true
				}
			}
			if len(seen) != 500 {
				t.Fatalf("%d delivery lines for 500 outcomes", len(seen))
			}
		})
	}
}

// Every line herald serve writes is one of its logger's lines, also what libraries print with
// Go's standard logger: asynq's metrics collector says "Failed to collect metrics data" at each
// scrape while Redis is away, and net/http reports TLS handshake errors and handler panics
// there. Unredirected, those lines came out as plain text between the JSON ones, which a log
// pipeline parsing JSON drops or flags, at the moment (a Redis outage) the operator reads them.
func TestStandardLoggerLinesAreJSON(t *testing.T) {
	cfg, err := loggerConfig("info", "json")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "log")
	cfg.OutputPaths = []string{path}
	log, err := buildLogger(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { stdlog.SetOutput(os.Stderr); stdlog.SetFlags(stdlog.LstdFlags); stdlog.SetPrefix("") })

	// A scrape of /metrics with Redis down: nothing listens on the address.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	_ = ln.Close()
	rdb := redis.NewClient(&redis.Options{Addr: addr, MaxRetries: -1})
	defer rdb.Close()
	m := metrics.New(queue.NewBroker(rdb, queue.Options{}), []queue.ChannelConfig{{Name: "tg", Kind: channels.KindTelegram}})
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	if !strings.Contains(rec.Body.String(), "herald_redis_up 0") {
		t.Fatalf("/metrics with Redis down has no herald_redis_up 0:\n%s", rec.Body)
	}
	_ = log.Sync()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		var v map[string]any
		if err := json.Unmarshal([]byte(line), &v); err != nil {
			t.Errorf("a log line is not JSON: %q", line)
			continue
		}
		if msg, _ := v["msg"].(string); strings.Contains(msg, "Failed to collect metrics data") {
			found = true
			if v["level"] != "warn" {
				t.Errorf("asynq's collector failure logged at %v, want warn: %q", v["level"], line)
			}
		}
	}
	if !found {
		t.Errorf("the collector's failure is not in the log:\n%s", data)
	}
}
