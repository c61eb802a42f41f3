package queue

// Hooks for the load harness (`make bench`, internal/harness/bench). herald itself never calls
// them; they live here because they must know asynq and the ledger's layout, which nothing
// outside this package may.

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"

	"herald/article"
	"herald/channels"
)

// AsynqBaseline is the yardstick `make bench` compares herald with: n tasks through plain asynq,
// on rdb, with handle as the whole handler (nil: one that does nothing), at the concurrency and
// poll interval opts give herald's worker (their defaults when zero). The tasks are enqueued
// first; the result is the time from the first task handled to the n-th (steady state: the
// server's start-up is left out), so the rate is (n-1)/result. The queue is deleted afterwards.
// mark, when not nil, is called when the tasks are queued (before the server starts) and when
// the n-th is handled, so the caller can measure what the processing alone costs.
func AsynqBaseline(ctx context.Context, rdb redis.UniversalClient, n int, opts WorkerOptions, handle func(context.Context) error, mark func()) (time.Duration, error) {
	if mark == nil {
		mark = func() {}
	}
	if handle == nil {
		handle = func(context.Context) error { return nil }
	}
	w := NewWorker(NewBroker(rdb, Options{}), map[channels.Name]Route{}, opts)
	const q = "herald-bench-noop"
	client := asynq.NewClientFromRedisClient(rdb)
	for i := range n {
		if _, err := client.EnqueueContext(ctx, asynq.NewTask("noop", []byte(strconv.Itoa(i))), asynq.Queue(q)); err != nil {
			return 0, fmt.Errorf("queue: baseline: enqueueing: %w", err)
		}
	}
	var handled atomic.Int64
	var failed atomic.Pointer[error]
	var first atomic.Int64 // unix ns of the first task handled
	done := make(chan struct{})
	srv := asynq.NewServerFromRedisClient(rdb, asynq.Config{
		Concurrency:       w.opts.Concurrency,
		Queues:            map[string]int{q: 1},
		TaskCheckInterval: w.opts.PollInterval,
		LogLevel:          asynq.FatalLevel,
	})
	mux := asynq.NewServeMux()
	mark()
	mux.HandleFunc("noop", func(ctx context.Context, _ *asynq.Task) error {
		first.CompareAndSwap(0, time.Now().UnixNano())
		if err := handle(ctx); err != nil {
			failed.CompareAndSwap(nil, &err) // the run's result is then this error
		}
		if handled.Add(1) == int64(n) {
			close(done)
		}
		return nil
	})
	if err := srv.Start(mux); err != nil {
		return 0, fmt.Errorf("queue: baseline: starting asynq: %w", err)
	}
	var err error
	select {
	case <-done:
	case <-ctx.Done():
		err = fmt.Errorf("queue: baseline: %d of %d handled: %w", handled.Load(), n, ctx.Err())
	}
	took := time.Since(time.Unix(0, first.Load()))
	mark()
	if e := failed.Load(); e != nil && err == nil {
		err = fmt.Errorf("queue: baseline: a handler failed: %w", *e)
	}
	srv.Shutdown()
	_ = asynq.NewInspectorFromRedisClient(rdb).DeleteQueue(q, true)
	return took, err
}

// SeedRecord is one final delivery for SeedFinal.
type SeedRecord struct {
	Article  *article.Article
	Channels []channels.Name
	Kind     channels.Kind
}

// SeedFinal writes articles and their deliveries as `sent` records directly, pipelined, in the
// layout Publish and the worker leave behind (the article with its channels, one ledger hash per
// channel, each with the retention TTL; the URL index), without tasks or log entries. `make bench` uses it to
// put a million delivery records in Redis in seconds and time status lookups among them.
func (b *Broker) SeedFinal(ctx context.Context, recs []SeedRecord) error {
	pipe := b.rdb.Pipeline()
	ttl := b.opts.Retention
	now := nowMS(b.opts.Now())
	for _, r := range recs {
		body, err := json.Marshal(r.Article)
		if err != nil {
			return fmt.Errorf("queue: seeding: encoding article: %w", err)
		}
		id := r.Article.ID
		names := make([]string, len(r.Channels))
		for i, ch := range r.Channels {
			names[i] = string(ch)
			k := ledgerKey(id, ch)
			// A final record keeps no empty fields (luaLogAppend removes them).
			pipe.HSet(ctx, k, "kind", string(r.Kind),
				"state", string(StateSent), "revision", 1, "attempt", 1, "created_at", now, "updated_at", now,
				"token", fmt.Sprintf("%016x", i+1), "remote_id", strconv.Itoa(i+1))
			pipe.Expire(ctx, k, ttl)
		}
		pipe.Set(ctx, articleKey(id), storedArticleValue(body, names), ttl)
		if k, f := b.urlIndex(r.Article); f != "" {
			pipe.HSet(ctx, k, f, id)
			pipe.Expire(ctx, k, time.Duration(b.urlBucketLife(b.opts.Now()))*time.Second)
		}
	}
	if _, err := pipe.Exec(ctx); err != nil {
		return fmt.Errorf("queue: seeding %d articles: %w", len(recs), err)
	}
	return nil
}
