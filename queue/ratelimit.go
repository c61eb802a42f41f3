package queue

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"herald/channels"
)

// Limit is a channel's send rate, shared by every herald process through Redis (GCRA in one Lua
// script, on the Redis clock).
type Limit struct {
	Count  int
	Period time.Duration
	// Burst is how many sends may go out back to back before the spacing Period/Count applies
	// (default 1: evenly spaced, as Telegram channels want).
	Burst int
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

// RateGrouper is implemented by a channel whose platform also limits it together with other
// channels (Telegram: about 30 messages a second per bot, whatever the chat). Channels that
// answer the same key share that limit through Redis, in every process.
type RateGrouper interface {
	RateGroup() (key string, count int, period time.Duration)
}

// interval is the spacing of sends at the limit's rate (0 = unlimited). A small margin keeps
// the platform's own count, taken at arrival, from seeing two sends closer than its window
// allows when the network delays the first more than the second.
func (l Limit) interval() time.Duration {
	if l.IsZero() {
		return 0
	}
	t := l.Period / time.Duration(l.Count)
	return t + min(t/50, 20*time.Millisecond)
}

func (l Limit) burst() int { return max(l.Burst, 1) }

// slotScript hands out a delivery's send slot, in the order deliveries ask (within a channel
// one worker dequeues them in publish order), and only to a delivery that can be claimed, so a
// stale, final, busy or paused delivery spends nothing. A slot is the latest of now, the
// channel's not-before time (a platform 429) and the next free time of the channel's and the
// group's GCRA schedules (interval T, burst b: b sends back to back, then one per T). Taking it
// moves both schedules on, so every process sees it. A slot further away than the caller can
// wait is not taken.
//
// When the slot is now (always, on a channel without a limit), the script also claims the
// delivery, exactly as claimScript does, and returns the article: a delivery's way to its send
// is one round trip, not two. When the slot lies ahead, the caller waits in memory, which costs
// Redis nothing, and then claims with claimScript: a claim taken before the wait would, if the
// process died while waiting, expire into unknown although nothing was sent.
//
//	KEYS[1] ledger key, KEYS[2] paused hash, KEYS[3] not-before key, KEYS[4] channel schedule,
//	KEYS[5] group schedule, KEYS[6] pending zset, KEYS[7] log stream, KEYS[8] article key,
//	KEYS[9] the channel's unknown index
//	ARGV[1] revision, ARGV[2] channel, ARGV[3] channel T ms (0 = unlimited), ARGV[4] burst,
//	ARGV[5] group T ms (0 = none), ARGV[6] group burst, ARGV[7] longest wait ms,
//	ARGV[8] lease ms, ARGV[9] claim token, ARGV[10] log max len, ARGV[11] member,
//	ARGV[12] record TTL seconds, ARGV[13] owner
//
// Returns {result, n, lease_until, article JSON, created_at ms, after_unknown}: "claimed" (n = attempt; a re-run that finds
// its own token answers this too, taking no second slot), "ok" (slot taken, n = ms to wait for
// it, then the slot's time on the Redis clock; a re-run of the same claim token answers with the slot the first run took, kept in the
// channel's schedule key, taking no second one), "later" (not taken: n = the wait, longer than
// the caller can hold the task), "missing",
// "stale", "paused", "busy" (n = lease left), "expired" (a lease ran out mid-send: the record is
// now unknown), or the final state name. Time is the Redis server's, the same for every process.
var slotScript = logScript(luaExpireLease + `
local f = redis.call("HMGET", KEYS[1], "state", "revision", "lease_until", "attempt", "token", "article_id", "channel", "created_at", "requeued_at", "` + ledgerAfterUnknown + `")
-- The latency counts from the publish, or from an admin's retry or repost (requeued_at).
f[8] = f[9] or f[8]
f[6], f[7] = ledger_ids(KEYS[1])
if not f[1] then return {"missing", 0} end
if tonumber(f[2]) ~= tonumber(ARGV[1]) then return {"stale", 0} end
local t = redis.call("TIME")
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local attempt = tonumber(f[4] or "0")
if f[1] == "sending" then
  local lease = tonumber(f[3] or "0")
  if f[5] == ARGV[9] then return {"claimed", attempt, lease, redis.call("GET", KEYS[8]), f[8], f[10] or ""} end
  if lease > now then return {"busy", lease - now} end
  expire_lease(KEYS[1], KEYS[6], KEYS[7], KEYS[9], ARGV[11], now, ARGV[10], ARGV[12], f[6], f[7], attempt)
  return {"expired", attempt}
end
if f[1] ~= "pending" then return {f[1], 0} end
if redis.call("HEXISTS", KEYS[2], ARGV[2]) == 1 then return {"paused", 0} end
local slot = now
local cT, gT = tonumber(ARGV[3]), tonumber(ARGV[5])
local v = redis.call("MGET", KEYS[3], KEYS[4], KEYS[5])
local nb = tonumber(v[1] or "0")
if nb > slot then slot = nb end
-- The channel's schedule is "<tat>", or "<tat>:<token>:<slot>" after a slot reserved ahead: a
-- re-run of that reservation (go-redis runs a script again after a lost reply) finds its own
-- token and answers with the same slot instead of reserving the next one too.
local ctat, ctok, cslot = string.match(v[2] or "", "^(%d+):([^:]*):(%d+)$")
if ctok == ARGV[9] then
  slot = math.max(slot, tonumber(cslot))
  if slot > now then return {"ok", slot - now, slot} end
else
  local function next_free(tat, T, b)
    if T <= 0 then return 0, 0 end
    tat = tonumber(tat or "0")
    return math.max(now, tat - (b - 1) * T), tat
  end
  local cs, gs, gtat
  cs, ctat = next_free(ctat or v[2], cT, tonumber(ARGV[4]))
  gs, gtat = next_free(v[3], gT, tonumber(ARGV[6]))
  slot = math.max(slot, cs, gs)
  if slot - now > tonumber(ARGV[7]) then return {"later", slot - now} end
  if cT > 0 then
    local tat = math.max(ctat, slot) + cT
    local val = tat
    if slot > now then val = tat .. ":" .. ARGV[9] .. ":" .. slot end
    redis.call("SET", KEYS[4], val, "PX", tat - now + 60000)
  end
  if gT > 0 then
    local tat = math.max(gtat, slot) + gT
    redis.call("SET", KEYS[5], tat, "PX", tat - now + 60000)
  end
  if slot > now then return {"ok", slot - now, slot} end
end
attempt = attempt + 1
local lease = now + tonumber(ARGV[8])
redis.call("HSET", KEYS[1], "state", "sending", "attempt", attempt, "lease_until", lease,
  "owner", ARGV[13], "token", ARGV[9], "expired", "", "updated_at", now)
return {"claimed", attempt, lease, redis.call("GET", KEYS[8]), f[8], f[10] or ""}
`)

// setNotBefore records a platform's retry-after (wait from now) for every worker; it only moves
// the time later. The time is taken on the Redis clock, which slotScript compares it with.
func setNotBefore(ctx context.Context, rdb redis.UniversalClient, ch channels.Name, wait time.Duration) error {
	// Whole milliseconds rounded up, here and in the script: never before the platform's time.
	waitMS := int64((wait + time.Millisecond - 1) / time.Millisecond)
	err := setLaterScript.Run(ctx, rdb, []string{notBeforeKey(ch)}, waitMS).Err()
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

// setLaterScript sets KEYS[1] to the Redis time ARGV[1] ms from now (ms) unless it already holds
// a later time; the key outlives it by a minute.
//
//	KEYS[1] not-before key; ARGV[1] wait ms
var setLaterScript = redis.NewScript(`
local t = redis.call("TIME")
local wait = tonumber(ARGV[1])
local at = tonumber(t[1]) * 1000 + math.ceil(tonumber(t[2]) / 1000) + wait
local cur = tonumber(redis.call("GET", KEYS[1]) or "0")
if cur < at then
  redis.call("SET", KEYS[1], at, "PX", math.max(wait + 60000, 1000))
end
return 1
`)
