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

// sweepBatch bounds one sweep; the offset rotates so a large paused backlog cannot hide an
// orphan forever.
const sweepBatch = 500

// sweepMinAge is the youngest a pending delivery must be before the sweeper looks at it.
const sweepMinAge = time.Minute

func (w *Worker) sweepLoop(ctx context.Context) {
	t := time.NewTicker(w.opts.SweepInterval)
	defer t.Stop()
	offset := int64(0)
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			// Only deliveries waiting a minute or more: a publish enqueues right after its
			// record, so younger ones are not orphans.
			n, err := w.broker.Sweep(ctx, max(w.opts.SweepInterval, w.sweepMinAge), offset, sweepBatch)
			if err != nil {
				w.log.Warn("sweeping pending deliveries", zap.Error(err))
			}
			offset += sweepBatch
			if n < sweepBatch {
				offset = 0
			}
		}
	}
}

// Sweep re-enqueues non-final deliveries older than minAge whose task may have gone missing (a
// publish interrupted between the ledger write and the enqueue, a flushed queue). Enqueueing is
// idempotent by TaskID, so a live task is left alone. It returns how many members it looked at.
func (b *Broker) Sweep(ctx context.Context, minAge time.Duration, offset, count int64) (int, error) {
	maxScore := b.opts.Now().Add(-minAge).UnixMilli()
	members, err := b.rdb.ZRangeByScore(ctx, pendingKey, &redis.ZRangeBy{Min: "-inf", Max: strconv.FormatInt(maxScore, 10), Offset: offset, Count: count}).Result()
	if err != nil {
		return 0, err
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
		return len(members), err
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
	if _, err := pipe.Exec(ctx); err != nil {
		return len(members), err
	}
	for _, c := range live {
		if c.ex.Val() == 1 {
			continue
		}
		if err := b.enqueue(ctx, c.art, c.ch, c.d.Revision, c.d.Gen, c.d.Urgent); err != nil {
			return len(members), err
		}
	}
	return len(members), nil
}
