package queue

import (
	"context"
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

func (w *Worker) sweepLoop(ctx context.Context) {
	t := time.NewTicker(w.opts.SweepInterval)
	defer t.Stop()
	offset := int64(0)
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			n, err := w.broker.Sweep(ctx, w.opts.SweepInterval, offset, sweepBatch)
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
	for _, m := range members {
		i := strings.LastIndexByte(m, ':')
		if i < 0 {
			b.rdb.ZRem(ctx, pendingKey, m)
			continue
		}
		art, ch := m[:i], channels.Name(m[i+1:])
		d, ok, err := getDelivery(ctx, b.rdb, art, ch)
		if err != nil {
			return len(members), err
		}
		if !ok || d.State.Final() {
			b.rdb.ZRem(ctx, pendingKey, m)
			continue
		}
		if err := b.enqueue(ctx, art, ch, d.Revision, d.Gen, d.Urgent); err != nil {
			return len(members), err
		}
	}
	return len(members), nil
}
