package queue

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"
	"go.uber.org/zap"

	"herald/article"
	"herald/channels"
	"herald/formatter"
)

// Route is everything a worker needs to deliver to one configured channel.
type Route struct {
	Channel  channels.Channel
	Renderer formatter.Renderer
	// Limit is the channel's shared send rate (zero = unlimited), burst included.
	Limit Limit
	// MaxAttempts bounds sends for retryable errors (default 5); rate limits do not count.
	MaxAttempts int
	// InFlight caps the channel's deliveries in progress in one process (default 1 for a
	// channel with a rate limit, so its posts leave one at a time in publish order, else
	// WorkerOptions.Concurrency).
	InFlight int
	// Group and GroupLimit name a limit shared with other channels (one Telegram bot token);
	// filled from the channel's RateGroup when it has one.
	Group      string
	GroupLimit Limit
}

// WorkerOptions tune a worker; zero values take the documented defaults.
type WorkerOptions struct {
	// Concurrency is the in-flight cap of each channel without a rate limit (default 10).
	Concurrency int
	SendTimeout time.Duration // one platform call (default 30s)
	// LeaseDuration is how long a claim protects a send; it must exceed SendTimeout (default
	// SendTimeout + 30s). A lease that runs out while sending turns the delivery unknown.
	LeaseDuration time.Duration
	// ShutdownTimeout is how long Run waits for in-flight sends after its context ends
	// (default SendTimeout + 5s, so a send in flight can finish and commit).
	ShutdownTimeout time.Duration
	BackoffBase     time.Duration // first retry delay (default 2s), doubled per attempt with jitter
	BackoffMax      time.Duration // longest retry delay (default 10m)
	// PollInterval is how often a channel's idle worker looks for tasks when no wake-up signal
	// can reach it (default 250ms); normally a publish wakes it at once.
	PollInterval time.Duration
	// DelayedInterval is how often retries and rescheduled tasks are moved back to the queue
	// (default 5s, asynq's own default; each look costs six scripts per channel and process —
	// two per queue — the largest part of what an idle process costs Redis).
	DelayedInterval time.Duration
	// IdleWake is how often an idle channel looks at its queue for work that came without a
	// wake-up, such as retries that came due (default 5s; one round trip per channel and process).
	IdleWake      time.Duration
	SweepInterval time.Duration // re-enqueue deliveries whose task went missing (default 30s)
	// SenderLease is the TTL of the lease that lets one process at a time send for a channel
	// whose in-flight cap is 1 (default 6s; lease.go explains the choice).
	SenderLease time.Duration
	Owner       string // lease owner id (default host:pid:random)
	Logger      *zap.Logger
	Now         func() time.Time
	// OnOutcome, if set, is called after each handled task (metrics, the demo).
	OnOutcome func(Outcome)
}

// Outcome is the result of handling one delivery task.
type Outcome struct {
	ArticleID string
	Channel   channels.Name
	Attempt   int
	Status    string // sent, failed, unknown, retry, rate_limited, paused, duplicate, stale, busy, handback
	RemoteID  string
	Err       error
	// PlatformErr is the platform's own refusal or failure of the call (nil when it accepted
	// the post or no call was made); Err may instead be herald's, such as a commit that failed
	// after the platform accepted (metrics count platform errors from this, not from Err).
	PlatformErr error
	// Took is how long the platform call took (zero when no call was made).
	Took time.Duration
	// QueuedAt is when the delivery's record was created (the publish), or when an admin's
	// retry or repost queued it again (requeued_at), known once claimed; with a sent outcome it
	// gives the publish→post latency without another Redis read.
	QueuedAt time.Time
}

// Worker runs deliveries for the routes it knows.
type Worker struct {
	rdb    redis.UniversalClient
	broker *Broker
	routes map[channels.Name]Route
	opts   WorkerOptions
	log    *zap.Logger
	// running is true while the servers are started and not stopping (readiness).
	running atomic.Bool
	// stopping is closed when Run's context ends: waits for a send slot and idle bells end at
	// once, sends in flight finish.
	stopping chan struct{}
	wake     map[channels.Name]chan struct{}
	// afterSend runs after the platform accepted a post and before the ledger commit; tests use
	// it to inject a crash there.
	afterSend func(Delivery)
	// newToken draws a claim token (tests replace it to replay a claim).
	newToken func() string
	// sweepMinAge is how old a pending delivery must be for the sweeper (sweepMinAge; tests
	// lower it).
	sweepMinAge time.Duration
	// afterSweep, if set, is told after each periodic sweep how many deliveries it looked at.
	afterSweep func(looked int)
	// runners run the deliveries on long-lived goroutines (runner.go).
	runners *runners
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
		opts.PollInterval = 250 * time.Millisecond
	}
	if opts.DelayedInterval <= 0 {
		opts.DelayedInterval = 5 * time.Second
	}
	if opts.IdleWake <= 0 {
		opts.IdleWake = 5 * time.Second
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
	rs := make(map[channels.Name]Route, len(routes))
	wake := make(map[channels.Name]chan struct{}, len(routes))
	for n, r := range routes {
		if r.MaxAttempts <= 0 {
			r.MaxAttempts = 5
		}
		if r.InFlight <= 0 {
			r.InFlight = opts.Concurrency
			if !r.Limit.IsZero() {
				r.InFlight = 1
			}
		}
		if g, ok := r.Channel.(RateGrouper); ok && r.Group == "" {
			key, count, period := g.RateGroup()
			r.Group, r.GroupLimit = key, Limit{Count: count, Period: period}
		}
		rs[n] = r
		wake[n] = make(chan struct{}, r.InFlight)
	}
	rs = meter(b, rs) // spend.go: per-post billing (X) counted in Redis, monthly budget
	inFlight := 0
	for _, r := range rs {
		inFlight += r.InFlight
	}
	return &Worker{rdb: b.rdb, broker: b, routes: rs, opts: opts, log: opts.Logger,
		stopping: make(chan struct{}), wake: wake, newToken: randomToken, sweepMinAge: sweepMinAge,
		runners: &runners{maxIdle: max(inFlight, 1)}}
}

// randomToken is 48 random bits in 8 characters (base64url: no ':', which the schedule key's
// "<tat>:<token>:<slot>" separates with). A token only tells apart the claims of one delivery,
// a handful, and every final record keeps its claim's: 8 bytes less per record than 16 hex.
func randomToken() string {
	v := rand.Uint64()
	return base64.RawURLEncoding.EncodeToString([]byte{byte(v), byte(v >> 8), byte(v >> 16), byte(v >> 24), byte(v >> 32), byte(v >> 40)})
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
//
// Each channel has its own asynq server on its own queues (urgent first, strictly, then its
// backlog, then its idle bells), with the channel's in-flight cap as concurrency: a backlog or
// a slow platform on one channel never holds another channel's workers, and a paced channel
// (cap 1) takes its deliveries in publish order. An idle channel's workers are parked in "bell"
// tasks that wait for a publish's wake-up signal (Redis pub/sub, one subscription per process)
// instead of polling Redis, so an idle publish is picked up at once. A channel whose cap is 1
// runs its server only in the process that holds its sender lease (lease.go), so its order
// holds across processes too.
func (w *Worker) Run(ctx context.Context) error {
	if len(w.routes) == 0 {
		return errors.New("queue: worker has no channels to deliver to")
	}
	sub := w.rdb.Subscribe(context.Background(), wakeChannel)
	defer sub.Close()
	// A wake-up lost to a dead connection costs at most IdleWake; the subscription's own health
	// check need not ping Redis every 3 s (go-redis's default) on top of that.
	go w.wakeLoop(sub.Channel(redis.WithChannelHealthCheckInterval(30 * time.Second)))
	if err := w.rdb.Set(ctx, aliveKey(w.opts.Owner), "1", aliveTTL).Err(); err != nil {
		return fmt.Errorf("queue: starting worker: %w", err)
	}
	var srvs []*asynq.Server
	var leased []*sender
	for name, r := range w.routes {
		if r.InFlight == 1 {
			// One process at a time sends for it, so its posts keep publish order (lease.go).
			leased = append(leased, w.newSender(name, r))
			continue
		}
		// The bells go in first, so the server's first look finds them.
		for i := range r.InFlight {
			if err := w.ringBell(ctx, name, i); err != nil {
				w.log.Warn("parking an idle worker", zap.String("channel", string(name)), zap.Error(err))
			}
		}
		srv, err := w.startServer(name, r, w.bell)
		if err != nil {
			for _, s := range srvs {
				s.Shutdown()
			}
			return err
		}
		srvs = append(srvs, srv)
	}
	var senders sync.WaitGroup
	for _, s := range leased {
		senders.Add(1)
		go func() { defer senders.Done(); s.run(ctx) }()
	}
	bg, stopBg := context.WithCancel(context.Background())
	var bgDone sync.WaitGroup
	bgDone.Add(2)
	go func() { defer bgDone.Done(); w.sweepLoop(bg) }()
	go func() { defer bgDone.Done(); w.aliveLoop(bg) }()
	w.running.Store(true)
	<-ctx.Done()
	w.running.Store(false)
	w.log.Info("worker stopping: no new work, waiting for in-flight sends", zap.Duration("timeout", w.opts.ShutdownTimeout))
	close(w.stopping)
	stopBg()
	// Every channel's server stops at the same time: the shutdown budget is one
	// ShutdownTimeout, not one per channel.
	var wg sync.WaitGroup
	for _, s := range srvs {
		wg.Add(1)
		go func() { defer wg.Done(); s.Shutdown() }()
	}
	wg.Wait()
	senders.Wait() // each leased channel's server stops with ctx, at the same time, then releases
	bgDone.Wait()
	w.runners.close()
	dctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	_ = w.rdb.Del(dctx, aliveKey(w.opts.Owner)).Err()
	return nil
}

// Running reports whether the worker is taking deliveries (started and not stopping).
func (w *Worker) Running() bool { return w.running.Load() }

func (w *Worker) serverConfig(name channels.Name, r Route) asynq.Config {
	return asynq.Config{
		Concurrency: r.InFlight,
		Queues:      map[string]int{asynqQueue(name, true): 3, asynqQueue(name, false): 2, bellQueue(name): 1},
		// Within the channel: urgent first, always, then the backlog in publish order, and the
		// bells only when both are empty.
		StrictPriority:           true,
		TaskCheckInterval:        w.opts.PollInterval,
		DelayedTaskCheckInterval: w.opts.DelayedInterval,
		// The janitor deletes completed tasks kept for a retention period; herald keeps none
		// (the ledger is the record), so its look every 8 s (a script per queue) finds nothing.
		JanitorInterval: 10 * time.Minute,
		ShutdownTimeout: w.opts.ShutdownTimeout,
		Logger:          w.log.Named("asynq").Sugar(),
		LogLevel:        asynq.WarnLevel,
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
	}
}

// wakeLoop turns each wake-up message into a token for one parked worker of that channel, or
// for every one (wakeAllPrefix).
func (w *Worker) wakeLoop(msgs <-chan *redis.Message) {
	for m := range msgs {
		name, all := strings.CutPrefix(m.Payload, wakeAllPrefix)
		c, ok := w.wake[channels.Name(name)]
		if !ok {
			continue
		}
		for n := 0; n == 0 || all && n < cap(c); n++ {
			select {
			case c <- struct{}{}:
			default: // every parked worker of the channel already has a token
			}
		}
	}
}

// bellPayload is an idle-worker task: it parks one worker of a channel until a wake-up.
type bellPayload struct {
	Channel channels.Name `json:"c"`
	Owner   string        `json:"o"`
	Slot    int           `json:"s"`
}

const bellType = "herald:bell"

const aliveTTL = 30 * time.Second

func aliveKey(owner string) string { return keyPrefix + "alive:{" + owner + "}" }

func (w *Worker) aliveLoop(ctx context.Context) {
	t := time.NewTicker(aliveTTL / 3)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := w.rdb.Set(ctx, aliveKey(w.opts.Owner), "1", aliveTTL).Err(); err != nil && ctx.Err() == nil {
				w.log.Warn("refreshing worker liveness", zap.Error(err))
			}
		}
	}
}

// ringBell enqueues one bell of this process for a channel.
func (w *Worker) ringBell(ctx context.Context, ch channels.Name, slot int) error {
	payload, _ := json.Marshal(bellPayload{Channel: ch, Owner: w.opts.Owner, Slot: slot})
	_, err := w.broker.client.EnqueueContext(ctx, asynq.NewTask(bellType, payload), asynq.Queue(bellQueue(ch)),
		asynq.TaskID(fmt.Sprintf("bell:%s:%s:%d:%s", ch, w.opts.Owner, slot, randomToken())), asynq.MaxRetry(0))
	return err
}

// bell parks a worker of an idle channel: asynq hands it out only when the channel has no
// delivery waiting, and while every worker of the channel is parked the asynq processor waits
// for a free worker instead of polling Redis. A wake-up (a publish) or a stop ends the wait;
// the bell then re-enqueues itself behind whatever arrived and returns, freeing the worker to
// take the delivery. Deliveries that arrive without a wake-up (retries coming due, a lost
// message) are found by the process's first bell of the channel, which looks at the channel's
// queue lengths every IdleWake (one round trip) and wakes the others when there is work. Bells
// of a process that is gone are dropped.
func (w *Worker) bell(ctx context.Context, t *asynq.Task) error {
	var b bellPayload
	if err := json.Unmarshal(t.Payload(), &b); err != nil {
		return nil // not ours to fix: drop it
	}
	if b.Owner != w.opts.Owner {
		if n, err := w.rdb.Exists(ctx, aliveKey(b.Owner)).Result(); err == nil && n == 0 {
			return nil
		}
	}
	checker := b.Owner == w.opts.Owner && b.Slot == 0
	every := w.opts.IdleWake
	if !checker {
		every = 10 * w.opts.IdleWake
	}
	timer := time.NewTimer(every)
	defer timer.Stop()
wait:
	for {
		select {
		case <-w.wake[b.Channel]:
			break wait
		case <-timer.C:
			if !checker || w.hasWork(ctx, b.Channel) {
				break wait
			}
			timer.Reset(every)
		case <-w.stopping:
			if b.Owner == w.opts.Owner {
				return nil // this process is leaving; its bells go with it
			}
			break wait
		case <-ctx.Done():
			break wait
		}
	}
	payload, _ := json.Marshal(b)
	_, err := w.broker.client.EnqueueContext(context.WithoutCancel(ctx), asynq.NewTask(bellType, payload), asynq.Queue(bellQueue(b.Channel)),
		asynq.TaskID(fmt.Sprintf("bell:%s:%s:%d:%s", b.Channel, b.Owner, b.Slot, randomToken())), asynq.MaxRetry(0))
	if err != nil {
		w.log.Warn("re-parking an idle worker", zap.String("channel", string(b.Channel)), zap.Error(err))
	}
	return nil
}

// hasWork reports whether a channel's urgent or normal queue holds a task its workers could
// take (pending and not paused), and if so wakes every parked worker of the channel. It reads
// asynq's own keys (asynq:{<queue>}:pending and :paused): one pipelined round trip of two
// LLENs, and the pause flags only when a queue has tasks.
func (w *Worker) hasWork(ctx context.Context, ch channels.Name) bool {
	qs := asynqQueues(ch)
	pipe := w.rdb.Pipeline()
	lens := make([]*redis.IntCmd, len(qs))
	for i, q := range qs {
		lens[i] = pipe.LLen(ctx, "asynq:{"+q+"}:pending")
	}
	if _, err := pipe.Exec(ctx); err != nil {
		return true // cannot tell: let the workers look
	}
	var waiting []string
	for i, q := range qs {
		if lens[i].Val() > 0 {
			waiting = append(waiting, asynqPausedKey(q))
		}
	}
	if len(waiting) == 0 {
		return false
	}
	if paused, err := w.rdb.Exists(ctx, waiting...).Result(); err == nil && paused == int64(len(waiting)) {
		return false // the work there waits for a resume, which wakes the channel
	}
	for range cap(w.wake[ch]) {
		select {
		case w.wake[ch] <- struct{}{}:
		default:
		}
	}
	return true
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

// handleTask runs one delivery task (on a runner, see handle).
func (w *Worker) handleTask(ctx context.Context, t *asynq.Task) error {
	var p taskPayload
	if err := json.Unmarshal(t.Payload(), &p); err != nil {
		// A task we cannot read will never succeed; drop it loudly.
		w.log.Error("dropping unreadable task", zap.Error(err))
		return fmt.Errorf("queue: decoding task: %v: %w", err, asynq.SkipRetry)
	}
	out := w.deliver(ctx, p)
	// A paced lane keeps publish order across a platform's 429: the delivery that got it takes
	// the lane's next slot (at the retry-after time) in this task, instead of going back to
	// asynq, whose retry would queue it behind the deliveries published after it. A wait longer
	// than the task may hold comes back from the slot script as "later" and is handed back.
	for w.sendAgainAfter429(p, out) {
		w.report(p, &out)
		out = w.deliver(ctx, p)
	}
	w.report(p, &out)
	var moved *movedToFront
	switch {
	case errors.As(out.Err, &moved):
		return nil // its next task waits at the head of the lane: this one is done
	case out.Status == "retry", out.Status == "rate_limited", out.Status == "paused", out.Status == "busy", out.Status == "handback":
		return out.Err
	}
	return nil
}

// movedToFront is the error of an outcome whose delivery was moved to the head of its paused
// lane (pausedOutcome): logged with the reason, yet the task is acknowledged, not retried.
type movedToFront struct{ err error }

func (m *movedToFront) Error() string { return m.err.Error() + " (waits at the head of its lane)" }
func (m *movedToFront) Unwrap() error { return m.err }

// report logs an outcome of a delivery and passes it to OnOutcome.
func (w *Worker) report(p taskPayload, out *Outcome) {
	out.ArticleID, out.Channel = p.ArticleID, p.Channel
	w.logOutcome(*out)
	if w.opts.OnOutcome != nil {
		w.opts.OnOutcome(*out)
	}
}

// sendAgainAfter429 reports whether a delivery of a lane with one send in flight that the
// platform rate limited (not the channel's own rate: that is "later") should take its next slot
// in the same task. A stopping worker hands it back.
func (w *Worker) sendAgainAfter429(p taskPayload, out Outcome) bool {
	var rl *channels.RateLimitedError
	if out.Status != "rate_limited" || w.routes[p.Channel].InFlight != 1 || !errors.As(out.Err, &rl) {
		return false
	}
	select {
	case <-w.stopping:
		return false
	default:
		return true
	}
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

// deliver runs one delivery: reserve a send slot (ledger, pause and rate checked in one script,
// which also claims the delivery when the slot is now) → if the slot lies ahead, wait for it in
// memory, then claim → format → send → commit.
func (w *Worker) deliver(ctx context.Context, p taskPayload) Outcome {
	route, ok := w.routes[p.Channel]
	if !ok {
		// Another process's channel, or one removed from the config: leave it for later.
		return Outcome{Status: "retry", Err: &retryIn{delay: time.Minute, err: fmt.Errorf("channel %q is not configured in this process", p.Channel)}}
	}
	// The longest the task may wait for its slot: its asynq deadline less a send and a commit.
	maxWait := 10 * time.Minute
	if dl, ok := ctx.Deadline(); ok {
		maxWait = time.Until(dl) - w.opts.SendTimeout - 5*time.Second
	}
	maxWait = max(maxWait, 0)
	c := w.newClaim(p)
	res, err := slotScript.Run(ctx, w.rdb,
		[]string{ledgerKey(p.ArticleID, p.Channel), pausedKey, notBeforeKey(p.Channel), scheduleKey(p.Channel), groupScheduleKey(route.Group),
			pendingKey, logKey, articleKey(p.ArticleID), unknownKey(p.Channel)},
		p.Revision, string(p.Channel), route.Limit.interval().Milliseconds(), route.Limit.burst(),
		route.GroupLimit.interval().Milliseconds(), route.GroupLimit.burst(), maxWait.Milliseconds(),
		w.opts.LeaseDuration.Milliseconds(), c.token, w.broker.opts.LogMaxLen, c.member, w.retentionTTL(), w.opts.Owner).Slice()
	if err != nil {
		// The script may have claimed the delivery with its reply lost (go-redis already re-ran
		// it once): give the claim back under its token, so it cannot expire into unknown with
		// nothing sent. Without a claim of this token the give-back changes nothing.
		go func() { _ = w.finish(c, StatePending, channels.Receipt{}, "", true) }()
		return Outcome{Status: "retry", Err: &retryIn{delay: w.backoff(1), err: fmt.Errorf("queue: reserving a send slot: %w", err)}}
	}
	n := toInt64(res[1])
	wait := time.Duration(n) * time.Millisecond
	switch r := fmt.Sprint(res[0]); r {
	case "claimed":
		return w.claimed(ctx, c, route, res)
	case "ok":
		slot := time.Now().Add(wait)
		if len(res) > 2 {
			c.slotMS, c.slotAt = toInt64(res[2]), slot
		}
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-w.stopping:
			// A channel with one sender at a time (a paced one, leased by one process) keeps its
			// slot when the send still fits in the shutdown budget: handed back, the delivery
			// would go out after the next one, which the process taking over the channel sends
			// first. Otherwise nothing is claimed yet: the delivery goes back untouched.
			if route.InFlight != 1 || time.Until(slot) > w.opts.ShutdownTimeout-w.opts.SendTimeout-stopMargin {
				t.Stop()
				return Outcome{Status: "handback", Err: &retryIn{delay: wait, err: errors.New("worker stopping")}}
			}
			<-t.C
			c.keepOnStop = true
		}
		return w.claimAndSend(ctx, c, route)
	case "later":
		return Outcome{Status: "rate_limited", Err: &retryIn{delay: roundUpSecond(wait), err: errors.New("channel rate limit")}}
	case "missing":
		return Outcome{Status: "stale", Err: errors.New("no delivery record")}
	case "stale":
		return Outcome{Status: "stale"}
	case "paused":
		return w.pausedOutcome(ctx, p, route, 0, errors.New("channel paused"))
	case "busy":
		return Outcome{Status: "busy", Err: &retryIn{delay: roundUpSecond(wait), err: errors.New("another worker holds the lease")}}
	case "expired":
		return Outcome{Status: "unknown", Attempt: int(n), Err: errors.New("lease expired while sending: parked for an admin, not re-posted")}
	default:
		// Effectively once: the ledger already has an answer, so the task is acknowledged.
		return Outcome{Status: "duplicate"}
	}
}

// pausedOutcome answers a delivery its channel's pause stopped (nothing of it is claimed). On a
// lane with one send in flight the delivery moves to the head of its lane (the channel's urgent
// queue, paused with the channel: frontScript) and this task is acknowledged, so it goes out
// first when the channel resumes: handed back to asynq, its retry would be queued behind the
// deliveries published after it. Otherwise, or when it cannot be moved, it is handed back.
func (w *Worker) pausedOutcome(ctx context.Context, p taskPayload, route Route, attempt int, err error) Outcome {
	if route.InFlight == 1 && w.toFront(ctx, p) {
		return Outcome{Status: "paused", Attempt: attempt, Err: &movedToFront{err: err}}
	}
	return Outcome{Status: "paused", Attempt: attempt, Err: &retryIn{delay: 5 * time.Second, err: err}}
}

// toFront moves a pending delivery to the head of its lane: a new task (the next generation) in
// the channel's urgent queue, served first. It reports whether the record moved; its task is
// then enqueued, and the current one must be acknowledged (a failed enqueue is the sweeper's:
// it finds the record's task missing and enqueues it).
func (w *Worker) toFront(ctx context.Context, p taskPayload) bool {
	ctx = context.WithoutCancel(ctx)
	gen, err := frontScript.Run(ctx, w.rdb, []string{ledgerKey(p.ArticleID, p.Channel), asynqPausedKey(asynqQueue(p.Channel, true))},
		p.Revision, p.Gen).Int()
	if err != nil || gen == 0 {
		return false
	}
	if err := w.broker.enqueue(ctx, p.ArticleID, p.Channel, p.Revision, gen, true); err != nil {
		w.log.Warn("moving a paused lane's delivery to its head (the sweeper enqueues it)", zap.String("article_id", p.ArticleID),
			zap.String("channel", string(p.Channel)), zap.Error(err))
	}
	return true
}

// roundUpSecond is needed because asynq schedules retries with whole-second precision; the
// worker re-checks the not-before time anyway, so rounding only avoids a wasted wake-up.
func roundUpSecond(d time.Duration) time.Duration {
	return (d + time.Second - 1).Truncate(time.Second) + time.Second
}

// claim is one claim of a delivery: the token makes each of its state changes idempotent.
type claim struct {
	p       taskPayload
	member  string
	token   string
	attempt int
	until   time.Time // the lease's end
	// keepOnStop: the worker is stopping and sends this delivery anyway (a slot kept for order).
	keepOnStop bool
	// slotMS is the slot's time on the Redis clock (slotScript's "ok"), slotAt the same moment
	// on this process's monotonic clock: with them the claim knows the Redis time without a
	// TIME call (redisNowMS).
	slotMS int64
	slotAt time.Time
	// afterUnknown: an admin retried the delivery after an unknown outcome (ledgerAfterUnknown).
	afterUnknown bool
	// maybePosted is when this claim's send ended in an unknown outcome that a deduplicating
	// channel retries (ms, this process's clock); finish records it as the record's maybe_at
	// unless an earlier attempt's is there (see pastDedupWindow).
	maybePosted int64
}

// redisNowMS is the Redis clock's time now as the slot told it, or 0 when unknown.
func (c *claim) redisNowMS() int64 {
	if c.slotMS <= 0 {
		return 0
	}
	return c.slotMS + max(time.Since(c.slotAt).Milliseconds(), 0)
}

// stopMargin is what a stopping worker keeps of its shutdown budget for the commit after a send.
const stopMargin = 500 * time.Millisecond

// newClaim draws the token of a claim about to be asked for; its lease is counted from now.
// until bounds this process's own retries (a deadline on its monotonic clock); the lease in
// Redis is on the Redis clock.
func (w *Worker) newClaim(p taskPayload) *claim {
	return &claim{p: p, member: deliveryMember(p.ArticleID, p.Channel), token: w.newToken(), until: time.Now().Add(w.opts.LeaseDuration)}
}

// retentionTTL is the record TTL in seconds the scripts set on a final record.
func (w *Worker) retentionTTL() int64 { return int64(w.broker.opts.Retention / time.Second) }

// claimAndSend claims a delivery whose send slot has come (after a wait) and sends it.
func (w *Worker) claimAndSend(ctx context.Context, c *claim, route Route) Outcome {
	p := c.p
	c.until = time.Now().Add(w.opts.LeaseDuration)
	res, err := claimScript.Run(ctx, w.rdb,
		[]string{ledgerKey(p.ArticleID, p.Channel), pendingKey, logKey, pausedKey, articleKey(p.ArticleID), unknownKey(p.Channel)},
		p.Revision, w.opts.LeaseDuration.Milliseconds(), c.token, w.broker.opts.LogMaxLen, c.member, w.retentionTTL(), string(p.Channel), w.opts.Owner,
		c.redisNowMS()).Slice()
	if err != nil {
		// The claim may have happened with its reply lost (go-redis already re-ran it once):
		// give it back under its token, so it cannot expire into unknown with nothing sent.
		go func() { _ = w.finish(c, StatePending, channels.Receipt{}, "", true) }()
		return Outcome{Status: "retry", Err: &retryIn{delay: w.backoff(1), err: fmt.Errorf("queue: claiming %s: %w", c.member, err)}}
	}
	result, attempt := fmt.Sprint(res[0]), int(toInt64(res[1]))
	switch result {
	case "claimed":
		return w.claimed(ctx, c, route, res)
	case "busy":
		left := time.Duration(toInt64(res[2])) * time.Millisecond
		return Outcome{Status: "busy", Attempt: attempt, Err: &retryIn{delay: roundUpSecond(left), err: errors.New("another worker holds the lease")}}
	case "expired":
		return Outcome{Status: "unknown", Attempt: attempt, Err: errors.New("lease expired while sending: parked for an admin, not re-posted")}
	case "paused":
		return w.pausedOutcome(ctx, p, route, attempt, errors.New("channel paused"))
	case "stale", "missing":
		return Outcome{Status: "stale", Attempt: attempt}
	default:
		return Outcome{Status: "duplicate", Attempt: attempt}
	}
}

// createdAt reads the record's creation time from a claiming script's "claimed" answer.
func createdAt(res []any) time.Time {
	if len(res) > 4 {
		if ms, err := strconv.ParseInt(fmt.Sprint(res[4]), 10, 64); err == nil && ms > 0 {
			return time.UnixMilli(ms)
		}
	}
	return time.Time{}
}

// claimed formats and sends a delivery the claim c now holds; res is the claiming script's
// answer {"claimed", attempt, lease_until, article JSON, created_at ms, after_unknown}.
func (w *Worker) claimed(ctx context.Context, c *claim, route Route, res []any) (out Outcome) {
	// Every outcome of a claimed delivery carries its publish time (metrics' latency).
	defer func() { out.QueuedAt = createdAt(res) }()
	p := c.p
	attempt := int(toInt64(res[1]))
	c.attempt = attempt
	c.afterUnknown = len(res) > 5 && fmt.Sprint(res[5]) == "1"
	// From here on nothing has been posted until Send: every path that ends without a post
	// hands the claim back (or fails it) under its token, retrying until the lease ends. A
	// stopping worker hands its claim back, except on a lane with one sender at a time: its slot
	// is now, the send fits in the shutdown budget, and handed back the delivery would go out
	// after the next one (see the "ok" case of deliver).
	if !c.keepOnStop && route.InFlight != 1 {
		select {
		case <-w.stopping:
			if ferr := w.finish(c, StatePending, channels.Receipt{}, "", true); ferr != nil {
				return Outcome{Status: "handback", Attempt: attempt, Err: ferr}
			}
			return Outcome{Status: "handback", Attempt: attempt - 1, Err: &retryIn{delay: time.Second, err: errors.New("worker stopping")}}
		default:
		}
	}
	var art any
	if len(res) > 3 {
		art = res[3]
	}
	a, err := decodeArticle(p.ArticleID, art)
	if err == nil {
		var posts []channels.Post
		posts, err = route.Renderer.Render(a)
		if err == nil {
			if out, parked := w.pastDedupWindow(ctx, c, route); parked {
				return out
			}
			return w.send(ctx, c, route, posts)
		}
		err = fmt.Errorf("formatting for %s: %w", p.Channel, err)
	}
	// A missing article or a render error will not heal by retrying.
	if ferr := w.finish(c, StateFailed, channels.Receipt{}, err.Error(), false); ferr != nil {
		return Outcome{Status: "retry", Attempt: attempt, Err: &retryIn{delay: w.backoff(1), err: ferr}}
	}
	return Outcome{Status: "failed", Attempt: attempt, Err: err}
}

// dedupWindowMargin is taken off a platform's idempotency window: the key's hour starts when
// the platform made the post, up to a send timeout before maybe_at, and the processes' clocks
// may differ by a little.
const dedupWindowMargin = 5 * time.Minute

// pastDedupWindow parks a retry of a deduplicating channel whose platform forgets a key after a
// while (channels.DedupWindowed) when that while has passed since an earlier attempt that may
// have posted (the record's maybe_at): sent again, the post could appear twice. Only a retry
// reads the record (one HGET); the first attempt and other channels cost nothing.
func (w *Worker) pastDedupWindow(ctx context.Context, c *claim, route Route) (Outcome, bool) {
	dw, ok := route.Channel.(channels.DedupWindowed)
	if !ok || c.attempt <= 1 || dw.DedupWindow() <= 0 {
		return Outcome{}, false
	}
	window := dw.DedupWindow()
	v, err := w.rdb.HGet(ctx, ledgerKey(c.p.ArticleID, c.p.Channel), ledgerMaybePosted).Int64()
	if errors.Is(err, redis.Nil) {
		return Outcome{}, false
	}
	if err != nil {
		// Not knowing is not a reason to risk it: hand the claim back and try again later.
		err = fmt.Errorf("queue: reading when %s may have posted: %w", c.member, err)
		if ferr := w.finish(c, StatePending, channels.Receipt{}, err.Error(), true); ferr != nil {
			err = ferr
		}
		return Outcome{Status: "retry", Attempt: c.attempt - 1, Err: &retryIn{delay: w.backoff(1), err: err}}, true
	}
	at := time.UnixMilli(v)
	if w.opts.Now().Sub(at) < window-min(dedupWindowMargin, window/2) {
		return Outcome{}, false
	}
	err = fmt.Errorf("an earlier attempt (%s) may have posted, and the platform remembers its idempotency key for %s only: parked instead of a retry that could post twice",
		at.UTC().Format(time.RFC3339), window)
	if ferr := w.finish(c, StateUnknown, channels.Receipt{}, err.Error(), true); ferr != nil {
		return Outcome{Status: "retry", Attempt: c.attempt, Err: &retryIn{delay: w.backoff(1), err: ferr}}, true
	}
	return Outcome{Status: "unknown", Attempt: c.attempt - 1, Err: err}, true
}

func decodeArticle(id string, v any) (*article.Article, error) {
	s, ok := v.(string)
	if !ok {
		return nil, fmt.Errorf("queue: article %s: %w", id, ErrNotFound)
	}
	return decodeStoredArticle(id, []byte(s))
}

func (w *Worker) send(ctx context.Context, c *claim, route Route, posts []channels.Post) (out Outcome) {
	p, attempt := c.p, c.attempt
	sctx, cancel := context.WithTimeout(ctx, w.opts.SendTimeout)
	start := time.Now()
	rcpt, err := route.Channel.Send(sctx, channels.Message{ArticleID: p.ArticleID, Key: TaskID(p.ArticleID, p.Channel, p.Revision), Attempt: attempt, AfterUnknown: c.afterUnknown, Posts: posts})
	cancel()
	took := time.Since(start)
	platformErr := err
	defer func() { out.Took, out.PlatformErr = took, platformErr }()
	if err == nil {
		if w.afterSend != nil {
			w.afterSend(Delivery{ArticleID: p.ArticleID, Channel: p.Channel, Revision: p.Revision, Attempt: attempt, RemoteID: rcpt.RemoteID})
		}
		if ferr := w.finish(c, StateSent, rcpt, "", false); ferr != nil {
			// The post is out but not recorded; the lease will expire into unknown rather than
			// risk a second post (a later commit of this claim still turns it into sent).
			return Outcome{Status: "retry", Attempt: attempt, RemoteID: rcpt.RemoteID, Err: &retryIn{delay: w.opts.LeaseDuration, err: ferr}}
		}
		return Outcome{Status: "sent", Attempt: attempt, RemoteID: rcpt.RemoteID}
	}

	var rl *channels.RateLimitedError
	dedup, _ := route.Channel.(channels.Deduplicating)
	pe, isPause := channels.AsPause(err)
	switch {
	case isPause:
		// Every delivery of this channel would fail the same way: pause it for an operator and
		// hand this one back; the backlog waits instead of failing one delivery at a time.
		if perr := w.broker.PauseBy(context.WithoutCancel(ctx), p.Channel, pe.Reason, PausedByHerald); perr != nil {
			w.log.Error("pausing channel", zap.String("channel", string(p.Channel)), zap.Error(perr))
		}
		if ferr := w.finish(c, StatePending, channels.Receipt{}, err.Error(), true); ferr != nil {
			return Outcome{Status: "retry", Attempt: attempt, Err: &retryIn{delay: w.backoff(1), err: ferr}}
		}
		return w.pausedOutcome(ctx, p, route, attempt-1, err)
	case errors.As(err, &rl):
		// The platform said wait: every worker waits, and the attempt is given back.
		// The platform's time to wait, as this process's clock counts it; the not-before time
		// is set on the Redis clock, which the slot script reads.
		wait := rl.RetryAt.Sub(w.opts.Now())
		serr := setNotBefore(context.WithoutCancel(ctx), w.rdb, p.Channel, wait)
		if serr != nil {
			w.log.Warn("recording platform retry-after", zap.String("channel", string(p.Channel)), zap.Error(serr))
		}
		if ferr := w.finish(c, StatePending, channels.Receipt{}, err.Error(), true); ferr != nil {
			return Outcome{Status: "retry", Attempt: attempt, Err: &retryIn{delay: w.backoff(1), err: ferr}}
		}
		if serr != nil {
			// The slot script cannot know the wait: asynq's retry keeps it (%v: handleTask
			// must not send again at once, see sendAgainAfter429).
			err = fmt.Errorf("%v (the retry-after was not recorded: %v)", err, serr)
		}
		return Outcome{Status: "rate_limited", Attempt: attempt - 1, Err: &retryIn{delay: roundUpSecond(wait), err: err}}
	case channels.IsPermanent(err):
		return w.giveUp(ctx, c, route, err)
	case channels.IsUnknownOutcome(err) && !(dedup != nil && dedup.Deduplicates()):
		// It may be posted already; a visible duplicate is worse than asking an admin. The
		// receipt keeps what is known to be out: a message of several posts that failed after
		// the first carries the ids (and link) of those the platform accepted (SendEach), so
		// the admin deciding sees them, and a retract deletes them.
		if ferr := w.finish(c, StateUnknown, rcpt, err.Error(), false); ferr != nil {
			return Outcome{Status: "retry", Attempt: attempt, RemoteID: rcpt.RemoteID, Err: &retryIn{delay: w.opts.LeaseDuration, err: ferr}}
		}
		return Outcome{Status: "unknown", Attempt: attempt, RemoteID: rcpt.RemoteID, Err: err}
	case attempt >= route.MaxAttempts && channels.IsUnknownOutcome(err):
		// A deduplicating channel's last attempt may have posted too: not failed, which says
		// nothing went out, but unknown, parked for an admin like any other unknown outcome.
		err = fmt.Errorf("giving up after %d attempts: %w", attempt, err)
		if ferr := w.finish(c, StateUnknown, rcpt, err.Error(), false); ferr != nil {
			return Outcome{Status: "retry", Attempt: attempt, RemoteID: rcpt.RemoteID, Err: &retryIn{delay: w.opts.LeaseDuration, err: ferr}}
		}
		return Outcome{Status: "unknown", Attempt: attempt, RemoteID: rcpt.RemoteID, Err: err}
	case attempt >= route.MaxAttempts:
		return w.giveUp(ctx, c, route, fmt.Errorf("giving up after %d attempts: %w", attempt, err))
	default:
		if channels.IsUnknownOutcome(err) {
			// A deduplicating channel's retry: this attempt may have posted (pastDedupWindow).
			c.maybePosted = w.opts.Now().UnixMilli()
		}
		// A shutdown that cancelled the send before the request left gives the attempt back.
		giveBack := ctx.Err() != nil
		if ferr := w.finish(c, StatePending, channels.Receipt{}, err.Error(), giveBack); ferr != nil {
			return Outcome{Status: "retry", Attempt: attempt, Err: &retryIn{delay: w.backoff(1), err: fmt.Errorf("%s: %w", c.member, ferr)}}
		}
		return Outcome{Status: "retry", Attempt: attempt, Err: &retryIn{delay: w.backoff(attempt), counted: !giveBack, err: err}}
	}
}

// giveUp ends a delivery whose send failed for good: failed, which says nothing went out —
// unless an earlier attempt of a deduplicating channel ended in an unknown outcome and was
// retried (the record's maybe_at): that one may have posted, so the delivery is parked unknown
// for an admin, like any other unknown outcome.
func (w *Worker) giveUp(ctx context.Context, c *claim, route Route, err error) Outcome {
	state, status := StateFailed, "failed"
	if dedup, ok := route.Channel.(channels.Deduplicating); ok && dedup.Deduplicates() && c.attempt > 1 {
		n, herr := w.rdb.HExists(context.WithoutCancel(ctx), ledgerKey(c.p.ArticleID, c.p.Channel), ledgerMaybePosted).Result()
		if n || herr != nil { // not knowing counts as maybe
			state, status = StateUnknown, "unknown"
			err = fmt.Errorf("%w (an earlier attempt's outcome was unknown: it may have posted)", err)
		}
	}
	if ferr := w.finish(c, state, channels.Receipt{}, err.Error(), false); ferr != nil {
		return Outcome{Status: "retry", Attempt: c.attempt, Err: &retryIn{delay: w.backoff(1), err: ferr}}
	}
	return Outcome{Status: status, Attempt: c.attempt, Err: err}
}

// finish commits a state change for the claim c. The script is idempotent by the claim's
// token, so it is retried on any Redis error — on a context of its own, as long as the lease
// lasts (a post that went out is committed even after a lease expiry, see finishScript): a
// shutdown must not prevent recording a post, nor a blip leave a claim that sent nothing to
// expire into unknown.
func (w *Worker) finish(c *claim, state State, rcpt channels.Receipt, errText string, giveBack bool) error {
	deadline := c.until
	if state == StateSent {
		deadline = deadline.Add(w.opts.LeaseDuration)
	}
	ctx, cancel := context.WithDeadline(context.Background(), deadline)
	defer cancel()
	give := "0"
	if giveBack {
		give = "1"
	}
	ttl := int64(0)
	if state.Final() {
		ttl = int64(w.broker.opts.Retention / time.Second)
	}
	maybe := ""
	if c.maybePosted > 0 {
		maybe = strconv.FormatInt(c.maybePosted, 10)
	}
	var err error
	for try := 0; ; try++ {
		var res string
		res, err = finishScript.Run(ctx, w.rdb, []string{ledgerKey(c.p.ArticleID, c.p.Channel), pendingKey, logKey, unknownKey(c.p.Channel)},
			c.token, c.attempt, string(state), rcpt.RemoteID, rcpt.PostURL, errText, w.opts.Now().UnixMilli(),
			w.broker.opts.LogMaxLen, c.member, ttl, give, maybe).Text()
		if err == nil {
			if res != "ok" {
				return fmt.Errorf("queue: committing %s as %s: lease lost", c.member, state)
			}
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("queue: committing %s as %s: %w", c.member, state, err)
		case <-time.After(min(time.Duration(try+1)*100*time.Millisecond, 2*time.Second)):
		}
	}
}
