package main

import (
	"cmp"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	neturl "net/url"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"herald/channels"
	"herald/config"
	"herald/formatter"
	"herald/ingest"
	"herald/queue"
)

// newLogger builds the process's one zap logger (stderr; JSON unless format is console).
func newLogger(level, format string) (*zap.Logger, error) {
	cfg, err := loggerConfig(level, format)
	if err != nil {
		return nil, err
	}
	return buildLogger(cfg)
}

// buildLogger builds cfg and makes it the one output of the process.
func buildLogger(cfg zap.Config) (*zap.Logger, error) {
	log, err := cfg.Build()
	if err != nil {
		return nil, err
	}
	// go-redis logs pool trouble with the standard logger; keep the process's output one format.
	redis.SetLogger(redisLogger{log.Named("redis").Sugar()})
	// So do libraries that print with Go's standard logger: asynq's metrics collector at each
	// scrape while Redis is away, net/http's server (TLS handshake errors, handler panics).
	if _, err := zap.RedirectStdLogAt(log.Named("stdlog"), zapcore.WarnLevel); err != nil {
		return nil, err
	}
	return log, nil
}

// loggerConfig is newLogger's zap configuration.
func loggerConfig(level, format string) (zap.Config, error) {
	var lvl zapcore.Level
	if err := lvl.UnmarshalText([]byte(level)); err != nil {
		return zap.Config{}, fmt.Errorf("log level %q: %w", level, err)
	}
	var cfg zap.Config
	if format == "console" {
		cfg = zap.NewDevelopmentConfig()
	} else {
		cfg = zap.NewProductionConfig()
		cfg.EncoderConfig.TimeKey = "time"
		cfg.EncoderConfig.EncodeTime = zapcore.ISO8601TimeEncoder
	}
	cfg.Level = zap.NewAtomicLevelAt(lvl)
	cfg.OutputPaths = []string{"stderr"}
	cfg.ErrorOutputPaths = []string{"stderr"}
	cfg.DisableStacktrace = true
	// The production config samples repeated messages (100 a second, then 1 in 100): under a
	// burst most "delivery" lines would vanish. The README promises one line per outcome.
	cfg.Sampling = nil
	return cfg, nil
}

type redisLogger struct{ s *zap.SugaredLogger }

func (l redisLogger) Printf(_ context.Context, format string, v ...any) { l.s.Warnf(format, v...) }

func loadConfig(g *globalFlags) (*config.Config, error) {
	cfg, err := config.Load(g.configPath)
	if err != nil {
		return nil, err
	}
	if g.logLevel != "" {
		if err := checkLogLevel(g.logLevel); err != nil {
			return nil, err
		}
		cfg.Log.Level = strings.ToLower(g.logLevel)
	}
	return cfg, nil
}

// checkLogLevel refuses a --log-level that log.level would refuse: it failed only once serve
// built its logger (exit 1, "log level …: unrecognized level"), and other commands took any
// word.
func checkLogLevel(level string) error {
	switch strings.ToLower(level) {
	case "debug", "info", "warn", "error":
		return nil
	}
	return &exitError{code: 2, err: fmt.Errorf("--log-level %q is not one of debug, info, warn, error", level)}
}

// openRedis connects to cfg.Redis.URL and checks it answers.
func openRedis(ctx context.Context, url string) (*redis.Client, error) {
	if url == "" {
		return nil, errors.New("redis.url (env REDIS_URL) is not set: this command needs a real Redis (REDIS_URL=redis://127.0.0.1:6379/0); " +
			"`herald demo` runs the embedded sandbox instead, and commands with --server talk to a running herald's API (HERALD_API_TOKEN holds its token)")
	}
	network, addr, what := "", "", "redis"
	var newClient func() *redis.Client
	if sentinelURL(url) {
		// One primary with Sentinel for failover (README, deploy/): the URL names a sentinel
		// (more with addr=host:port) and the primary's master_name; the client asks the
		// sentinels for the primary and follows a failover. A plain redis:// URL of the primary
		// kept writing to it after a failover had made it a replica.
		fo, err := redis.ParseFailoverURL(url)
		if err != nil {
			return nil, fmt.Errorf("redis.url (env REDIS_URL): %s; the form is redis://[:sentinel-password@]sentinel:26379/db?master_name=NAME[&addr=sentinel2:26379][&password=PASSWORD]", redisURLError(err))
		}
		network, addr, what = "tcp", fo.SentinelAddrs[0], "redis sentinel"
		newClient = func() *redis.Client { return redis.NewFailoverClient(fo) }
	} else {
		opt, err := redis.ParseURL(url)
		if err != nil {
			return nil, fmt.Errorf("redis.url (env REDIS_URL): %s; the form is redis://[:password@]host:port/db", redisURLError(err))
		}
		network, addr = opt.Network, opt.Addr
		newClient = func() *redis.Client { return redis.NewClient(opt) }
	}
	pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	// One plain dial first: nobody listening is said once, plainly, instead of after the pool's
	// retries (and their log lines).
	conn, err := (&net.Dialer{}).DialContext(pctx, network, addr)
	if err != nil {
		return nil, fmt.Errorf("connecting to %s at %s (redis.url, env REDIS_URL): %w: is redis-server running there?", what, addr, err)
	}
	_ = conn.Close()
	rdb := newClient()
	if err := rdb.Ping(pctx).Err(); err != nil {
		_ = rdb.Close()
		hint := ""
		if msg := err.Error(); strings.Contains(msg, "NOAUTH") || strings.Contains(msg, "WRONGPASS") || strings.Contains(msg, "invalid password") {
			hint = ": the password in redis.url (redis://:password@host:port/db) is missing or wrong"
		}
		return nil, fmt.Errorf("connecting to %s at %s (redis.url, env REDIS_URL): %w%s", what, addr, err, hint)
	}
	return rdb, nil
}

// sentinelURL reports whether a redis.url names a Sentinel setup: a master_name parameter.
func sentinelURL(u string) bool {
	p, err := neturl.Parse(u)
	return err == nil && p.Query().Has("master_name")
}

// platformClient is the HTTP client channels post with. Go's default transport keeps only 2 idle
// connections per host, so with more sends in flight to one platform (every Telegram channel
// posts to api.telegram.org) all but two of them would open a new connection, and TLS session,
// per post. Keep as many idle as the worker can have in flight, for platformIdleTimeout.
func platformClient(cfg *config.Config, timeout time.Duration) *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.IdleConnTimeout = platformIdleTimeout
	// A new connection (after a quiet spell) resumes the last TLS session with the host rather
	// than a full handshake, its certificate chain sent and verified again.
	if t.TLSClientConfig == nil {
		t.TLSClientConfig = &tls.Config{}
	}
	t.TLSClientConfig.ClientSessionCache = tls.NewLRUClientSessionCache(0)
	t.MaxIdleConnsPerHost = platformIdlePerHost(cfg)
	t.MaxIdleConns = max(t.MaxIdleConns, 2*t.MaxIdleConnsPerHost)
	return &http.Client{Timeout: timeout, Transport: t}
}

// platformIdleTimeout is how long an idle connection to a platform is kept: less than the
// shortest keep-alive servers commonly have (Node's and Apache's 5 s: WAHA, webhook receivers;
// nginx 75 s), so herald closes it before the server does. Go's default, 90 s, outlived them: a
// post sent as the server closed the connection was cut off after it was written, which Go's
// transport does not retry for a POST (golang/go#22158) and the channels rightly record as an
// unknown outcome, parked for an admin although the server never took it. A backlog (posts 3 s
// apart on a Telegram channel, or in flight together) still reuses its connections; a post after
// a quiet spell opens a new one, a round trip or two.
const platformIdleTimeout = 4 * time.Second

// platformIdlePerHost is how many sends can be in flight at once to one host: every channel's
// in-flight cap added up (channels of one platform share its host).
func platformIdlePerHost(cfg *config.Config) int {
	n := 0
	for _, c := range cfg.Channels {
		switch {
		case c.InFlight > 0:
			n += c.InFlight
		case c.Limit.IsZero():
			n += cmp.Or(cfg.Worker.Concurrency, 10)
		default:
			n++
		}
	}
	return max(n, 2)
}

// buildRoutes builds every configured channel and its renderer through the registry.
func buildRoutes(cfg *config.Config, log *zap.Logger, client *http.Client) (map[channels.Name]queue.Route, error) {
	routes := make(map[channels.Name]queue.Route, len(cfg.Channels))
	for _, c := range cfg.Channels {
		ch, err := channels.New(c.Spec, channels.Env{Logger: log, HTTPClient: client, Retention: time.Duration(cfg.Retention)})
		if err != nil {
			return nil, err
		}
		r, err := formatter.New(c.Spec.Kind, c.Format)
		if err != nil {
			return nil, fmt.Errorf("channel %q: format: %w", c.Spec.Name, err)
		}
		routes[c.Spec.Name] = queue.Route{Channel: ch, Renderer: r, Limit: c.Limit, MaxAttempts: c.MaxAttempts, InFlight: c.InFlight}
	}
	return routes, nil
}

// buildRoutesFor builds the channels retract and correct act through: only the one named by
// --channel, else every configured one. A takedown on one channel must not fail because
// another channel's credentials are missing on the machine running the CLI.
func buildRoutesFor(cfg *config.Config, only string, log *zap.Logger) (map[channels.Name]queue.Route, error) {
	c := *cfg
	if only != "" {
		c.Channels = nil
		for _, ch := range cfg.Channels {
			if string(ch.Spec.Name) == only {
				c.Channels = append(c.Channels, ch)
			}
		}
	}
	return buildRoutes(&c, log, platformClient(&c, time.Duration(cfg.Worker.SendTimeout)))
}

func workerOptions(cfg *config.Config, log *zap.Logger) queue.WorkerOptions {
	return queue.WorkerOptions{
		Concurrency:     cfg.Worker.Concurrency,
		SendTimeout:     time.Duration(cfg.Worker.SendTimeout),
		LeaseDuration:   time.Duration(cfg.Worker.LeaseDuration),
		ShutdownTimeout: time.Duration(cfg.Worker.ShutdownTimeout),
		PollInterval:    time.Duration(cfg.Worker.PollInterval),
		IdleWake:        time.Duration(cfg.Worker.IdleWake),
		DelayedInterval: time.Duration(cfg.Worker.DelayedInterval),
		SenderLease:     time.Duration(cfg.Worker.SenderLease),
		Logger:          log,
		OnOutcome:       logPlatformPause(log),
	}
}

// logPlatformPause says, at warn, when a platform's answer made herald pause a channel (a
// revoked token: every delivery would fail the same way). The delivery's own line (status
// paused) is at debug, as for every delivery that finds its channel paused, so at the default
// level the channel fell silent without a line.
func logPlatformPause(log *zap.Logger) func(queue.Outcome) {
	return func(o queue.Outcome) {
		if pe, ok := channels.AsPause(o.Err); ok && o.Status == "paused" {
			log.Warn("channel paused by herald", zap.String("channel", string(o.Channel)), zap.String("article_id", o.ArticleID),
				zap.String("reason", pe.Reason), zap.String("then", "herald resume "+string(o.Channel)+" once fixed"))
		}
	}
}

func brokerFor(cfg *config.Config, rdb redis.UniversalClient) (*queue.Broker, *ingest.Publisher) {
	b := queue.NewBroker(rdb, queue.Options{Retention: time.Duration(cfg.Retention), UrgentPriority: cfg.Worker.UrgentPriority})
	return b, &ingest.Publisher{Config: cfg, Broker: b, Redis: rdb}
}

// redisURLError is what a refused redis.url's error may say. A *url.Error quotes the URL, and
// its reason can quote a piece of it: a password holding "/", "?", "#" or a space ends the
// user info early, and the rest shows as the host or the port (invalid port ":pa" after host),
// so no part of it is repeated. go-redis's own errors (a database number, an option) quote
// only what follows the host.
func redisURLError(err error) string {
	var ue *neturl.Error
	if errors.As(err, &ue) {
		return "not a valid URL (the value is not repeated: it may hold the password; a password with / ? # % or a space must be percent-encoded)"
	}
	return err.Error()
}
