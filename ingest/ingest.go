// Package ingest turns an incoming article (HTTP API, CLI, later feeds and CMS webhooks) into
// queued deliveries: normalise, validate, route, then publish. Nothing is enqueued for an
// article that fails any step before publishing.
package ingest

import (
	"context"
	"fmt"

	"herald/article"
	"herald/config"
	"herald/queue"
)

// Publisher is the one path every ingest source takes into the queue.
type Publisher struct {
	Config *config.Config
	Broker *queue.Broker
}

// Publish normalises, validates and routes a, then records and enqueues its deliveries. A
// validation problem returns *article.ValidationError and enqueues nothing.
func (p *Publisher) Publish(ctx context.Context, a *article.Article) (*queue.Published, error) {
	a.Normalize()
	if err := a.Validate(); err != nil {
		return nil, err
	}
	targets, err := p.Config.Targets(a)
	if err != nil {
		return nil, err
	}
	res, err := p.Broker.Publish(ctx, a, targets)
	if err != nil {
		return nil, fmt.Errorf("publishing %s: %w", a.ID, err)
	}
	return res, nil
}
