package main

import (
	"encoding/json"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"herald/channels/telegram/telegramfake"
)

// When a platform's answer makes herald pause a channel (a revoked bot token: every delivery
// would fail the same way), the log at its default level says so, with the channel and the
// reason: the delivery's own line (status paused) is at debug, so at info an operator reading
// the log saw the channel fall silent with no line at all.
func TestPlatformPauseIsLoggedAtWarn(t *testing.T) {
	s := newStack(t)
	data, err := os.ReadFile(s.config)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(s.config, []byte(strings.Replace(string(data), "level: debug", "level: info", 1)), 0o600); err != nil {
		t.Fatal(err)
	}
	p := s.serve()
	waitUntil(t, 10*time.Second, "the start-up check", func() bool {
		resp, err := http.Get("http://" + s.addr + "/readyz")
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		var rd struct{ Channels []struct{ Status string } }
		_ = json.NewDecoder(resp.Body).Decode(&rd)
		return resp.StatusCode == 200 && len(rd.Channels) == 2 && rd.Channels[0].Status == "ok"
	})
	s.fake.SetToken("42:revoked-token")
	if code, body := s.post(`{"id":"pl-1","url":"https://news.example.com/pl-1","title":"خبر"}`, nil); code != http.StatusAccepted {
		t.Fatalf("POST: %d %v", code, body)
	}
	waitUntil(t, 15*time.Second, "tg paused by herald", func() bool {
		out, _, code := runCLI(t, "", "channels", "--json", "--config", s.config)
		var v struct {
			Channels []struct {
				Channel  string `json:"channel"`
				PausedBy string `json:"paused_by"`
			}
		}
		if code != 0 || json.Unmarshal([]byte(out), &v) != nil {
			return false
		}
		for _, c := range v.Channels {
			if c.Channel == "tg" && c.PausedBy == "herald" {
				return true
			}
		}
		return false
	})
	var line map[string]any
	waitUntil(t, 5*time.Second, "a log line saying tg was paused", func() bool {
		for _, l := range strings.Split(p.output(), "\n") {
			var v map[string]any
			if json.Unmarshal([]byte(l), &v) == nil && v["channel"] == "tg" && strings.Contains(strings.ToLower(v["msg"].(string)), "paused") {
				line = v
				return true
			}
		}
		return false
	})
	if line["level"] != "warn" || !strings.Contains(line["reason"].(string), "401") && !strings.Contains(strings.ToLower(line["reason"].(string)), "token") {
		t.Errorf("the pause line: %v", line)
	}
	if strings.Contains(p.output(), telegramfake.DefaultToken) {
		t.Error("the bot token is in the log")
	}
}
