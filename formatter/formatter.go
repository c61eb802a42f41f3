// Package formatter renders an article into the posts each platform kind accepts, measured in
// that platform's own unit.
package formatter

import (
	"fmt"

	"herald/article"
	"herald/channels"
)

// Options are a channel's formatting settings (the `format:` block of a channel in the config).
// Zero values mean the kind's defaults.
type Options struct {
	// Template is a Go text/template for the post text; empty uses the kind's layout.
	Template string `yaml:"template" json:"template,omitempty"`
}

// Renderer renders articles for one channel.
type Renderer interface {
	Kind() channels.Kind
	Render(a *article.Article) ([]channels.Post, error)
}

// New returns the renderer for a kind with the given options, checking the options (templates
// are parsed here, so a bad template fails when the config loads).
func New(kind channels.Kind, opts Options) (Renderer, error) {
	switch kind {
	case channels.KindTelegram:
		return newTelegram(opts)
	}
	return nil, fmt.Errorf("formatter: no renderer for kind %q", kind)
}
