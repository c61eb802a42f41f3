package web

import (
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// runPlugin runs a PHP harness (one that loads the must-use plugin, deploy/wordpress/herald.php)
// against e's hook on a loopback server, with the WordPress secret and env added, and returns
// what it printed. Without php the test is skipped: the plugin is not exercised.
func runPlugin(t *testing.T, e *hookEnv, name, script string, env ...string) string {
	t.Helper()
	php, err := exec.LookPath("php")
	if err != nil {
		t.Skip("php is not installed (apt-get install php-cli): the plugin is not exercised")
	}
	srv := httptest.NewServer(e.h)
	defer srv.Close()
	harness := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(harness, []byte(script), 0o600); err != nil {
		t.Fatal(err)
	}
	plugin, _ := filepath.Abs("../deploy/wordpress/herald.php")
	cmd := exec.Command(php, harness)
	cmd.Env = append(append(os.Environ(), "HERALD_URL="+srv.URL+"/v1/hooks/wordpress", "HERALD_SECRET="+wpSecret, "HERALD_PLUGIN="+plugin), env...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("php: %v\n%.500s", err, out)
	}
	return string(out)
}
