package main

import (
	"context"
	"net/http"

	"go.uber.org/zap"

	"herald/admin"
	"herald/config"
	"herald/ingest"
	"herald/queue"
)

// newAdminBot builds the Telegram admin bot when the config has an admin block (nil otherwise),
// and mounts its webhook beside the API in webhook mode.
func newAdminBot(cfg *config.Config, broker *queue.Broker, log *zap.Logger, api http.Handler) (*admin.Bot, http.Handler, error) {
	if cfg.Admin == nil {
		return nil, api, nil
	}
	deps := admin.Deps{Broker: broker, Redis: broker.Client(), Channels: cfgChannels(cfg), Logger: log}
	if len(cfg.Feeds) > 0 {
		deps.Feeds = func(ctx context.Context) ([]admin.FeedHealth, error) { return feedHealth(ctx, broker, cfg) }
	}
	bot, err := admin.New(*cfg.Admin, deps)
	if err != nil {
		return nil, nil, err
	}
	if p := bot.WebhookPattern(); p != "" {
		mux := http.NewServeMux()
		mux.Handle("/", api)
		mux.Handle(p, bot.WebhookHandler())
		api = mux
	}
	return bot, api, nil
}

// feedHealth is the feed poller's state as the admin bot's alerter reads it.
func feedHealth(ctx context.Context, broker *queue.Broker, cfg *config.Config) ([]admin.FeedHealth, error) {
	sts, err := ingest.FeedStatuses(ctx, broker.Client(), cfg.Feeds)
	if err != nil {
		return nil, err
	}
	out := make([]admin.FeedHealth, len(sts))
	for i, st := range sts {
		out[i] = admin.FeedHealth{Name: st.Name, URL: st.URL, Failures: st.Failures, LastError: st.LastError}
		if st.LastSuccess != nil {
			out[i].LastSuccess = *st.LastSuccess
		}
	}
	return out, nil
}

// runAdminBot runs bot (if any) until ctx ends; the returned channel closes when it stopped.
func runAdminBot(ctx context.Context, bot *admin.Bot, log *zap.Logger) <-chan struct{} {
	done := make(chan struct{})
	go func() {
		defer close(done)
		if bot == nil {
			return
		}
		if err := bot.Run(ctx); err != nil {
			log.Error("admin bot stopped", zap.Error(err))
		}
	}()
	return done
}
