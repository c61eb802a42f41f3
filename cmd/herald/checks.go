package main

import (
	"context"
	"sort"
	"sync"

	"go.uber.org/zap"

	"herald/channels"
	"herald/config"
	"herald/queue"
	"herald/web"
)

// startChecks checks every channel once (channels.Checker: getMe and the like) in the background
// and logs a warning for each failure; herald keeps running either way, since one platform's
// outage must not stop the others. results reports the results so far (/readyz); done is closed
// when every check has answered.
func startChecks(ctx context.Context, log *zap.Logger, routes map[channels.Name]queue.Route) (results func() []channels.CheckResult, done <-chan struct{}) {
	chs := make([]channels.Channel, 0, len(routes))
	var mu sync.Mutex
	current := make([]channels.CheckResult, 0, len(routes))
	for _, r := range routes {
		chs = append(chs, r.Channel)
		current = append(current, channels.CheckResult{Channel: r.Channel.Name(), Kind: r.Channel.Kind(), Status: channels.CheckPending})
	}
	sort.Slice(current, func(i, j int) bool { return current[i].Channel < current[j].Channel })
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		res := channels.CheckAll(ctx, chs, checkTimeout)
		for _, r := range res {
			switch r.Status {
			case channels.CheckFailed:
				log.Warn("channel check failed; deliveries will be tried anyway, and will probably fail until it is fixed",
					zap.String("channel", string(r.Channel)), zap.String("kind", string(r.Kind)), zap.String("error", r.Error))
			case channels.CheckOK:
				log.Info("channel check passed", zap.String("channel", string(r.Channel)), zap.String("kind", string(r.Kind)))
			}
		}
		mu.Lock()
		current = res
		mu.Unlock()
	}()
	return func() []channels.CheckResult {
		mu.Lock()
		defer mu.Unlock()
		return append([]channels.CheckResult(nil), current...)
	}, finished
}

// apiTokens are http.tokens for the API (http.api_token is passed on its own, as an admin's).
func apiTokens(cfg *config.Config) []web.Token {
	out := make([]web.Token, 0, len(cfg.HTTP.Tokens))
	for _, t := range cfg.HTTP.Tokens {
		out = append(out, web.Token{Role: web.Role(t.Role), Token: t.Token})
	}
	return out
}
