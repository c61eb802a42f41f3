package main

import (
	"context"
	"strings"
	"testing"

	"herald/queue"
)

// A configured channel that is paused sends nothing, whatever its credentials: herald paused it
// on a revoked token, the operator set a new one, and doctor said every check passed (the
// credentials work, a process holds the sender lease) while the backlog still waited for
// herald resume. Doctor now warns with who paused it, why, and the command that resumes it.
func TestDoctorWarnsOfAPausedChannel(t *testing.T) {
	s := newStack(t)
	b := queue.NewBroker(s.rdb, queue.Options{})
	if err := b.PauseBy(context.Background(), "tg", "auth: 401 Unauthorized", queue.PausedByHerald); err != nil {
		t.Fatal(err)
	}
	out, errOut, code := runCLI(t, "", "doctor", "--config", s.config)
	if code != 0 {
		t.Fatalf("doctor with a paused channel: exit %d (a warning, not a failure)\n%s%s", code, out, errOut)
	}
	var line, advice string
	for i, l := range strings.Split(out, "\n") {
		if strings.HasPrefix(l, "WARN  channel tg ") && strings.Contains(l, "paused") {
			line = l
			if next := strings.Split(out, "\n"); i+1 < len(next) {
				advice = next[i+1]
			}
		}
	}
	for _, want := range []string{"by herald", "auth: 401 Unauthorized", "nothing is sent"} {
		if !strings.Contains(line, want) {
			t.Errorf("doctor's line for the paused channel %q lacks %q:\n%s", line, want, out)
		}
	}
	if !strings.Contains(advice, "herald resume tg") {
		t.Errorf("doctor's advice %q does not say herald resume tg:\n%s", advice, out)
	}
	for _, l := range strings.Split(out, "\n") {
		if strings.HasPrefix(l, "WARN  channel tg2 ") && strings.Contains(l, "paused") {
			t.Errorf("doctor warns of a pause on tg2, which runs: %s", l)
		}
	}
}
