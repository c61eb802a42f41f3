package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"herald/channels"
	"herald/channels/mastodon/mastodonfake"
	"herald/config"
	"herald/queue"
)

// TestFormatMastodonShowsTheStatusRequest: herald format --channel mastodon prints the request
// the channel sends (the Idempotency-Key, the status in the article's language), the token
// hidden; with --config, the configured channel's instance and visibility.
func TestFormatMastodonShowsTheStatusRequest(t *testing.T) {
	t.Setenv("HERALD_CONFIG", "")
	reqs, _ := formatRequests(t, "--channel", "mastodon", "-")
	if len(reqs) != 1 || reqs[0].URL != "https://mastodon.social/api/v1/statuses" || reqs[0].Header["Authorization"] != "Bearer <redacted>" ||
		reqs[0].Header["Idempotency-Key"] == "" || !strings.Contains(reqs[0].Body, "language=ar") {
		t.Fatalf("mastodon: %+v", reqs)
	}
	dir := t.TempDir()
	cfg := filepath.Join(dir, "herald.yaml")
	doc := `channels:
  - name: masto-ar
    kind: mastodon
    settings: {instance: "https://masto.example.org", access_token: masto-secret-token-4242, visibility: unlisted}
`
	if err := os.WriteFile(cfg, []byte(doc), 0o600); err != nil {
		t.Fatal(err)
	}
	reqs, from := formatRequests(t, "--config", cfg, "--channel", "masto-ar", "-")
	b, _ := json.Marshal(reqs)
	if len(reqs) != 1 || reqs[0].URL != "https://masto.example.org/api/v1/statuses" || strings.Contains(string(b), "masto-secret-token-4242") || !strings.Contains(from, "masto-ar") {
		t.Fatalf("configured mastodon: %s (%s)", b, from)
	}
	if form, err := url.ParseQuery(reqs[0].Body); err != nil || form.Get("visibility") != "unlisted" || !strings.Contains(form.Get("status"), "التفاصيل") {
		t.Fatalf("body %q: %v", reqs[0].Body, err)
	}
}

// TestMastodonChannelFromConfigIsChecked: a mastodon channel built from a config, with its token
// from HERALD_CH_<NAME>_ACCESS_TOKEN, passes the start-up check (herald serve, herald doctor)
// against the server, and a wrong token fails it.
func TestMastodonChannelFromConfigIsChecked(t *testing.T) {
	fake := mastodonfake.New()
	defer fake.Close()
	dir := t.TempDir()
	path := filepath.Join(dir, "herald.yaml")
	doc := fmt.Sprintf(`channels:
  - name: masto-ar
    kind: mastodon
    settings: {instance: %q}
  - name: masto-bad
    kind: mastodon
    settings: {instance: %q, access_token: not-the-token}
`, fake.URL(), fake.URL())
	if err := os.WriteFile(path, []byte(doc), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("HERALD_CH_MASTO_AR_ACCESS_TOKEN", mastodonfake.DefaultToken)
	cfg, err := config.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	routes := map[channels.Name]queue.Route{}
	for _, name := range []channels.Name{"masto-ar", "masto-bad"} {
		c, ok := cfg.Channel(string(name))
		if !ok {
			t.Fatalf("no channel %s", name)
		}
		ch, err := channels.New(c.Spec, channels.Env{})
		if err != nil {
			t.Fatal(err)
		}
		routes[name] = queue.Route{Channel: ch}
	}
	core, logs := observer.New(zapcore.InfoLevel)
	select {
	case <-checkChannels(context.Background(), zap.New(core), routes):
	case <-time.After(30 * time.Second):
		t.Fatal("checks did not finish")
	}
	warn := logs.FilterMessageSnippet("channel check failed").All()
	ok := logs.FilterMessageSnippet("channel check passed").All()
	if len(warn) != 1 || warn[0].ContextMap()["channel"] != "masto-bad" || len(ok) != 1 || ok[0].ContextMap()["channel"] != "masto-ar" {
		t.Fatalf("warnings %+v, passes %+v", warn, ok)
	}
	if !strings.Contains(fmt.Sprint(warn[0].ContextMap()), "The access token is invalid") {
		t.Fatalf("the warning does not say why: %+v", warn[0].ContextMap())
	}
}

// TestDoctorComparesTheMastodonLimit: herald doctor reads each Mastodon server's status limit
// and compares it with the channel's format limit: over it fails (long posts would get 422),
// under it says how to use the room; a refused token gets Mastodon's own advice, once.
func TestDoctorComparesTheMastodonLimit(t *testing.T) {
	fake := mastodonfake.New()
	defer fake.Close()
	fake.SetMaxCharacters(1000)
	path := filepath.Join(t.TempDir(), "herald.yaml")
	doc := fmt.Sprintf(`channels:
  - name: masto-default
    kind: mastodon
    settings: {instance: %[1]q, access_token: %[2]q}
  - name: masto-over
    kind: mastodon
    format: {limit: 2000}
    settings: {instance: %[1]q, access_token: %[2]q}
  - name: masto-same
    kind: mastodon
    format: {limit: 1000}
    settings: {instance: %[1]q, access_token: %[2]q}
  - name: masto-revoked
    kind: mastodon
    settings: {instance: %[1]q, access_token: revoked-token-000}
`, fake.URL(), mastodonfake.DefaultToken)
	if err := os.WriteFile(path, []byte(doc), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	byArea := map[string][]finding{}
	for _, f := range doctorChannels(context.Background(), cfg) {
		byArea[f.Area] = append(byArea[f.Area], f)
	}
	want := map[string][]string{
		"channel masto-default": {"ok mastodon: credentials and destination work", "ok the server allows 1000 characters, posts are cut to 500 (set format: {limit: 1000}"},
		"channel masto-over":    {"ok mastodon: credentials and destination work", "fail format.limit 2000 is over the server's 1000 characters"},
		"channel masto-same":    {"ok mastodon: credentials and destination work", "ok format.limit 1000 is the server's limit"},
		"channel masto-revoked": {"fail mastodon: channel must pause: auth: mastodon: checking the access token: 401 The access token is invalid"},
	}
	for area, lines := range want {
		got := byArea[area]
		if len(got) != len(lines) {
			t.Errorf("%s: findings %+v, want %d", area, got, len(lines))
			continue
		}
		for i, l := range lines {
			if s := got[i].Level + " " + got[i].Detail; !strings.HasPrefix(s, l) {
				t.Errorf("%s: finding %q, want it to start %q", area, s, l)
			}
		}
	}
	if f := byArea["channel masto-over"]; len(f) == 2 && f[1].Advice != "set format: {limit: 1000} on this channel" {
		t.Errorf("advice %q", f[1].Advice)
	}
	if f := byArea["channel masto-revoked"]; len(f) == 1 && !strings.Contains(f[0].Advice, "Preferences → Development") {
		t.Errorf("advice %q", f[0].Advice)
	}
}
