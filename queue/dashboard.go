package queue

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"herald/channels"
)

// Hourly counts each channel's sent, failed and unknown deliveries per hour, for the
// dashboard's 24-hour charts: hours buckets, the last one the hour that holds now (bucket i
// starts at the returned start + i hours). It reads the log's per-minute counters (kept for 25
// hours beside the log, see luaLogAppend): one pipelined round trip, no log scan.
func (b *Broker) Hourly(ctx context.Context, chs []channels.Name, hours int) (start time.Time, out map[channels.Name][]Counts, err error) {
	nowHour := b.opts.Now().UnixMilli() / 3600000
	first := nowHour - int64(hours) + 1
	start = time.UnixMilli(first * 3600000).UTC()
	states := []State{StateSent, StateFailed, StateUnknown}
	pipe := b.rdb.Pipeline()
	cmds := map[channels.Name][][]*redis.StringSliceCmd{} // [state][hour]
	for _, ch := range chs {
		per := make([][]*redis.StringSliceCmd, len(states))
		for si, st := range states {
			for h := first; h <= nowHour; h++ {
				per[si] = append(per[si], pipe.HVals(ctx, logCounterKey(string(ch), string(st), h)))
			}
		}
		cmds[ch] = per
	}
	if len(chs) > 0 {
		if _, err := pipe.Exec(ctx); err != nil && err != redis.Nil {
			return start, nil, fmt.Errorf("queue: reading delivery counters: %w", err)
		}
	}
	out = make(map[channels.Name][]Counts, len(chs))
	for ch, per := range cmds {
		cs := make([]Counts, hours)
		for si, hs := range per {
			for i, cmd := range hs {
				n := 0
				for _, v := range cmd.Val() {
					k, _ := strconv.Atoi(v)
					n += k
				}
				switch states[si] {
				case StateSent:
					cs[i].Sent = n
				case StateFailed:
					cs[i].Failed = n
				case StateUnknown:
					cs[i].Unknown = n
				}
			}
		}
		out[ch] = cs
	}
	return start, out, nil
}

// LastDay counts each channel's sent, failed and unknown deliveries of the last 24 hours to the
// minute, with the same counters and bounds as herald stats' last_day: the dashboard's totals.
// Hourly's 24 bars start at the top of an hour, so they hold between 23 and 24 hours, and their
// sum fell short of herald stats by up to an hour of deliveries.
func (b *Broker) LastDay(ctx context.Context, chs []channels.Name) (map[channels.Name]Counts, error) {
	now := b.opts.Now()
	out := make(map[channels.Name]Counts, len(chs))
	for _, ch := range chs {
		_, day, err := b.counts(ctx, string(ch), now)
		if err != nil {
			return nil, err
		}
		out[ch] = day
	}
	return out, nil
}
