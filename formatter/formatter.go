// Package formatter renders an article into the posts each platform kind accepts, measured in
// that platform's own unit: Telegram HTML in UTF-16 units, X in twitter-text weighted length,
// WhatsApp markup, Mastodon with URLs as 23, Bluesky in graphemes and bytes with link facets,
// Discord content or embed, Facebook, Threads, LinkedIn (little text), and a webhook JSON payload.
//
// Every renderer follows the same steps: clean the article (HTML to text, boilerplate out, the
// summary cut at a sentence), build the parts (title, summary, hashtags, link in URI form with
// UTM), lay them out (the kind's layout or the channel's template), and fit the result to the
// limit: hashtags go first, then the summary shrinks, then the title; the link is never cut.
package formatter

import (
	"errors"
	"fmt"
	"strings"
	"text/template"
	"unicode"
	"unicode/utf8"

	"herald/article"
	"herald/channels"
)

// Renderer renders articles for one channel.
type Renderer interface {
	Kind() channels.Kind
	Render(a *article.Article) ([]channels.Post, error)
}

// ErrTooLong is returned when even the link alone does not fit the platform's limit.
var ErrTooLong = errors.New("formatter: post cannot fit the platform limit")

// hasBase reports whether s holds a character a reader sees on its own: not only harakat and
// other combining marks (a title of bare harakat shows as stray dots), format characters or
// spaces. article.Validate refuses the same titles (readable).
func hasBase(s string) bool {
	return strings.ContainsFunc(s, func(r rune) bool {
		return !unicode.IsSpace(r) && !unicode.Is(unicode.Cf, r) && !unicode.Is(unicode.Mn, r) && !unicode.Is(unicode.Me, r) &&
			!unicode.IsControl(r) && r != utf8.RuneError
	})
}

// ErrEmptyTitle is returned for an article whose title holds nothing a reader sees once cleaned
// (a direction mark, "&nbsp;", an empty element, a script): its post would have no headline.
var ErrEmptyTitle = errors.New("formatter: the title is empty once cleaned")

// Data is what a layout or a template sees: plain text, not yet escaped for the platform.
type Data struct {
	Title    string
	Summary  string
	URL      string   // the link: URI form with UTM parameters
	LinkText string   // the link's short visible text: "اقرأ المزيد", "Read more", the host …
	Hashtags []string // each with its '#'
	Category string
	Tags     []string
	ImageURL string
	Language string
	RTL      bool
}

// platform is what differs between kinds.
type platform interface {
	// layout is the kind's default text.
	layout(d *Data) string
	// escape makes plain text safe in the kind's markup.
	escape(s string) string
	// link renders a link, showing text when given.
	link(url, text string) string
	// measure returns the text's length in the kind's unit, or an error when the platform would
	// reject it (bad Telegram HTML, over Bluesky's byte cap).
	measure(text string) (int, error)
	// markup names the formatting characters for direction marks.
	markup() markup
	// finish fills the post's platform payload (facets, embeds, Extra) from the fitted text.
	finish(p *channels.Post, d, full *Data, a *article.Article)
}

// unmentioner is a platform that reads "@handle" in plain text as a mention of that account:
// unmention breaks those in the article's own text (mention.go).
type unmentioner interface {
	unmention(s string) string
}

type renderer struct {
	kind   channels.Kind
	opt    resolved
	p      platform
	tmpl   *template.Template
	boiler *boilerplate
}

var _ Renderer = (*renderer)(nil)

// New returns the renderer for a kind with the given options, checking the options: templates
// are parsed and tried on sample articles here, so a bad template fails when the config loads.
func New(kind channels.Kind, opts Options) (Renderer, error) {
	opt, err := opts.resolve(kind)
	if err != nil {
		return nil, fmt.Errorf("formatter: %s: %w", kind, err)
	}
	boiler, err := newBoilerplate(opts.Boilerplate)
	if err != nil {
		return nil, fmt.Errorf("formatter: %s: %w", kind, err)
	}
	r := &renderer{kind: kind, opt: opt, p: newPlatform(kind, opt), boiler: boiler}
	if strings.TrimSpace(opts.Template) != "" {
		if err := r.parseTemplate(opts.Template); err != nil {
			return nil, fmt.Errorf("formatter: %s: template: %w", kind, err)
		}
	}
	return r, nil
}

func newPlatform(kind channels.Kind, opt resolved) platform {
	switch kind {
	case channels.KindTelegram:
		return telegram{style: opt.style}
	case channels.KindX:
		return xPlatform{}
	case channels.KindWhatsApp:
		return whatsapp{}
	case channels.KindMastodon:
		return mastodon{}
	case channels.KindBluesky:
		return bluesky{}
	case channels.KindDiscord:
		return discord{embed: opt.embed}
	case channels.KindFacebook:
		return facebook{}
	case channels.KindWebhook:
		return webhook{}
	case channels.KindWebSub:
		return websub{}
	case channels.KindThreads:
		return threads{}
	case channels.KindLinkedIn:
		return linkedin{}
	}
	panic("formatter: no platform for " + string(kind)) // resolve rejected unknown kinds
}

func (r *renderer) Kind() channels.Kind { return r.kind }

// Render renders one post for the article. The article should be normalised and valid; any
// input still yields valid UTF-8 within the limit, or an error.
//
// Telegram with an image sends a photo whose caption holds at most 1024 units; when the caption
// cannot hold the post (its title would be cut, or it cannot fit at all), the post becomes a
// text message of up to 4096 units whose link preview shows the image, large and above the
// text: a long article never fails for want of caption room.
func (r *renderer) Render(a *article.Article) ([]channels.Post, error) {
	if a == nil {
		return nil, errors.New("formatter: nil article")
	}
	image := imageURL(a.ImageURL)
	withImage := r.opt.image && image != ""
	if r.kind == channels.KindTelegram && withImage {
		// Specs: https://core.telegram.org/bots/api#sendphoto (caption 0-1024 after parsing)
		post, held, err := r.render(a, min(r.opt.limit, telegramCaptionLimit), r.opt.captionMax, image)
		if err == nil && held {
			return []channels.Post{post}, nil
		}
		// Specs: https://core.telegram.org/bots/api#linkpreviewoptions
		post, _, err = r.render(a, r.opt.limit, r.opt.summaryMax, "")
		if err != nil {
			return nil, err
		}
		post.LinkPreview = &channels.LinkPreview{URL: image, PreferLargeMedia: true, ShowAboveText: true}
		return []channels.Post{post}, nil
	}
	if !withImage {
		image = ""
	}
	post, _, err := r.render(a, r.opt.limit, r.opt.summaryMax, image)
	if errors.Is(err, ErrTooLong) && r.kind == channels.KindDiscord && !r.opt.embed {
		// A link longer than Discord's 2000-character content: an embed carries it in its url.
		e := *r
		e.opt.embed, e.p, e.tmpl = true, discord{embed: true}, nil
		return e.Render(a)
	}
	if errors.Is(err, ErrTooLong) && r.kind == channels.KindThreads && !r.p.(threads).linkOutside {
		// Threads counts a URL in full: a long percent-encoded Arabic link may not fit 500. The
		// post then goes out as text whose link is its link_attachment card (TEXT posts only).
		e := *r
		e.opt.image, e.p, e.tmpl = false, threads{linkOutside: true}, nil
		return e.Render(a)
	}
	if err != nil {
		return nil, err
	}
	return []channels.Post{post}, nil
}

// render renders one post within limit, with image attached when not "". held reports whether
// the post kept its whole title.
func (r *renderer) render(a *article.Article, limit, summaryMax int, image string) (channels.Post, bool, error) {
	d, err := r.prepare(a, summaryMax)
	if err != nil {
		return channels.Post{}, false, err
	}
	full := *d
	text, n, err := r.fit(d, limit)
	if err != nil {
		return channels.Post{}, false, fmt.Errorf("formatter: %s: %w", r.kind, err)
	}
	post := channels.Post{Text: text, Media: []channels.Media{}, Facets: []map[string]any{},
		Length: n, Limit: limit, Unit: r.opt.unit}
	if image != "" {
		post.Media = []channels.Media{{URL: image}}
	}
	r.p.finish(&post, d, &full, a)
	return post, d.Title == full.Title, nil
}

// prepare cleans the article into the parts of a post.
func (r *renderer) prepare(a *article.Article, summaryMax int) (*Data, error) {
	link, err := linkURL(a.URL, r.opt.utm)
	if err != nil {
		return nil, err
	}
	title := inlineText(a.Title)
	d := &Data{
		Title:    title,
		URL:      link,
		Hashtags: hashtags(a.Tags, a.Category, r.opt.maxHashtags, title),
		Category: inlineText(a.Category),
		Tags:     a.Tags,
		ImageURL: imageURL(a.ImageURL),
		Language: a.Language,
	}
	if !hasBase(d.Title) && r.kind != channels.KindWebSub {
		return nil, fmt.Errorf("%w: %+q", ErrEmptyTitle, a.Title)
	}
	d.RTL = isRTL(a.Language, d.Title)
	d.LinkText = linkText(r.opt.linkText, a.Language, link)
	if summaryMax > 0 {
		d.Summary = r.summary(a, d, summaryMax)
	}
	if u, ok := r.p.(unmentioner); ok {
		// The article's own text, before the fit measures and cuts it: the joiner counts.
		d.Title, d.Summary, d.Category = u.unmention(d.Title), u.unmention(d.Summary), u.unmention(d.Category)
		if len(a.Tags) > 0 {
			d.Tags = make([]string, len(a.Tags)) // the article's own slice stays as it is
			for i, t := range a.Tags {
				d.Tags[i] = u.unmention(t)
			}
		}
	}
	if d.RTL && (r.kind == channels.KindTelegram || r.kind == channels.KindX) {
		d.Title, d.Summary = markURLEnds(d.Title), markURLEnds(d.Summary)
	}
	return d, nil
}

// imageURL is the article's image URL in URI form, like the link (an Arabic file name or a space
// in a WordPress upload percent-encoded), as every platform that fetches it expects; as written
// when it has no URI form.
func imageURL(raw string) string {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return ""
	}
	if u, err := URIForm(raw); err == nil {
		return u
	}
	return raw
}

// summary is the article's summary field, else its first paragraphs, without boilerplate,
// repeats of the title or category, or leading kickers, cut to max at a sentence boundary.
func (r *renderer) summary(a *article.Article, d *Data, max int) string {
	src := a.Summary
	if strings.TrimSpace(src) == "" {
		src = a.Body
	}
	if strings.TrimSpace(src) == "" {
		return ""
	}
	title, category := fold(d.Title), fold(d.Category)
	kept := 0
	kickers := true
	keep := func(p string) bool {
		if r.boiler.is(p) {
			return false
		}
		if len(p) <= 2*len(d.Title)+8 || len(p) <= 2*len(d.Category)+8 {
			if f := fold(p); f == title || f == category {
				return false
			}
		}
		if kept == 0 && kickers && isKicker(p) {
			return false
		}
		kept++
		return true
	}
	paras, runes, complete := paragraphsOf(src, max+1, keep)
	if len(paras) == 0 && src == a.Summary {
		// The editor's own summary may be one short headline-like line ("انطلاق القمة العربية
		// اليوم"): no kicker, the summary.
		kept, kickers = 0, false
		paras, runes, complete = paragraphsOf(src, max+1, keep)
		kickers = true
	}
	if len(paras) == 0 && src == a.Summary && strings.TrimSpace(a.Body) != "" {
		// A summary field that cleans to nothing ("<p>&nbsp;</p>", an RLM: an empty excerpt as
		// some CMSs send it) is no summary: the body's first paragraphs are.
		kept = 0
		src = a.Body
		paras, runes, complete = paragraphsOf(src, max+1, keep)
	}
	if complete && len(paras) > 0 {
		// "… Continue reading →" ends a text; a body cut short has no end to clean.
		last := len(paras) - 1
		if stripped := r.boiler.strip(paras[last]); stripped != paras[last] {
			paras[last], runes[last] = stripped, utf8.RuneCountInString(stripped)
			if stripped == "" {
				paras, runes = paras[:last], runes[:last]
			}
		}
	}
	return buildSummary(paras, runes, max)
}

// isKicker: a short line without sentence punctuation before the story (a breadcrumb, the
// section name, a date) is not the story's first paragraph.
func isKicker(p string) bool {
	if len(p) > 120 || strings.Count(p, " ") >= 4 {
		return false
	}
	r := []rune(strings.TrimSpace(p))
	return len(r) > 0 && !isSentenceEnd(r[len(r)-1])
}

// compose lays the data out and tidies the text: no trailing spaces, at most one blank line,
// direction marks where the kind always wants them.
func (r *renderer) compose(d *Data, marks bool) (string, error) {
	var text string
	if r.tmpl != nil {
		var b strings.Builder
		if err := r.tmpl.Execute(&b, d); err != nil {
			return "", fmt.Errorf("executing template: %w", err)
		}
		text = b.String()
	} else {
		text = r.p.layout(d)
	}
	text = tidy(text)
	if marks && d.RTL {
		text = addRLMs(text, r.p.markup())
	}
	return text, nil
}

// tidy trims each line's end, collapses runs of blank lines (left by empty parts) and trims
// the text.
func tidy(s string) string {
	s = strings.ReplaceAll(s, "\r\n", "\n")
	if !strings.Contains(s, " \n") && !strings.Contains(s, "\n\n\n") && strings.TrimSpace(s) == s {
		return s
	}
	lines := strings.Split(s, "\n")
	out := lines[:0]
	blank := 0
	for _, l := range lines {
		l = strings.TrimRight(l, " \t")
		if l == "" {
			blank++
			if blank > 1 {
				continue
			}
		} else {
			blank = 0
		}
		out = append(out, l)
	}
	return strings.TrimSpace(strings.Join(out, "\n"))
}

// fit composes the post and shrinks it until it fits: hashtags go first (last one first), then
// the summary is cut shorter (then dropped), then the title; the link is never cut. The limit
// holds after every addition: the measured text is the final text.
func (r *renderer) fit(d *Data, limit int) (string, int, error) {
	mandatory := r.opt.rtlMarks && r.kind != channels.KindX
	try := func(d *Data) (string, int, bool, error) {
		text, err := r.compose(d, mandatory)
		if err != nil {
			return "", 0, false, err
		}
		n, err := r.p.measure(text)
		if err != nil {
			if errors.Is(err, errOverBytes) {
				return text, n, false, nil
			}
			return "", 0, false, err
		}
		// An empty text is no post, except beside a Discord embed.
		return text, n, n <= limit && (strings.TrimSpace(text) != "" || r.opt.embed), nil
	}
	text, n, ok, err := r.fitParts(d, try)
	if err != nil {
		return "", 0, err
	}
	if !ok {
		return "", 0, fmt.Errorf("%w: %d %s over %d even with the link alone", ErrTooLong, n, r.opt.unit, limit)
	}
	if r.opt.rtlMarks && r.kind == channels.KindX && d.RTL {
		// X weighs each mark 2: add them only where they fit.
		if marked := addRLMs(text, markupNone); marked != text {
			if m, err := r.p.measure(marked); err == nil && m <= limit {
				return marked, m, nil
			}
		}
	}
	return text, n, nil
}

type tryFunc func(d *Data) (string, int, bool, error)

func (r *renderer) fitParts(d *Data, try tryFunc) (string, int, bool, error) {
	text, n, ok, err := try(d)
	if ok || err != nil {
		return text, n, ok, err
	}
	all := d.Hashtags
	for h := len(all) - 1; h >= 0; h-- {
		d.Hashtags = all[:h]
		if text, n, ok, err = try(d); ok || err != nil {
			return text, n, ok, err
		}
	}
	d.Hashtags = nil
	if d.Summary != "" && !r.summaryUnused(d) {
		full := d.Summary
		res, found, err := shrink(full, true, func(s string) (string, int, bool, error) {
			d.Summary = s
			return try(d)
		}, minSummaryRunes)
		if found || err != nil {
			d.Summary = res.part
			return res.text, res.n, found, err
		}
		d.Summary = ""
		if text, n, ok, err = try(d); ok || err != nil {
			return text, n, ok, err
		}
	}
	if d.Title != "" {
		res, found, err := shrink(d.Title, false, func(s string) (string, int, bool, error) {
			d.Title = s
			return try(d)
		}, 1)
		if found || err != nil {
			d.Title = res.part
			return res.text, res.n, found, err
		}
		d.Title = ""
	}
	return try(d)
}

// summaryUnused reports whether the layout leaves the summary out of the text (Bluesky puts it
// in the link card), so shortening it cannot help.
func (r *renderer) summaryUnused(d *Data) bool {
	with, err1 := r.compose(d, false)
	s := d.Summary
	d.Summary = ""
	without, err2 := r.compose(d, false)
	d.Summary = s
	return err1 == nil && err2 == nil && with == without
}

type fitted struct {
	part string // the cut that fitted
	text string
	n    int
}

// shrink finds, by binary search over the length in code points, the longest cut of s with
// which the post fits.
func shrink(s string, sentences bool, try func(string) (string, int, bool, error), minRunes int) (fitted, bool, error) {
	lo, hi := minRunes, len([]rune(s))-1
	var best fitted
	found := false
	for lo <= hi {
		mid := (lo + hi) / 2
		cut := cutText(s, mid, sentences)
		if cut == "" {
			lo = mid + 1
			continue
		}
		text, n, ok, err := try(cut)
		if err != nil {
			return best, false, err
		}
		if ok {
			best, found = fitted{cut, text, n}, true
			lo = mid + 1
		} else {
			hi = mid - 1
		}
	}
	return best, found, nil
}
