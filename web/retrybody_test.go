package web

// The plugin's retries keep the event's body out of WP-Cron's one autoloaded option.

import (
	"fmt"
	"strings"
	"testing"
)

// retryHarness sends a publish whose first attempt fails (503, herald restarting), then runs
// the retry WP-Cron scheduled, with WordPress's options kept in memory. It prints the size of
// the cron event's arguments, the retry's status and the options left.
const retryHarness = phpHead + `$GLOBALS['options'] = [];
$GLOBALS['cron'] = [];
$GLOBALS['fail'] = 1;
function add_action() {}
function get_option($k) { return $GLOBALS['options'][$k] ?? false; }
function update_option($k, $v, $autoload = null) { $GLOBALS['options'][$k] = $v; return true; }
function delete_option($k) { unset($GLOBALS['options'][$k]); return true; }
function wp_schedule_single_event($ts, $hook, $args) { $GLOBALS['cron'][] = $args; }
function is_wp_error($x) { return $x === false; }
function wp_remote_retrieve_response_code($r) { return $r['code']; }
function wp_remote_post($url, $args) {
	if ($GLOBALS['fail']-- > 0) { return ['code' => 503]; }
	$h = '';
	foreach ($args['headers'] as $k => $v) { $h .= "$k: $v\r\n"; }
	$ctx = stream_context_create(['http' => ['method' => 'POST', 'header' => $h, 'content' => $args['body'], 'ignore_errors' => true]]);
	$out = file_get_contents($url, false, $ctx);
	preg_match('/ (\d{3}) /', $http_response_header[0], $m);
	echo "status " . $m[1] . "\n";
	return ['code' => (int) $m[1]];
}
require getenv('HERALD_PLUGIN');
$body = json_encode(['id' => 4790, 'status' => 'publish', 'link' => 'https://news.example.com/world/retried/',
	'title' => ['rendered' => 'خبر'], 'content' => ['rendered' => '<p>' . str_repeat('نص طويل ', 100000) . '</p>']], JSON_UNESCAPED_UNICODE);
herald_send('publish', $body, 'msg_retry_4790', 0);
echo "cron args " . strlen(serialize($GLOBALS['cron'])) . " bytes\n";
herald_send(...$GLOBALS['cron'][0]);
echo "options left " . count($GLOBALS['options']) . "\n";
`

func TestWordPressPluginRetryKeepsTheBodyOutOfWPCron(t *testing.T) {
	e := newHookEnv(t)
	out := runPlugin(t, e, "retry.php", retryHarness)
	cronBytes := -1
	for _, line := range strings.Split(string(out), "\n") {
		if rest, ok := strings.CutPrefix(line, "cron args "); ok {
			_, _ = fmt.Sscanf(rest, "%d bytes", &cronBytes)
		}
	}
	if cronBytes < 0 || cronBytes > 1000 {
		t.Fatalf("the retry's WP-Cron arguments: %q, want under 1000 bytes (the body kept elsewhere)", out)
	}
	if !strings.Contains(string(out), "status 202") || !strings.Contains(string(out), "options left 0") {
		t.Fatalf("the retry: %q, want it sent (202) and its stored body removed", out)
	}
	if !e.articleExists("wp-news.example.com-4790") {
		t.Fatal("the retried post was not queued")
	}
}
