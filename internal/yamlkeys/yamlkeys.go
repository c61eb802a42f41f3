// Package yamlkeys finds the keys of a YAML document that the Go type it is decoded into does
// not read, and names each by its path in the document (channels[0] (tg-main).rate_limt) and
// its line, with the closest key that exists. yaml.v3's KnownFields rejects such keys too, but
// names the Go type ("field rate_limt not found in type config.Channel"), which an operator
// cannot map back to the file. Types does the same for values of the wrong type (types.go).
package yamlkeys

import (
	"errors"
	"fmt"
	"reflect"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"
)

// Unknown is one key nothing reads.
type Unknown struct {
	Path  string   // channels[0] (tg-main).rate_limt
	Key   string   // rate_limt
	Line  int      // in the document; 0 when the node did not come from a file
	Env   string   // the environment variable that set it (MarkEnv), when it did not
	Known []string // the keys allowed at that place, sorted
	// Hint, when set, ends the message instead of the list of known keys.
	Hint string
}

func (u Unknown) Error() string {
	var b strings.Builder
	b.WriteString(where(u.Line, u.Env))
	fmt.Fprintf(&b, "%s: unknown setting", u.Path)
	if s := u.Suggest(); s != "" {
		fmt.Fprintf(&b, " (did you mean %s?)", s)
	} else if u.Hint != "" {
		fmt.Fprintf(&b, "; %s", u.Hint)
	} else if len(u.Known) > 0 {
		fmt.Fprintf(&b, "; the settings here are %s", strings.Join(u.Known, ", "))
	}
	return b.String()
}

// Suggest is the known key the unknown one most likely meant, or "".
func (u Unknown) Suggest() string {
	return closest(u.Key, u.Known)
}

// Check returns every key of n that a value of type t would not read, as one error joining an
// Unknown for each (nil when there is none). prefix starts each path ("" at the top of a document, "settings" for a
// block of one).
func Check(n *yaml.Node, t reflect.Type, prefix string) error {
	var found []error
	walk(n, t, prefix, func(u Unknown) { found = append(found, u) })
	return errors.Join(found...)
}

var (
	nodeType        = reflect.TypeFor[yaml.Node]()
	unmarshalerType = reflect.TypeFor[yaml.Unmarshaler]()
)

// content is the node a document or an alias stands for (nil for an empty document).
func content(n *yaml.Node) *yaml.Node {
	for n != nil && (n.Kind == yaml.DocumentNode || n.Kind == yaml.AliasNode) {
		if n.Kind == yaml.DocumentNode {
			if len(n.Content) == 0 {
				return nil
			}
			n = n.Content[0]
		} else {
			n = n.Alias
		}
	}
	return n
}

func walk(n *yaml.Node, t reflect.Type, path string, report func(Unknown)) {
	n = content(n)
	if n == nil {
		return
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	// A type that reads its own YAML (or keeps the node) decides for itself.
	if t == nodeType || reflect.PointerTo(t).Implements(unmarshalerType) {
		return
	}
	switch t.Kind() {
	case reflect.Struct:
		if n.Kind != yaml.MappingNode {
			return // a type error, which the decoder reports
		}
		fields := map[string]reflect.Type{}
		anyKey := collect(t, fields)
		known := make([]string, 0, len(fields))
		for k := range fields {
			known = append(known, k)
		}
		sort.Strings(known)
		eachPair(n, func(k, v *yaml.Node) {
			ft, ok := fields[k.Value]
			switch {
			case ok:
				walk(v, ft, join(path, k.Value), report)
			case !anyKey:
				report(Unknown{Path: join(path, k.Value), Key: k.Value, Line: k.Line, Env: envOf(k), Known: known})
			}
		})
	case reflect.Map:
		if n.Kind == yaml.MappingNode {
			eachPair(n, func(k, v *yaml.Node) { walk(v, t.Elem(), join(path, k.Value), report) })
		}
	case reflect.Slice, reflect.Array:
		if n.Kind == yaml.SequenceNode {
			for i, item := range n.Content {
				walk(item, t.Elem(), fmt.Sprintf("%s[%d]%s", path, i, named(item)), report)
			}
		}
	}
}

// collect adds the YAML keys of struct t to fields, inline structs included; it reports whether
// an inline map takes any other key.
func collect(t reflect.Type, fields map[string]reflect.Type) (anyKey bool) {
	for i := range t.NumField() {
		f := t.Field(i)
		name, opts, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if name == "-" || !f.IsExported() && !f.Anonymous {
			continue
		}
		if strings.Contains(","+opts+",", ",inline,") {
			ft := f.Type
			for ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			if ft.Kind() == reflect.Map {
				anyKey = true
			} else if ft.Kind() == reflect.Struct && collect(ft, fields) {
				anyKey = true
			}
			continue
		}
		if name == "" {
			name = strings.ToLower(f.Name) // yaml.v3's default key
		}
		fields[name] = f.Type
	}
	return anyKey
}

// eachPair calls f for each key and value of a mapping, with the keys of merged mappings
// (<<: *defaults) as if written in place.
func eachPair(n *yaml.Node, f func(k, v *yaml.Node)) {
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Value == "<<" && k.Tag == "!!merge" {
			for v.Kind == yaml.AliasNode {
				v = v.Alias
			}
			merged := []*yaml.Node{v}
			if v.Kind == yaml.SequenceNode {
				merged = v.Content
			}
			for _, m := range merged {
				for m.Kind == yaml.AliasNode {
					m = m.Alias
				}
				if m.Kind == yaml.MappingNode {
					eachPair(m, f)
				}
			}
			continue
		}
		f(k, v)
	}
}

// named gives a list item its name, when it has one: channels[1] (tg-breaking).
func named(n *yaml.Node) string {
	for n != nil && n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	if n == nil || n.Kind != yaml.MappingNode {
		return ""
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == "name" && n.Content[i+1].Kind == yaml.ScalarNode && n.Content[i+1].Value != "" {
			return " (" + n.Content[i+1].Value + ")"
		}
	}
	return ""
}

// envMark starts the comment MarkEnv leaves on a node.
const envMark = "env $"

// MarkEnv records that node n (a key or a value) was set by the environment variable name, not
// written in the file, so an error about it names the variable instead of a line: an operator
// looking for HERALD_CH_TG_MAIN_TOKN's "tokn" in the file would not find it.
func MarkEnv(n *yaml.Node, name string) { n.LineComment = envMark + name }

func envOf(n *yaml.Node) string {
	if n.Line > 0 {
		return ""
	}
	name, _ := strings.CutPrefix(n.LineComment, envMark)
	if name == n.LineComment {
		return ""
	}
	return name
}

// where is the "line 7: " or "$HERALD_CH_TG_MAIN_TIMEOUT: " an error starts with.
func where(line int, env string) string {
	switch {
	case line > 0:
		return fmt.Sprintf("line %d: ", line)
	case env != "":
		return "$" + env + ": "
	}
	return ""
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// closest is the known key a typo most likely meant: the nearest within a third of its length
// in edits (at least one; a swap of two letters is one), else one that starts or ends the
// typed key; "" when none is.
func closest(key string, known []string) string {
	best, bestD := "", len(key)+1
	for _, k := range known {
		d := distance(key, k)
		if d < bestD && d <= max(1, len(k)/3) {
			best, bestD = k, d
		}
	}
	if best == "" {
		for _, k := range known {
			if len(k) >= 3 && (strings.HasPrefix(key, k) || strings.HasSuffix(key, k) || strings.HasPrefix(k, key) && len(key) >= 3) {
				return k
			}
		}
	}
	return best
}

// distance is the edit distance between a and b counting a swap of neighbours as one edit
// (optimal string alignment; bytes: keys are ASCII).
func distance(a, b string) int {
	d := make([][]int, len(a)+1)
	for i := range d {
		d[i] = make([]int, len(b)+1)
		d[i][0] = i
	}
	for j := range d[0] {
		d[0][j] = j
	}
	for i := 1; i <= len(a); i++ {
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(a)][len(b)]
}
