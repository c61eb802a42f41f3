package queue

import (
	"context"
	"fmt"

	"github.com/redis/go-redis/v9"

	"herald/channels"
)

// The janitor removes what expiry and trimming leave behind, so Redis does not grow with
// articles, channels or time: expiry deletes a delivery record but not its member in the
// channel's unknown index, and the log's index streams are trimmed only by their own appends
// (luaLogAppend), so the indexes of a channel removed from the config, or of a status that
// comes rarely, kept entries the log dropped long ago, for ever. Each process's worker tidies
// when it starts and every tidyEvery sweeps (an hour at the default SweepInterval of 30 s);
// a run costs a few commands per channel that ever had a delivery record.

// tidyEvery is how many sweeps apart a worker tidies.
const tidyEvery = 120

// unknownPruneBatch bounds one script call of the unknown index's pruning.
const unknownPruneBatch = 500

// Tidy trims every channel's log indexes to the log's oldest entry, deletes the indexes left
// empty, and drops from each channel's unknown index the deliveries whose record has expired.
func (b *Broker) Tidy(ctx context.Context) error {
	chs, err := b.rdb.SMembers(ctx, logChannelsKey).Result()
	if err != nil {
		return fmt.Errorf("queue: tidying: listing channels: %w", err)
	}
	for _, ch := range chs {
		keys := []string{logKey}
		for _, st := range append(append([]string(nil), logStatuses...), logOtherStatus) {
			keys = append(keys, logIndexChStatus(ch, st))
		}
		if err := tidyIndexScript.Run(ctx, b.rdb, keys).Err(); err != nil {
			return fmt.Errorf("queue: tidying the log indexes of %s: %w", ch, err)
		}
		if err := b.pruneUnknown(ctx, channels.Name(ch)); err != nil {
			return err
		}
	}
	return nil
}

// tidyIndexScript trims index streams to the log's oldest entry id (every entry before it
// names an entry the log no longer holds) and deletes those left empty (an XADD makes them
// again). In one script, so no append lands between the read of the oldest id and the trim.
//
//	KEYS[1] the log stream, KEYS[2..] index streams
var tidyIndexScript = redis.NewScript(`
local first = redis.call("XRANGE", KEYS[1], "-", "+", "COUNT", 1)
for i = 2, #KEYS do
  if first[1] then redis.call("XTRIM", KEYS[i], "MINID", first[1][1]) end
  if not first[1] or redis.call("XLEN", KEYS[i]) == 0 then redis.call("DEL", KEYS[i]) end
end
return 1
`)

// pruneUnknown drops from a channel's unknown index the members whose ledger record is gone
// (expired after Retention without an admin deciding).
func (b *Broker) pruneUnknown(ctx context.Context, ch channels.Name) error {
	var cursor uint64
	for {
		members, next, err := b.rdb.SScan(ctx, unknownKey(ch), cursor, "", unknownPruneBatch).Result()
		if err != nil {
			return fmt.Errorf("queue: tidying the unknown index of %s: %w", ch, err)
		}
		if len(members) > 0 {
			args := make([]any, len(members))
			for i, m := range members {
				args[i] = m
			}
			if err := pruneUnknownScript.Run(ctx, b.rdb, []string{unknownKey(ch)}, args...).Err(); err != nil {
				return fmt.Errorf("queue: tidying the unknown index of %s: %w", ch, err)
			}
		}
		if cursor = next; cursor == 0 {
			return nil
		}
	}
}

// pruneUnknownScript removes the members whose ledger record does not exist, each checked and
// removed in one step (a record written again meanwhile keeps its member).
//
//	KEYS[1] a channel's unknown index, ARGV members ("<article>:<channel>")
var pruneUnknownScript = redis.NewScript(`
for _, m in ipairs(ARGV) do
  if redis.call("EXISTS", "` + keyPrefix + `dlv:{" .. m .. "}") == 0 then redis.call("SREM", KEYS[1], m) end
end
return 1
`)
