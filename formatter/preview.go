package formatter

import (
	"fmt"
	"io"
	"strings"

	"herald/article"
	"herald/channels"
)

// PreviewTarget is one channel to preview: its name, kind and format options.
type PreviewTarget struct {
	Name    string
	Kind    channels.Kind
	Options Options
}

// Preview is one channel's rendering of an article: its posts exactly as the channel would
// send them, or why it could not be rendered.
type Preview struct {
	Channel string          `json:"channel"`
	Kind    channels.Kind   `json:"kind"`
	Posts   []channels.Post `json:"posts"`
	Error   string          `json:"error,omitempty"`
}

// DefaultTargets is every kind with its defaults, named after the kind.
func DefaultTargets() []PreviewTarget {
	out := make([]PreviewTarget, len(channels.Kinds))
	for i, k := range channels.Kinds {
		out[i] = PreviewTarget{Name: string(k), Kind: k}
	}
	return out
}

// PreviewAll renders a for every target, in order: every channel's post side by side, for
// `herald format --all` and the dashboard's article page. A channel that fails (a bad template,
// an impossible limit) reports its error in its entry; the others are still rendered.
func PreviewAll(a *article.Article, targets []PreviewTarget) []Preview {
	out := make([]Preview, 0, len(targets))
	for _, t := range targets {
		p := Preview{Channel: t.Name, Kind: t.Kind, Posts: []channels.Post{}}
		r, err := New(t.Kind, t.Options)
		if err == nil {
			var posts []channels.Post
			if posts, err = r.Render(a); err == nil {
				p.Posts = posts
			}
		}
		if err != nil {
			p.Error = err.Error()
		}
		out = append(out, p)
	}
	return out
}

// WritePreviews writes previews for a terminal: per channel a header line (name, kind, length
// and limit in the platform's unit, the photo or link preview) and the text as it is sent.
func WritePreviews(w io.Writer, previews []Preview) error {
	var b strings.Builder
	for i, p := range previews {
		if i > 0 {
			b.WriteString("\n")
		}
		head := fmt.Sprintf("── %s (%s)", p.Channel, p.Kind)
		if p.Error != "" {
			fmt.Fprintf(&b, "%s · error: %s\n", head, p.Error)
			continue
		}
		for j, post := range p.Posts {
			fmt.Fprintf(&b, "%s · %d/%d %s", head, post.Length, post.Limit, post.Unit)
			if len(p.Posts) > 1 {
				fmt.Fprintf(&b, " · post %d of %d", j+1, len(p.Posts))
			}
			if post.ParseMode != channels.ParseNone {
				fmt.Fprintf(&b, " · %s", post.ParseMode)
			}
			for _, m := range post.Media {
				fmt.Fprintf(&b, " · photo %s", m.URL)
			}
			if lp := post.LinkPreview; lp != nil && lp.URL != "" {
				fmt.Fprintf(&b, " · link preview %s", lp.URL)
			}
			b.WriteString(" ──\n")
			text := post.Text
			if text == "" {
				text = "(no text: the platform payload carries the post, see --json)"
			}
			b.WriteString(text + "\n")
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}
