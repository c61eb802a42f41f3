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
	res, err := p.Broker.Publish(ctx, a, targets)
	if err != nil {
		return nil, fmt.Errorf("publishing %s: %w", a.ID, err)
	}
	return res, nil
}
