package channels

import (
	"errors"
	"fmt"
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
