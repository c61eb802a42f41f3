// Package conformance finds the platforms' own conformance data for tests. It is kept outside
// the repository, in shared/conformance beside the checkout (twitter-text's files say not to
// copy them into a project), so a test that needs it looks there and skips, saying where it
// looked, when it is absent.
package conformance

import (
	"os"
	"path/filepath"
	"testing"
)

// Dir returns shared/conformance/<name> in the first directory above the test's working
// directory that has it (the checkout's parent for /work/main, a level further for a worktree),
// or skips t.
func Dir(t testing.TB, name string) string {
	t.Helper()
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for dir := wd; ; {
		p := filepath.Join(dir, "shared", "conformance", name)
		if st, err := os.Stat(p); err == nil && st.IsDir() {
			return p
		}
		up := filepath.Dir(dir)
		if up == dir {
			t.Skipf("conformance data %s not found: it is read from ../shared/conformance/%s beside the checkout (not carried in the repository), looked in every directory above %s", name, name, wd)
			return ""
		}
		dir = up
	}
}
