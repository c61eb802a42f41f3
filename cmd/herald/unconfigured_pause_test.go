package main

import (
	"context"
	"strings"
	"testing"

	"herald/queue"
)

// A channel removed from the config while paused keeps its pause record (and its queues'
// pause flags), which nothing could clear: herald resume refused a channel not in the config,
// and the admin bot alerted the pause again each time its 30-day marker expired. herald doctor
// names it; herald resume clears it. A channel neither configured nor paused is still refused.
func TestRemovedChannelsPauseIsShownAndCanBeCleared(t *testing.T) {
	s := newStack(t)
	ctx := context.Background()
	b := queue.NewBroker(s.rdb, queue.Options{})
	if err := b.PauseBy(ctx, "tg-old", "auth: 401 Unauthorized", queue.PausedByHerald); err != nil {
		t.Fatal(err)
	}
	out, errOut, _ := runCLI(t, "", "doctor", "--config", s.config)
	if !strings.Contains(out, "WARN  channel tg-old") || !strings.Contains(out, "still paused") || !strings.Contains(out, "herald resume tg-old") {
		t.Fatalf("doctor does not name the removed channel's pause:\n%s%s", out, errOut)
	}
	if _, _, code := runCLI(t, "", "resume", "tg-nosuch", "--config", s.config); code != 2 {
		t.Fatalf("resume of a channel neither configured nor paused: exit %d, want 2", code)
	}
	out, errOut, code := runCLI(t, "", "resume", "tg-old", "--config", s.config)
	if code != 0 || !strings.Contains(out, "resumed tg-old") {
		t.Fatalf("resume tg-old: exit %d\n%s%s", code, out, errOut)
	}
	ps, err := b.Paused(ctx)
	if err != nil || len(ps) != 0 {
		t.Fatalf("pause records left: %+v %v", ps, err)
	}
	for _, q := range []string{"ch:tg-old", "ch:tg-old:urgent"} {
		if n := s.rdb.Exists(ctx, "asynq:{"+q+"}:paused").Val(); n != 0 {
			t.Fatalf("%s still paused", q)
		}
	}
	out, _, _ = runCLI(t, "", "doctor", "--config", s.config)
	if strings.Contains(out, "tg-old") {
		t.Fatalf("doctor still names tg-old:\n%s", out)
	}
}
