package main

import (
	"encoding/json"
	"net/http"
	"testing"
)

// TestPauseRecordsWhoPaused: a pause with herald pause (directly or through --server) or the
// API says who paused the channel, as one from the bot ("@ops via Telegram") or the dashboard
// does: herald channels and the alert digest showed no one for them.
func TestPauseRecordsWhoPaused(t *testing.T) {
	s := newStack(t)
	pausedBy := func() string {
		t.Helper()
		out, errOut, code := runCLI(t, "", "channels", "--json", "--config", s.config)
		var res struct {
			Channels []struct {
				Channel  string `json:"channel"`
				Paused   bool   `json:"paused"`
				PausedBy string `json:"paused_by"`
			} `json:"channels"`
		}
		if code != 0 || json.Unmarshal([]byte(out), &res) != nil {
			t.Fatalf("channels: exit %d %s %s", code, out, errOut)
		}
		for _, c := range res.Channels {
			if c.Channel == "tg" && c.Paused {
				return c.PausedBy
			}
		}
		t.Fatalf("tg is not paused: %s", out)
		return ""
	}
	resume := func() {
		t.Helper()
		if _, errOut, code := runCLI(t, "", "resume", "--config", s.config, "tg"); code != 0 {
			t.Fatalf("resume: exit %d %s", code, errOut)
		}
	}
	if _, errOut, code := runCLI(t, "", "pause", "--config", s.config, "--by", "desk", "--reason", "مراجعة", "tg"); code != 0 {
		t.Fatalf("pause: exit %d %s", code, errOut)
	}
	if got := pausedBy(); got != "desk via CLI" {
		t.Errorf("herald pause --by desk: paused_by %q, want %q", got, "desk via CLI")
	}
	resume()
	if _, errOut, code := runCLI(t, "", "pause", "--config", s.config, "tg"); code != 0 {
		t.Fatalf("pause: exit %d %s", code, errOut)
	}
	if got, want := pausedBy(), currentUser()+" via CLI"; currentUser() != "" && got != want {
		t.Errorf("herald pause: paused_by %q, want %q (the OS user)", got, want)
	}
	resume()

	s.serve()
	t.Setenv("HERALD_API_TOKEN", testToken)
	if _, errOut, code := runCLI(t, "", "pause", "--server", "http://"+s.addr, "--by", "ops", "tg"); code != 0 {
		t.Fatalf("pause --server: exit %d %s", code, errOut)
	}
	if got := pausedBy(); got != "ops via API" {
		t.Errorf("herald pause --server --by ops: paused_by %q, want %q", got, "ops via API")
	}
	resume()
	if code, out := s.call(http.MethodPost, "/v1/channels/tg/pause?reason=x"); code != 200 {
		t.Fatalf("POST pause: %d %v", code, out)
	}
	if got := pausedBy(); got != "API" {
		t.Errorf("POST /v1/channels/tg/pause: paused_by %q, want %q", got, "API")
	}
}
