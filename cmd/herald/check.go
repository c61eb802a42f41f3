package main

import (
	"context"
	"time"

	"go.uber.org/zap"

	"herald/channels"
	"herald/queue"
)

// checkTimeout bounds one channel's start-up check.
const checkTimeout = 20 * time.Second

// checkChannels runs channels.Checker (Telegram getMe + getChat, X users/me, Graph /me, …) for
// every channel that has one, in the background, and logs the answer: a wrong credential shows
// at start, not at the first post. A failure is a warning, never a refusal to start (the
// platform may be down for a moment). It returns at once; done is closed when every check has
// answered. serve keeps the results for /readyz through startChecks (checks.go).
func checkChannels(ctx context.Context, log *zap.Logger, routes map[channels.Name]queue.Route) (done <-chan struct{}) {
	_, done = startChecks(ctx, log, routes)
	return done
}
