package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// Every family of Redis keys herald's code writes has a row in the README's "What herald keeps
// in Redis", which says how long it is kept: a key family added without one fails here.
func TestReadmeNamesEveryRedisKeyFamily(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	text := string(data)
	start := strings.Index(text, "### What herald keeps in Redis")
	end := strings.Index(text, "\n## Logs")
	if start < 0 || end < start {
		t.Fatal("README: no section What herald keeps in Redis")
	}
	section := text[start:end]
	// Key names are built from a package's keyPrefix ("herald:" in queue, "herald:admin:" in
	// admin) or written out ("herald:feed:{", "herald:dash:sess:").
	notKeys := map[string]bool{"bell": true, "deliver": true, "wake": true} // task types, a pub/sub channel
	prefixed := regexp.MustCompile(`keyPrefix \+ "([a-z][a-z:{-]*)`)
	literal := regexp.MustCompile(`"herald:([a-z][a-z:{-]*)`)
	families := map[string]string{}
	for _, dir := range []string{"queue", "admin", "web", "ingest"} {
		files, _ := filepath.Glob(filepath.Join("..", "..", dir, "*.go"))
		for _, f := range files {
			if strings.HasSuffix(f, "_test.go") {
				continue
			}
			src, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			for _, re := range []*regexp.Regexp{prefixed, literal} {
				for _, m := range re.FindAllStringSubmatch(string(src), -1) {
					fam := strings.TrimSuffix(m[1], "{")
					if fam == "admin:" || notKeys[fam] {
						continue
					}
					families[fam] = f
				}
			}
		}
	}
	if len(families) < 20 {
		t.Fatalf("found only %d key families: %v", len(families), families)
	}
	for fam, f := range families {
		if !strings.Contains(section, fam) {
			t.Errorf("%s writes keys %q…, which the README's What herald keeps in Redis does not name", f, fam)
		}
	}
}
