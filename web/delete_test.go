package web

// A site with EMPTY_TRASH_DAYS 0 deletes posts for good instead of trashing them: WordPress
// fires before_delete_post and deleted_post, never trashed_post. The plugin sends the delete as
// the REST API answers one ({"deleted":true,"previous":<post>}) and herald retracts the article.

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"herald/channels"
	"herald/queue"
)

// deleteHarness loads the plugin with WordPress's action API (add_action, do_action) and the
// few functions its delete path calls, then runs what wp_delete_post does to a post: the
// before_delete_post action, and the request's end (shutdown), when the plugin sends.
const deleteHarness = phpHead + `$GLOBALS['hooks'] = [];
function add_action($hook, $cb, $prio = 10, $n = 1) { $GLOBALS['hooks'][$hook][] = $cb; }
function do_action($hook, ...$args) { foreach ($GLOBALS['hooks'][$hook] ?? [] as $cb) { $cb(...$args); } }
function is_wp_error($x) { return $x === false; }
function wp_remote_retrieve_response_code($r) { return $r['code']; }
function wp_schedule_single_event() { echo "retry scheduled\n"; }
function wp_json_encode($v, $flags) { return json_encode($v, $flags); }
function wp_generate_uuid4() { return bin2hex(random_bytes(16)); }
function get_post($id) { return null; }
function get_permalink($p) { return 'https://news.example.com/world/' . $p->post_name . '/'; }
function get_the_guid($p) { return $p->guid; }
function get_the_title($p) { return $p->post_title; }
function is_multisite() { return false; }
function get_current_blog_id() { return 1; }
function wp_remote_post($url, $args) {
	$h = '';
	foreach ($args['headers'] as $k => $v) { $h .= "$k: $v\r\n"; }
	$ctx = stream_context_create(['http' => ['method' => 'POST', 'header' => $h, 'content' => $args['body'], 'ignore_errors' => true]]);
	$out = file_get_contents($url, false, $ctx);
	preg_match('/ (\d{3}) /', $http_response_header[0], $m);
	echo "status " . $m[1] . " " . $out . "\n";
	return ['code' => (int) $m[1]];
}
require getenv('HERALD_PLUGIN');
$post = new stdClass();
$post->ID = (int) getenv('HERALD_POST_ID');
$post->post_type = 'post';
$post->post_status = getenv('HERALD_POST_STATUS');
$post->post_name = 'deleted-story';
$post->guid = 'https://news.example.com/?p=' . $post->ID;
$post->post_title = 'خبر محذوف';
do_action('before_delete_post', $post->ID, $post);
do_action('shutdown');
`

// A published post deleted for good (EMPTY_TRASH_DAYS 0, or DELETE ?force=true) is taken back
// like a trashed one: its posts deleted on both channels. With php, the plugin's own event;
// a post emptied from the trash (retracted when it was trashed) and a draft send nothing.
func TestWordPressPostDeletedForGoodIsRetracted(t *testing.T) {
	e := newHookEnv(t)
	e.startWorker()
	post := []byte(`{"id":4714,"status":"publish","link":"https://news.example.com/world/deleted-story/","guid":{"rendered":"https://news.example.com/?p=4714"},"title":{"rendered":"خبر محذوف"}}`)
	if code, out := e.do("/v1/hooks/wordpress", post, signStandard(t, wpSecret, "msg_pub_4714", e.now, post)); code != http.StatusAccepted {
		t.Fatalf("publish: %d %v", code, out)
	}
	e.waitMessages(2)
	const id = "wp-news.example.com-4714"
	waitFor(t, 15*time.Second, "both deliveries sent", func() bool {
		for _, ch := range []channels.Name{"tg-a", "tg-b"} {
			if d, err := e.broker.Delivery(context.Background(), id, ch); err != nil || d.State != queue.StateSent {
				return false
			}
		}
		return true
	})

	php, err := exec.LookPath("php")
	if err != nil {
		t.Log("php is not installed (apt-get install php-cli): the plugin's delete event is not exercised, only herald's side")
		del := []byte(`{"deleted":true,"previous":{"id":4714,"status":"publish","link":"https://news.example.com/world/deleted-story/","guid":{"rendered":"https://news.example.com/?p=4714"},"title":{"rendered":"خبر محذوف"}}}`)
		if code, out := e.do("/v1/hooks/wordpress", del, signStandard(t, wpSecret, "msg_del_4714", e.now, del)); code != http.StatusOK || out["id"] != id {
			t.Fatalf("delete: %d %v, want 200 retracting %s", code, out, id)
		}
	} else {
		srv := httptest.NewServer(e.h)
		defer srv.Close()
		harness := filepath.Join(t.TempDir(), "delete.php")
		if err := os.WriteFile(harness, []byte(deleteHarness), 0o600); err != nil {
			t.Fatal(err)
		}
		plugin, _ := filepath.Abs("../deploy/wordpress/herald.php")
		run := func(postID, status string) string {
			t.Helper()
			cmd := exec.Command(php, harness)
			cmd.Env = append(os.Environ(), "HERALD_URL="+srv.URL+"/v1/hooks/wordpress", "HERALD_SECRET="+wpSecret,
				"HERALD_PLUGIN="+plugin, "HERALD_POST_ID="+postID, "HERALD_POST_STATUS="+status)
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("php: %v\n%s", err, out)
			}
			return string(out)
		}
		for _, c := range [][2]string{{"4715", "trash"}, {"4716", "draft"}} {
			if out := run(c[0], c[1]); strings.Contains(out, "status") {
				t.Fatalf("deleting a %s post sent an event: %s", c[1], out)
			}
		}
		if out := run("4714", "publish"); !strings.Contains(out, "status 200") || !strings.Contains(out, `"result":"retracted"`) {
			t.Fatalf("the plugin's delete event: %s, want 200 retracted", out)
		}
	}
	if n := len(e.fake.Messages()); n != 0 {
		t.Fatalf("%d messages left after the delete, want both posts deleted", n)
	}
	for _, ch := range []channels.Name{"tg-a", "tg-b"} {
		d, err := e.broker.Delivery(context.Background(), id, ch)
		if err != nil || d.State != queue.StateRetracted || d.RetractedBy != "wordpress:wordpress" {
			t.Fatalf("%s: %+v %v, want retracted by wordpress:wordpress", ch, d, err)
		}
	}
}
