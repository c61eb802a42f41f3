package channels

import (
	"context"
	"fmt"
	"strings"
)

// SendEach sends posts in order with send, which returns the platform's id for one post, and
// makes the receipt: the ids comma-joined, and postURL of the first (postURL may be nil).
// prefix starts the errors ("x"); unit names what the platform makes ("message", "post").
//
// A message without posts is Permanent. When a later post fails after an earlier one was
// accepted, the error is UnknownOutcome with the accepted ids in the receipt: retrying would
// post them again.
func SendEach(ctx context.Context, prefix, unit string, posts []Post, send func(context.Context, Post) (string, error), postURL func(id string) string) (Receipt, error) {
	if len(posts) == 0 {
		return Receipt{}, Permanent(fmt.Errorf("%s: message has no posts", prefix))
	}
	var rcpt Receipt
	ids := make([]string, 0, len(posts))
	for i, post := range posts {
		id, err := send(ctx, post)
		if err != nil {
			if len(ids) == 0 {
				return Receipt{}, err
			}
			rcpt.RemoteID = strings.Join(ids, ",")
			// %v, not %w: the failed post's kind must not decide what happens to the sent ones.
			return rcpt, UnknownOutcome(fmt.Errorf("%s: post %d of %d failed after %s(s) %s were sent: %v",
				prefix, i+1, len(posts), unit, rcpt.RemoteID, err))
		}
		if len(ids) == 0 && postURL != nil {
			rcpt.PostURL = postURL(id)
		}
		ids = append(ids, id)
	}
	rcpt.RemoteID = strings.Join(ids, ",")
	return rcpt, nil
}
