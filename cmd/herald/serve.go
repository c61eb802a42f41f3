package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/spf13/cobra"
	"go.uber.org/zap"

	"herald/channels"
	"herald/config"
	"herald/ingest"
	"herald/metrics"
	"herald/queue"
	"herald/web"
)

func newServeCmd(g *globalFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "serve",
		Short: "Run the HTTP API and the delivery workers (needs REDIS_URL)",
		Long: `serve runs the publish API and the delivery workers until SIGINT or SIGTERM. On a signal it
stops taking work, lets sends in flight finish and commit, and hands the rest back to the
queue: nothing is lost and nothing is posted twice. A second signal during that stop ends the
process at once (exit 1): a send in flight is abandoned, and its delivery turns unknown when its
lease runs out, for an admin to check. Run several processes on one Redis to
scale out; rate limits, pauses and the ledger are shared through Redis.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if g.configPath == "" {
				// The channels live only in a file: without one the first complaint would be
				// about a token, which is not what is missing.
				return errors.New("no config file: pass --config FILE or set HERALD_CONFIG (start from herald.example.yaml); `herald demo` runs the embedded sandbox with no setup")
			}
			cfg, err := loadConfig(g)
			if err != nil {
				return err
			}
			if cfg.HTTP.APIToken == "" && len(cfg.HTTP.Tokens) == 0 {
				return errors.New("http.api_token (env HERALD_API_TOKEN or http.api_token_file) or http.tokens is required: the publish API never runs open")
			}
			if err := cfg.CheckAPIToken(); err != nil {
				return err
			}
			if len(cfg.Channels) == 0 {
				return errors.New("channels: none configured; see herald.example.yaml")
			}
			log, err := newLogger(cfg.Log.Level, cfg.Log.Format)
			if err != nil {
				return err
			}
			defer func() { _ = log.Sync() }()
			stopPprof, err := startPprof(log)
			if err != nil {
				return err
			}
			defer stopPprof()
			ctx, stop := stopOnSignal(cmd.Context(), log, leftInRedis, os.Exit)
			defer stop()
			rdb, err := openRedis(ctx, cfg.Redis.URL)
			if err != nil {
				return err
			}
			defer rdb.Close()
			broker, pub := brokerFor(cfg, rdb)
			routes, err := buildRoutes(cfg, log, platformClient(cfg, time.Duration(cfg.Worker.SendTimeout)))
			if err != nil {
				return err
			}
			ln, err := net.Listen("tcp", cfg.HTTP.Addr)
			if err != nil {
				return fmt.Errorf("http.addr %s: %w", cfg.HTTP.Addr, err)
			}
			log.Info("herald serving", zap.String("addr", ln.Addr().String()), zap.Int("channels", len(routes)))
			return run(ctx, log, cfg, broker, pub, routes, ln)
		},
	}
}

// httpShutdownTimeout bounds how long open API requests may take to finish on a stop.
const httpShutdownTimeout = 10 * time.Second

// run serves the API on ln and runs the worker until ctx ends, then shuts both down gracefully.
func run(ctx context.Context, log *zap.Logger, cfg *config.Config, broker *queue.Broker, pub *ingest.Publisher,
	routes map[channels.Name]queue.Route, ln net.Listener) error {
	m := metrics.New(broker, cfgChannels(cfg))
	wopts := workerOptions(cfg, log)
	if prev := wopts.OnOutcome; prev != nil {
		wopts.OnOutcome = func(o queue.Outcome) { prev(o); m.Observe(o) }
	} else {
		wopts.OnOutcome = m.Observe
	}
	w := queue.NewWorker(broker, routes, wopts)
	api := &web.Server{Publisher: pub, Broker: broker, Token: cfg.HTTP.APIToken, Tokens: apiTokens(cfg), Logger: log,
		Channels: cfgChannels(cfg), Metrics: m.Handler(), Workers: w}
	api.Checks, _ = startChecks(ctx, log, routes)
	api.Built = builtChannels(routes) // retract.go: POST /v1/articles/{id}/retract deletes through them
	api.Routes = routes               // correct.go: POST /v1/articles/{id}/correct edits through them
	api.Webhooks = &ingest.Verifier{Sources: cfg.Webhooks, Redis: pub.Redis}
	api.Dashboard = dashboardOptions(cfg)
	api.Feeds = ingest.NewPoller(pub, ingest.PollerOptions{Logger: log.Named("feeds"), PublicURL: cfg.HTTP.PublicURL})
	stopFeeds := runFeeds(api.Feeds, log)
	defer stopFeeds()
	adminBot, handler, err := newAdminBot(cfg, broker, log, api.Handler())
	if err != nil {
		return err
	}
	// Bounded reads and writes: a slow client cannot hold a connection (or a 4 MiB body) forever.
	srv := &http.Server{Handler: handler, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second,
		WriteTimeout: 30 * time.Second, IdleTimeout: 2 * time.Minute}
	httpErr := make(chan error, 1)
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			httpErr <- err
		}
		close(httpErr)
	}()
	wctx, cancelWorker := context.WithCancel(context.Background())
	workerDone := make(chan error, 1)
	go func() { workerDone <- w.Run(wctx) }()
	adminCtx, stopAdmin := context.WithCancel(context.Background())
	adminDone := runAdminBot(adminCtx, adminBot, log)

	var runErr error
	select {
	case <-ctx.Done():
		log.Info("signal received: shutting down (a second SIGINT or SIGTERM stops at once)")
	case err := <-httpErr:
		runErr = fmt.Errorf("http server: %w", err)
	case err := <-workerDone:
		workerDone <- err
		runErr = fmt.Errorf("worker stopped: %w", err)
	}
	// The API, the admin bot and the worker stop at the same time, so the whole stop takes the
	// longest of them — worker.shutdown_timeout (send_timeout + 5s = 35s by default: a send in
	// flight finishes and commits) — not their sum; deploy/ gives 45s before SIGKILL.
	httpDone := make(chan struct{})
	go func() {
		sctx, cancel := context.WithTimeout(context.Background(), httpShutdownTimeout)
		defer cancel()
		_ = srv.Shutdown(sctx)
		close(httpDone)
	}()
	stopAdmin()
	cancelWorker()
	if err := <-workerDone; err != nil && runErr == nil {
		runErr = err
	}
	<-adminDone
	<-httpDone
	log.Info("herald stopped")
	return runErr
}

// runFeeds polls the configured feeds until the returned stop is called (and waits for polls in
// flight).
func runFeeds(p *ingest.Poller, log *zap.Logger) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := p.Run(ctx); err != nil {
			log.Error("feed poller stopped", zap.Error(err))
		}
	}()
	if n := len(p.Feeds()); n > 0 {
		log.Info("polling feeds", zap.Int("feeds", n))
	}
	return func() { cancel(); <-done }
}
