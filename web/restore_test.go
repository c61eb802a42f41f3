package web

// A post trashed by mistake is restored and published again: its posts, which the trash event
// took down, go out again. An admin's takedown stays.

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"testing"
	"time"

	"herald/channels"
	"herald/queue"
)

func TestWordPressPostRestoredFromTheTrashIsPostedAgain(t *testing.T) {
	e := newHookEnv(t)
	e.startWorker()
	ctx := context.Background()
	send := func(id int, event, status, msgID string) (int, map[string]any) {
		t.Helper()
		post := []byte(fmt.Sprintf(`{"id":%d,"status":%q,"date_gmt":%q,"link":"https://news.example.com/world/restored-%d/","title":{"rendered":"خبر أعيد نشره"}}`,
			id, status, time.Now().UTC().Format("2006-01-02T15:04:05"), id))
		h := signStandard(t, wpSecret, msgID, e.now, post)
		if event != "" {
			h.Set("X-Herald-Event", event)
		}
		return e.do("/v1/hooks/wordpress", post, h)
	}
	sentAt := func(article string, rev int) func() bool {
		return func() bool {
			for _, ch := range []channels.Name{"tg-a", "tg-b"} {
				if d, err := e.broker.Delivery(ctx, article, ch); err != nil || d.State != queue.StateSent || d.Revision != rev {
					return false
				}
			}
			return true
		}
	}
	if code, out := send(4760, "publish", "publish", "msg_4760_pub"); code != http.StatusAccepted {
		t.Fatalf("publish: %d %v", code, out)
	}
	waitFor(t, 15*time.Second, "both posts sent", sentAt("wp-news.example.com-4760", 1))
	if code, out := send(4760, "trash", "trash", "msg_4760_trash"); code != http.StatusOK {
		t.Fatalf("trash: %d %v", code, out)
	}
	if n := len(e.fake.Messages()); n != 0 {
		t.Fatalf("%d messages after the trash, want 0", n)
	}
	// A copy of the first publish, signed GitHub style (the body alone, no message id), sent
	// again after the trash: not the editor's publish, nothing comes back.
	first := []byte(`{"id":4760,"status":"publish","link":"https://news.example.com/world/restored-4760/","title":{"rendered":"خبر أعيد نشره"}}`)
	mac := hmac.New(sha256.New, []byte(wpSecret))
	mac.Write(first)
	if code, out := e.do("/v1/hooks/wordpress", first, http.Header{"X-Hub-Signature-256": {"sha256=" + hex.EncodeToString(mac.Sum(nil))},
		"X-Herald-Event": {"publish"}}); code != http.StatusAccepted {
		t.Fatalf("GitHub-style copy: %d %v", code, out)
	}
	for _, ch := range []channels.Name{"tg-a", "tg-b"} {
		if d, err := e.broker.Delivery(ctx, "wp-news.example.com-4760", ch); err != nil || d.State != queue.StateRetracted {
			t.Fatalf("after a GitHub-style copy of the publish, %s: %+v %v, want still retracted", ch, d, err)
		}
	}
	// Restored (a draft), then published: the plugin's publish event.
	if code, out := send(4760, "publish", "publish", "msg_4760_republish"); code != http.StatusAccepted {
		t.Fatalf("publish after the restore: %d %v", code, out)
	}
	waitFor(t, 15*time.Second, "both posts sent again", sentAt("wp-news.example.com-4760", 2))
	if n := len(e.fake.Messages()); n != 2 {
		t.Fatalf("%d messages after the restore, want 2", n)
	}
	// Saving it again is an update: nothing more.
	if code, out := send(4760, "update", "publish", "msg_4760_update"); code != http.StatusAccepted {
		t.Fatalf("update: %d %v", code, out)
	}

	// An admin took 4761 down with herald retract: WordPress's publish event does not bring it back.
	if code, out := send(4761, "publish", "publish", "msg_4761_pub"); code != http.StatusAccepted {
		t.Fatalf("publish: %d %v", code, out)
	}
	waitFor(t, 15*time.Second, "both posts of 4761 sent", sentAt("wp-news.example.com-4761", 1))
	if _, err := e.broker.Retract(ctx, "wp-news.example.com-4761", "", "desk", builtChannels(t, e.cfg)); err != nil {
		t.Fatal(err)
	}
	if code, out := send(4761, "publish", "publish", "msg_4761_republish"); code != http.StatusAccepted {
		t.Fatalf("publish after an admin's retract: %d %v", code, out)
	}
	for _, ch := range []channels.Name{"tg-a", "tg-b"} {
		if d, err := e.broker.Delivery(ctx, "wp-news.example.com-4761", ch); err != nil || d.State != queue.StateRetracted || d.RetractedBy != "desk" {
			t.Fatalf("4761 on %s: %+v %v, want still retracted by desk", ch, d, err)
		}
	}
	if n := len(e.fake.Messages()); n != 2 {
		t.Fatalf("%d messages, want 2 (4760's, posted again; 4761 stays down)", n)
	}
}
