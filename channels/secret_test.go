package channels

import (
	"errors"
	"os"
	"strings"
	"testing"
)

func TestSecretSources(t *testing.T) {
	env := map[string]string{"X_SECRET": " from-env\n", "FALLBACK": "from-fallback"}
	getenv := func(k string) string { return env[k] }
	readFile := func(p string) ([]byte, error) {
		if p == "/run/secrets/x" {
			return []byte("from-file\n"), nil
		}
		return nil, os.ErrNotExist
	}
	cases := []struct {
		s       Secret
		want    string
		wantErr string
	}{
		{Secret{Setting: "k", Value: "inline"}, "inline", ""},
		{Secret{Setting: "k", File: "/run/secrets/x"}, "from-file", ""},
		{Secret{Setting: "k", Env: "X_SECRET"}, "from-env", ""},
		{Secret{Setting: "k", FallbackEnv: "FALLBACK"}, "from-fallback", ""},
		{Secret{Setting: "k", Value: "a", Env: "X_SECRET"}, "", "k, k_file, k_env: set only one"},
		{Secret{Setting: "k", File: "/nope"}, "", "k_file:"},
		{Secret{Setting: "k", Env: "UNSET"}, "", "k_env: $UNSET: not set"},
		{Secret{Setting: "k"}, "", "k: not set"},
	}
	for _, tc := range cases {
		got, err := tc.s.ResolveWith(getenv, readFile)
		if tc.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("%+v: err %v, want %q", tc.s, err, tc.wantErr)
			}
			if strings.Contains(tc.wantErr, "not set") && !errors.Is(err, ErrNoSecret) {
				t.Errorf("%+v: %v is not ErrNoSecret", tc.s, err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("%+v = %q, %v; want %q", tc.s, got, err, tc.want)
		}
	}
}

// TestSecretPastedIntoFileOrEnvIsNotRepeated: the secret itself given as <setting>_file or
// <setting>_env (a Discord webhook URL, a Mastodon token) is read as a path or a variable name
// that does not exist; the start-up error names the setting but never repeats the value.
func TestSecretPastedIntoFileOrEnvIsNotRepeated(t *testing.T) {
	const token = "hRd-fake_webhook-token_0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJ"
	for _, s := range []Secret{
		{Setting: "webhook_url", File: "https://discord.com/api/webhooks/1300000000000000001/" + token},
		{Setting: "webhook_url", Env: "https://discord.com/api/webhooks/1300000000000000001/" + token},
		{Setting: "access_token", File: token},
		{Setting: "access_token", Env: token},
	} {
		_, err := s.ResolveWith(func(string) string { return "" }, os.ReadFile)
		if err == nil || strings.Contains(err.Error(), token) || !strings.HasPrefix(err.Error(), s.Setting+"_") {
			t.Errorf("%v: want an error naming the setting, without the value", err)
		}
	}
	// A real path and a variable's name are still said.
	_, err := Secret{Setting: "token", File: "/nonexistent/herald-secret"}.ResolveWith(os.Getenv, os.ReadFile)
	if err == nil || !strings.Contains(err.Error(), "/nonexistent/herald-secret") {
		t.Errorf("%v: want the path", err)
	}
}
