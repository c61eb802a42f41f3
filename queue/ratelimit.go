package queue

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/go-redis/redis_rate/v10"
	"github.com/redis/go-redis/v9"

	"herald/channels"
)

// Limit is a channel's send rate, shared by every herald process through Redis (GCRA in one Lua
// script, on the Redis clock).
type Limit struct {
	Count  int
	Period time.Duration
}

// IsZero reports an unlimited channel.
func (l Limit) IsZero() bool { return l.Count <= 0 || l.Period <= 0 }

func (l Limit) String() string {
	if l.IsZero() {
		return "unlimited"
	}
	for _, u := range []struct {
		d    time.Duration
		name string
	}{{time.Hour, "h"}, {time.Minute, "min"}, {time.Second, "s"}} {
		if l.Period == u.d {
			return fmt.Sprintf("%d/%s", l.Count, u.name)
		}
		if l.Period%u.d == 0 {
			return fmt.Sprintf("%d/%d%s", l.Count, l.Period/u.d, strings.TrimSuffix(u.name, "in"))
		}
	}
	return fmt.Sprintf("%d/%s", l.Count, l.Period)
}

// limiter combines the GCRA limit with the channel's "not before" time set from a platform 429.
type limiter struct {
	rdb redis.UniversalClient
	rl  *redis_rate.Limiter
}

func newLimiter(rdb redis.UniversalClient) *limiter {
	return &limiter{rdb: rdb, rl: redis_rate.NewLimiter(rdb)}
}

// wait returns how long the channel must wait before the next send (0 = go now, and a token
// has been taken).
func (l *limiter) wait(ctx context.Context, ch channels.Name, lim Limit, now time.Time) (time.Duration, error) {
	nb, err := l.rdb.Get(ctx, notBeforeKey(ch)).Result()
	if err != nil && err != redis.Nil {
		return 0, fmt.Errorf("queue: reading not-before of %s: %w", ch, err)
	}
	if nb != "" {
		if ms, _ := strconv.ParseInt(nb, 10, 64); ms > now.UnixMilli() {
			return time.UnixMilli(ms).Sub(now), nil
		}
	}
	if lim.IsZero() {
		return 0, nil
	}
	res, err := l.rl.Allow(ctx, rateKey(ch), redis_rate.Limit{Rate: lim.Count, Burst: lim.Count, Period: lim.Period})
	if err != nil {
		return 0, fmt.Errorf("queue: rate limit of %s: %w", ch, err)
	}
	if res.Allowed > 0 {
		return 0, nil
	}
	return res.RetryAfter, nil
}

// setNotBefore records a platform's retry-after for every worker; it only moves the time later.
func (l *limiter) setNotBefore(ctx context.Context, ch channels.Name, at time.Time) error {
	err := setLaterScript.Run(ctx, l.rdb, []string{notBeforeKey(ch)}, at.UnixMilli(), int64(time.Until(at)/time.Millisecond)+60_000).Err()
	if err != nil {
		return fmt.Errorf("queue: setting not-before of %s: %w", ch, err)
	}
	return nil
}

// NotBefore returns the channel's current not-before time (zero if none).
func (b *Broker) NotBefore(ctx context.Context, ch channels.Name) (time.Time, error) {
	v, err := b.rdb.Get(ctx, notBeforeKey(ch)).Int64()
	if err == redis.Nil {
		return time.Time{}, nil
	}
	if err != nil {
		return time.Time{}, fmt.Errorf("queue: reading not-before of %s: %w", ch, err)
	}
	return time.UnixMilli(v), nil
}

// setLaterScript sets KEYS[1] to ARGV[1] (ms) unless it already holds a later time.
//
//	KEYS[1] not-before key; ARGV[1] time ms, ARGV[2] expiry ms
var setLaterScript = redis.NewScript(`
local cur = tonumber(redis.call("GET", KEYS[1]) or "0")
if cur < tonumber(ARGV[1]) then
  redis.call("SET", KEYS[1], ARGV[1], "PX", math.max(tonumber(ARGV[2]), 1000))
end
return 1
`)
