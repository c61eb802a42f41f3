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

func TestShowURLKeepsCredentialsOut(t *testing.T) {
	for in, want := range map[string]string{
		"https://graph.facebook.com":                         `"https://graph.facebook.com"`,
		"https://graph.facebook.com/":                        `"https://graph.facebook.com"`,
		"https://api.telegram.org/bot1:AAH-token/getMe":      `"https://api.telegram.org/…"`,
		"https://gate.whapi.cloud/?token=abc":                `"https://gate.whapi.cloud/…"`,
		"https://news:pw@mastodon.social":                    `"https://mastodon.social/…"`,
		"graph.facebook.com/v21.0?access_token=EAAB":         "(the value is not repeated: it is not a URL with a scheme and host, and may hold a credential)",
		"7012345678:AAHs3cr3t":                               "(the value is not repeated: it is not a URL with a scheme and host, and may hold a credential)",
		"ftp://files.example.com":                            `"ftp://files.example.com"`,
		"http://127.0.0.1:8080/api/webhooks/1/tokentokentok": `"http://127.0.0.1:8080/…"`,
	} {
		if got := ShowURL(in); got != want {
			t.Errorf("ShowURL(%q) = %s, want %s", in, got, want)
		}
	}
}
