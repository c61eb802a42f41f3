package main

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// readme returns README.md and its text outside code blocks.
func readme(t *testing.T) (text, prose string) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	text = string(b)
	return text, regexp.MustCompile("(?s)```.*?```").ReplaceAllString(text, "")
}

// The Contents list names every section (##) in order, and every link to a heading of the
// README lands on one.
func TestReadmeContentsMatchesHeadings(t *testing.T) {
	text, prose := readme(t)
	slug := func(h string) string {
		h = strings.ToLower(strings.TrimSpace(strings.ReplaceAll(h, "`", "")))
		h = regexp.MustCompile(`[^\p{L}\p{N}_\- ]`).ReplaceAllString(h, "")
		return strings.ReplaceAll(h, " ", "-")
	}
	anchors := map[string]bool{}
	var sections []string
	for _, m := range regexp.MustCompile(`(?m)^(#{2,4}) (.+)$`).FindAllStringSubmatch(prose, -1) {
		anchors[slug(m[2])] = true
		if m[1] == "##" && m[2] != "Contents" {
			sections = append(sections, slug(m[2]))
		}
	}
	contents := text[strings.Index(text, "## Contents"):]
	contents = contents[:strings.Index(contents, "\n## ")]
	var listed []string
	for _, m := range regexp.MustCompile(`(?m)^- \[.+\]\(#([^)]+)\)$`).FindAllStringSubmatch(contents, -1) {
		listed = append(listed, m[1])
	}
	if !slices.Equal(listed, sections) {
		t.Errorf("the Contents list is\n  %v\nthe README's sections (##) are\n  %v", listed, sections)
	}
	for _, m := range regexp.MustCompile(`\]\(#([^)]+)\)`).FindAllStringSubmatch(text, -1) {
		if !anchors[m[1]] {
			t.Errorf("link to #%s: no such heading", m[1])
		}
	}
}

// The Layout section lists every package once: each directory holding Go code is listed
// itself or under its first two path elements (channels/telegram/ covers telegramfake,
// internal/harness/ the harness's programs).
func TestReadmeLayoutListsEveryPackage(t *testing.T) {
	text, _ := readme(t)
	i := strings.Index(text, "\n## Layout")
	if i < 0 {
		t.Fatal("README.md has no Layout section")
	}
	block := regexp.MustCompile("(?s)```\n(.*?)```").FindStringSubmatch(text[i:])
	if block == nil {
		t.Fatal("the Layout section has no code block")
	}
	var listed []string
	for _, line := range strings.Split(block[1], "\n") {
		if f := strings.Fields(line); len(f) > 0 && strings.HasSuffix(f[0], "/") {
			if slices.Contains(listed, f[0]) {
				t.Errorf("Layout lists %s twice", f[0])
			}
			listed = append(listed, f[0])
		}
	}
	root := filepath.Join("..", "..")
	reported := map[string]bool{}
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && path != root && (strings.HasPrefix(d.Name(), ".") || d.Name() == "testdata") {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		rel, _ := filepath.Rel(root, filepath.Dir(path))
		if rel == "." {
			return nil
		}
		dir := filepath.ToSlash(rel) + "/"
		parts := strings.SplitAfter(dir, "/")
		top := strings.Join(parts[:min(2, len(parts))], "")
		if !reported[dir] && !slices.ContainsFunc(listed, func(l string) bool {
			return l == dir || l == top || strings.HasPrefix(l, top) && strings.HasPrefix(dir, l)
		}) {
			reported[dir] = true
			t.Errorf("package %s is not in the README's Layout section", dir)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
