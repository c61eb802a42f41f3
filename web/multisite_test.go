package web

// A multisite network: every site numbers its posts on its own, and the network shares one
// plugin and one secret. Post 4713 of the main site and post 4713 of another site are two
// stories.

import (
	"context"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"herald/channels"
	"herald/queue"
)

// queueHarness queues the publish of post 5 in two sites of a network within one request (a
// plugin that copies a post to the network's other site, switch_to_blog): two events to send.
const queueHarness = `<?php
define('ABSPATH', '/');
define('HERALD_URL', 'http://unused');
define('HERALD_WEBHOOK_SECRET', 'whsec_unused');
$GLOBALS['shutdown'] = 0;
$GLOBALS['blog'] = 1;
function add_action($hook) { if ($hook === 'shutdown') { $GLOBALS['shutdown']++; } }
function wp_json_encode($v, $flags) { return json_encode($v, $flags); }
function wp_generate_uuid4() { return bin2hex(random_bytes(16)); }
function get_current_blog_id() { return $GLOBALS['blog']; }
require getenv('HERALD_PLUGIN');
herald_queue_event('publish', ['id' => 5, 'title' => ['rendered' => 'a']]);
herald_queue_event('update', ['id' => 5, 'title' => ['rendered' => 'a']]); // the editor's second save
$GLOBALS['blog'] = 3;
herald_queue_event('publish', ['id' => 5, 'blog_id' => 3, 'title' => ['rendered' => 'b']]);
echo $GLOBALS['shutdown'];
`

func TestWordPressMultisiteSitesWithTheSamePostIDAreTwoStories(t *testing.T) {
	e := newHookEnv(t)
	e.startWorker()
	main := []byte(`{"id":4713,"status":"publish","link":"https://news.example.com/world/ar-story/","title":{"rendered":"خبر الموقع الرئيسي"}}`)
	if code, out := e.do("/v1/hooks/wordpress", main, signStandard(t, wpSecret, "msg_main_4713", e.now, main)); code != http.StatusAccepted || out["id"] != "wp-news.example.com-4713" {
		t.Fatalf("main site's post: %d %v", code, out)
	}
	sub := []byte(`{"id":4713,"blog_id":3,"status":"publish","link":"https://news.example.com/en/world/en-story/","title":{"rendered":"The English site's story"}}`)
	code, out := e.do("/v1/hooks/wordpress", sub, signStandard(t, wpSecret, "msg_sub_4713", e.now, sub))
	ds, _ := out["deliveries"].([]any)
	if code != http.StatusAccepted || out["id"] != "wp-news.example.com-3-4713" || len(ds) != 2 || ds[0].(map[string]any)["duplicate"] != false {
		t.Fatalf("another site's post with the same id: %d %v, want 202 queued as wp-news.example.com-3-4713", code, out)
	}
	e.waitMessages(4)

	if php, err := exec.LookPath("php"); err == nil {
		harness := filepath.Join(t.TempDir(), "queue.php")
		if err := os.WriteFile(harness, []byte(queueHarness), 0o600); err != nil {
			t.Fatal(err)
		}
		plugin, _ := filepath.Abs("../deploy/wordpress/herald.php")
		cmd := exec.Command(php, harness)
		cmd.Env = append(os.Environ(), "HERALD_PLUGIN="+plugin)
		out, err := cmd.CombinedOutput()
		if err != nil || string(out) != "3" {
			t.Fatalf("events queued in one request for post 5 of two sites: %s %v, want 3 (publish and update of one, publish of the other)", out, err)
		}
	}

	// The other site trashes its post: its posts go, the main site's stay.
	trash := []byte(`{"id":4713,"blog_id":3,"status":"trash","link":"https://news.example.com/world/en-story/","title":{"rendered":"x"}}`)
	if php, err := exec.LookPath("php"); err == nil {
		harness := filepath.Join(t.TempDir(), "trash.php")
		if err := os.WriteFile(harness, []byte(trashHarness), 0o600); err != nil {
			t.Fatal(err)
		}
		plugin, _ := filepath.Abs("../deploy/wordpress/herald.php")
		cmd := exec.Command(php, harness)
		cmd.Env = append(os.Environ(), "HERALD_PLUGIN="+plugin, "HERALD_DESIRED=en-story", "HERALD_TRASHED=en-story__trashed",
			"HERALD_BLOG=3", "HERALD_POST_ID=4713")
		if trash, err = cmd.Output(); err != nil {
			t.Fatalf("php: %v", err)
		}
	}
	code, out = e.do("/v1/hooks/wordpress", trash, signStandard(t, wpSecret, "msg_sub_trash_4713", e.now, trash))
	if code != http.StatusOK || out["id"] != "wp-news.example.com-3-4713" {
		t.Fatalf("the other site's trash: %d %v (payload %s), want 200 retracting wp-news.example.com-3-4713", code, out, trash)
	}
	waitFor(t, 10*time.Second, "two posts left", func() bool { return len(e.fake.Messages()) == 2 })
	for _, ch := range []channels.Name{"tg-a", "tg-b"} {
		if d, err := e.broker.Delivery(context.Background(), "wp-news.example.com-4713", ch); err != nil || d.State != queue.StateSent {
			t.Fatalf("main site's post on %s: %+v %v, want still sent", ch, d, err)
		}
	}
}
