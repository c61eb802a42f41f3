package channels

import (
	"testing"
	"time"
)

func TestBaseURLDefaultsTrimsAndRefuses(t *testing.T) {
	v := ""
	if err := BaseURL("api_base", &v, "https://api.example.com/v1/"); err != nil || v != "https://api.example.com/v1" {
		t.Fatalf("empty: %q, %v; want the default without its trailing slash", v, err)
	}
	v = "ftp://files.example.com"
	if err := BaseURL("api_base", &v, "https://x"); err == nil || err.Error() != `api_base: "ftp://files.example.com" is not an http(s) URL` {
		t.Fatalf("ftp URL: %v, want a refusal naming api_base", err)
	}
}

func TestDurationDefaultsAndRefusesNegative(t *testing.T) {
	d := time.Duration(0)
	if err := Duration("timeout", &d, 15*time.Second); err != nil || d != 15*time.Second {
		t.Fatalf("zero: %s, %v; want the default", d, err)
	}
	d = -time.Second
	if err := Duration("timeout", &d, 15*time.Second); err == nil || err.Error() != "timeout: must be positive, got -1s" {
		t.Fatalf("negative: %v, want a refusal naming timeout", err)
	}
}
