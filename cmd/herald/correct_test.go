package main

import (
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"herald/article"
)

// herald correct against a running herald serve and the Telegram fake: the CLI on Redis (from
// stdin) and through --server (from a file, id from the URL) edit the sent message in place;
// an invalid article exits 2 and changes nothing; an unknown article exits 3 both ways.
func TestCorrectCLI(t *testing.T) {
	s := newStack(t)
	s.serve()
	const link = "https://news.example.com/corrections/two"
	if code, body := s.post(`{"url":"`+link+`","title":"عنوان خاطئ"}`, nil); code != http.StatusAccepted {
		t.Fatalf("POST: %d %v", code, body)
	}
	waitUntil(t, 15*time.Second, "sent", func() bool { return len(s.fake.Messages()) == 1 })
	c, err := article.CanonicalURL(link)
	if err != nil {
		t.Fatal(err)
	}
	id := article.IDFromURL(c) // the default id of the URL
	waitUntil(t, 10*time.Second, "delivery sent", func() bool { return deliveryStatus(s.status(id)) == "sent" })
	out, errOut, exit := runCLI(t, `{"url":"`+link+`","title":"عنوان مصحح"}`, "correct", "--config", s.config, "--by", "desk", "-")
	if exit != 0 || !strings.Contains(out, `"result": "edited"`) {
		t.Fatalf("correct: exit %d\n%s\n%s", exit, out, errOut)
	}
	if m := s.fake.Messages(); len(m) != 1 || m[0].Edits != 1 || !strings.Contains(m[0].Plain, "عنوان مصحح") {
		t.Fatalf("Telegram holds %+v, want the message edited", m)
	}
	// herald status shows the correction (by URL here).
	out, errOut, exit = runCLI(t, "", "status", "--config", s.config, link)
	if exit != 0 || !strings.Contains(out, "CORRECTION") || !regexp.MustCompile(`sent .* edited 20\d\d-\d\d-\d\dT\d\d:\d\dZ by desk`).MatchString(out) {
		t.Fatalf("status after the correction: exit %d\n%s\n%s", exit, out, errOut)
	}
	if _, errOut, code := runCLI(t, `{"url":"`+link+`","title":""}`, "correct", "--config", s.config); code != 2 || !strings.Contains(errOut, "title") {
		t.Fatalf("invalid article: exit %d (%s), want 2", code, errOut)
	}

	t.Setenv("HERALD_API_TOKEN", testToken)
	server := "http://" + s.addr
	file := filepath.Join(t.TempDir(), "a.json")
	if err := os.WriteFile(file, []byte(`{"url":"`+link+`","title":"عنوان مصحح مرتين"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	out, errOut, exit = runCLI(t, "", "correct", "--server", server, file)
	if exit != 0 || !strings.Contains(out, `"result": "edited"`) {
		t.Fatalf("correct --server: exit %d\n%s\n%s", exit, out, errOut)
	}
	if m := s.fake.Messages(); len(m) != 1 || m[0].Edits != 2 || !strings.Contains(m[0].Plain, "عنوان مصحح مرتين") {
		t.Fatalf("Telegram holds %+v, want the message edited twice", m)
	}
	nope := `{"id":"nope","url":"https://news.example.com/nope","title":"x"}`
	for _, args := range [][]string{{"correct", "--config", s.config}, {"correct", "--server", server}} {
		if _, errOut, code := runCLI(t, nope, args...); code != 3 {
			t.Errorf("%v: exit %d (%s), want 3", args, code, errOut)
		}
	}
}
