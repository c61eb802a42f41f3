package channels

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
)

func TestSendEach(t *testing.T) {
	ctx := context.Background()
	url := func(id string) string { return "https://example.test/" + id }
	if _, err := SendEach(ctx, "x", "post", nil, nil, url); !IsPermanent(err) {
		t.Fatalf("no posts: %v, want Permanent", err)
	}
	n := 0
	ok := func(context.Context, Post) (string, error) { n++; return fmt.Sprint("id", n), nil }
	rcpt, err := SendEach(ctx, "x", "post", []Post{{}, {}}, ok, url)
	if err != nil || rcpt.RemoteID != "id1,id2" || rcpt.PostURL != "https://example.test/id1" {
		t.Fatalf("two posts: %+v %v", rcpt, err)
	}
	boom := Permanent(errors.New("refused"))
	first := func(context.Context, Post) (string, error) { return "", boom }
	if rcpt, err := SendEach(ctx, "x", "post", []Post{{}, {}}, first, nil); !errors.Is(err, boom) || rcpt != (Receipt{}) {
		t.Fatalf("first post failed: %+v %v, want its own error and no receipt", rcpt, err)
	}
	n = 0
	second := func(context.Context, Post) (string, error) {
		if n++; n == 2 {
			return "", boom
		}
		return "id1", nil
	}
	rcpt, err = SendEach(ctx, "whatsapp", "message", []Post{{}, {}}, second, nil)
	if !IsUnknownOutcome(err) || IsPermanent(err) || rcpt.RemoteID != "id1" || rcpt.PostURL != "" ||
		!strings.Contains(err.Error(), "whatsapp: post 2 of 2 failed after message(s) id1 were sent") {
		t.Fatalf("second post failed: %+v %v, want UnknownOutcome (not the failed post's kind) with id1", rcpt, err)
	}
}
