package web

// An Arabic newsroom pastes a photo from Word into the editor: WordPress keeps it in the
// content as a data: URI of megabytes. The story still goes out, without that body.

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

// bigHarness queues the publish of a post whose content holds a 5 MB photo as a data: URI, then
// ends the request (shutdown), when the plugin sends it.
const bigHarness = phpHead + `$GLOBALS['hooks'] = [];
function add_action($hook, $cb, $prio = 10, $n = 1) { $GLOBALS['hooks'][$hook][] = $cb; }
function do_action($hook, ...$args) { foreach ($GLOBALS['hooks'][$hook] ?? [] as $cb) { $cb(...$args); } }
function get_current_blog_id() { return 1; }
function wp_json_encode($v, $flags) { return json_encode($v, $flags); }
function wp_generate_uuid4() { return bin2hex(random_bytes(16)); }
function is_wp_error($x) { return $x === false; }
function wp_remote_retrieve_response_code($r) { return $r['code']; }
function wp_schedule_single_event() { echo "retry scheduled\n"; }
` + phpRemotePost + `require getenv('HERALD_PLUGIN');
herald_queue_event('publish', [
	'id' => 4751, 'status' => 'publish', 'link' => 'https://news.example.com/world/pasted-5mb/',
	'title' => ['rendered' => 'خبر بصورة كبيرة'], 'excerpt' => ['rendered' => 'ملخص'],
	'content' => ['rendered' => '<p><img src="data:image/jpeg;base64,' . str_repeat('/9j/4AAQSkZJRg', 400000) . '"></p>'],
]);
do_action('shutdown');
`

func TestWordPressPostWithAHugeBodyIsStillPosted(t *testing.T) {
	e := newHookEnv(t)
	pasted := `<p>نص الخبر</p><p><img src="data:image/png;base64,` + strings.Repeat("iVBORw0KGgo", 150_000) + `"></p>`
	post, err := json.Marshal(map[string]any{
		"id": 4750, "status": "publish", "link": "https://news.example.com/world/pasted-photo/",
		"title":   map[string]any{"rendered": "خبر بصورة ملصقة"},
		"excerpt": map[string]any{"rendered": "<p>ملخص الخبر [&hellip;]</p>"},
		"content": map[string]any{"rendered": pasted},
	})
	if err != nil {
		t.Fatal(err)
	}
	code, out := e.do("/v1/hooks/wordpress", post, signStandard(t, wpSecret, "msg_big_4750", e.now, post))
	if code != http.StatusAccepted {
		t.Fatalf("a post whose content is %d bytes: %d %v, want 202", len(pasted), code, out)
	}
	a, err := e.broker.Article(context.Background(), "wp-news.example.com-4750")
	if err != nil {
		t.Fatal(err)
	}
	if a.Title != "خبر بصورة ملصقة" || a.Summary != "ملخص الخبر" || len(a.Body) > 1<<20 {
		t.Fatalf("stored article: title %q summary %q body %d bytes", a.Title, a.Summary, len(a.Body))
	}
}

// Over 4 MiB herald does not read the request at all (413, which the plugin does not retry): the
// plugin sends such a post without its content (needs php).
func TestWordPressPluginSendsAHugePostWithoutItsContent(t *testing.T) {
	e := newHookEnv(t)
	out := runPlugin(t, e, "big.php", bigHarness)
	if !strings.Contains(string(out), "status 202") || !e.articleExists("wp-news.example.com-4751") {
		t.Fatalf("a post with a 5 MB pasted photo: %.500s, want it sent and queued (202)", out)
	}
}
