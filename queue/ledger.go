package queue

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"herald/channels"
)

// State is a delivery's place in the ledger.
type State string

// Ledger states. sent, failed and unknown are final until an admin acts; unknown means the
// platform may have accepted the post and herald will not guess.
const (
	StatePending State = "pending"
	StateSending State = "sending"
	StateSent    State = "sent"
	StateFailed  State = "failed"
	StateUnknown State = "unknown"
)

// Final reports whether the state needs no more work from a worker.
func (s State) Final() bool { return s == StateSent || s == StateFailed || s == StateUnknown }

// Delivery is one (article, channel) ledger record.
type Delivery struct {
	ArticleID  string        `json:"article_id"`
	Channel    channels.Name `json:"channel"`
	Kind       channels.Kind `json:"kind"`
	State      State         `json:"status"`
	Revision   int           `json:"revision"`
	Urgent     bool          `json:"urgent,omitempty"`
	Attempt    int           `json:"attempt"`
	RemoteID   string        `json:"remote_id,omitempty"`
	PostURL    string        `json:"post_url,omitempty"`
	Error      string        `json:"error,omitempty"`
	LeaseUntil time.Time     `json:"lease_until,omitzero"`
	CreatedAt  time.Time     `json:"created_at"`
	UpdatedAt  time.Time     `json:"updated_at"`
}

// TaskID returns the asynq task id of the delivery's current revision.
func (d Delivery) TaskID() string { return TaskID(d.ArticleID, d.Channel, d.Revision) }

func parseDelivery(m map[string]string) (Delivery, bool) {
	if len(m) == 0 {
		return Delivery{}, false
	}
	ms := func(k string) time.Time {
		n, err := strconv.ParseInt(m[k], 10, 64)
		if err != nil || n == 0 {
			return time.Time{}
		}
		return time.UnixMilli(n).UTC()
	}
	atoi := func(k string) int { n, _ := strconv.Atoi(m[k]); return n }
	return Delivery{
		ArticleID:  m["article_id"],
		Channel:    channels.Name(m["channel"]),
		Kind:       channels.Kind(m["kind"]),
		State:      State(m["state"]),
		Revision:   atoi("revision"),
		Urgent:     m["urgent"] == "1",
		Attempt:    atoi("attempt"),
		RemoteID:   m["remote_id"],
		PostURL:    m["post_url"],
		Error:      m["error"],
		LeaseUntil: ms("lease_until"),
		CreatedAt:  ms("created_at"),
		UpdatedAt:  ms("updated_at"),
	}, true
}

// getDelivery reads one ledger record; ok is false when there is none.
func getDelivery(ctx context.Context, rdb redis.UniversalClient, articleID string, ch channels.Name) (Delivery, bool, error) {
	m, err := rdb.HGetAll(ctx, ledgerKey(articleID, ch)).Result()
	if err != nil {
		return Delivery{}, false, fmt.Errorf("queue: reading delivery %s: %w", deliveryMember(articleID, ch), err)
	}
	d, ok := parseDelivery(m)
	return d, ok, nil
}

// recordScript stores an article and creates the ledger record of each of its deliveries that
// does not exist yet, atomically, so a publish is all or nothing.
//
//	KEYS[1] article key, KEYS[2] article channels set, KEYS[3] pending zset, KEYS[4] log stream,
//	KEYS[5..] ledger keys (one per channel, same order as the channel triples in ARGV)
//	ARGV[1] article JSON, ARGV[2] article id, ARGV[3] now ms, ARGV[4] log max length,
//	ARGV[5] record TTL seconds (0 = none), ARGV[6] "1" if the article is urgent,
//	ARGV[7..] channel name, kind pairs
//
// Returns, per channel, the state the ledger now has, its revision, 1 if it was created now, and
// whether it is urgent (decided once, when the record is created, so every later enqueue of the
// delivery picks the same asynq queue and TaskID deduplication holds).
var recordScript = logScript(`
redis.call("SET", KEYS[1], ARGV[1])
if tonumber(ARGV[5]) > 0 then redis.call("EXPIRE", KEYS[1], ARGV[5]) end
local out = {}
for i = 5, #KEYS do
  local j = 7 + (i - 5) * 2
  local name, kind = ARGV[j], ARGV[j + 1]
  local key = KEYS[i]
  if redis.call("EXISTS", key) == 0 then
    redis.call("HSET", key, "article_id", ARGV[2], "channel", name, "kind", kind,
      "state", "pending", "revision", 1, "attempt", 0, "created_at", ARGV[3], "updated_at", ARGV[3],
      "urgent", ARGV[6])
    redis.call("ZADD", KEYS[3], ARGV[3], ARGV[2] .. ":" .. name)
    log_append(KEYS[4], ARGV[4], {article_id = ARGV[2], channel = name, status = "pending", attempt = 0})
    table.insert(out, "pending")
    table.insert(out, 1)
    table.insert(out, 1)
    table.insert(out, ARGV[6])
  else
    local st = redis.call("HMGET", key, "state", "revision", "urgent")
    table.insert(out, st[1])
    table.insert(out, tonumber(st[2]))
    table.insert(out, 0)
    table.insert(out, st[3] or "0")
  end
  redis.call("SADD", KEYS[2], name)
end
if tonumber(ARGV[5]) > 0 then redis.call("EXPIRE", KEYS[2], ARGV[5]) end
return out
`)

// claimScript moves pending → sending(lease, attempt+1) for the given revision.
//
//	KEYS[1] ledger key, KEYS[2] pending zset, KEYS[3] log stream
//	ARGV[1] revision, ARGV[2] now ms, ARGV[3] lease until ms, ARGV[4] owner, ARGV[5] log max len,
//	ARGV[6] member, ARGV[7] record TTL seconds
//
// Returns {result, attempt, lease_until}: result is "claimed", "missing", "stale" (another
// revision), "busy" (another worker holds a live lease), "expired" (a lease ran out mid-send:
// the record is now unknown), or the final state name.
var claimScript = logScript(`
if redis.call("EXISTS", KEYS[1]) == 0 then return {"missing", 0, 0} end
local f = redis.call("HMGET", KEYS[1], "state", "revision", "attempt", "lease_until", "article_id", "channel")
local state, rev, attempt, lease = f[1], tonumber(f[2]), tonumber(f[3]), tonumber(f[4] or "0")
if rev ~= tonumber(ARGV[1]) then return {"stale", attempt, 0} end
if state == "sending" then
  if lease ~= nil and lease > tonumber(ARGV[2]) then return {"busy", attempt, lease} end
  redis.call("HSET", KEYS[1], "state", "unknown", "updated_at", ARGV[2], "lease_until", 0, "owner", "",
    "error", "lease expired while sending: the worker stopped between the request and the commit")
  redis.call("ZREM", KEYS[2], ARGV[6])
  if tonumber(ARGV[7]) > 0 then redis.call("EXPIRE", KEYS[1], ARGV[7]) end
  log_append(KEYS[3], ARGV[5], {article_id = f[5], channel = f[6], status = "unknown", attempt = attempt,
    error = "lease expired while sending"})
  return {"expired", attempt, 0}
end
if state ~= "pending" then return {state, attempt, 0} end
attempt = attempt + 1
redis.call("HSET", KEYS[1], "state", "sending", "attempt", attempt, "lease_until", ARGV[3],
  "owner", ARGV[4], "updated_at", ARGV[2])
return {"claimed", attempt, tonumber(ARGV[3])}
`)

// finishScript moves sending → a new state, only for the owner and attempt that claimed it
// (compare-and-set), and logs the change.
//
//	KEYS[1] ledger key, KEYS[2] pending zset, KEYS[3] log stream
//	ARGV[1] owner, ARGV[2] attempt, ARGV[3] new state, ARGV[4] remote id, ARGV[5] post url,
//	ARGV[6] error, ARGV[7] now ms, ARGV[8] log max len, ARGV[9] member, ARGV[10] record TTL s,
//	ARGV[11] "1" to give the attempt back (rate limit, shutdown before the request left)
//
// Returns "ok" or "lost" (the lease was taken over; nothing changed).
var finishScript = logScript(`
local f = redis.call("HMGET", KEYS[1], "state", "owner", "attempt", "article_id", "channel")
if f[1] ~= "sending" or f[2] ~= ARGV[1] or f[3] ~= ARGV[2] then return "lost" end
local attempt = tonumber(f[3])
if ARGV[11] == "1" then attempt = attempt - 1 end
redis.call("HSET", KEYS[1], "state", ARGV[3], "attempt", attempt, "lease_until", 0, "owner", "",
  "updated_at", ARGV[7], "error", ARGV[6])
if ARGV[4] ~= "" then redis.call("HSET", KEYS[1], "remote_id", ARGV[4], "post_url", ARGV[5]) end
if ARGV[3] ~= "pending" then
  redis.call("ZREM", KEYS[2], ARGV[9])
  if tonumber(ARGV[10]) > 0 then redis.call("EXPIRE", KEYS[1], ARGV[10]) end
end
log_append(KEYS[3], ARGV[8], {article_id = f[4], channel = f[5], status = ARGV[3], attempt = f[3],
  remote_id = ARGV[4], error = ARGV[6]})
return "ok"
`)

// requeueScript moves a final delivery back to pending for an admin: "retry" keeps the revision
// (failed/unknown only), "repost" bumps it (any final state, a fresh post is wanted).
//
//	KEYS[1] ledger key, KEYS[2] pending zset, KEYS[3] log stream
//	ARGV[1] mode, ARGV[2] now ms, ARGV[3] log max len, ARGV[4] member
//
// Returns {result, revision, urgent}: "ok", "missing" or "not-final" / "sent" (retry refused).
var requeueScript = logScript(`
if redis.call("EXISTS", KEYS[1]) == 0 then return {"missing", 0} end
local f = redis.call("HMGET", KEYS[1], "state", "revision", "article_id", "channel", "urgent")
local state, rev = f[1], tonumber(f[2])
if state == "pending" or state == "sending" then return {"not-final", rev} end
if ARGV[1] == "retry" and state == "sent" then return {"sent", rev} end
if ARGV[1] == "repost" then rev = rev + 1 end
redis.call("HSET", KEYS[1], "state", "pending", "revision", rev, "attempt", 0, "error", "",
  "lease_until", 0, "owner", "", "updated_at", ARGV[2])
redis.call("PERSIST", KEYS[1])
redis.call("ZADD", KEYS[2], ARGV[2], ARGV[4])
log_append(KEYS[3], ARGV[3], {article_id = f[3], channel = f[4], status = "pending", attempt = 0,
  error = ARGV[1]})
return {"ok", rev, f[5] or "0"}
`)

// ErrNotFound is returned for an unknown article or delivery.
var ErrNotFound = errors.New("not found")

func itoa(n int) string { return strconv.Itoa(n) }

func nowMS(t time.Time) string { return strconv.FormatInt(t.UnixMilli(), 10) }
