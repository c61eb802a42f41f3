package web

// A WordPress post whose slug an editor changes keeps its id and its GUID (https://…/?p=4711),
// which the site's feed gives its item too; its link changes. herald recognises the story by
// the GUID, whichever way (feed or plugin) it came first.

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"herald/channels/telegram/telegramfake"
	"herald/queue"
)

// wpPostWith is the fixture WordPress post (id 4711, GUID https://news.example.com/?p=4711) with
// another link and publication time.
func wpPostWith(t *testing.T, link string, published time.Time) []byte {
	t.Helper()
	raw, err := os.ReadFile("../ingest/testdata/wordpress-post.json")
	if err != nil {
		t.Fatal(err)
	}
	var post map[string]any
	if err := json.Unmarshal(raw, &post); err != nil {
		t.Fatal(err)
	}
	post["link"] = link
	post["date_gmt"] = published.UTC().Format("2006-01-02T15:04:05")
	out, err := json.Marshal(post)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// sendWP sends a signed plugin event.
func (e *sameStoryEnv) sendWP(event, msgID string, body []byte) (int, map[string]any) {
	e.t.Helper()
	h := signStandard(e.t, wpSecret, msgID, e.now, body)
	h.Set("X-Herald-Event", event)
	return e.do("/v1/hooks/wordpress", body, h)
}

// postNextAndCount publishes another story and waits for it to be posted: on the paced channel
// it is the last post, so every post before it is in the fake by then.
func (e *sameStoryEnv) postNextAndCount() []telegramfake.Message {
	e.t.Helper()
	code, out := e.do("/v1/articles", []byte(`{"url":"https://news.example.com/next","title":"التالي"}`), http.Header{"Authorization": {"Bearer tok"}})
	if code != http.StatusAccepted {
		e.t.Fatalf("next article: %d %v", code, out)
	}
	var msgs []telegramfake.Message
	waitFor(e.t, 15*time.Second, "the next story posted", func() bool {
		msgs = e.fake.Messages()
		return len(msgs) > 0 && strings.Contains(msgs[len(msgs)-1].Text, "التالي")
	})
	return msgs
}

// The feed posts the story; minutes later an editor changes the slug (a typo in the permalink)
// and the plugin sends its update with the new link. It is the feed's article, updated: nothing
// is posted again, and the trash event that follows (with the new slug) takes the feed's post
// back.
func TestWordPressSlugChangedAfterTheFeedPostedIsTheSameStory(t *testing.T) {
	e := newSameStoryEnv(t)
	e.startWorker()
	if err := e.poller.PollNow(context.Background(), "site"); err != nil {
		t.Fatal(err)
	}
	feedID := mustID(t, "https://news.example.com/world/2026/11/zelensky")
	e.waitMessages(1)

	renamed := "https://news.example.com/world/2026/11/zelensky-north-korea-troops/"
	code, out := e.sendWP("update", "msg_slug_4711", wpPostWith(t, renamed, time.Now().Add(-10*time.Minute)))
	ds, _ := out["deliveries"].([]any)
	if code != http.StatusAccepted || out["id"] != feedID || len(ds) != 1 || ds[0].(map[string]any)["duplicate"] != true {
		t.Fatalf("update with a new slug of the post the feed had posted: %d %v, want 202 naming %s with a duplicate delivery", code, out, feedID)
	}
	if e.articleExists("wp-news.example.com-4711") {
		t.Fatal("the post with its new slug became a second article")
	}
	if msgs := e.postNextAndCount(); len(msgs) != 2 {
		t.Fatalf("%d posts, want 2 (the story once, then the next one): %+v", len(msgs), msgs)
	}
	a, err := e.broker.Article(context.Background(), feedID)
	if err != nil || a.URL != renamed {
		t.Fatalf("stored article %+v %v, want the new link %s", a, err, renamed)
	}

	trash := []byte(`{"id":4711,"status":"trash","link":"https://news.example.com/world/2026/11/zelensky-north-korea-troops/","guid":{"rendered":"https://news.example.com/?p=4711"},"title":{"rendered":"زيلينسكي"}}`)
	code, out = e.sendWP("trash", "msg_trash_slug_4711", trash)
	if code != http.StatusOK || out["id"] != feedID {
		t.Fatalf("trash after the slug change: %d %v, want 200 retracting %s", code, out, feedID)
	}
	d, err := e.broker.Delivery(context.Background(), feedID, "tg-a")
	if err != nil || d.State != queue.StateRetracted {
		t.Fatalf("delivery %+v %v, want retracted", d, err)
	}
}

// The slug of a post the feed posted days ago is changed (or changed before the plugin was
// installed), then the post is trashed: herald never heard of the new link, and the trash event
// finds the feed's article by the post's GUID.
func TestWordPressTrashAfterASlugChangeRetractsTheFeedsPost(t *testing.T) {
	e := newSameStoryEnv(t)
	e.startWorker()
	if err := e.poller.PollNow(context.Background(), "site"); err != nil {
		t.Fatal(err)
	}
	feedID := mustID(t, "https://news.example.com/world/2026/11/zelensky")
	waitFor(t, 15*time.Second, "the feed's story sent", func() bool {
		d, err := e.broker.Delivery(context.Background(), feedID, "tg-a")
		return err == nil && d.State == queue.StateSent
	})
	trash := []byte(`{"id":4711,"status":"trash","link":"https://news.example.com/world/renamed-later__trashed/","guid":{"rendered":"https://news.example.com/?p=4711"},"title":{"rendered":"زيلينسكي"}}`)
	if php, err := exec.LookPath("php"); err == nil {
		// The plugin's own trash payload: it carries the post's GUID.
		dir := t.TempDir()
		harness := filepath.Join(dir, "trash.php")
		if err := os.WriteFile(harness, []byte(trashHarness), 0o600); err != nil {
			t.Fatal(err)
		}
		plugin, _ := filepath.Abs("../deploy/wordpress/herald.php")
		cmd := exec.Command(php, harness)
		cmd.Env = append(os.Environ(), "HERALD_PLUGIN="+plugin, "HERALD_DESIRED=renamed-later", "HERALD_TRASHED=renamed-later__trashed",
			"HERALD_GUID=https://news.example.com/?p=4711")
		if trash, err = cmd.Output(); err != nil {
			t.Fatalf("php: %v", err)
		}
	}
	code, out := e.sendWP("trash", "msg_trash_renamed_4711", trash)
	if code != http.StatusOK || out["id"] != feedID {
		t.Fatalf("trash of a renamed post the feed posted: %d %v, want 200 retracting %s", code, out, feedID)
	}
	if n := len(e.fake.Messages()); n != 0 || e.deleteRequests() != 1 {
		t.Fatalf("after the trash event: %d messages left, %d deletes; want the feed's post deleted", n, e.deleteRequests())
	}
}

// The plugin publishes the story first; the editor changes the slug at once and the plugin's
// update is lost (herald down through its retries). The feed's item has the new link and the
// post's GUID: it is the plugin's article, not posted again.
func TestFeedItemWithTheGUIDOfAPostThePluginPublishedIsNotPostedAgain(t *testing.T) {
	e := newSameStoryEnv(t)
	e.startWorker()
	code, out := e.sendWP("publish", "msg_publish_4711", wpPostWith(t, "https://news.example.com/world/2026/11/first-slug/", time.Now()))
	if code != http.StatusAccepted || out["id"] != "wp-news.example.com-4711" {
		t.Fatalf("publish: %d %v", code, out)
	}
	e.waitMessages(1)
	if err := e.poller.PollNow(context.Background(), "site"); err != nil {
		t.Fatal(err)
	}
	if e.articleExists(mustID(t, "https://news.example.com/world/2026/11/zelensky")) {
		t.Fatal("the feed's item with the post's GUID and its new link became a second article")
	}
	if msgs := e.postNextAndCount(); len(msgs) != 2 {
		t.Fatalf("%d posts, want 2 (the story once, then the next one): %+v", len(msgs), msgs)
	}
}
