package channels

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"regexp"
	"strings"
)

// Secret is one secret setting of a channel, which may be given three ways so that it never has
// to be written in the config file: inline (`token: …`, or HERALD_CH_<NAME>_TOKEN, which config
// applies to every setting), as a file (`token_file: /run/secrets/tg`) or as the name of an
// environment variable (`token_env: TG_MAIN_TOKEN`). At most one may be set; FallbackEnv, when
// given, is read when none is.
type Secret struct {
	Setting     string // "token", "consumer_secret": names the setting in errors
	Value       string // the inline value
	File        string // <setting>_file
	Env         string // <setting>_env
	FallbackEnv string // read when none of the three is set ("HERALD_TELEGRAM_TOKEN"), optional
}

// ErrNoSecret is wrapped by Resolve when no source gave a value.
var ErrNoSecret = errors.New("not set")

// Resolve returns the secret, trimmed of surrounding white space. Errors name the setting or
// variable at fault and never contain the value.
func (s Secret) Resolve() (string, error) { return s.resolve(os.Getenv, os.ReadFile) }

func (s Secret) resolve(getenv func(string) string, readFile func(string) ([]byte, error)) (string, error) {
	set := 0
	for _, v := range []string{s.Value, s.File, s.Env} {
		if v != "" {
			set++
		}
	}
	if set > 1 {
		return "", fmt.Errorf("%[1]s, %[1]s_file, %[1]s_env: set only one", s.Setting)
	}
	var v string
	source := s.Source()
	switch {
	case s.Value != "":
		v = s.Value
	case s.File != "":
		b, err := readFile(s.File)
		if err != nil {
			var pe *fs.PathError
			if errors.As(err, &pe) && !looksLikePath(s.File) {
				// The secret itself pasted into <setting>_file: the read error would quote it.
				err = fmt.Errorf("%s: %w (the value is not repeated: it is not an absolute path and may be the secret itself)", pe.Op, pe.Err)
			}
			return "", fmt.Errorf("%s: %w", source, err)
		}
		v = string(b)
	case s.Env != "":
		v = getenv(s.Env)
	case s.FallbackEnv != "":
		v = getenv(s.FallbackEnv)
	}
	v = strings.TrimSpace(v)
	if v == "" {
		return "", fmt.Errorf("%s: %w", source, ErrNoSecret)
	}
	return v, nil
}

// Source names where the secret is read from, for error messages: "token", "token_file",
// "token_env: $TG_MAIN_TOKEN" or "$HERALD_TELEGRAM_TOKEN".
func (s Secret) Source() string {
	switch {
	case s.Value != "":
		return s.Setting
	case s.File != "":
		return s.Setting + "_file"
	case s.Env != "" && !envNameRE.MatchString(s.Env):
		// Not a variable's name but perhaps the secret pasted into <setting>_env: not repeated.
		return s.Setting + "_env (the value is not repeated: it is not an environment variable name like TG_MAIN_TOKEN and may be the secret itself)"
	case s.Env != "":
		return s.Setting + "_env: $" + s.Env
	case s.FallbackEnv != "":
		return "$" + s.FallbackEnv
	}
	return s.Setting
}

// envNameRE is what an environment variable's name looks like in a config: upper case letters,
// digits and _. Anything else (a URL, a mixed-case token) is not repeated in errors.
var envNameRE = regexp.MustCompile(`^[A-Z_][A-Z0-9_]*$`)

// looksLikePath reports whether a <setting>_file value is an absolute path (/run/secrets/x),
// which errors may repeat, rather than a secret pasted into the wrong setting.
func looksLikePath(p string) bool {
	return strings.HasPrefix(p, "/") && !strings.Contains(p, "://")
}

// ResolveWith is Resolve with the environment and file system given (tests).
func (s Secret) ResolveWith(getenv func(string) string, readFile func(string) ([]byte, error)) (string, error) {
	return s.resolve(getenv, readFile)
}
