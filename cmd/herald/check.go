package main

import (
	"context"
	"sort"
	"time"

	"go.uber.org/zap"

	"herald/channels"
	"herald/queue"
)

// checkTimeout bounds one channel's start-up check.
const checkTimeout = 20 * time.Second

// checkChannels runs channels.Checker (X users/me, Graph /me, …) for every channel that has one,
// in the background, and logs the answer: a wrong credential shows at start, not at the first
// post. A failure is a warning, never a refusal to start (the platform may be down for a
// moment). It returns at once; done is closed when every check has answered.
func checkChannels(ctx context.Context, log *zap.Logger, routes map[channels.Name]queue.Route) (done <-chan struct{}) {
	names := make([]channels.Name, 0, len(routes))
	for n := range routes {
		names = append(names, n)
	}
	sort.Slice(names, func(i, j int) bool { return names[i] < names[j] })
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		for _, n := range names {
			c, ok := routes[n].Channel.(channels.Checker)
			if !ok {
				continue
			}
			cctx, cancel := context.WithTimeout(ctx, checkTimeout)
			err := c.Check(cctx)
			cancel()
			if err != nil {
				log.Warn("channel check failed; deliveries will be tried anyway", zap.String("channel", string(n)), zap.Error(err))
				continue
			}
			log.Info("channel check passed", zap.String("channel", string(n)))
		}
	}()
	return finished
}
