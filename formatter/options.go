package formatter

import (
	"fmt"
	"strings"

	"herald/channels"
)

// Options are a channel's formatting settings: the `format:` block of a channel in the config,
// decoded with yaml.v3 and KnownFields(true). The zero value means the kind's defaults, which
// Defaults returns spelled out:
//
//	format:
//	  template: ""          # Go text/template for the text; empty = the kind's layout
//	  limit: 0              # 0 = the platform's limit; Mastodon: the instance's limit
//	  summary_max: 0        # characters of summary; 0 = kind default, -1 = no summary
//	  max_hashtags: 0       # 0 = kind default (X: 2), -1 = none
//	  rtl_marks: null       # null = on for Telegram, WhatsApp and X (where it fits)
//	  image: null           # null = attach the article image where the platform takes one
//	  embed: false          # Discord: send an embed instead of plain content
//	  utm: {enabled: null, source: "", medium: "", campaign: ""}  # on; source = kind, medium = social
//	  boilerplate: {enabled: null, patterns: []}                  # on; extra Go regexps per line
type Options struct {
	// Template is a Go text/template producing the post text. Fields: .Title .Summary .URL
	// .Hashtags ([]string, each with '#') .Category .Tags .ImageURL .Language .RTL; functions:
	// escape, truncate N, hashtags, link URL [TEXT]. Empty uses the kind's own layout.
	Template string `yaml:"template" json:"template,omitempty"`
	// Limit overrides the platform's text limit in its unit. Mastodon: the instance's limit
	// (default 500); webhook: any positive size; other kinds may only lower their platform limit.
	Limit int `yaml:"limit" json:"limit,omitempty"`
	// SummaryMax is the most characters of summary the post carries, cut at a sentence
	// boundary. 0 = the kind's default; negative = no summary.
	SummaryMax int `yaml:"summary_max" json:"summary_max,omitempty"`
	// MaxHashtags caps hashtags from tags and category. 0 = the kind's default; negative = none.
	MaxHashtags int `yaml:"max_hashtags" json:"max_hashtags,omitempty"`
	// RTLMarks starts lines of a right-to-left article that would render left-to-right (a Latin
	// word, a number or a URL first) with U+200F. nil = the kind's default.
	RTLMarks *bool `yaml:"rtl_marks" json:"rtl_marks,omitempty"`
	// Image attaches the article's image where the platform takes one (Telegram then sends a
	// photo with a 1024-unit caption). nil = the kind's default.
	Image *bool `yaml:"image" json:"image,omitempty"`
	// Embed makes a Discord post an embed (title, description, link, image) instead of content.
	Embed bool `yaml:"embed" json:"embed,omitempty"`
	// Style is Telegram's layout preset: "title-summary-link" (the default: bold title, summary,
	// hashtags, a short link line), "title-link" (the bold title is the link; summary, hashtags)
	// or "headline-only" (the linked title alone). Ignored when Template is set.
	Style string `yaml:"style" json:"style,omitempty"`
	// LinkText is the visible text of the article link where the URL can hide behind it
	// (Telegram) or the label line before it (WhatsApp): "" = "اقرأ المزيد" / "Read more" … in the
	// article's language, else the link's host; "host" = the host; anything else as written.
	LinkText string `yaml:"link_text" json:"link_text,omitempty"`
	// UTM campaign parameters added to the article link.
	UTM UTMOptions `yaml:"utm" json:"utm"`
	// Boilerplate removal from the body and summary.
	Boilerplate BoilerplateOptions `yaml:"boilerplate" json:"boilerplate"`
}

// UTMOptions tag the article link with utm_source, utm_medium and utm_campaign. Parameters the
// link already has are kept, not duplicated; the fragment is kept.
type UTMOptions struct {
	// Enabled: nil = on.
	Enabled *bool `yaml:"enabled" json:"enabled,omitempty"`
	// Source defaults to the kind ("telegram", "x", …).
	Source string `yaml:"source" json:"source,omitempty"`
	// Medium defaults to "social".
	Medium string `yaml:"medium" json:"medium,omitempty"`
	// Campaign is added only when set.
	Campaign string `yaml:"campaign" json:"campaign,omitempty"`
}

// BoilerplateOptions control boilerplate removal.
type BoilerplateOptions struct {
	// Enabled: nil = on.
	Enabled *bool `yaml:"enabled" json:"enabled,omitempty"`
	// Patterns are extra Go regular expressions; a paragraph matching one is dropped.
	Patterns []string `yaml:"patterns" json:"patterns,omitempty"`
}

// kindDefaults are the per-kind values a zero Options field stands for.
type kindDefaults struct {
	limit       int  // platform limit of the text (Telegram: message text)
	maxLimit    int  // the largest Limit an option may set; 0 = limit itself
	summaryMax  int  // -1 = none
	captionMax  int  // Telegram: summary when the post is a photo caption
	maxHashtags int  // -1 = none
	rtlMarks    bool // lines that would render LTR start with an RLM
	image       bool // attach the article image
	unit        string
}

var defaults = map[channels.Kind]kindDefaults{
	channels.KindTelegram: {limit: telegramTextLimit, summaryMax: 600, captionMax: 400, maxHashtags: 3, rtlMarks: true, image: true, unit: UnitUTF16},
	channels.KindX:        {limit: xLimit, summaryMax: -1, maxHashtags: 2, rtlMarks: true, image: true, unit: UnitWeighted},
	channels.KindWhatsApp: {limit: whatsappLimit, summaryMax: 600, maxHashtags: -1, rtlMarks: true, unit: UnitUTF16},
	channels.KindMastodon: {limit: mastodonDefaultLimit, maxLimit: 100000, summaryMax: 280, maxHashtags: 4, image: true, unit: UnitChars},
	channels.KindBluesky:  {limit: blueskyLimit, summaryMax: blueskyCardSummary, maxHashtags: 3, image: true, unit: UnitGraphemes},
	channels.KindDiscord:  {limit: discordContentLimit, summaryMax: 600, maxHashtags: -1, image: true, unit: UnitUTF16},
	channels.KindFacebook: {limit: facebookLimit, summaryMax: 600, maxHashtags: 3, unit: UnitUTF16},
	channels.KindWebhook:  {limit: webhookDefaultLimit, maxLimit: 1 << 20, summaryMax: 600, maxHashtags: 5, unit: UnitUTF16},
	channels.KindWebSub:   {limit: websubLimit, summaryMax: -1, maxHashtags: -1, unit: UnitUTF16},
	channels.KindThreads:  {limit: threadsLimit, summaryMax: 280, maxHashtags: threadsMaxHashtags, rtlMarks: true, image: true, unit: UnitThreads},
	channels.KindLinkedIn: {limit: linkedinLimit, summaryMax: 600, maxHashtags: 3, unit: UnitUTF16},
}

// Defaults returns the options a zero Options means for kind, every field spelled out.
func Defaults(kind channels.Kind) (Options, error) {
	d, ok := defaults[kind]
	if !ok {
		return Options{}, fmt.Errorf("formatter: unknown kind %q", kind)
	}
	on := true
	return Options{
		Limit:       d.limit,
		SummaryMax:  d.summaryMax,
		MaxHashtags: d.maxHashtags,
		RTLMarks:    &d.rtlMarks,
		Image:       &d.image,
		UTM:         UTMOptions{Enabled: &on, Source: string(kind), Medium: "social"},
		Boilerplate: BoilerplateOptions{Enabled: &on},
	}, nil
}

// resolved is Options with defaults applied and checked.
type resolved struct {
	kind        channels.Kind
	limit       int
	summaryMax  int
	captionMax  int
	maxHashtags int
	rtlMarks    bool
	image       bool
	embed       bool
	style       string // Telegram layout preset
	linkText    string
	utm         *UTMOptions // nil = off
	unit        string
}

func (o Options) resolve(kind channels.Kind) (resolved, error) {
	d, ok := defaults[kind]
	if !ok {
		return resolved{}, fmt.Errorf("formatter: no renderer for kind %q", kind)
	}
	r := resolved{kind: kind, limit: d.limit, summaryMax: d.summaryMax, captionMax: d.captionMax,
		maxHashtags: d.maxHashtags, rtlMarks: d.rtlMarks, image: d.image, embed: o.Embed, unit: d.unit}
	maxLimit := d.maxLimit
	if maxLimit == 0 {
		maxLimit = d.limit
	}
	switch {
	case o.Limit < 0:
		return r, fmt.Errorf("limit: %d is negative", o.Limit)
	case o.Limit > maxLimit:
		return r, fmt.Errorf("limit: %d is above the %s limit of %d", o.Limit, kind, maxLimit)
	case o.Limit > 0:
		r.limit = o.Limit
	}
	if o.SummaryMax != 0 {
		r.summaryMax = o.SummaryMax
		r.captionMax = o.SummaryMax
	}
	if r.summaryMax > maxSummary {
		r.summaryMax = maxSummary
	}
	if o.MaxHashtags != 0 {
		r.maxHashtags = o.MaxHashtags
	}
	if kind == channels.KindThreads && r.maxHashtags > threadsMaxHashtags {
		return r, fmt.Errorf("max_hashtags: Threads takes one tag per post, not %d", r.maxHashtags)
	}
	if o.RTLMarks != nil {
		r.rtlMarks = *o.RTLMarks
	}
	if o.Image != nil {
		r.image = *o.Image
	}
	if o.Embed && kind != channels.KindDiscord {
		return r, fmt.Errorf("embed: only Discord posts embeds, not %s", kind)
	}
	if err := r.resolveStyle(o); err != nil {
		return r, err
	}
	if o.UTM.Enabled == nil || *o.UTM.Enabled {
		u := o.UTM
		u.Source = strings.TrimSpace(u.Source)
		u.Medium = strings.TrimSpace(u.Medium)
		u.Campaign = strings.TrimSpace(u.Campaign)
		if u.Source == "" {
			u.Source = string(kind)
		}
		if u.Medium == "" {
			u.Medium = "social"
		}
		r.utm = &u
	}
	return r, nil
}

// Telegram layout presets (Options.Style).
const (
	StyleTitleSummaryLink = "title-summary-link"
	StyleTitleLink        = "title-link"
	StyleHeadlineOnly     = "headline-only"
)

// Styles lists the presets, the default first.
var Styles = []string{StyleTitleSummaryLink, StyleTitleLink, StyleHeadlineOnly}

func (r *resolved) resolveStyle(o Options) error {
	r.linkText = strings.TrimSpace(o.LinkText)
	style := strings.TrimSpace(o.Style)
	if style == "" {
		if r.kind == channels.KindTelegram {
			r.style = StyleTitleSummaryLink
		}
		return nil
	}
	if r.kind != channels.KindTelegram {
		return fmt.Errorf("style: only telegram has style presets, not %s", r.kind)
	}
	switch style {
	case StyleTitleSummaryLink, StyleTitleLink:
	case StyleHeadlineOnly:
		// The headline alone: no summary to build or fit.
		r.summaryMax, r.captionMax = -1, -1
	default:
		return fmt.Errorf("style: %q is not one of %s", style, strings.Join(Styles, ", "))
	}
	r.style = style
	return nil
}

// maxSummary bounds summary_max: beyond it a summary is the article, and the body scan that
// feeds it must stay bounded.
const maxSummary = 4000
