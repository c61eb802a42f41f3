// Package ingest turns an incoming article (HTTP API, CLI, signed webhooks, feeds and WebSub)
// into queued deliveries: normalise, validate, route, then publish. Nothing is enqueued for an
// article that fails any step before publishing.
package ingest

import (
	"context"
	"fmt"

	"github.com/redis/go-redis/v9"

	"herald/article"
	"herald/config"
	"herald/queue"
)

// Publisher is the one path every ingest source takes into the queue.
type Publisher struct {
	Config *config.Config
	Broker *queue.Broker
	// Redis holds ingest's own state: webhook ids seen, feed state, leases and WebSub
	// subscriptions. Only signed webhooks and feeds need it.
	Redis redis.UniversalClient
}

type sourceKey struct{}

// WithSource marks ctx as carrying an article from the named source (a webhook or feed name),
// which routes may select on. Without it the source is "api".
func WithSource(ctx context.Context, name string) context.Context {
	return context.WithValue(ctx, sourceKey{}, name)
}

// SourceFrom is the source set by WithSource, or "api".
func SourceFrom(ctx context.Context) string {
	if s, ok := ctx.Value(sourceKey{}).(string); ok && s != "" {
		return s
	}
	return config.SourceAPI
}

// Publish normalises, validates and routes a, then records and enqueues its deliveries. A
// validation problem returns *article.ValidationError and enqueues nothing. The routing source
// comes from ctx (WithSource).
func (p *Publisher) Publish(ctx context.Context, a *article.Article) (*queue.Published, error) {
	a.Normalize()
	if err := a.Validate(); err != nil {
		return nil, err
	}
	targets, err := p.Config.TargetsFrom(a, SourceFrom(ctx))
	if err != nil {
		return nil, err
	}
	if err := p.sameStory(ctx, a); err != nil {
		return nil, fmt.Errorf("publishing %s: %w", a.ID, err)
	}
	res, err := p.Broker.Publish(ctx, a, targets)
	if err != nil {
		return nil, fmt.Errorf("publishing %s: %w", a.ID, err)
	}
	return res, nil
}

// sameStory gives a the id of the article herald already has for its URL when a webhook (the
// WordPress plugin, a signed CMS) sends it with an id of its own that herald has never seen and
// the URL was published without one (a feed item): it is the same story, reaching herald a
// second way — the plugin's update of a post the feed posted first, its publish retried after
// the next poll — and under its new id it was a new article, posted again on every channel.
// Published under the existing id, a channel that has it posts nothing, and the stored article
// is the newer version. A bearer client (source api) names its articles itself, and its
// publishes cost no Redis command more than the publish (make bench counts them).
func (p *Publisher) sameStory(ctx context.Context, a *article.Article) error {
	if SourceFrom(ctx) == config.SourceAPI {
		return nil
	}
	canon, err := article.CanonicalURL(a.URL)
	if err != nil {
		return nil
	}
	urlID := article.IDFromURL(canon)
	if a.ID == urlID {
		return nil
	}
	// The URL's own article first: it is the one that rarely exists.
	if known, err := p.Broker.HasArticle(ctx, urlID); err != nil || !known {
		return err
	}
	known, err := p.Broker.HasArticle(ctx, a.ID)
	if !known {
		a.ID = urlID
	}
	return err
}
