package web

// A password-protected post has status publish, but only readers with the password may read
// it: it is never posted.

import (
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// saveHarness runs the plugin's wp_after_insert_post action on a published post (its password
// from HERALD_PASSWORD) as WordPress runs it for an editor whose browser holds the post's
// password, so post_password_required() is false; it prints how many events were queued.
const saveHarness = `<?php
define('ABSPATH', '/');
define('HERALD_URL', 'http://unused');
define('HERALD_WEBHOOK_SECRET', 'whsec_unused');
$GLOBALS['hooks'] = [];
$GLOBALS['shutdown'] = 0;
function add_action($hook, $cb, $prio = 10, $n = 1) { if ($hook === 'shutdown') { $GLOBALS['shutdown']++; } $GLOBALS['hooks'][$hook][] = $cb; }
function do_action($hook, ...$args) { foreach ($GLOBALS['hooks'][$hook] ?? [] as $cb) { $cb(...$args); } }
function wp_is_post_revision($id) { return false; }
function wp_is_post_autosave($id) { return false; }
function post_password_required($p) { return false; } // the editor's cookie holds the password
function get_post_type_object($t) { return (object) ['show_in_rest' => true, 'rest_base' => 'posts']; }
class WP_REST_Request { function __construct($m, $r) {} function set_query_params($q) {} }
class Herald_Response { function is_error() { return false; } }
class Herald_Server { function response_to_data($r, $embed) { return ['id' => 4720, 'status' => 'publish', 'link' => 'https://news.example.com/p/', 'title' => ['rendered' => 'x']]; } }
function rest_do_request($r) { return new Herald_Response(); }
function rest_get_server() { return new Herald_Server(); }
function apply_filters($hook, $v) { return $v; }
function get_bloginfo($what) { return 'ar'; }
function is_multisite() { return false; }
function get_current_blog_id() { return 1; }
function wp_json_encode($v, $flags) { return json_encode($v, $flags); }
function wp_generate_uuid4() { return bin2hex(random_bytes(16)); }
require getenv('HERALD_PLUGIN');
$post = new stdClass();
$post->ID = 4720;
$post->post_type = 'post';
$post->post_status = 'publish';
$post->post_password = getenv('HERALD_PASSWORD');
do_action('wp_after_insert_post', $post->ID, $post, false, null);
echo $GLOBALS['shutdown'];
`

func TestWordPressPasswordProtectedPostIsNotPosted(t *testing.T) {
	e := newHookEnv(t)
	// As the REST API renders it: status publish, content and excerpt protected.
	post := []byte(`{"id":4720,"status":"publish","link":"https://news.example.com/world/members-only/","title":{"rendered":"خبر محمي"},` +
		`"content":{"rendered":"","protected":true},"excerpt":{"rendered":"","protected":true}}`)
	code, out := e.do("/v1/hooks/wordpress", post, signStandard(t, wpSecret, "msg_protected_4720", e.now, post))
	if code != http.StatusOK || out["ignored"] == nil {
		t.Fatalf("password-protected post: %d %v, want 200 ignored", code, out)
	}
	if e.articleExists("wp-news.example.com-4720") {
		t.Fatal("a password-protected post was queued")
	}

	php, err := exec.LookPath("php")
	if err != nil {
		t.Skip("php is not installed (apt-get install php-cli): the plugin's save path is not exercised")
	}
	harness := filepath.Join(t.TempDir(), "save.php")
	if err := os.WriteFile(harness, []byte(saveHarness), 0o600); err != nil {
		t.Fatal(err)
	}
	plugin, _ := filepath.Abs("../deploy/wordpress/herald.php")
	for password, want := range map[string]string{"": "1", "s3cret": "0"} {
		cmd := exec.Command(php, harness)
		cmd.Env = append(os.Environ(), "HERALD_PLUGIN="+plugin, "HERALD_PASSWORD="+password)
		out, err := cmd.CombinedOutput()
		if err != nil || string(out) != want {
			t.Errorf("the plugin saving a post with password %q: %s %v, want %s event(s)", password, out, err, want)
		}
	}
}
