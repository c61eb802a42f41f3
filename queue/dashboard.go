package queue

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"herald/channels"
)

// Hourly counts the sent, failed and unknown entries of the delivery log per channel and hour,
// for the dashboard's 24-hour charts: hours buckets, the last one the hour that holds now
// (bucket i starts at the returned start + i hours). It reads the log once from the first
// bucket's start.
func (b *Broker) Hourly(ctx context.Context, hours int) (start time.Time, out map[channels.Name][]Counts, err error) {
	now := b.opts.Now()
	start = now.Truncate(time.Hour).Add(-time.Duration(hours-1) * time.Hour)
	out = map[channels.Name][]Counts{}
	from := strconv.FormatInt(start.UnixMilli(), 10)
	for read := 0; read < logScanLimit; {
		msgs, err := b.rdb.XRangeN(ctx, logKey, from, "+", 1000).Result()
		if err != nil {
			return start, nil, fmt.Errorf("queue: reading delivery log: %w", err)
		}
		for _, m := range msgs {
			e := logEntry(m)
			i := int(e.Time.Sub(start) / time.Hour)
			if i < 0 || i >= hours {
				continue
			}
			ch := channels.Name(e.Channel)
			cs := out[ch]
			if cs == nil {
				cs = make([]Counts, hours)
				out[ch] = cs
			}
			switch State(e.Status) {
			case StateSent:
				cs[i].Sent++
			case StateFailed:
				cs[i].Failed++
			case StateUnknown:
				cs[i].Unknown++
			}
		}
		read += len(msgs)
		if len(msgs) < 1000 {
			break
		}
		from = "(" + msgs[len(msgs)-1].ID
	}
	return start, out, nil
}
