package queue

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"herald/channels"
)

// Spend on platforms that bill per post (channels.Coster: X) is counted here, in Redis, so that
// every herald process sees one total per channel and calendar month (UTC), and a monthly
// budget holds across processes. The worker's only hook is meter (NewWorker), which wraps each
// billing channel so that:
//
//   - before a send, the message's price is reserved against the budget by one Lua script; a
//     send that would pass the budget is not made: it returns a channels.PauseError, on which
//     the worker pauses the channel with the reason and hands the delivery back;
//   - after an accepted send (or an unknown outcome, which X may have billed) each post is
//     counted by its billing kind; a send that failed gets its reservation back.

// spendKey is a hash per channel and month: usd_micros, budget_micros and one count per billing
// kind ("post", "post_with_url").
func spendKey(ch channels.Name, month string) string {
	return keyPrefix + "spend:{" + string(ch) + "}:" + month
}

// spendTTL keeps a month's totals for a year after its last change.
const spendTTL = 400 * 24 * time.Hour

// reserveScript adds ARGV[1] micro-dollars to the month's spend unless that passes a budget.
// KEYS[1] spend hash. ARGV[1] price (µ$), ARGV[2] budget (µ$, 0 = none), ARGV[3] ttl seconds.
// Returns {1, spent after} when reserved, {0, spent} when the budget would be passed.
var reserveScript = redis.NewScript(`
local spent = tonumber(redis.call('HGET', KEYS[1], 'usd_micros') or '0')
local price, budget = tonumber(ARGV[1]), tonumber(ARGV[2])
redis.call('HSET', KEYS[1], 'budget_micros', budget)
redis.call('EXPIRE', KEYS[1], ARGV[3])
if budget > 0 and spent + price > budget then
  return {0, spent}
end
return {1, redis.call('HINCRBY', KEYS[1], 'usd_micros', price)}
`)

func micros(usd float64) int64 { return int64(math.Round(usd * 1e6)) }

// Spend is a channel's estimated spend this month (herald channels, GET /v1/channels).
type Spend struct {
	Month  string           `json:"month"` // "2026-11", UTC
	USD    float64          `json:"usd"`
	Budget float64          `json:"budget,omitempty"` // USD per month, 0 = none
	Posts  map[string]int64 `json:"posts"`            // per billing kind: "post", "post_with_url"
}

// ChannelSpend reads a channel's spend for the month of now; ok is false when it never sent a
// billed post that month.
func (b *Broker) ChannelSpend(ctx context.Context, ch channels.Name, now time.Time) (Spend, bool, error) {
	month := now.UTC().Format("2006-01")
	m, err := b.rdb.HGetAll(ctx, spendKey(ch, month)).Result()
	if err != nil {
		return Spend{}, false, fmt.Errorf("queue: reading the spend of %s: %w", ch, err)
	}
	if len(m) == 0 {
		return Spend{}, false, nil
	}
	s := Spend{Month: month, Posts: map[string]int64{}}
	for k, v := range m {
		n, _ := strconv.ParseInt(v, 10, 64)
		switch k {
		case "usd_micros":
			s.USD = float64(n) / 1e6
		case "budget_micros":
			s.Budget = float64(n) / 1e6
		default:
			s.Posts[k] = n
		}
	}
	return s, true, nil
}

// addSpend fills the Spend of each channel that has one this month, and a zero one for X
// channels that have not posted yet this month (X is the kind billed per post), so an operator
// sees $0.00 rather than nothing.
func (b *Broker) addSpend(ctx context.Context, infos []ChannelInfo) error {
	now := b.opts.Now()
	for i := range infos {
		s, ok, err := b.ChannelSpend(ctx, infos[i].Channel, now)
		if err != nil {
			return err
		}
		if !ok && infos[i].Kind == channels.KindX {
			s, ok = Spend{Month: now.UTC().Format("2006-01"), Posts: map[string]int64{}}, true
		}
		if ok {
			infos[i].Spend = &s
		}
	}
	return nil
}

// meter returns routes with every channel that bills per post wrapped (see the top of this
// file). The caller's map is left alone: its channels keep their optional interfaces.
func meter(b *Broker, routes map[channels.Name]Route) map[channels.Name]Route {
	out := make(map[channels.Name]Route, len(routes))
	for n, r := range routes {
		if c, ok := r.Channel.(channels.Coster); ok {
			r.Channel = &metered{Channel: r.Channel, cost: c, b: b}
		}
		out[n] = r
	}
	return out
}

// metered is a billing channel with its spend counted and its budget enforced.
type metered struct {
	channels.Channel
	cost channels.Coster
	b    *Broker
}

// Deduplicates passes the wrapped channel's answer through (the worker asks for it).
func (m *metered) Deduplicates() bool {
	d, ok := m.Channel.(channels.Deduplicating)
	return ok && d.Deduplicates()
}

func (m *metered) Send(ctx context.Context, msg channels.Message) (channels.Receipt, error) {
	kinds, usd := m.cost.Cost(msg.Posts)
	budget := m.cost.MonthlyBudget()
	name := m.Channel.Name()
	key := spendKey(name, m.b.opts.Now().UTC().Format("2006-01"))
	// The bookkeeping must happen even when the send's context ended.
	bctx := context.WithoutCancel(ctx)
	res, err := reserveScript.Run(ctx, m.b.rdb, []string{key}, micros(usd), micros(budget), int64(spendTTL/time.Second)).Slice()
	if err != nil {
		return channels.Receipt{}, fmt.Errorf("queue: checking the budget of %s: %w", name, err)
	}
	if toInt64(res[0]) == 0 {
		// The worker pauses the channel with this reason and hands the delivery back.
		reason := fmt.Sprintf("monthly budget reached: $%.2f of $%.2f spent, the next post costs $%.3f", float64(toInt64(res[1]))/1e6, budget, usd)
		return channels.Receipt{}, channels.Pause(reason, errors.New(reason))
	}
	rcpt, err := m.Channel.Send(ctx, msg)
	if err != nil && !channels.IsUnknownOutcome(err) {
		// Not posted, not billed: give the reservation back.
		_ = m.b.rdb.HIncrBy(bctx, key, "usd_micros", -micros(usd)).Err()
		return rcpt, err
	}
	pipe := m.b.rdb.TxPipeline()
	for _, k := range kinds {
		pipe.HIncrBy(bctx, key, k, 1)
	}
	_, _ = pipe.Exec(bctx) // a lost count must not turn a sent post into a failure
	return rcpt, err
}
