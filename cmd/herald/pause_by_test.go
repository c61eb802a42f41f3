package main

import (
	"encoding/json"
	"net/http"
	"strings"
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

// TestPauseOfAPausedChannelSaysTheFirstPauseIsKept: pausing a channel someone already paused
// keeps the first pause (who, why, since); herald pause (directly or through --server) and the
// API now say so, as the bot's /pause does, where they answered "paused" as if this pause's
// reason had been recorded.
func TestPauseOfAPausedChannelSaysTheFirstPauseIsKept(t *testing.T) {
	s := newStack(t)
	if _, errOut, code := runCLI(t, "", "pause", "--config", s.config, "--by", "desk", "--reason", "صيانة", "tg"); code != 0 {
		t.Fatalf("pause: exit %d %s", code, errOut)
	}
	out, errOut, code := runCLI(t, "", "pause", "--config", s.config, "--by", "ops", "--reason", "other", "tg")
	if code != 0 || !strings.Contains(out, "tg was already paused by desk via CLI since ") || !strings.Contains(out, ": صيانة; that pause is kept") {
		t.Errorf("second pause: exit %d %q %s", code, out, errOut)
	}
	s.serve()
	t.Setenv("HERALD_API_TOKEN", testToken)
	out, errOut, code = runCLI(t, "", "pause", "--server", "http://"+s.addr, "--reason", "other", "tg")
	if code != 0 || !strings.Contains(out, "tg was already paused by desk via CLI since ") {
		t.Errorf("second pause --server: exit %d %q %s", code, out, errOut)
	}
	code, body := s.call(http.MethodPost, "/v1/channels/tg/pause?reason=other")
	already, _ := body["already"].(map[string]any)
	if code != 200 || already["by"] != "desk via CLI" || already["reason"] != "صيانة" {
		t.Errorf("POST pause of a paused channel: %d %v; want already: the first pause", code, body)
	}
	if _, errOut, code := runCLI(t, "", "resume", "--config", s.config, "tg"); code != 0 {
		t.Fatalf("resume: exit %d %s", code, errOut)
	}
	if code, body := s.call(http.MethodPost, "/v1/channels/tg/pause"); code != 200 || body["already"] != nil {
		t.Errorf("POST pause of a running channel: %d %v; want no already", code, body)
	}
}
