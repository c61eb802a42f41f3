package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"herald/channels/bluesky/blueskyfake"
	"herald/config"
)

func blueskyConfig(t *testing.T, fake *blueskyfake.Server) string {
	t.Helper()
	cfg := filepath.Join(t.TempDir(), "herald.yaml")
	doc := fmt.Sprintf(`channels:
  - name: bsky
    kind: bluesky
    settings: {service: %q, identifier: %q, app_password: %q}
`, fake.URL(), blueskyfake.DefaultHandle, blueskyfake.DefaultPassword)
	if err := os.WriteFile(cfg, []byte(doc), 0o600); err != nil {
		t.Fatal(err)
	}
	return cfg
}

// TestFormatShowsBlueskyRequests: herald format --channel bluesky prints the session and
// createRecord requests, the app password hidden, with the example or the configured settings.
func TestFormatShowsBlueskyRequests(t *testing.T) {
	t.Setenv("HERALD_CONFIG", "")
	reqs, from := formatRequests(t, "--channel", "bluesky", "-")
	if len(reqs) != 2 || !strings.HasSuffix(reqs[0].URL, "/xrpc/com.atproto.server.createSession") || !strings.Contains(reqs[0].Body, `"password":"<redacted>"`) ||
		!strings.HasSuffix(reqs[1].URL, "/xrpc/com.atproto.repo.createRecord") || !strings.Contains(reqs[1].Body, `"$type":"app.bsky.feed.post"`) || !strings.Contains(from, "example") {
		t.Fatalf("bluesky: %+v (%s)", reqs, from)
	}
	fake := blueskyfake.New()
	defer fake.Close()
	reqs, from = formatRequests(t, "--config", blueskyConfig(t, fake), "--channel", "bsky", "-")
	b, _ := json.Marshal(reqs)
	if len(reqs) != 2 || !strings.HasPrefix(reqs[1].URL, fake.URL()) || strings.Contains(string(b), blueskyfake.DefaultPassword) || !strings.Contains(from, "bsky") {
		t.Fatalf("configured bluesky channel: %s (%s)", b, from)
	}
	if len(fake.Requests()) != 0 {
		t.Fatalf("herald format called the PDS: %+v", fake.Requests())
	}
}

// TestDoctorChecksBlueskyChannel: doctor logs in and asks getSession; a wrong app password is
// a failure that does not show the password. The password comes from
// HERALD_CH_<NAME>_APP_PASSWORD, not the file.
func TestDoctorChecksBlueskyChannel(t *testing.T) {
	fake := blueskyfake.New()
	defer fake.Close()
	path := filepath.Join(t.TempDir(), "herald.yaml")
	doc := fmt.Sprintf("channels:\n  - name: bsky-main\n    kind: bluesky\n    settings: {service: %q, identifier: %q}\n", fake.URL(), blueskyfake.DefaultDID)
	if err := os.WriteFile(path, []byte(doc), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("HERALD_CH_BSKY_MAIN_APP_PASSWORD", blueskyfake.DefaultPassword)
	cfg, err := config.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	fs := doctorChannels(context.Background(), cfg)
	if len(fs) != 1 || fs[0].Level != "ok" || fake.Count("com.atproto.server.getSession") != 1 {
		t.Fatalf("doctor: %+v", fs)
	}
	fake.SetPassword("rotated-app-password")
	fs = doctorChannels(context.Background(), cfg)
	if len(fs) != 1 || fs[0].Level != "fail" || !strings.Contains(fs[0].Detail, "AuthenticationRequired") || !strings.Contains(fs[0].Advice, "App Password") || strings.Contains(fmt.Sprint(fs), blueskyfake.DefaultPassword) {
		t.Fatalf("doctor with a wrong app password: %+v", fs)
	}
}
