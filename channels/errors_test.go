package channels

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

func TestErrorKindsReadThroughWrapping(t *testing.T) {
	base := errors.New("Unauthorized")
	auth := fmt.Errorf("x: posting: %w", Auth(base))
	p, ok := AsPause(auth)
	if !ok || p.Reason != "auth: Unauthorized" || !errors.Is(auth, base) {
		t.Fatalf("AsPause(%v) = %+v, %v", auth, p, ok)
	}
	if IsPermanent(auth) {
		t.Fatal("an auth failure pauses the channel; it must not fail the delivery as permanent")
	}
	dup := fmt.Errorf("x: posting: %w", DuplicateContent(errors.New("403")))
	if !IsDuplicateContent(dup) || !IsPermanent(dup) {
		t.Fatalf("duplicate content must be permanent and recognisable: %v", dup)
	}
	if IsDuplicateContent(Permanent(errors.New("400"))) {
		t.Fatal("a plain permanent error is not a duplicate")
	}
	if _, ok := AsPause(Permanent(errors.New("400"))); ok {
		t.Fatal("a permanent error does not pause the channel")
	}
}

// A pause error names the platform's error once: an auth reason already holds it, and the
// message lands in logs, the delivery record and the admin alert.
func TestPauseErrorSaysItsReasonOnce(t *testing.T) {
	platform := errors.New("discord: sending message: 401 Unauthorized")
	got := Auth(platform).Error()
	if want := "channel must pause: auth: discord: sending message: 401 Unauthorized"; got != want {
		t.Fatalf("Auth(err).Error() = %q, want %q", got, want)
	}
	if n := strings.Count(got, "401 Unauthorized"); n != 1 {
		t.Fatalf("the platform's error appears %d times in %q", n, got)
	}
	got = Pause("webhook gone (410)", errors.New("webhook: 410 Gone")).Error()
	if want := "channel must pause (webhook gone (410)): webhook: 410 Gone"; got != want {
		t.Fatalf("Pause(reason, err).Error() = %q, want %q", got, want)
	}
}
