package main

import (
	"context"
	"testing"
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
