package main

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"herald/internal/redistest"
)

// Without --server, a command whose Redis write fails exits 1 (a failure: run it again), as the
// API's 503 does through --server; 2 stays for what the operator must change (a delivery in the
// wrong state). Drop, correct and retract exited 2 for a refused Redis write.
func TestCLIRedisFailureExits1(t *testing.T) {
	s := newStack(t)
	if _, errOut, code := runCLI(t, `{"id":"x1","url":"https://news.example.com/x1","title":"خبر"}`, "publish", "--config", s.config, "-"); code != 0 {
		t.Fatalf("publish: exit %d %s", code, errOut)
	}
	// Redis refuses every write (over maxmemory with noeviction) and still answers reads.
	ctx := context.Background()
	if err := s.rdb.ConfigSet(ctx, "maxmemory", "1").Err(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.rdb.ConfigSet(context.Background(), "maxmemory", "0") })
	for _, c := range []struct {
		stdin string
		args  []string
		want  int
	}{
		{"", []string{"repost", "--config", s.config, "x1", "tg"}, 2}, // pending: still in progress
		{"", []string{"mark-sent", "--config", s.config, "x1", "tg"}, 2},
		{"", []string{"drop", "--config", s.config, "x1", "tg"}, 1},
		{`{"id":"x1","url":"https://news.example.com/x1","title":"خبر مصحح"}`, []string{"correct", "--config", s.config, "-"}, 1},
		{"", []string{"retract", "--config", s.config, "x1"}, 1},
	} {
		if _, errOut, code := runCLI(t, c.stdin, c.args...); code != c.want {
			t.Errorf("%v with Redis refusing writes: exit %d (%s), want %d", c.args[:1], code, errOut, c.want)
		}
	}
}

// herald retry --channel C --all-unknown whose Redis fails after the first delivery was
// requeued exits 1 (a failure: run it again), as the API's 503 does through --server, and says
// how many went; it exited 2, which the README keeps for input the operator must change.
func TestRetryAllUnknownRedisFailurePartWayExits1(t *testing.T) {
	s := newStack(t)
	p := s.serve()
	s.fake.Hold() // each send times out after Telegram has it: unknown
	ids := []string{"half-1", "half-2"}
	for _, id := range ids {
		if code, out := s.post(fmt.Sprintf(`{"id":%q,"url":"https://news.example.com/%s","title":"خبر %s"}`, id, id, id), nil); code != http.StatusAccepted {
			t.Fatalf("POST %s: %d %v", id, code, out)
		}
	}
	for _, id := range ids {
		waitUntil(t, 30*time.Second, id+" unknown", func() bool { return deliveryStatus(statusFromRedis(t, s, id)) == "unknown" })
	}
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	<-p.waitExit()
	s.fake.Release()

	// The CLI's Redis, behind a proxy, loses every reply to the second delivery's requeue (its
	// member "half-2:tg" is an argument of that script alone): go-redis gives up after its retries.
	px := redistest.StartProxy(t, s.rdb.Options().Addr)
	px.SetDropRate(1, "\r\nhalf-2:tg\r\n")
	cfg := filepath.Join(t.TempDir(), "herald.yaml")
	doc := strings.Replace(readFile(t, s.config), s.redis, fmt.Sprintf("redis://%s/%d", px.Addr(), s.rdb.Options().DB), 1)
	if err := os.WriteFile(cfg, []byte(doc), 0o600); err != nil {
		t.Fatal(err)
	}
	out, errOut, code := runCLI(t, "", "retry", "--config", cfg, "--channel", "tg", "--all-unknown")
	if px.Dropped() == 0 {
		t.Fatalf("no reply was lost: the test proves nothing (exit %d, %s%s)", code, out, errOut)
	}
	if code != 1 {
		t.Errorf("retry --all-unknown with Redis failing part way: exit %d, want 1\n%s", code, errOut)
	}
	for _, want := range []string{"1 requeued before Redis failed", "run it again"} {
		if !strings.Contains(errOut, want) {
			t.Errorf("the error does not say %q:\n%s", want, errOut)
		}
	}
	if st := deliveryStatus(statusFromRedis(t, s, "half-1")); st != "pending" {
		t.Errorf("half-1 is %q after the retry, want pending (requeued)", st)
	}
}
