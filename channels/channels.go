// Package channels defines what every platform package implements: a small Channel interface
// taking a context, typed kinds and names, the rendered Post a formatter hands to a channel, and
// one registry from kind to constructor.
package channels

import (
	"context"
	"time"
)

// Kind is a platform kind: one package under channels/ per kind.
type Kind string

// The kinds herald knows. A kind without a registered constructor can still be formatted
// (herald format) but not delivered.
const (
	KindTelegram Kind = "telegram"
	KindX        Kind = "x"
	KindWhatsApp Kind = "whatsapp"
	KindMastodon Kind = "mastodon"
	KindBluesky  Kind = "bluesky"
	KindDiscord  Kind = "discord"
	KindFacebook Kind = "facebook"
	KindWebhook  Kind = "webhook"
	// KindWebSub pings WebSub hubs so feed readers (Google News, Nabd) re-fetch at once.
	KindWebSub Kind = "websub"
	// KindThreads posts to a Threads (Meta) profile: a container, then its publish.
	KindThreads Kind = "threads"
	// KindLinkedIn posts to a LinkedIn organization Page (Posts API, an article post).
	KindLinkedIn Kind = "linkedin"
)

// Kinds lists every known kind in a stable order.
var Kinds = []Kind{KindTelegram, KindX, KindWhatsApp, KindMastodon, KindBluesky, KindDiscord, KindFacebook, KindWebhook, KindWebSub, KindThreads, KindLinkedIn}

// Valid reports whether k is a known kind.
func (k Kind) Valid() bool {
	for _, v := range Kinds {
		if v == k {
			return true
		}
	}
	return false
}

// Name is the operator's name for one configured channel ("tg-main", "x-breaking").
type Name string

// ParseMode tells the platform how to read Post.Text.
type ParseMode string

const (
	ParseNone     ParseMode = ""
	ParseHTML     ParseMode = "HTML"
	ParseMarkdown ParseMode = "Markdown"
)

// Media is an attachment referenced by URL.
type Media struct {
	URL string `json:"url"`
}

// Post is one message as a platform will receive it, rendered by a formatter.
type Post struct {
	Text      string    `json:"text"`
	ParseMode ParseMode `json:"parse_mode"`
	Media     []Media   `json:"media"`
	// Facets are platform rich-text annotations (Bluesky link facets); raw JSON objects.
	Facets []map[string]any `json:"facets"`
	// Extra carries a platform payload beyond text (Discord embed, Bluesky external card,
	// webhook JSON); the channel package knows its shape.
	Extra map[string]any `json:"extra,omitempty"`
	// LinkPreview, when set, says how the platform should preview the post's link (Telegram
	// link_preview_options, WhatsApp preview_url / linkPreview). nil = the platform's default.
	LinkPreview *LinkPreview `json:"link_preview,omitempty"`
	// Length is Text measured in Unit; Limit is the platform's maximum in that unit.
	Length int    `json:"length"`
	Limit  int    `json:"limit"`
	Unit   string `json:"unit"`
}

// LinkPreview is how a text post previews a link. Field names follow Telegram's
// LinkPreviewOptions (https://core.telegram.org/bots/api#linkpreviewoptions).
type LinkPreview struct {
	// URL is the link to preview; "" = the first link in the text. Telegram previews an image
	// URL as the image itself.
	URL string `json:"url,omitempty"`
	// PreferLargeMedia shows the preview's media large; ShowAboveText puts it above the text.
	PreferLargeMedia bool `json:"prefer_large_media,omitempty"`
	ShowAboveText    bool `json:"show_above_text,omitempty"`
}

// Message is what a channel sends for one delivery.
type Message struct {
	ArticleID string
	// Key is stable across retries of one delivery ("<article>:<channel>:<revision>"); platforms
	// that deduplicate (Mastodon Idempotency-Key, webhook-id) use it.
	Key     string
	Attempt int
	// AfterUnknown: an admin retried this delivery after an unknown outcome, so an attempt
	// before the retry may have made the post although Attempt starts again at 1. A platform
	// that refuses a repeated text (X, Facebook) is then most likely refusing that post.
	AfterUnknown bool
	Posts        []Post
}

// MayHavePosted reports whether an earlier attempt of this delivery may have made the post: a
// retry (Attempt > 1), or the first attempt after an admin's retry of an unknown outcome.
func (m Message) MayHavePosted() bool { return m.Attempt > 1 || m.AfterUnknown }

// Receipt is what the platform said about an accepted post.
type Receipt struct {
	RemoteID string `json:"remote_id"`
	PostURL  string `json:"post_url,omitempty"`
}

// Channel posts to one configured destination.
type Channel interface {
	Name() Name
	Kind() Kind
	// Send posts the message. Errors say what to do next: see Permanent, RateLimited and
	// UnknownOutcome; any other error is retryable.
	Send(ctx context.Context, msg Message) (Receipt, error)
}

// Deduplicating is implemented by channels whose platform drops a repeated request carrying the
// same Message.Key (Mastodon Idempotency-Key, webhook-id). Only those are retried after an
// unknown outcome; the others are parked for an admin.
type Deduplicating interface {
	Deduplicates() bool
}

// DedupWindowed is implemented by a Deduplicating channel whose platform remembers a key only
// for a while (Mastodon: an hour). Past the window a retry would post again, so the worker
// parks a delivery as unknown, instead of retrying it, once the window has passed since an
// attempt that may have posted.
type DedupWindowed interface {
	DedupWindow() time.Duration
}

// Checker is implemented by channels that can verify their credentials and destination without
// posting (Telegram getMe + getChat, X users/me, Graph /me). `herald serve` calls it once at
// start and `herald doctor` on demand; a failure is a warning, never a refusal to start.
type Checker interface {
	Check(ctx context.Context) error
}

// Deleter is implemented by channels whose platform can take a post back (corrections).
type Deleter interface {
	Delete(ctx context.Context, remoteID string) error
}

// Editor is implemented by channels whose platform can change a sent post in place, so a
// correction (a fixed headline, summary or figure) keeps the post, its link and its reactions
// instead of deleting and posting again. remoteID is the delivery's remote id as Send returned
// it (comma-joined when a message took several posts); msg is the corrected article rendered for
// the channel, exactly as Send would get it (same Key). Errors are classified as Send's are:
// Permanent when the platform refuses to edit that post (too old, another kind of post), and
// RateLimited, Auth and retryable as usual; an edit changes nothing that is not already posted,
// so a repeated edit is harmless.
type Editor interface {
	Edit(ctx context.Context, remoteID string, msg Message) error
}

// EditKeeper is implemented by an Editor whose platform, or herald's edit, cannot change every
// part of a sent post (LinkedIn: an article post's link card; Telegram, Facebook, Mastodon: the
// photo). EditKeeps compares the posts before the correction (the stored article's rendering)
// with the corrected ones — edited reports that an earlier correction already edited the post,
// so what it was sent with may differ from before — and says what the edit leaves as it was
// posted, "" when nothing the correction changes; a correction's result carries it as its note,
// so "edited" does not read as "fully corrected".
type EditKeeper interface {
	EditKeeps(before, corrected []Post, edited bool) string
}

// PhotoChanged reports whether a correction changes the photo of a post (the first media URL
// of each post, none counting as one): an edit that changes only the text leaves it as posted.
func PhotoChanged(before, corrected []Post) bool {
	first := func(p Post) string {
		for _, m := range p.Media {
			if m.URL != "" {
				return m.URL
			}
		}
		return ""
	}
	for i := range min(len(before), len(corrected)) {
		if first(before[i]) != first(corrected[i]) {
			return true
		}
	}
	return false
}

// NotePhotoKept is the note of an edit that leaves the photo as posted.
const NotePhotoKept = "the post keeps the photo it was posted with (or none): the edit changes only its text; retract and repost to replace it"

// Previewer is implemented by channels that can show the HTTP requests Send would make for a
// message without sending them, credentials hidden (`herald format` with a configured channel).
type Previewer interface {
	Preview(msg Message) ([]Request, error)
}

// Request is one HTTP request as a channel would send it.
type Request struct {
	Method string            `json:"method"`
	URL    string            `json:"url"`
	Header map[string]string `json:"header,omitempty"`
	Body   string            `json:"body,omitempty"`
}

// Coster is implemented by channels whose platform bills per post (X). The worker counts each
// sent message's posts per channel and month in Redis, shared by every process, shows the
// estimated spend in `herald channels` and the API, and pauses the channel before a send that
// would pass the monthly budget.
type Coster interface {
	// Cost is what sending posts costs: the billing kind of each post ("post",
	// "post_with_url") and the total in USD.
	Cost(posts []Post) (kinds []string, usd float64)
	// MonthlyBudget is the spending limit per calendar month (UTC) in USD; 0 means none.
	MonthlyBudget() float64
}
