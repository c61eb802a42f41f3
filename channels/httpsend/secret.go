package httpsend

import (
	"fmt"
	"strings"
)

// Secret resolves a secret setting that may be given three ways, like telegram's token: the
// value itself (`<name>`, which HERALD_CH_<NAME>_<SETTING> also sets), a file (`<name>_file`,
// e.g. a Docker or Kubernetes secret) or an environment variable (`<name>_env`). Setting more
// than one is an error; errors name the setting, never the value. An unset secret is "".
func Secret(name, value, file, env string, getenv func(string) string, readFile func(string) ([]byte, error)) (string, error) {
	set := 0
	for _, s := range []string{value, file, env} {
		if s != "" {
			set++
		}
	}
	if set > 1 {
		return "", fmt.Errorf("%s, %s_file, %s_env: set only one", name, name, name)
	}
	switch {
	case file != "":
		b, err := readFile(file)
		if err != nil {
			return "", fmt.Errorf("%s_file: %w", name, err)
		}
		v := strings.TrimSpace(string(b))
		if v == "" {
			return "", fmt.Errorf("%s_file: %s is empty", name, file)
		}
		return v, nil
	case env != "":
		v := strings.TrimSpace(getenv(env))
		if v == "" {
			return "", fmt.Errorf("%s_env: $%s is empty or unset", name, env)
		}
		return v, nil
	}
	return strings.TrimSpace(value), nil
}
