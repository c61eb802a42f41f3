package main

import (
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"herald/channels/telegram/telegramfake"
)

// herald serve serves the dashboard on its API address: log in with the API token, see the
// configured channels and a published article, read what the channel's platform receives, and
// pause a channel with the dashboard's form (CSRF token from the page).
func TestServeServesTheDashboard(t *testing.T) {
	s := newStack(t)
	p := s.serve()
	s.waitReady(p)
	if code, body := s.post(sampleArticle, nil); code != http.StatusAccepted {
		t.Fatalf("POST: %d %v", code, body)
	}
	waitUntil(t, 15*time.Second, "sent", func() bool { return deliveryStatus(s.status("zel-2024-10-13")) == "sent" })

	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, Timeout: 10 * time.Second}
	base := "http://" + s.addr
	get := func(path string) string {
		t.Helper()
		resp, err := c.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("GET %s: %d", path, resp.StatusCode)
		}
		return string(b)
	}
	if page := get("/"); !strings.Contains(page, `id="token"`) {
		t.Fatal("/ does not lead to the login form")
	}
	resp, err := c.PostForm(base+"/dashboard/login", url.Values{"token": {testToken}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	home := get("/dashboard/")
	for _, want := range []string{`id="ch-tg"`, `id="ch-tg2"`, "/dashboard/articles/zel-2024-10-13", `<b class="role">admin</b>`} {
		if !strings.Contains(home, want) {
			t.Errorf("the dashboard lacks %q", want)
		}
	}
	if strings.Contains(home, testToken) || strings.Contains(home, telegramfake.DefaultToken) {
		t.Error("the dashboard shows a token")
	}
	art := get("/dashboard/articles/zel-2024-10-13")
	if !strings.Contains(art, "What telegram receives") || !strings.Contains(art, "زيلينسكي") {
		t.Error("the article page does not show the rendered post")
	}
	csrf := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindStringSubmatch(home)
	if csrf == nil {
		t.Fatal("no CSRF token in the page")
	}
	resp, err = c.PostForm(base+"/dashboard/channels/tg2/pause", url.Values{"csrf": {csrf[1]}, "reason": {"test"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	code, body := s.call(http.MethodGet, "/v1/channels")
	chs, _ := body["channels"].([]any)
	paused := map[string]bool{}
	for _, ch := range chs {
		m, _ := ch.(map[string]any)
		paused[m["channel"].(string)] = m["paused"] == true
	}
	if code != http.StatusOK || !paused["tg2"] || paused["tg"] {
		t.Fatalf("GET /v1/channels after the dashboard's pause: %d %v", code, body)
	}
	if page := get("/dashboard/"); !strings.Contains(page, `id="ch-tg2" data-state="paused"`) {
		t.Fatal("tg2 is not shown paused after the dashboard's pause")
	}
}
