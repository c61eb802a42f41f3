package queue

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"herald/channels"
)

// Latency is publish→post latency over a window, from the delivery log.
type Latency struct {
	P50     time.Duration `json:"p50_ms"`
	P95     time.Duration `json:"p95_ms"`
	Samples int           `json:"samples"`
}

// MarshalJSON writes milliseconds.
func (l Latency) MarshalJSON() ([]byte, error) {
	return fmt.Appendf(nil, `{"p50_ms":%d,"p95_ms":%d,"samples":%d}`, l.P50.Milliseconds(), l.P95.Milliseconds(), l.Samples), nil
}

// UnmarshalJSON reads what MarshalJSON writes (herald stats --server reads GET /v1/stats).
func (l *Latency) UnmarshalJSON(b []byte) error {
	var v struct {
		P50     int64 `json:"p50_ms"`
		P95     int64 `json:"p95_ms"`
		Samples int   `json:"samples"`
	}
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	*l = Latency{P50: time.Duration(v.P50) * time.Millisecond, P95: time.Duration(v.P95) * time.Millisecond, Samples: v.Samples}
	return nil
}

// ChannelOverview is one channel in herald stats and GET /v1/stats. Its ChannelInfo carries the
// spend of channels that cost money (queue/spend.go).
type ChannelOverview struct {
	ChannelInfo
	LastHour Counts `json:"last_hour"`
	LastDay  Counts `json:"last_day"`
	// Latency is publish→post over the last hour.
	Latency Latency `json:"latency_last_hour"`
}

// Overview is herald stats.
type Overview struct {
	Time     time.Time         `json:"time"`
	Channels []ChannelOverview `json:"channels"`
	// Latency is publish→post over the last hour, all channels together.
	Latency Latency `json:"latency_last_hour"`
}

// Overview gathers per-channel counts of the last hour and day, queue and pause state and
// latency, from the log's counters and indexes (no log scan).
func (b *Broker) Overview(ctx context.Context, chs []ChannelConfig) (*Overview, error) {
	infos, err := ChannelInfos(ctx, b, chs)
	if err != nil {
		return nil, err
	}
	now := b.opts.Now()
	out := &Overview{Time: now.UTC()}
	var all []time.Duration
	for _, info := range infos {
		co := ChannelOverview{ChannelInfo: info}
		if co.LastHour, co.LastDay, err = b.counts(ctx, string(info.Channel), now); err != nil {
			return nil, err
		}
		lat, err := b.latencies(ctx, string(info.Channel), now.Add(-time.Hour))
		if err != nil {
			return nil, err
		}
		co.Latency = percentiles(lat)
		all = append(all, lat...)
		out.Channels = append(out.Channels, co)
	}
	out.Latency = percentiles(all)
	return out, nil
}

// counts sums the per-minute counters of the last hour and the last 24 hours.
func (b *Broker) counts(ctx context.Context, ch string, now time.Time) (hour, day Counts, err error) {
	nowMin := now.UnixMilli() / 60000
	h := nowMin / 60
	pipe := b.rdb.Pipeline()
	statuses := logCounted // sent, failed, unknown
	cmds := map[string][]*redis.MapStringStringCmd{}
	for _, st := range statuses {
		for k := h - 24; k <= h; k++ {
			cmds[st] = append(cmds[st], pipe.HGetAll(ctx, logCounterKey(ch, st, k)))
		}
	}
	if _, err := pipe.Exec(ctx); err != nil {
		return hour, day, fmt.Errorf("queue: reading counters of %s: %w", ch, err)
	}
	sum := func(st string, since int64) int {
		n := 0
		for _, c := range cmds[st] {
			for m, v := range c.Val() {
				mi, _ := strconv.ParseInt(m, 10, 64)
				if mi > since && mi <= nowMin {
					c, _ := strconv.Atoi(v)
					n += c
				}
			}
		}
		return n
	}
	hour = Counts{Sent: sum(statuses[0], nowMin-60), Failed: sum(statuses[1], nowMin-60), Unknown: sum(statuses[2], nowMin-60)}
	day = Counts{Sent: sum(statuses[0], nowMin-1440), Failed: sum(statuses[1], nowMin-1440), Unknown: sum(statuses[2], nowMin-1440)}
	return hour, day, nil
}

// latencies are the publish→post times of the channel's posts sent since: the values of their
// markers in the channel's sent index (luaLogAppend).
func (b *Broker) latencies(ctx context.Context, ch string, since time.Time) ([]time.Duration, error) {
	msgs, err := b.rdb.XRange(ctx, logIndexChStatus(ch, string(StateSent)), strconv.FormatInt(since.UnixMilli(), 10), "+").Result()
	if err != nil {
		return nil, fmt.Errorf("queue: reading latencies of %s: %w", ch, err)
	}
	out := make([]time.Duration, 0, len(msgs))
	for _, m := range msgs {
		v, _ := m.Values["i"].(string)
		if n, err := strconv.ParseInt(v, 10, 64); err == nil {
			out = append(out, time.Duration(max(n, 0))*time.Millisecond)
		}
	}
	return out, nil
}

// percentiles by the nearest-rank method.
func percentiles(d []time.Duration) Latency {
	if len(d) == 0 {
		return Latency{}
	}
	s := append([]time.Duration(nil), d...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	rank := func(p float64) time.Duration {
		i := int(p*float64(len(s))+0.999999) - 1
		return s[max(0, min(i, len(s)-1))]
	}
	return Latency{P50: rank(0.50), P95: rank(0.95), Samples: len(s)}
}

// sending counts the channel's deliveries in "sending" and the latest of their lease ends: after
// a crash they wait there, with no task pointing at them, until the lease runs out. It reads the
// non-final set (pending zset), which is as large as the backlog, not the log.
func (b *Broker) sending(ctx context.Context, ch channels.Name) (n int, leaseUntil time.Time, err error) {
	var ids []string
	iter := b.rdb.ZScan(ctx, pendingKey, 0, "*:"+string(ch), 500).Iterator()
	for iter.Next(ctx) {
		m := iter.Val()
		if art, c, ok := cutMember(m); ok && c == ch {
			ids = append(ids, art)
		}
		_ = iter.Next(ctx) // ZSCAN yields member, score pairs
	}
	if err := iter.Err(); err != nil {
		return 0, time.Time{}, fmt.Errorf("queue: counting sending deliveries of %s: %w", ch, err)
	}
	if len(ids) == 0 {
		return 0, time.Time{}, nil
	}
	pipe := b.rdb.Pipeline()
	cmds := make([]*redis.SliceCmd, len(ids))
	for i, id := range ids {
		cmds[i] = pipe.HMGet(ctx, ledgerKey(id, ch), "state", "lease_until")
	}
	if _, err := pipe.Exec(ctx); err != nil {
		return 0, time.Time{}, fmt.Errorf("queue: counting sending deliveries of %s: %w", ch, err)
	}
	for _, c := range cmds {
		v := c.Val()
		if len(v) == 2 && v[0] == string(StateSending) {
			n++
			s, _ := v[1].(string)
			if ms, err := strconv.ParseInt(s, 10, 64); err == nil && time.UnixMilli(ms).After(leaseUntil) {
				leaseUntil = time.UnixMilli(ms).UTC()
			}
		}
	}
	return n, leaseUntil, nil
}

func cutMember(m string) (string, channels.Name, bool) {
	i := strings.LastIndexByte(m, ':')
	if i < 0 {
		return "", "", false
	}
	return m[:i], channels.Name(m[i+1:]), true
}
