package yamlkeys

import (
	"errors"
	"fmt"
	"reflect"
	"regexp"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// Mismatch is a value of the wrong shape or type for its key: text where a number goes, a list
// where one value goes. yaml.v3 says "line 4: cannot unmarshal !!str `abc` into int", which
// names neither the key nor, for a channel's settings (decoded from a re-encoded copy), the
// right line, and repeats the value. A Mismatch names the key by its path and line and does
// not repeat the value: it may be a secret written under the wrong key.
type Mismatch struct {
	Path string // channels[0] (tg-main).max_attempts
	Line int    // in the document; 0 when the node did not come from a file
	Env  string // the environment variable that set it (MarkEnv), when it did not
	Want string // what the key takes: "a whole number", "true or false", "a list", …
	// Reason, when set, is the key's own decoder's explanation, said instead of Want.
	Reason string
}

func (m Mismatch) Error() string {
	var b strings.Builder
	b.WriteString(where(m.Line, m.Env))
	if m.Reason != "" {
		fmt.Fprintf(&b, "%s: %s", m.Path, m.Reason)
	} else {
		fmt.Fprintf(&b, "%s: want %s", m.Path, m.Want)
	}
	return b.String()
}

// Types reports every value of the document (under prefix) that the Go type t cannot take,
// each named by its path and line. Keys t does not have are Check's business and skipped here.
func Types(n *yaml.Node, t reflect.Type, prefix string) error {
	var found []error
	walkTypes(n, t, prefix, func(m Mismatch) { found = append(found, m) })
	return errors.Join(found...)
}

var durationType = reflect.TypeFor[time.Duration]()

// linePrefix is the "line N: " a decoder's own error may start with (the Mismatch says it).
var linePrefix = regexp.MustCompile(`^(yaml: unmarshal errors:\s*)?line \d+: `)

func walkTypes(n *yaml.Node, t reflect.Type, path string, report func(Mismatch)) {
	n = content(n)
	if n == nil || n.Kind == 0 || n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null" {
		return // an empty value leaves the zero value, whatever the type
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == nodeType || t.Kind() == reflect.Interface {
		return
	}
	bad := func(want string) {
		at := path
		if at == "" {
			at = "the file" // a document that is not key: value pairs
		}
		report(Mismatch{Path: at, Line: n.Line, Env: envOf(n), Want: want})
	}
	if reflect.PointerTo(t).Implements(unmarshalerType) {
		if err := n.Decode(reflect.New(t).Interface()); err != nil {
			report(Mismatch{Path: path, Line: n.Line, Env: envOf(n), Reason: linePrefix.ReplaceAllString(err.Error(), "")})
		}
		return
	}
	switch t.Kind() {
	case reflect.Struct:
		if n.Kind != yaml.MappingNode {
			bad("key: value pairs, not " + shape(n))
			return
		}
		fields := map[string]reflect.Type{}
		collect(t, fields)
		eachPair(n, func(k, v *yaml.Node) {
			if ft, ok := fields[k.Value]; ok {
				walkTypes(v, ft, join(path, k.Value), report)
			}
		})
	case reflect.Map:
		if n.Kind != yaml.MappingNode {
			bad("key: value pairs, not " + shape(n))
			return
		}
		eachPair(n, func(k, v *yaml.Node) { walkTypes(v, t.Elem(), join(path, k.Value), report) })
	case reflect.Slice, reflect.Array:
		if n.Kind != yaml.SequenceNode {
			bad("a list ([a, b] or lines starting with -), not " + shape(n))
			return
		}
		for i, item := range n.Content {
			walkTypes(item, t.Elem(), fmt.Sprintf("%s[%d]%s", path, i, named(item)), report)
		}
	default:
		if n.Kind != yaml.ScalarNode {
			bad("a single value, not " + shape(n))
			return
		}
		switch {
		case t == durationType:
			if n.Decode(new(time.Duration)) != nil {
				bad("a duration like 30s, 15m or 2h")
			}
		case t.Kind() == reflect.Bool:
			if n.Decode(new(bool)) != nil {
				bad("true or false")
			}
		case t.Kind() >= reflect.Int && t.Kind() <= reflect.Uint64:
			// yaml.v3 would cut 2.5 to 2 without a word.
			if n.ShortTag() == "!!float" || n.Decode(reflect.New(t).Interface()) != nil {
				bad("a whole number")
			}
		case t.Kind() == reflect.Float32 || t.Kind() == reflect.Float64:
			if n.Decode(reflect.New(t).Interface()) != nil {
				bad("a number")
			}
		}
	}
}

// shape says what a node is, without its value.
func shape(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "key: value pairs"
	case yaml.SequenceNode:
		return "a list"
	default:
		return "a single value"
	}
}
