package main

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"herald/config"
)

func TestPauseWithCLIResumeWithAPI(t *testing.T) {
	s := newStack(t)
	if out, errOut, exit := runCLI(t, "", "pause", "--config", s.config, "--reason", "editorial review", "tg"); exit != 0 || !strings.Contains(out, "paused tg") {
		t.Fatalf("pause: exit %d %s %s", exit, out, errOut)
	}
	if _, errOut, exit := runCLI(t, "", "pause", "--config", s.config, "nope"); exit != 2 || !strings.Contains(errOut, `"nope" is not a configured channel`) {
		t.Fatalf("pausing an unknown channel: exit %d %s", exit, errOut)
	}
	s.serve()
	for _, id := range []string{"p-1", "p-2"} {
		if code, out := s.post(`{"id":"`+id+`","url":"https://news.example.com/`+id+`","title":"خبر `+id+`"}`, nil); code != 202 {
			t.Fatalf("POST: %d %v", code, out)
		}
	}
	out, _, exit := runCLI(t, "", "channels", "--json", "--config", s.config)
	var infos struct{ Channels []map[string]any } // the shape of GET /v1/channels
	if exit != 0 || json.Unmarshal([]byte(out), &infos) != nil || len(infos.Channels) != 2 {
		t.Fatalf("channels: exit %d %s", exit, out)
	}
	waitUntil(t, 5*time.Second, "both queued", func() bool {
		code, body := s.call(http.MethodGet, "/v1/channels")
		chs, _ := body["channels"].([]any)
		if code != 200 || len(chs) != 2 {
			return false
		}
		c := chs[0].(map[string]any)
		// A paced channel is sent for by one process, the sender lease's holder: this serve.
		sender, _ := c["sender"].(map[string]any)
		owner, _ := sender["owner"].(string)
		return c["pending"] == float64(2) && c["paused"] == true && c["pause_reason"] == "editorial review" && c["rate"] == "20/min" &&
			strings.Contains(owner, ":")
	})
	if out, _, exit := runCLI(t, "", "channels", "--config", s.config); exit != 0 || !strings.Contains(out, "SENDER") || strings.Contains(out, "none (no process holds the lease)") {
		t.Fatalf("channels: exit %d\n%s", exit, out)
	}
	// The worker is live: an article for tg2, published after, goes out while tg stays silent.
	if code, out := s.post(`{"id":"live","url":"https://news.example.com/live","title":"خبر","channels":["tg2"]}`, nil); code != 202 {
		t.Fatalf("POST: %d %v", code, out)
	}
	waitUntil(t, 10*time.Second, "tg2 delivery", func() bool { return deliveryStatus(s.status("live")) == "sent" })
	if n := len(s.sends()); n != 1 {
		t.Fatalf("%d requests to Telegram, want only tg2's one while tg is paused", n)
	}
	if code, _ := s.call(http.MethodPost, "/v1/channels/tg/resume"); code != 200 {
		t.Fatalf("resume: %d", code)
	}
	for _, id := range []string{"p-1", "p-2"} {
		waitUntil(t, 10*time.Second, id+" sent", func() bool { return deliveryStatus(s.status(id)) == "sent" })
	}
	if n := len(s.fake.Messages()); n != 3 {
		t.Fatalf("%d messages after resume, want 3 (two for tg, one for tg2)", n)
	}
	if code, _ := s.call(http.MethodPost, "/v1/channels/nope/pause"); code != 404 {
		t.Fatalf("pausing an unknown channel over HTTP: %d", code)
	}
}

func TestRetryParkedDeliveryFromCLI(t *testing.T) {
	s := newStack(t)
	s.serve()
	// Telegram answers 504 after accepting nothing we can see: the outcome is unknown → parked.
	s.fake.FailNext(1, 504, "Gateway Timeout")
	if code, out := s.post(`{"id":"park-1","url":"https://news.example.com/park","title":"خبر"}`, nil); code != 202 {
		t.Fatalf("POST: %d %v", code, out)
	}
	waitUntil(t, 10*time.Second, "unknown", func() bool { return deliveryStatus(s.status("park-1")) == "unknown" })
	if _, errOut, exit := runCLI(t, "", "repost", "--config", s.config, "nope", "tg"); exit != 3 {
		t.Fatalf("repost of a missing article: exit %d %s", exit, errOut)
	}
	if out, errOut, exit := runCLI(t, "", "retry", "--config", s.config, "park-1", "tg"); exit != 0 || !strings.Contains(out, `"status": "pending"`) {
		t.Fatalf("retry: exit %d %s %s", exit, out, errOut)
	}
	waitUntil(t, 10*time.Second, "sent", func() bool { return deliveryStatus(s.status("park-1")) == "sent" })
	if code, out := s.call(http.MethodPost, "/v1/articles/park-1/deliveries/tg/retry"); code != 409 {
		t.Fatalf("retrying a sent delivery over HTTP: %d %v", code, out)
	}
	if code, out := s.call(http.MethodPost, "/v1/articles/park-1/deliveries/tg/repost"); code != 202 || out["revision"] != float64(2) {
		t.Fatalf("repost over HTTP: %d %v", code, out)
	}
	waitUntil(t, 10*time.Second, "reposted", func() bool { return len(s.fake.Messages()) == 2 })
}

func TestExampleConfigLoads(t *testing.T) {
	t.Setenv("HERALD_API_TOKEN", "x")
	t.Setenv("HERALD_CH_TG_MAIN_TOKEN", "1:main")
	t.Setenv("TG_BREAKING_TOKEN", "2:breaking")
	cfg, err := config.Load("../../herald.example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.Channels) == 0 || cfg.Channels[0].Limit.Count != 20 || len(cfg.Routes) == 0 {
		t.Fatalf("example config: %+v", cfg)
	}
	if _, err := buildRoutes(cfg, nopLogger(), http.DefaultClient); err != nil {
		t.Fatalf("example channels do not build: %v", err)
	}
}

func TestRedisPasswordNeverInErrors(t *testing.T) {
	for _, u := range []string{
		"redis://:s3cret-pw@127.0.0.1:1/0",      // refused connection
		"redis://user:s3cret-pw@[::1/0",         // unparsable: url.Parse quotes the URL
		"rediss://user:s3cret-pw@127.0.0.1:1/x", // bad database
	} {
		_, err := openRedis(context.Background(), u)
		if err == nil || strings.Contains(err.Error(), "s3cret-pw") {
			t.Fatalf("%v", err)
		}
	}
}
