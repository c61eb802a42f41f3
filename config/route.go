package config

import (
	"fmt"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"

	"herald/article"
	"herald/channels"
	"herald/queue"
)

// Match is a set of conditions. In a route every condition given must hold (any listed value
// of each); in an exclude block any one that holds excludes.
type Match struct {
	Categories []string `yaml:"categories"`
	Tags       []string `yaml:"tags"`
	// Keywords are searched in the title, summary and body text, case-insensitively and with
	// Arabic normalised (alef forms, alef maqsura, teh marbuta; harakat and tatweel ignored).
	Keywords  []string `yaml:"keywords"`
	Languages []string `yaml:"languages"`
	// Sources are feed or webhook names, or "api" (bearer token and CLI).
	Sources []string `yaml:"sources"`
}

// Choice is one channel an article goes to, or would have gone to before an exclude rule, and
// the rule that decided.
type Choice struct {
	Channel string `json:"channel"`
	Rule    string `json:"rule"`
	Why     string `json:"why"`
}

// Decision is the routing outcome for one article.
type Decision struct {
	Channels []Choice `json:"channels"`
	// Excluded lists routes that matched but an exclude condition vetoed.
	Excluded []Choice `json:"excluded,omitempty"`
}

// rule is a route or a channel's own route, named for `herald route`.
type rule struct {
	name  string
	route Route
}

func (c *Config) rules() []rule {
	var out []rule
	for i, r := range c.Routes {
		name := fmt.Sprintf("routes[%d]", i)
		if r.Name != "" {
			name += " (" + r.Name + ")"
		}
		out = append(out, rule{name, r})
	}
	for i, ch := range c.Channels {
		if ch.Route != nil {
			r := *ch.Route
			r.Channels = []string{string(ch.Spec.Name)}
			out = append(out, rule{fmt.Sprintf("channels[%d] (%s).route", i, ch.Spec.Name), r})
		}
	}
	return out
}

// Route decides which channels get a, coming from source (a feed or webhook name, or "api"):
// its own `channels` list when given (every name must be configured), else the matching
// routes, else every channel. No channel at all is a *article.ValidationError.
func (c *Config) Route(a *article.Article, source string) (*Decision, error) {
	byName := map[string]bool{}
	for _, ch := range c.Channels {
		byName[string(ch.Spec.Name)] = true
	}
	d := &Decision{}
	add := func(ch, rule, why string) {
		for _, have := range d.Channels {
			if have.Channel == ch {
				return
			}
		}
		d.Channels = append(d.Channels, Choice{ch, rule, why})
	}
	rules := c.rules()
	switch {
	case len(a.Channels) > 0:
		var ve article.ValidationError
		for i, n := range a.Channels {
			if !byName[n] {
				ve.Errors = append(ve.Errors, article.FieldError{Field: fmt.Sprintf("channels[%d]", i), Message: c.UnknownChannel(n)})
			}
			add(n, "article.channels", "the article names its channels")
		}
		if len(ve.Errors) > 0 {
			return nil, &ve
		}
	case len(rules) > 0:
		text := newMatchText(a)
		for _, r := range rules {
			why, ok := r.route.matches(a, source, text)
			if !ok {
				continue
			}
			if r.route.Exclude != nil {
				if ex, hit := r.route.Exclude.anyHolds(a, source, text); hit {
					for _, ch := range r.route.Channels {
						d.Excluded = append(d.Excluded, Choice{ch, r.name, "exclude " + ex})
					}
					continue
				}
			}
			for _, ch := range r.route.Channels {
				add(ch, r.name, why)
			}
		}
	default:
		for _, ch := range c.Channels {
			add(string(ch.Spec.Name), "default", "no routes configured: every channel")
		}
	}
	if len(d.Channels) == 0 {
		msg := "no configured channel or route matches this article"
		if len(d.Excluded) > 0 {
			msg += fmt.Sprintf(" (%s excluded it: %s)", d.Excluded[0].Rule, d.Excluded[0].Why)
		}
		return d, &article.ValidationError{Errors: []article.FieldError{{Field: "channels", Message: msg}}}
	}
	return d, nil
}

// TargetsFrom is Route turned into the queue's targets.
func (c *Config) TargetsFrom(a *article.Article, source string) ([]queue.Target, error) {
	d, err := c.Route(a, source)
	if err != nil {
		return nil, err
	}
	kinds := map[string]channels.Kind{}
	for _, ch := range c.Channels {
		kinds[string(ch.Spec.Name)] = ch.Spec.Kind
	}
	out := make([]queue.Target, 0, len(d.Channels))
	for _, ch := range d.Channels {
		out = append(out, queue.Target{Name: channels.Name(ch.Channel), Kind: kinds[ch.Channel]})
	}
	return out, nil
}

// matches reports whether every condition of r holds, and says why.
func (r Route) matches(a *article.Article, source string, text *matchText) (string, bool) {
	var why []string
	if len(r.Categories) > 0 {
		v, ok := anyFold(r.Categories, a.AllCategories()...)
		if !ok {
			return "", false
		}
		why = append(why, "category "+v)
	}
	if len(r.Tags) > 0 {
		v, ok := anyFold(r.Tags, a.Tags...)
		if !ok {
			return "", false
		}
		why = append(why, "tag "+v)
	}
	if len(r.Languages) > 0 {
		v, ok := anyFold(r.Languages, a.Language)
		if !ok {
			return "", false
		}
		why = append(why, "language "+v)
	}
	if len(r.Sources) > 0 {
		v, ok := anyFold(r.Sources, source)
		if !ok {
			return "", false
		}
		why = append(why, "source "+v)
	}
	if len(r.Keywords) > 0 {
		v, ok := text.anyKeyword(r.Keywords)
		if !ok {
			return "", false
		}
		why = append(why, "keyword "+v)
	}
	if r.MinPriority > 0 {
		if a.Priority < r.MinPriority {
			return "", false
		}
		why = append(why, fmt.Sprintf("priority %d ≥ %d", a.Priority, r.MinPriority))
	}
	if len(why) == 0 {
		return "no conditions: every article", true
	}
	return strings.Join(why, ", "), true
}

// anyHolds reports the first condition of m that holds.
func (m *Match) anyHolds(a *article.Article, source string, text *matchText) (string, bool) {
	if v, ok := anyFold(m.Categories, a.AllCategories()...); ok {
		return "category " + v, true
	}
	if v, ok := anyFold(m.Tags, a.Tags...); ok {
		return "tag " + v, true
	}
	if v, ok := anyFold(m.Languages, a.Language); ok {
		return "language " + v, true
	}
	if v, ok := anyFold(m.Sources, source); ok {
		return "source " + v, true
	}
	if v, ok := text.anyKeyword(m.Keywords); ok {
		return "keyword " + v, true
	}
	return "", false
}

// anyFold returns the first rule value equal to one of vs, comparing normalised text (so a
// category "الأخبار" matches "الاخبار").
func anyFold(list []string, vs ...string) (string, bool) {
	for _, l := range list {
		nl := NormalizeText(l)
		if nl == "" {
			continue
		}
		for _, v := range vs {
			if NormalizeText(v) == nl {
				return l, true
			}
		}
	}
	return "", false
}

// matchText is an article's searchable text, normalised once per routing decision.
type matchText struct {
	a    *article.Article
	text string
	done bool
}

func newMatchText(a *article.Article) *matchText { return &matchText{a: a} }

func (t *matchText) anyKeyword(kws []string) (string, bool) {
	if len(kws) == 0 {
		return "", false
	}
	if !t.done {
		t.text = " " + NormalizeText(t.a.Title+"\n"+t.a.Summary+"\n"+article.PlainText(t.a.Body)) + " "
		t.done = true
	}
	for _, kw := range kws {
		if containsKeyword(t.text, NormalizeText(kw)) {
			return kw, true
		}
	}
	return "", false
}

// containsKeyword finds kw in text. Arabic attaches prefixes (و ب ل ال) and suffixes to words,
// so an Arabic keyword matches inside a word; a keyword edge that is a Latin letter or digit
// must be a word edge, so "war" does not match "software".
func containsKeyword(text, kw string) bool {
	if kw == "" {
		return false
	}
	first, _ := utf8.DecodeRuneInString(kw)
	last, _ := utf8.DecodeLastRuneInString(kw)
	for i := 0; ; {
		j := strings.Index(text[i:], kw)
		if j < 0 {
			return false
		}
		start, end := i+j, i+j+len(kw)
		before, _ := utf8.DecodeLastRuneInString(text[:start])
		after, _ := utf8.DecodeRuneInString(text[end:])
		if !(latinWord(first) && latinWord(before)) && !(latinWord(last) && latinWord(after)) {
			return true
		}
		_, size := utf8.DecodeRuneInString(text[start:])
		i = start + size
	}
}

func latinWord(r rune) bool {
	return r < 0x250 && (unicode.IsLetter(r) || unicode.IsDigit(r))
}

// NormalizeText folds text for matching: NFKC (Arabic presentation forms become letters),
// lower case, alef forms أ إ آ ٱ → ا, ى → ي, ة → ه, harakat, Quranic marks and tatweel
// removed, anything that is not a letter or digit a single space.
func NormalizeText(s string) string {
	s = norm.NFKC.String(s)
	var b strings.Builder
	b.Grow(len(s))
	space := true
	for _, r := range s {
		switch {
		case r == 'أ' || r == 'إ' || r == 'آ' || r == 'ٱ':
			r = 'ا'
		case r == 'ى':
			r = 'ي'
		case r == 'ة':
			r = 'ه'
		case r == 'ـ' || (r >= 0x064B && r <= 0x065F) || r == 0x0670 || (r >= 0x06D6 && r <= 0x06ED):
			continue
		case unicode.Is(unicode.Mn, r) || unicode.Is(unicode.Cf, r):
			continue
		}
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			b.WriteRune(unicode.ToLower(r))
			space = false
		} else if !space {
			b.WriteByte(' ')
			space = true
		}
	}
	return strings.TrimRight(b.String(), " ")
}

func (c *Config) validateRoutes(bad func(string, ...any), seen func(string) bool) {
	check := func(at string, r *Route, own bool) {
		if !own && len(r.Channels) == 0 {
			bad("%s.channels: empty", at)
		}
		if own && len(r.Channels) > 0 {
			bad("%s.channels: a channel's own route applies to that channel; list no channels", at)
		}
		for _, n := range r.Channels {
			if !seen(n) {
				bad("%s.channels: %s", at, c.UnknownChannel(n))
			}
		}
		if r.MinPriority < 0 || r.MinPriority > 10 {
			bad("%s.min_priority: %d is not in 0..10", at, r.MinPriority)
		}
		sources := slices.Clone(r.Sources)
		if r.Exclude != nil {
			sources = append(sources, r.Exclude.Sources...)
		}
		for _, src := range sources {
			if !c.isSource(src) {
				bad("%s.sources: %q is not a configured webhook or feed name (or api)", at, src)
			}
		}
		for _, kw := range append(slices.Clone(r.Keywords), r.excludeKeywords()...) {
			if NormalizeText(kw) == "" {
				bad("%s.keywords: %q has no letters or digits", at, kw)
			}
		}
	}
	for i := range c.Routes {
		check(fmt.Sprintf("routes[%d]", i), &c.Routes[i], false)
	}
	for i, ch := range c.Channels {
		if ch.Route != nil {
			check(fmt.Sprintf("channels[%d] (%s).route", i, ch.Spec.Name), ch.Route, true)
		}
	}
}

func (r *Route) excludeKeywords() []string {
	if r.Exclude == nil {
		return nil
	}
	return r.Exclude.Keywords
}

// SourceNames are the routing sources: "api", then every webhook and feed name.
func (c *Config) SourceNames() []string {
	names := []string{SourceAPI}
	for _, w := range c.Webhooks {
		names = append(names, w.Name)
	}
	for _, f := range c.Feeds {
		names = append(names, f.Name)
	}
	return names
}

// isSource reports whether name is a routing source: a webhook, a feed, or "api".
func (c *Config) isSource(name string) bool {
	if name == SourceAPI {
		return true
	}
	for _, w := range c.Webhooks {
		if w.Name == name {
			return true
		}
	}
	for _, f := range c.Feeds {
		if f.Name == name {
			return true
		}
	}
	return false
}
