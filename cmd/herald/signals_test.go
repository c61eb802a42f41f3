package main

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"
)

// A second SIGINT while herald serve drains (a send in flight that may take send_timeout) ends
// the process at once, exit 1, with a line saying what was left behind: the first signal's
// signal.NotifyContext kept catching signals, so an operator's second Ctrl-C did nothing.
func TestSecondSignalStopsServeAtOnce(t *testing.T) {
	s := newStack(t)
	// A drain long enough to tell "at once" from "after the send in flight".
	doc := readFile(t, s.config)
	long := strings.NewReplacer("send_timeout: 2s", "send_timeout: 20s", "lease_duration: 3s", "lease_duration: 30s",
		"shutdown_timeout: 10s", "shutdown_timeout: 25s").Replace(doc)
	if long == doc {
		t.Fatal("the stack's config changed: the worker timeouts were not found")
	}
	if err := os.WriteFile(s.config, []byte(long), 0o600); err != nil {
		t.Fatal(err)
	}
	p := s.serve()
	s.fake.Hold() // the send stays in flight until Release (the test's end)
	t.Cleanup(s.fake.Release)
	if code, out := s.post(`{"id":"sig2-1","url":"https://news.example.com/sig2-1","title":"خبر عاجل"}`, nil); code != http.StatusAccepted {
		t.Fatalf("POST: %d %v", code, out)
	}
	waitUntil(t, 10*time.Second, "a send in flight", func() bool { return len(s.sends()) > 0 })
	if err := p.cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, 10*time.Second, "shutdown to begin", func() bool { return strings.Contains(p.output(), "signal received") })
	if !strings.Contains(p.output(), "a second SIGINT or SIGTERM stops at once") {
		t.Errorf("the first signal's line does not say a second one stops at once:\n%s", p.output())
	}
	select {
	case <-p.waitExit():
		t.Fatalf("herald serve stopped before the send in flight ended: the test proves nothing\n%s", p.output())
	default:
	}
	sent := time.Now()
	if err := p.cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	select {
	case <-p.waitExit():
	case <-time.After(5 * time.Second):
		t.Fatalf("herald serve still draining %s after a second SIGINT\n%s", time.Since(sent).Round(time.Millisecond), p.output())
	}
	err := <-p.done
	p.done <- err
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != exitForced {
		t.Fatalf("after a second SIGINT: %v, want exit status %d\n%s", err, exitForced, p.output())
	}
	out := p.output()
	for _, want := range []string{"second signal: stopping at once", "stays sending until its lease runs out, then turns unknown"} {
		if !strings.Contains(out, want) {
			t.Errorf("the log does not say %q:\n%s", want, out)
		}
	}
	// What was abandoned is as the line says: the delivery is still sending, not lost.
	if st := deliveryStatus(statusFromRedis(t, s, "sig2-1")); st != "sending" {
		t.Fatalf("the abandoned delivery is %q, want sending (until its lease runs out)", st)
	}
}

// Ctrl-C ends herald log --follow --server at once, exit 0 and no error, also while a request
// to the API is under way: the request ran with the command's own context, so against a hung
// server the Ctrl-C waited out the client's 30s timeout and ended in an error, exit 1.
func TestLogFollowServerEndsOnCtrlCDuringARequest(t *testing.T) {
	var requests atomic.Int32
	hung := make(chan struct{})
	t.Cleanup(func() { close(hung) })
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/v1/deliveries" || r.Header.Get("Authorization") != "Bearer "+testToken {
			http.Error(w, `{"error":"unexpected request"}`, http.StatusBadRequest)
			return
		}
		if requests.Add(1) > 1 {
			// The follow-up asks of a server that stopped answering (a network cut, a frozen VM).
			select {
			case <-r.Context().Done():
			case <-hung:
			}
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"deliveries":[],"next_cursor":""}`))
	}))
	t.Cleanup(api.Close)
	cmd := exec.Command(heraldBinary(t), "log", "--follow", "--server", api.URL)
	cmd.Env = append(filterEnv(os.Environ()), "HERALD_API_TOKEN="+testToken)
	var out lockedWriter
	out.w = &bytes.Buffer{}
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	t.Cleanup(func() { _ = cmd.Process.Kill() })
	waitUntil(t, 15*time.Second, "the follow-up request", func() bool { return requests.Load() > 1 })
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("herald log --follow after Ctrl-C: %v, want exit 0\n%s", err, out.String())
		}
	case <-time.After(5 * time.Second):
		t.Fatalf("herald log --follow --server still running 5s after Ctrl-C\n%s", out.String())
	}
	if s := out.String(); s != "" {
		t.Fatalf("herald log --follow printed on Ctrl-C: %q", s)
	}
}

// stopOnSignal, as serve and demo use it: the first signal cancels, the second exits 1 with the
// caller's account of what is left behind (demo's sandbox keeps nothing, unlike serve's Redis);
// after stop the signals are no longer caught.
func TestStopOnSignalSaysWhatIsLeft(t *testing.T) {
	core, logs := observer.New(zapcore.InfoLevel)
	exits := make(chan int, 1)
	ctx, stop := stopOnSignal(context.Background(), zap.New(core), "the sandbox keeps nothing", func(code int) { exits <- code })
	defer stop()
	if err := syscall.Kill(os.Getpid(), syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	select {
	case <-ctx.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("the first SIGINT did not cancel the context")
	}
	select {
	case code := <-exits:
		t.Fatalf("exit(%d) after one signal", code)
	default:
	}
	if err := syscall.Kill(os.Getpid(), syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case code := <-exits:
		if code != exitForced {
			t.Fatalf("exit(%d) after a second signal, want %d", code, exitForced)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("a second signal did not exit")
	}
	es := logs.FilterMessageSnippet("second signal").All()
	if len(es) != 1 || es[0].ContextMap()["abandoned"] != "the sandbox keeps nothing" || es[0].ContextMap()["signal"] != "terminated" {
		t.Fatalf("the forced stop's line: %+v", es)
	}
}
