package main

import (
	"net/http"
	"strings"
	"testing"
	"time"
)

// herald status, herald correct (an article without an id) and herald retract by URL, for an
// article published with an id of its own (the URL index): on Redis and through --server, the URL written with tracking parameters, another
// host case, a trailing slash and a fragment; an unknown URL exits 3 both ways.
func TestStatusAndRetractByURLOfAnArticleWithItsOwnID(t *testing.T) {
	s := newStack(t)
	s.serve()
	if code, body := s.post(sampleArticle, nil); code != http.StatusAccepted {
		t.Fatalf("POST: %d %v", code, body)
	}
	waitUntil(t, 15*time.Second, "sent", func() bool { return deliveryStatus(s.status("zel-2024-10-13")) == "sent" })
	const written = "https://NEWS.example.com/world/zelensky-north-korea/?utm_source=tw&fbclid=1#comments"

	out, errOut, exit := runCLI(t, "", "status", "--config", s.config, written)
	if exit != 0 || !strings.Contains(out, "article zel-2024-10-13") || !strings.Contains(out, "sent") {
		t.Fatalf("status by URL: exit %d\n%s\n%s", exit, out, errOut)
	}
	t.Setenv("HERALD_API_TOKEN", testToken)
	server := "http://" + s.addr
	out, errOut, exit = runCLI(t, "", "status", "--server", server, written)
	if exit != 0 || !strings.Contains(out, "article zel-2024-10-13") || !strings.Contains(out, "sent") { // the table, as without --server
		t.Fatalf("status --server by URL: exit %d\n%s\n%s", exit, out, errOut)
	}
	for _, args := range [][]string{
		{"status", "--config", s.config, "https://news.example.com/never"},
		{"status", "--server", server, "https://news.example.com/never"},
		{"retract", "--config", s.config, "https://news.example.com/never"},
		{"retract", "--server", server, "https://news.example.com/never"},
	} {
		if _, errOut, code := runCLI(t, "", args...); code != 3 {
			t.Errorf("%v: exit %d (%s), want 3", args, code, errOut)
		}
	}
	// A correction without an id names its article by URL the same way, on Redis and through
	// --server.
	out, errOut, exit = runCLI(t, `{"url":"`+written+`","title":"عنوان مصحح"}`, "correct", "--config", s.config, "--by", "desk", "-")
	if exit != 0 || !strings.Contains(out, `"id": "zel-2024-10-13"`) || !strings.Contains(out, `"result": "edited"`) {
		t.Fatalf("correct by URL: exit %d\n%s\n%s", exit, out, errOut)
	}
	out, errOut, exit = runCLI(t, `{"url":"`+written+`","title":"عنوان مصحح مرتين"}`, "correct", "--server", server, "-")
	if exit != 0 || !strings.Contains(out, `"id": "zel-2024-10-13"`) || !strings.Contains(out, `"result": "edited"`) {
		t.Fatalf("correct --server by URL: exit %d\n%s\n%s", exit, out, errOut)
	}
	if m := s.fake.Messages(); len(m) != 1 || m[0].Edits != 2 || !strings.Contains(m[0].Plain, "عنوان مصحح مرتين") {
		t.Fatalf("Telegram holds %+v, want the post edited twice", m)
	}
	out, errOut, exit = runCLI(t, "", "retract", "--server", server, written)
	if exit != 0 || !strings.Contains(out, `"result": "retracted"`) || len(s.fake.Messages()) != 0 {
		t.Fatalf("retract --server by URL: exit %d\n%s\n%s (%d messages left)", exit, out, errOut, len(s.fake.Messages()))
	}
}
