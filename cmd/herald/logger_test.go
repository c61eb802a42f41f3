package main

import (
	"bufio"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"go.uber.org/zap"
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
