package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// Every herald command the README and docs/ show exists, with the flags they give it: an
// example an operator copies runs (its arguments aside).
func TestDocumentedCommandsAndFlagsExist(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join("..", "..", "docs", "*.md"))
	files = append(files, filepath.Join("..", "..", "README.md"), filepath.Join("..", "..", "deploy", "README.md"))
	root := newRootCmd()
	// Code: the lines of code blocks and the inline code spans of the prose.
	block := regexp.MustCompile("(?s)```[a-z]*\\n(.*?)```")
	span := regexp.MustCompile("`([^`\\n]+)`")
	// "herald <command>" at the start of a line of code (after a prompt or variables), up to a
	// table cell's end or a comment.
	use := regexp.MustCompile(`(?m)^\s*(?:\$ )?(?:[A-Z_]+=\S* )*(?:bin/|/usr/local/bin/|go run \./cmd/)?herald ([a-z][a-z-]+)([^\n|#;)]*)`)
	flag := regexp.MustCompile(`(?:^|\s|\[)(--?[a-zA-Z][a-zA-Z-]*)`)
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var code []string
		for _, m := range block.FindAllStringSubmatch(string(b), -1) {
			code = append(code, m[1])
		}
		prose := block.ReplaceAllString(string(b), "")
		for _, m := range span.FindAllStringSubmatch(prose, -1) {
			code = append(code, m[1])
		}
		// A table escapes | in a span: `herald log [-f\|--follow]`.
		for _, m := range use.FindAllStringSubmatch(strings.ReplaceAll(strings.Join(code, "\n"), `\|`, " "), -1) {
			name, rest := m[1], m[2]
			cmd, _, err := root.Find([]string{name})
			if err != nil || cmd == root {
				t.Errorf("%s: herald %s%s: no such command", filepath.Base(f), name, rest)
				continue
			}
			for _, fm := range flag.FindAllStringSubmatch(rest, -1) {
				fl := fm[1]
				ok := fl == "--help" || fl == "-h"
				if ok {
					continue
				}
				if strings.HasPrefix(fl, "--") {
					ok = cmd.Flags().Lookup(fl[2:]) != nil || cmd.InheritedFlags().Lookup(fl[2:]) != nil
				} else {
					ok = len(fl) == 2 && (cmd.Flags().ShorthandLookup(fl[1:]) != nil || cmd.InheritedFlags().ShorthandLookup(fl[1:]) != nil)
				}
				if !ok {
					t.Errorf("%s: herald %s%s: %s has no flag %s", filepath.Base(f), name, rest, name, fl)
				}
			}
		}
	}
}
