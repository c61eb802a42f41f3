package web

// A custom post type registered without show_in_rest (register_post_type's default) is not
// served by the REST API; the plugin sends such posts all the same.

import (
	"context"
	"strings"
	"testing"
)

// cptHarness runs the plugin's wp_after_insert_post action on a published post of the type
// "news", which the REST API does not serve, then the request's end (shutdown), when it sends.
const cptHarness = phpHead + `define('HERALD_POST_TYPES', 'post, news');
$GLOBALS['hooks'] = [];
function add_action($hook, $cb, $prio = 10, $n = 1) { $GLOBALS['hooks'][$hook][] = $cb; }
function do_action($hook, ...$args) { foreach ($GLOBALS['hooks'][$hook] ?? [] as $cb) { $cb(...$args); } }
function apply_filters($hook, $v) { return $v; }
function wp_is_post_revision($id) { return false; }
function wp_is_post_autosave($id) { return false; }
function get_post_type_object($t) { return (object) ['name' => $t, 'show_in_rest' => false]; }
// The REST API has no route for the type: rest_no_route, 404.
class WP_REST_Request { function __construct($m, $r) {} function set_query_params($q) {} }
class Herald_NoRoute { function is_error() { return true; } }
function rest_do_request($r) { return new Herald_NoRoute(); }
function get_post_thumbnail_id($p) { return 991; }
function wp_get_attachment_url($id) { return 'https://news.example.com/wp-content/uploads/2026/11/cpt.jpg'; }
function get_the_terms($p, $tax) { return $tax === 'category' ? [(object) ['term_id' => 12, 'name' => 'الدفاع و الامن', 'taxonomy' => 'category']] : false; }
function mysql2date($f, $d, $t) { return $d === '0000-00-00 00:00:00' ? false : (new DateTime($d, new DateTimeZone('UTC')))->format($f); }
function get_the_guid($p) { return 'https://news.example.com/?post_type=news&p=' . $p->ID; }
function get_permalink($p) { return 'https://news.example.com/news/' . $p->post_name . '/'; }
function get_the_title($p) { return $p->post_title; }
function get_the_excerpt($p) { return $p->post_excerpt; }
function get_bloginfo($what) { return $what === 'language' ? (getenv('HERALD_SITE_LANG') ?: 'ar') : ''; }
function is_multisite() { return false; }
function get_current_blog_id() { return 1; }
function wp_json_encode($v, $flags) { return json_encode($v, $flags); }
function wp_generate_uuid4() { return bin2hex(random_bytes(16)); }
function is_wp_error($x) { return $x === false; }
function wp_remote_retrieve_response_code($r) { return $r['code']; }
function wp_schedule_single_event() { echo "retry scheduled\n"; }
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
$post->ID = 4730;
$post->post_type = 'news';
$post->post_status = 'publish';
$post->post_password = '';
$post->post_name = 'cpt-story';
$post->post_title = 'خبر من نوع مخصص';
$post->post_excerpt = 'ملخص الخبر';
$post->post_content = '<p>نص الخبر</p>';
$post->post_date_gmt = '2026-11-27 09:15:00';
do_action('wp_after_insert_post', $post->ID, $post, false, null);
do_action('shutdown');
`

func TestWordPressCustomPostTypeWithoutRESTIsSent(t *testing.T) {
	e := newHookEnv(t)
	out := runPlugin(t, e, "cpt.php", cptHarness)
	if !strings.Contains(string(out), "status 202") {
		t.Fatalf("a published post of a type the REST API does not serve: %q, want it sent and queued (202)", out)
	}
	a, err := e.broker.Article(context.Background(), "wp-news.example.com-4730")
	if err != nil {
		t.Fatal(err)
	}
	if a.Title != "خبر من نوع مخصص" || a.URL != "https://news.example.com/news/cpt-story/" || a.Summary != "ملخص الخبر" ||
		a.Category != "الدفاع و الامن" || a.ImageURL != "https://news.example.com/wp-content/uploads/2026/11/cpt.jpg" ||
		a.PublishedAt == nil || a.PublishedAt.Format("2006-01-02T15:04:05") != "2026-11-27T09:15:00" {
		t.Fatalf("stored article %+v", a)
	}
}
