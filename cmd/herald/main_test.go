package main

import (
	"os"
	"path/filepath"
	"testing"
)

// TestMain removes the herald binary the end-to-end tests build (heraldBinary): each run of this
// package left a temporary directory with a 40 MB binary behind, and a day of test runs on a
// shared machine filled gigabytes of /tmp.
func TestMain(m *testing.M) {
	code := m.Run()
	if binPath != "" {
		_ = os.RemoveAll(filepath.Dir(binPath))
	}
	os.Exit(code)
}
