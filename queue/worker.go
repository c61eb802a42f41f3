package queue

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"
	"go.uber.org/zap"

	"herald/channels"
	"herald/formatter"
)

// Route is everything a worker needs to deliver to one configured channel.
type Route struct {
	Channel  channels.Channel
	Renderer formatter.Renderer
	// Limit is the channel's shared send rate (zero = unlimited).
	Limit Limit
	// MaxAttempts bounds sends for retryable errors (default 5); rate limits do not count.
	MaxAttempts int
}

// WorkerOptions tune a worker; zero values take the documented defaults.
type WorkerOptions struct {
	Concurrency int           // parallel deliveries (default 10)
	SendTimeout time.Duration // one platform call (default 30s)
	// LeaseDuration is how long a claim protects a send; it must exceed SendTimeout (default
	// SendTimeout + 30s). A lease that runs out while sending turns the delivery unknown.
	LeaseDuration time.Duration
	// ShutdownTimeout is how long Run waits for in-flight sends after its context ends
	// (default SendTimeout + 5s, so a send in flight can finish and commit).
	ShutdownTimeout time.Duration
	BackoffBase     time.Duration // first retry delay (default 2s), doubled per attempt with jitter
	BackoffMax      time.Duration // longest retry delay (default 10m)
	PollInterval    time.Duration // how often an idle worker looks for tasks (default 250ms)
	// DelayedInterval is how often retries and rescheduled tasks are moved back to the queue
	// (default 1s).
	DelayedInterval time.Duration
	SweepInterval   time.Duration // re-enqueue deliveries whose task went missing (default 30s)
	Owner           string        // lease owner id (default host:pid:random)
	Logger          *zap.Logger
	Now             func() time.Time
	// OnOutcome, if set, is called after each handled task (metrics, the demo).
	OnOutcome func(Outcome)
}

// Outcome is the result of handling one delivery task.
type Outcome struct {
	ArticleID string
	Channel   channels.Name
	Attempt   int
	Status    string // sent, failed, unknown, retry, rate_limited, paused, duplicate, stale, busy
	RemoteID  string
	Err       error
}

// Worker runs deliveries for the routes it knows.
type Worker struct {
	rdb    redis.UniversalClient
	broker *Broker
	routes map[channels.Name]Route
	opts   WorkerOptions
	lim    *limiter
	log    *zap.Logger
	// afterSend runs after the platform accepted a post and before the ledger commit; tests use
	// it to inject a crash there.
	afterSend func(Delivery)
}

// NewWorker builds a worker on the broker's Redis.
func NewWorker(b *Broker, routes map[channels.Name]Route, opts WorkerOptions) *Worker {
	if opts.Concurrency <= 0 {
		opts.Concurrency = 10
	}
	if opts.SendTimeout <= 0 {
		opts.SendTimeout = 30 * time.Second
	}
	if opts.LeaseDuration <= opts.SendTimeout {
		opts.LeaseDuration = opts.SendTimeout + 30*time.Second
	}
	if opts.ShutdownTimeout <= 0 {
		opts.ShutdownTimeout = opts.SendTimeout + 5*time.Second
	}
	if opts.BackoffBase <= 0 {
		opts.BackoffBase = 2 * time.Second
	}
	if opts.BackoffMax <= 0 {
		opts.BackoffMax = 10 * time.Minute
	}
	if opts.PollInterval <= 0 {
		// A breaking story should not wait a second per process; one cheap Redis call per tick.
		opts.PollInterval = 250 * time.Millisecond
	}
	if opts.DelayedInterval <= 0 {
		opts.DelayedInterval = time.Second
	}
	if opts.SweepInterval <= 0 {
		opts.SweepInterval = 30 * time.Second
	}
	if opts.Owner == "" {
		host, _ := os.Hostname()
		opts.Owner = fmt.Sprintf("%s:%d:%08x", host, os.Getpid(), rand.Uint32())
	}
	if opts.Logger == nil {
		opts.Logger = zap.NewNop()
	}
	if opts.Now == nil {
		opts.Now = b.opts.Now
	}
	for n, r := range routes {
		if r.MaxAttempts <= 0 {
			r.MaxAttempts = 5
			routes[n] = r
		}
	}
	routes = meter(b, routes) // spend.go: per-post billing (X) counted in Redis, monthly budget
	return &Worker{rdb: b.rdb, broker: b, routes: routes, opts: opts, lim: newLimiter(b.rdb), log: opts.Logger}
}

// retryIn tells asynq when to run the task again; counted is false for waits that must not use
// an attempt (rate limits, pauses, a lease held elsewhere).
type retryIn struct {
	delay   time.Duration
	counted bool
	err     error
}

func (e *retryIn) Error() string { return fmt.Sprintf("retry in %s: %v", e.delay, e.err) }
func (e *retryIn) Unwrap() error { return e.err }

// Run processes deliveries until ctx ends, then stops taking work, lets in-flight sends finish
// (up to ShutdownTimeout) and hands unfinished tasks back to the queue.
func (w *Worker) Run(ctx context.Context) error {
	queues := make(map[string]int, 2*len(w.routes))
	for n := range w.routes {
		queues[asynqQueue(n, true)] = 2
		queues[asynqQueue(n, false)] = 1
	}
	if len(queues) == 0 {
		return errors.New("queue: worker has no channels to deliver to")
	}
	srv := asynq.NewServerFromRedisClient(w.rdb, asynq.Config{
		Concurrency: w.opts.Concurrency,
		Queues:      queues,
		// Urgent queues first, always: a breaking story must not wait behind a backlog.
		StrictPriority:           true,
		TaskCheckInterval:        w.opts.PollInterval,
		DelayedTaskCheckInterval: w.opts.DelayedInterval,
		ShutdownTimeout:          w.opts.ShutdownTimeout,
		Logger:                   w.log.Named("asynq").Sugar(),
		LogLevel:                 asynq.WarnLevel,
		RetryDelayFunc: func(n int, err error, _ *asynq.Task) time.Duration {
			var r *retryIn
			if errors.As(err, &r) {
				return r.delay
			}
			return w.backoff(n + 1)
		},
		IsFailure: func(err error) bool {
			var r *retryIn
			return !errors.As(err, &r) || r.counted
		},
	})
	mux := asynq.NewServeMux()
	mux.HandleFunc(taskType, w.handle)
	if err := srv.Start(mux); err != nil {
		return fmt.Errorf("queue: starting worker: %w", err)
	}
	sweepDone := make(chan struct{})
	sweepCtx, stopSweep := context.WithCancel(context.Background())
	go func() { defer close(sweepDone); w.sweepLoop(sweepCtx) }()
	<-ctx.Done()
	w.log.Info("worker stopping: no new work, waiting for in-flight sends", zap.Duration("timeout", w.opts.ShutdownTimeout))
	stopSweep()
	srv.Shutdown()
	<-sweepDone
	return nil
}

// backoff is exponential with full jitter: attempt 1 waits up to base, then doubling, capped.
func (w *Worker) backoff(attempt int) time.Duration {
	d := w.opts.BackoffBase
	for i := 1; i < attempt && d < w.opts.BackoffMax; i++ {
		d *= 2
	}
	d = min(d, w.opts.BackoffMax)
	// Half fixed, half random: spreads a burst of failures without ever retrying at once.
	return d/2 + rand.N(d/2+1)
}

func (w *Worker) handle(ctx context.Context, t *asynq.Task) error {
	var p taskPayload
	if err := json.Unmarshal(t.Payload(), &p); err != nil {
		// A task we cannot read will never succeed; drop it loudly.
		w.log.Error("dropping unreadable task", zap.Error(err))
		return fmt.Errorf("queue: decoding task: %v: %w", err, asynq.SkipRetry)
	}
	out := w.deliver(ctx, p)
	out.ArticleID, out.Channel = p.ArticleID, p.Channel
	w.logOutcome(out)
	if w.opts.OnOutcome != nil {
		w.opts.OnOutcome(out)
	}
	switch out.Status {
	case "retry", "rate_limited", "paused", "busy", "handback":
		return out.Err
	}
	return nil
}

func (w *Worker) logOutcome(o Outcome) {
	fields := []zap.Field{
		zap.String("article_id", o.ArticleID), zap.String("channel", string(o.Channel)),
		zap.Int("attempt", o.Attempt), zap.String("status", o.Status), zap.String("remote_id", o.RemoteID),
	}
	if o.Err != nil {
		fields = append(fields, zap.String("error", o.Err.Error()))
	} else {
		fields = append(fields, zap.String("error", ""))
	}
	switch o.Status {
	case "failed", "unknown":
		w.log.Warn("delivery", fields...)
	case "paused", "busy", "rate_limited", "stale", "handback":
		w.log.Debug("delivery", fields...)
	default:
		w.log.Info("delivery", fields...)
	}
}

// deliver runs one delivery: ledger check → pause → rate limit → claim → format → send → commit.
func (w *Worker) deliver(ctx context.Context, p taskPayload) Outcome {
	route, ok := w.routes[p.Channel]
	if !ok {
		// Another process's channel, or one removed from the config: leave it for later.
		return Outcome{Status: "retry", Err: &retryIn{delay: time.Minute, err: fmt.Errorf("channel %q is not configured in this process", p.Channel)}}
	}
	d, ok, err := getDelivery(ctx, w.rdb, p.ArticleID, p.Channel)
	if err != nil {
		return Outcome{Status: "retry", Err: &retryIn{delay: w.backoff(1), err: err}}
	}
	if !ok {
		return Outcome{Status: "stale", Err: errors.New("no delivery record")}
	}
	if d.Revision != p.Revision {
		return Outcome{Status: "stale", Attempt: d.Attempt}
	}
	if d.State.Final() {
		// Effectively once: the ledger already has an answer, so the task is acknowledged.
		return Outcome{Status: "duplicate", Attempt: d.Attempt, RemoteID: d.RemoteID}
	}
	paused, err := w.rdb.HExists(ctx, pausedKey, string(p.Channel)).Result()
	if err != nil {
		return Outcome{Status: "retry", Err: &retryIn{delay: w.backoff(1), err: err}}
	}
	if paused {
		return Outcome{Status: "paused", Err: &retryIn{delay: 5 * time.Second, err: errors.New("channel paused")}}
	}
	now := w.opts.Now()
	if wait, err := w.lim.wait(ctx, p.Channel, route.Limit, now); err != nil {
		return Outcome{Status: "retry", Err: &retryIn{delay: w.backoff(1), err: err}}
	} else if wait > 0 {
		return Outcome{Status: "rate_limited", Attempt: d.Attempt, Err: &retryIn{delay: roundUpSecond(wait), err: errors.New("channel rate limit")}}
	}
	return w.claimAndSend(ctx, p, route)
}

// roundUpSecond is needed because asynq schedules retries with whole-second precision; the
// worker re-checks the not-before time anyway, so rounding only avoids a wasted wake-up.
func roundUpSecond(d time.Duration) time.Duration {
	return (d + time.Second - 1).Truncate(time.Second) + time.Second
}

func (w *Worker) claimAndSend(ctx context.Context, p taskPayload, route Route) Outcome {
	now := w.opts.Now()
	lease := now.Add(w.opts.LeaseDuration)
	member := deliveryMember(p.ArticleID, p.Channel)
	ttl := int64(w.broker.opts.Retention / time.Second)
	res, err := claimScript.Run(ctx, w.rdb, []string{ledgerKey(p.ArticleID, p.Channel), pendingKey, logKey},
		p.Revision, now.UnixMilli(), lease.UnixMilli(), w.opts.Owner, w.broker.opts.LogMaxLen, member, ttl).Slice()
	if err != nil {
		return Outcome{Status: "retry", Err: &retryIn{delay: w.backoff(1), err: fmt.Errorf("queue: claiming %s: %w", member, err)}}
	}
	result, attempt := fmt.Sprint(res[0]), int(toInt64(res[1]))
	switch result {
	case "claimed":
	case "busy":
		until := time.UnixMilli(toInt64(res[2]))
		return Outcome{Status: "busy", Attempt: attempt, Err: &retryIn{delay: roundUpSecond(until.Sub(now)), err: errors.New("another worker holds the lease")}}
	case "expired":
		return Outcome{Status: "unknown", Attempt: attempt, Err: errors.New("lease expired while sending: parked for an admin, not re-posted")}
	case "stale", "missing":
		return Outcome{Status: "stale", Attempt: attempt}
	default:
		return Outcome{Status: "duplicate", Attempt: attempt}
	}
	fin := func(state State, rcpt channels.Receipt, errText string, giveBack bool) error {
		return w.finish(member, p, attempt, state, rcpt, errText, giveBack)
	}
	if err := ctx.Err(); err != nil {
		// Shutting down before the request left: hand the delivery back untouched.
		if ferr := fin(StatePending, channels.Receipt{}, "", true); ferr != nil {
			return Outcome{Status: "handback", Attempt: attempt, Err: ferr}
		}
		return Outcome{Status: "handback", Attempt: attempt - 1, Err: &retryIn{delay: time.Second, err: err}}
	}

	a, err := w.broker.Article(ctx, p.ArticleID)
	if err == nil {
		var posts []channels.Post
		posts, err = route.Renderer.Render(a)
		if err == nil {
			return w.send(ctx, p, route, attempt, posts, fin)
		}
		err = fmt.Errorf("formatting for %s: %w", p.Channel, err)
	}
	// A missing article or a render error will not heal by retrying.
	if ferr := fin(StateFailed, channels.Receipt{}, err.Error(), false); ferr != nil {
		return Outcome{Status: "retry", Attempt: attempt, Err: &retryIn{delay: w.backoff(1), err: ferr}}
	}
	return Outcome{Status: "failed", Attempt: attempt, Err: err}
}

func (w *Worker) send(ctx context.Context, p taskPayload, route Route, attempt int, posts []channels.Post,
	fin func(State, channels.Receipt, string, bool) error) Outcome {
	member := deliveryMember(p.ArticleID, p.Channel)
	sctx, cancel := context.WithTimeout(ctx, w.opts.SendTimeout)
	rcpt, err := route.Channel.Send(sctx, channels.Message{ArticleID: p.ArticleID, Key: TaskID(p.ArticleID, p.Channel, p.Revision), Attempt: attempt, Posts: posts})
	cancel()
	if err == nil {
		if w.afterSend != nil {
			w.afterSend(Delivery{ArticleID: p.ArticleID, Channel: p.Channel, Revision: p.Revision, Attempt: attempt, RemoteID: rcpt.RemoteID})
		}
		if ferr := fin(StateSent, rcpt, "", false); ferr != nil {
			// The post is out but not recorded; the lease will expire into unknown rather than
			// risk a second post.
			return Outcome{Status: "retry", Attempt: attempt, RemoteID: rcpt.RemoteID, Err: &retryIn{delay: w.opts.LeaseDuration, err: ferr}}
		}
		return Outcome{Status: "sent", Attempt: attempt, RemoteID: rcpt.RemoteID}
	}

	var rl *channels.RateLimitedError
	dedup, _ := route.Channel.(channels.Deduplicating)
	switch {
	case errors.As(err, &rl):
		// The platform said wait: every worker waits, and the attempt is given back.
		if serr := w.lim.setNotBefore(context.WithoutCancel(ctx), p.Channel, rl.RetryAt); serr != nil {
			w.log.Warn("recording platform retry-after", zap.String("channel", string(p.Channel)), zap.Error(serr))
		}
		if ferr := fin(StatePending, channels.Receipt{}, err.Error(), true); ferr != nil {
			return Outcome{Status: "retry", Attempt: attempt, Err: &retryIn{delay: w.backoff(1), err: ferr}}
		}
		return Outcome{Status: "rate_limited", Attempt: attempt - 1, Err: &retryIn{delay: roundUpSecond(time.Until(rl.RetryAt)), err: err}}
	case channels.IsPermanent(err):
		if ferr := fin(StateFailed, channels.Receipt{}, err.Error(), false); ferr != nil {
			return Outcome{Status: "retry", Attempt: attempt, Err: &retryIn{delay: w.backoff(1), err: ferr}}
		}
		return Outcome{Status: "failed", Attempt: attempt, Err: err}
	case channels.IsUnknownOutcome(err) && !(dedup != nil && dedup.Deduplicates()):
		// It may be posted already; a visible duplicate is worse than asking an admin.
		if ferr := fin(StateUnknown, channels.Receipt{}, err.Error(), false); ferr != nil {
			return Outcome{Status: "retry", Attempt: attempt, Err: &retryIn{delay: w.opts.LeaseDuration, err: ferr}}
		}
		return Outcome{Status: "unknown", Attempt: attempt, Err: err}
	case attempt >= route.MaxAttempts:
		err = fmt.Errorf("giving up after %d attempts: %w", attempt, err)
		if ferr := fin(StateFailed, channels.Receipt{}, err.Error(), false); ferr != nil {
			return Outcome{Status: "retry", Attempt: attempt, Err: &retryIn{delay: w.backoff(1), err: ferr}}
		}
		return Outcome{Status: "failed", Attempt: attempt, Err: err}
	default:
		// A shutdown that cancelled the send before the request left gives the attempt back.
		giveBack := ctx.Err() != nil
		if ferr := fin(StatePending, channels.Receipt{}, err.Error(), giveBack); ferr != nil {
			return Outcome{Status: "retry", Attempt: attempt, Err: &retryIn{delay: w.backoff(1), err: fmt.Errorf("%s: %w", member, ferr)}}
		}
		return Outcome{Status: "retry", Attempt: attempt, Err: &retryIn{delay: w.backoff(attempt), counted: !giveBack, err: err}}
	}
}

// finish commits a state change for the claim we hold. It retries briefly on Redis errors, on a
// context of its own: a shutdown must not prevent recording a post that already went out.
func (w *Worker) finish(member string, p taskPayload, attempt int, state State, rcpt channels.Receipt, errText string, giveBack bool) error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	give := "0"
	if giveBack {
		give = "1"
	}
	ttl := int64(0)
	if state.Final() {
		ttl = int64(w.broker.opts.Retention / time.Second)
	}
	var err error
	for try := 0; try < 5; try++ {
		var res string
		res, err = finishScript.Run(ctx, w.rdb, []string{ledgerKey(p.ArticleID, p.Channel), pendingKey, logKey},
			w.opts.Owner, attempt, string(state), rcpt.RemoteID, rcpt.PostURL, errText, w.opts.Now().UnixMilli(),
			w.broker.opts.LogMaxLen, member, ttl, give).Text()
		if err == nil {
			if res != "ok" {
				return fmt.Errorf("queue: committing %s as %s: lease lost", member, state)
			}
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("queue: committing %s as %s: %w", member, state, err)
		case <-time.After(time.Duration(try+1) * 200 * time.Millisecond):
		}
	}
	return fmt.Errorf("queue: committing %s as %s: %w", member, state, err)
}
