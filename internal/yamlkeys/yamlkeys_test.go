package yamlkeys

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"
)

type inner struct {
	Limit int `yaml:"limit"`
}

type common struct {
	Name string `yaml:"name"`
}

type item struct {
	common   `yaml:",inline"`
	Rate     string            `yaml:"rate"`
	Settings yaml.Node         `yaml:"settings"` // read later by its own type
	Format   *inner            `yaml:"format"`
	Headers  map[string]string `yaml:"headers"`
	Timeout  time.Duration     `yaml:"timeout"`
	Custom   custom            `yaml:"custom"`
	Skipped  string            `yaml:"-"`
}

type custom struct{ v string }

func (c *custom) UnmarshalYAML(n *yaml.Node) error { c.v = n.Value; return nil }

type doc struct {
	Items  []item           `yaml:"items"`
	Byname map[string]inner `yaml:"byname"`
	Plain  string
}

func check(t *testing.T, text string) []Unknown {
	t.Helper()
	var n yaml.Node
	if err := yaml.Unmarshal([]byte(text), &n); err != nil {
		t.Fatal(err)
	}
	err := Check(&n, reflect.TypeFor[doc](), "")
	var out []Unknown
	if err != nil {
		for _, e := range err.(interface{ Unwrap() []error }).Unwrap() {
			var u Unknown
			if !errors.As(e, &u) {
				t.Fatalf("%v is not an Unknown", e)
			}
			out = append(out, u)
		}
	}
	return out
}

func TestKnownKeysPass(t *testing.T) {
	got := check(t, `
base: &base {rate: 1/s}
items:
  - name: a
    <<: *base
    settings: {anything: goes, here: [1]}
    format: {limit: 3}
    headers: {X-Any: y}
    timeout: 3s
    custom: {whatever: 1}
byname:
  x: {limit: 1}
plain: p
`)
	// "base" is not a key of doc: an anchor holder is still an unknown key.
	if len(got) != 1 || got[0].Path != "base" {
		t.Fatalf("got %+v, want only base", got)
	}
}

func TestUnknownKeysNamedByPathAndLine(t *testing.T) {
	got := check(t, `items:
  - name: tg-main
    rate_limt: 20/min
  - rate: 1/s
    format:
      limt: 3
byname:
  x: {limitt: 1}
platn: p
`)
	want := []struct {
		path string
		line int
		msg  string
	}{
		{"items[0] (tg-main).rate_limt", 3, "line 3: items[0] (tg-main).rate_limt: unknown setting (did you mean rate?)"},
		{"items[1].format.limt", 6, "line 6: items[1].format.limt: unknown setting (did you mean limit?)"},
		{"byname.x.limitt", 8, "line 8: byname.x.limitt: unknown setting (did you mean limit?)"},
		{"platn", 9, "line 9: platn: unknown setting (did you mean plain?)"},
	}
	if len(got) != len(want) {
		t.Fatalf("got %d unknown keys %+v, want %d", len(got), got, len(want))
	}
	for i, w := range want {
		if got[i].Path != w.path || got[i].Line != w.line || got[i].Error() != w.msg {
			t.Errorf("[%d] = %q (path %q, line %d), want %q", i, got[i].Error(), got[i].Path, got[i].Line, w.msg)
		}
	}
}

func TestNoCloseKeyListsTheKnownOnes(t *testing.T) {
	got := check(t, "items:\n  - {name: a, chat_id: 5}\n")
	if len(got) != 1 {
		t.Fatalf("got %+v", got)
	}
	msg := got[0].Error()
	if !strings.Contains(msg, "items[0] (a).chat_id: unknown setting; the settings here are ") || !strings.Contains(msg, "rate, settings") {
		t.Errorf("message %q does not list the known settings", msg)
	}
	got[0].Hint = "a kind's own settings go under settings:"
	if msg := got[0].Error(); !strings.HasSuffix(msg, "; a kind's own settings go under settings:") {
		t.Errorf("with a hint: %q", msg)
	}
}

func TestClosest(t *testing.T) {
	known := []string{"api_token", "api_token_file", "addr", "public_url", "tokens"}
	for typo, want := range map[string]string{
		"api_tokn":  "api_token",
		"adr":       "addr",
		"publicurl": "public_url",
		"token":     "tokens",
		"zzz":       "",
		"api_tokne": "api_token",
		"a":         "",
	} {
		if got := closest(typo, known); got != want {
			t.Errorf("closest(%q) = %q, want %q", typo, got, want)
		}
	}
}

// A value of the wrong type is named by its path and line, says what the key takes, and does not
// repeat the value (it may be a secret written under the wrong key).
func TestTypesNamedByPathAndLine(t *testing.T) {
	const secret = "s3cr3t-value-0123"
	text := `items:
  - name: tg-main
    format: {limit: ` + secret + `}
    timeout: ` + secret + `
    headers: [a, b]
    rate: {a: b}
    custom: x
  - name: ok
    format: {limit: 2.5}
  - name: fine
    format: {limit: 3}
    timeout: 15s
    rate: 20/min
    headers: {X-A: "1"}
    settings: {anything: [goes]}
byname: [x]
items2: whatever
`
	var n yaml.Node
	if err := yaml.Unmarshal([]byte(text), &n); err != nil {
		t.Fatal(err)
	}
	err := Types(&n, reflect.TypeFor[doc](), "")
	if err == nil {
		t.Fatal("no error")
	}
	want := []string{
		"line 3: items[0] (tg-main).format.limit: want a whole number",
		"line 4: items[0] (tg-main).timeout: want a duration like 30s, 15m or 2h",
		"line 5: items[0] (tg-main).headers: want key: value pairs, not a list",
		"line 6: items[0] (tg-main).rate: want a single value, not key: value pairs",
		"line 9: items[1] (ok).format.limit: want a whole number",
		"line 16: byname: want key: value pairs, not a list",
	}
	got := err.(interface{ Unwrap() []error }).Unwrap()
	if len(got) != len(want) {
		t.Fatalf("got %d errors, want %d:\n%v", len(got), len(want), err)
	}
	for i, e := range got {
		var m Mismatch
		if !errors.As(e, &m) || e.Error() != want[i] {
			t.Errorf("error %d: %v, want %s", i, e, want[i])
		}
	}
	if strings.Contains(err.Error(), secret) {
		t.Errorf("the errors repeat the value: %v", err)
	}
	if err := Types(&n, reflect.TypeFor[doc](), "x"); !strings.Contains(err.Error(), "x.items[0] (tg-main).format.limit") {
		t.Errorf("the prefix is not in the path: %v", err)
	}
}
