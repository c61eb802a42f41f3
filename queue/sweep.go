package queue

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
	"go.uber.org/zap"

	"herald/channels"
)

// sweepBatch bounds one round of the sweeper's lookups (two pipelined round trips).
const sweepBatch = 500

// sweepMinAge is the youngest a pending delivery must be before the sweeper looks at it.
const sweepMinAge = time.Minute

// sweepAges are the ages (in units of sweepMinAge) at which the sweeper looks at a pending
// delivery again: each is looked at a few times over its life, not at every sweep, so a long
// paced backlog costs the sweeper O(log wait) per delivery, not O(wait).
var sweepAges = []time.Duration{1, 10, 100, 1000}

// sweepLoop looks for orphaned deliveries: every pending one older than sweepMinAge when the
// process starts (a process that was down may have missed them), then, every SweepInterval,
// those whose age has just crossed one of sweepAges since the previous look. It also tidies
// Redis (Broker.Tidy, janitor.go) at start and every tidyEvery sweeps.
func (w *Worker) sweepLoop(ctx context.Context) {
	t := time.NewTicker(w.opts.SweepInterval)
	defer t.Stop()
	minAge := w.sweepMinAge
	looked := 0
	sweep := func(from, to time.Time) bool {
		n, err := w.broker.sweepRange(ctx, from, to)
		looked += n
		if err != nil {
			if ctx.Err() == nil {
				w.log.Warn("sweeping pending deliveries", zap.Error(err))
			}
			return false
		}
		return true
	}
	tidy := func() {
		if err := w.broker.Tidy(ctx); err != nil && ctx.Err() == nil {
			w.log.Warn("tidying redis", zap.Error(err))
		}
	}
	tidy()
	sweeps := 0
	now := w.opts.Now()
	sweep(time.Time{}, now.Add(-minAge))
	// seen[k] is the newest queue time already looked at for the age sweepAges[k].
	seen := make([]time.Time, len(sweepAges))
	for k, a := range sweepAges {
		seen[k] = now.Add(-a * minAge)
	}
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			now := w.opts.Now()
			looked = 0
			if minAge <= 0 {
				sweep(time.Time{}, now) // tests: every delivery, every time
			} else {
				for k, a := range sweepAges {
					// A window that failed is looked at again, wider, next time.
					if to := now.Add(-a * minAge); sweep(seen[k], to) {
						seen[k] = to
					}
				}
			}
			if w.afterSweep != nil {
				w.afterSweep(looked)
			}
			if sweeps++; sweeps%tidyEvery == 0 {
				tidy()
			}
		}
	}
}

// sweepRange re-enqueues the non-final deliveries queued after from and up to to (the pending
// set's score is the time a delivery was queued; zero from: since ever) whose task may have gone
// missing (a publish interrupted between the ledger write and the enqueue, a flushed queue).
// Enqueueing is idempotent by TaskID, so a live task is left alone. The members are listed
// first and then looked at in batches, so the final ones it drops cannot shift a page. It
// returns how many it looked at.
func (b *Broker) sweepRange(ctx context.Context, from, to time.Time) (int, error) {
	lo := "-inf"
	if !from.IsZero() {
		lo = "(" + strconv.FormatInt(from.UnixMilli(), 10)
	}
	hi := strconv.FormatInt(to.UnixMilli(), 10)
	var members []string
	for offset := int64(0); ; offset += sweepBatch {
		page, err := b.rdb.ZRangeByScore(ctx, pendingKey, &redis.ZRangeBy{Min: lo, Max: hi, Offset: offset, Count: sweepBatch}).Result()
		if err != nil {
			return 0, err
		}
		members = append(members, page...)
		if len(page) < sweepBatch {
			break
		}
	}
	for i := 0; i < len(members); i += sweepBatch {
		if err := b.sweepMembers(ctx, members[i:min(i+sweepBatch, len(members))]); err != nil {
			return i, err
		}
	}
	return len(members), nil
}

// sweepBetweenReads, when set (tests), runs between sweepMembers' two round trips.
var sweepBetweenReads func()

// sweepMembers re-enqueues those of the given pending members whose task is missing.
func (b *Broker) sweepMembers(ctx context.Context, members []string) error {
	if len(members) == 0 {
		return nil
	}
	// Two pipelined round trips for the whole batch — each record's state, then whether its
	// task still exists in asynq (its task hash, asynq:{<queue>}:t:<id>) — so a long paced
	// backlog costs two commands per delivery per sweep and only a missing task is enqueued.
	type cand struct {
		art string
		ch  channels.Name
		m   string
		rec *redis.SliceCmd
		ex  *redis.IntCmd
		st  *redis.StringCmd
		d   Delivery
	}
	cands := make([]*cand, 0, len(members))
	pipe := b.rdb.Pipeline()
	for _, m := range members {
		i := strings.LastIndexByte(m, ':')
		if i < 0 {
			pipe.ZRem(ctx, pendingKey, m)
			continue
		}
		c := &cand{art: m[:i], ch: channels.Name(m[i+1:]), m: m}
		c.rec = pipe.HMGet(ctx, ledgerKey(c.art, c.ch), "state", "revision", "gen", "urgent")
		cands = append(cands, c)
	}
	if _, err := pipe.Exec(ctx); err != nil && !errors.Is(err, redis.Nil) {
		return err
	}
	pipe = b.rdb.Pipeline()
	live := cands[:0]
	for _, c := range cands {
		v := c.rec.Val()
		st, _ := v[0].(string)
		if st == "" || State(st).Final() {
			pipe.ZRem(ctx, pendingKey, c.m)
			continue
		}
		atoi := func(x any) int { s, _ := x.(string); n, _ := strconv.Atoi(s); return n }
		c.d = Delivery{Revision: atoi(v[1]), Gen: atoi(v[2]), Urgent: v[3] == "1"}
		c.ex = pipe.Exists(ctx, "asynq:{"+asynqQueue(c.ch, c.d.Urgent)+"}:t:"+taskID(c.art, c.ch, c.d.Revision, c.d.Gen))
		live = append(live, c)
	}
	if sweepBetweenReads != nil {
		sweepBetweenReads()
	}
	if _, err := pipe.Exec(ctx); err != nil {
		return err
	}
	// The state again for a task found gone (rare: no read in the common case): a worker
	// commits a delivery's final state before asynq deletes its task, so a task gone with the
	// state still not final is missing indeed — not one that finished between the two round
	// trips (its id, free again, would be enqueued and run once more for nothing).
	missing := live[:0]
	pipe = b.rdb.Pipeline()
	for _, c := range live {
		if c.ex.Val() == 0 {
			c.st = pipe.HGet(ctx, ledgerKey(c.art, c.ch), "state")
			missing = append(missing, c)
		}
	}
	if len(missing) > 0 {
		if _, err := pipe.Exec(ctx); err != nil && !errors.Is(err, redis.Nil) {
			return err
		}
	}
	for _, c := range missing {
		if st := c.st.Val(); st == "" || State(st).Final() {
			continue
		}
		if err := b.enqueue(ctx, c.art, c.ch, c.d.Revision, c.d.Gen, c.d.Urgent); err != nil {
			return err
		}
	}
	return nil
}
