package main

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"herald/article"
	"herald/channels"
	"herald/internal/redistest"
	"herald/queue"
)

// TestCLIKeepsControlCharactersOffTheTerminal: text herald did not write — a title from a feed
// or a CMS, an error, a pause reason, a stranger's Telegram message in the audit log — reaches
// herald status, log, audit, channels and stats with its control characters shown as escapes,
// never as the raw bytes a terminal obeys (OSC 52 sets the clipboard, ESC [2K erases the line a
// forged one then replaces). Before, all but log's title went out raw.
func TestCLIKeepsControlCharactersOffTheTerminal(t *testing.T) {
	rdb, _ := redistest.Start(t)
	t.Setenv("HERALD_CONFIG", "")
	t.Setenv("REDIS_URL", "")
	t.Setenv("HERALD_SERVER", "")
	cfg := writeConfig(t, fmt.Sprintf("redis: {url: \"redis://%s/%d\"}\nchannels:\n  - {name: tg, kind: telegram}\n", rdb.Options().Addr, rdb.Options().DB))
	ctx := context.Background()
	b := queue.NewBroker(rdb, queue.Options{})
	const clip = "\x1b]52;c;cHduZWQ=\x07" // OSC 52: "pwned" to the clipboard
	a := &article.Article{ID: "ctl-1", URL: "https://news.example.com/a/ctl-1", Title: "عاجل " + clip + " خبر"}
	a.Normalize()
	if err := a.Validate(); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Publish(ctx, a, []queue.Target{{Name: "tg", Kind: channels.KindTelegram}}); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Drop(ctx, a.ID, "tg", "ops\x1b[2K\rtg sent ok"); err != nil {
		t.Fatal(err)
	}
	if err := b.PauseBy(ctx, "tg", "\x1b]0;pwned\x07maintenance", "ops"); err != nil {
		t.Fatal(err)
	}
	if err := b.AppendAudit(ctx, queue.AuditEntry{Source: "telegram", UserID: 666, ChatID: 666, Action: "message",
		Args: "hi\x1b[31m" + clip, Result: "refused: not an allowed user"}); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{"status", a.ID}, {"log"}, {"audit"}, {"channels"}, {"stats"}} {
		out, errOut, code := runCLI(t, "", append(args, "--config", cfg)...)
		if code != 0 {
			t.Fatalf("herald %s: exit %d: %s%s", args[0], code, out, errOut)
		}
		if strings.ContainsAny(out+errOut, "\x1b\x07\r") {
			t.Errorf("herald %s prints raw control characters: %q", args[0], out+errOut)
		}
		if !strings.Contains(out, `\x1b`) {
			t.Errorf("herald %s does not show the escape as \\x1b: %s", args[0], out)
		}
	}
}

// TestRemoteErrorKeepsControlCharactersOffTheTerminal: an error answer of --server, which may
// be any page on the way (a proxy's, a server that is not herald), is printed with its control
// characters escaped, not raw.
func TestRemoteErrorKeepsControlCharactersOffTheTerminal(t *testing.T) {
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadGateway)
		_, _ = w.Write([]byte(`{"error":"upstream \u001b]52;c;cHduZWQ=\u0007down","errors":[{"field":"title","message":"\u001b[2Kok"}]}`))
	}))
	defer proxy.Close()
	t.Setenv("HERALD_API_TOKEN", testToken)
	for _, args := range [][]string{{"status", "--server", proxy.URL, "a1"}, {"pause", "--server", proxy.URL, "tg"}} {
		_, errOut, code := runCLI(t, "", args...)
		if code != 1 || !strings.Contains(errOut, `upstream \x1b]52`) || strings.ContainsAny(errOut, "\x1b\x07") {
			t.Errorf("herald %s: exit %d: %q", args[0], code, errOut)
		}
	}
}
