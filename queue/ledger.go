package queue

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
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
func (s State) Final() bool {
	return s == StateSent || s == StateFailed || s == StateUnknown || s == StateRetracted
}

// Delivery is one (article, channel) ledger record.
type Delivery struct {
	ArticleID string        `json:"article_id"`
	Channel   channels.Name `json:"channel"`
	Kind      channels.Kind `json:"kind"`
	State     State         `json:"status"`
	Revision  int           `json:"revision"`
	// Gen counts the tasks enqueued for this revision by admin retries and by moves to the head
	// of a paused lane (Worker.toFront): each gets a new task id.
	Gen        int       `json:"gen,omitempty"`
	Urgent     bool      `json:"urgent,omitempty"`
	Attempt    int       `json:"attempt"`
	RemoteID   string    `json:"remote_id,omitempty"`
	PostURL    string    `json:"post_url,omitempty"`
	Error      string    `json:"error,omitempty"`
	LeaseUntil time.Time `json:"lease_until,omitzero"`
	CreatedAt  time.Time `json:"created_at"`
	UpdatedAt  time.Time `json:"updated_at"`
	// RetractedBy and RetractedAt say who took the delivery back and when (retract.go).
	RetractedBy string    `json:"retracted_by,omitempty"`
	RetractedAt time.Time `json:"retracted_at,omitzero"`
	// EditedBy and EditedAt say who last corrected the sent post in place and when (correct.go).
	EditedBy string    `json:"edited_by,omitempty"`
	EditedAt time.Time `json:"edited_at,omitzero"`
	// NotEditedBy and NotEditedAt say whose correction could not change the sent post, and
	// when: its channel cannot edit (Correct's cannot-edit), so the post keeps the text from
	// before it until a retract and a repost (which clears them) replace it.
	NotEditedBy string    `json:"not_edited_by,omitempty"`
	NotEditedAt time.Time `json:"not_edited_at,omitzero"`
	// EarlierIDs are the remote ids of posts a repost left up (the delivery was sent, then
	// reposted without a retract): a retract deletes them with the current post (retract.go).
	EarlierIDs []string `json:"earlier_remote_ids,omitempty"`
}

// ledgerEarlierIDs holds Delivery.EarlierIDs, one per line.
const ledgerEarlierIDs = "earlier_ids"

// TaskID returns the asynq task id of the delivery's current revision and generation.
func (d Delivery) TaskID() string { return taskID(d.ArticleID, d.Channel, d.Revision, d.Gen) }

// parseDelivery reads a ledger record of the delivery (articleID, ch): the record itself does
// not repeat them (records written by an older herald do).
func parseDelivery(m map[string]string, articleID string, ch channels.Name) (Delivery, bool) {
	if len(m) == 0 {
		return Delivery{}, false
	}
	if m["article_id"] == "" {
		m["article_id"], m["channel"] = articleID, string(ch)
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
		Gen:        atoi("gen"),
		Urgent:     m["urgent"] == "1" && m[ledgerFront] != "1",
		Attempt:    atoi("attempt"),
		RemoteID:   m["remote_id"],
		PostURL:    m["post_url"],
		Error:      m["error"],
		LeaseUntil: ms("lease_until"),
		CreatedAt:  ms("created_at"),
		UpdatedAt:  ms("updated_at"),
		// retract.go
		RetractedBy: m["retracted_by"],
		RetractedAt: ms("retracted_at"),
		// correct.go
		EditedBy:    m["edited_by"],
		EditedAt:    ms("edited_at"),
		NotEditedBy: m["not_edited_by"],
		NotEditedAt: ms("not_edited_at"),
		EarlierIDs:  strings.Fields(m[ledgerEarlierIDs]),
	}, true
}

// getDelivery reads one ledger record; ok is false when there is none.
func getDelivery(ctx context.Context, rdb redis.UniversalClient, articleID string, ch channels.Name) (Delivery, bool, error) {
	m, err := rdb.HGetAll(ctx, ledgerKey(articleID, ch)).Result()
	if err != nil {
		return Delivery{}, false, fmt.Errorf("queue: reading delivery %s: %w", deliveryMember(articleID, ch), err)
	}
	d, ok := parseDelivery(m, articleID, ch)
	return d, ok, nil
}

// recordScript stores an article and creates the ledger record of each of its deliveries that
// does not exist yet, atomically, so a publish is all or nothing.
//
//	KEYS[1] article key, KEYS[2] pending zset, KEYS[3] log stream, KEYS[4] URL index bucket,
//	KEYS[5..] ledger keys (one per channel, same order as the channel pairs in ARGV)
//	ARGV[1] stored article (encodeArticle), ARGV[2] article id, ARGV[3] now ms, ARGV[4] log max
//	length, ARGV[5] record TTL seconds (0 = none), ARGV[6] "1" if the article is urgent,
//	ARGV[7] URL index field ("" = none: the id is the URL's own), ARGV[8] the bucket's TTL
//	seconds (0 = leave it: the bucket has it already, see urlBucketTTL), ARGV[9..] channel name, kind pairs
//
// The article's value starts with the names of every channel it was ever routed to (see
// articles.go): a publish to more channels adds theirs. An article with an id of its own is
// indexed by its URL in the same call (urlindex.go).
//
// Returns, per channel, the state the ledger now has, its revision, 1 if it was created now,
// whether it is urgent and its task generation (decided once, when the record is created, so every later enqueue of the
// delivery picks the same asynq queue and TaskID deduplication holds).
var recordScript = logScript(`
local function store(names, nx)
  local args = {"SET", KEYS[1], table.concat(names, ",") .. "\0" .. ARGV[1]}
  if nx then table.insert(args, "NX") end
  if tonumber(ARGV[5]) > 0 then table.insert(args, "EX"); table.insert(args, ARGV[5]) end
  return redis.call(unpack(args))
end
local names, seen = {}, {}
local function add(n)
  if not seen[n] then seen[n] = true; table.insert(names, n) end
end
for j = 9, #ARGV, 2 do add(ARGV[j]) end
-- A new article is one SET; a publish again keeps the channels it was routed to before (or,
-- for an article stored before this layout, those of the set beside it).
if not store(names, true) then
  local cur = redis.call("GET", KEYS[1])
  local b = string.byte(cur, 1)
  local sep = string.find(cur, "\0", 1, true)
  local before
  if b ~= 123 and b ~= 1 and sep then
    before = {}
    for n in string.gmatch(string.sub(cur, 1, sep - 1), "[^,]+") do table.insert(before, n) end
  else
    before = redis.call("SMEMBERS", KEYS[1] .. ":ch")
  end
  local now = names
  names, seen = {}, {}
  for _, n in ipairs(before) do add(n) end
  for _, n in ipairs(now) do add(n) end
  store(names, false)
end
if ARGV[7] ~= "" then
  redis.call("HSET", KEYS[4], ARGV[7], ARGV[2])
  if tonumber(ARGV[8]) > 0 then redis.call("EXPIRE", KEYS[4], ARGV[8]) end
end
local out = {}
for i = 5, #KEYS do
  local j = 9 + (i - 5) * 2
  local name, kind = ARGV[j], ARGV[j + 1]
  local key = KEYS[i]
  local st = redis.call("HMGET", key, "state", "revision", "urgent", "gen")
  if not st[1] then
    -- The record is new: log_append reads nothing from it, and its entry id goes in with it.
    local id = log_append(KEYS[3], ARGV[4], {article_id = ARGV[2], channel = name, status = "pending", attempt = 0,
      kind = kind, created_at = ARGV[3]})
    -- The article id and channel are in the key (ledger_ids), not repeated in the record.
    local rec = {"kind", kind, "state", "pending", "revision", 1,
      "attempt", 0, "created_at", ARGV[3], "updated_at", ARGV[3],
      log_field(tonumber(string.match(id, "^(%d+)")), tonumber(string.match(id, "-(%d+)$"))), ""}
    -- A missing "urgent" reads as not urgent everywhere.
    if ARGV[6] == "1" then table.insert(rec, "urgent"); table.insert(rec, "1") end
    redis.call("HSET", key, unpack(rec))
    redis.call("ZADD", KEYS[2], ARGV[3], ARGV[2] .. ":" .. name)
    -- The channels whose log indexes a query by status merges (logChannelsKey).
    redis.call("SADD", KEYS[3] .. ":channels", name)
    table.insert(out, "pending")
    table.insert(out, 1)
    table.insert(out, 1)
    table.insert(out, ARGV[6])
    table.insert(out, 0)
  else
    table.insert(out, st[1])
    table.insert(out, tonumber(st[2]))
    table.insert(out, 0)
    table.insert(out, st[3] or "0")
    table.insert(out, tonumber(st[4] or "0"))
  end
end
return out
`)

// luaExpireLease is the Lua function both claiming scripts (claimScript, slotScript) call when
// they find a claim whose lease ran out mid-send: the delivery becomes unknown, for an admin,
// and leaves the pending set for the channel's unknown index. The token stays: a late commit of
// the claim that really sent may still record its receipt (finishScript).
//
//	expire_lease(ledger, pending, log, unknown index, member, now ms, log max len, record TTL s,
//	  article id, channel, attempt)
const luaExpireLease = `
local function expire_lease(ledger, pending, log, unknown, member, now, maxlen, ttl, article_id, channel, attempt)
  redis.call("HSET", ledger, "state", "unknown", "updated_at", now, "lease_until", 0, "owner", "",
    "expired", "1", "error", "lease expired while sending: the worker stopped between the request and the commit")
  redis.call("ZREM", pending, member)
  redis.call("SADD", unknown, member)
  if tonumber(ttl) > 0 then redis.call("EXPIRE", ledger, ttl) end
  log_append(log, maxlen, {article_id = article_id, channel = channel, status = "unknown", attempt = attempt,
    error = "lease expired while sending"})
end
`

// claimScript moves pending → sending(lease, attempt+1, token) for the given revision, unless
// the channel is paused. Every state change of a claim carries the claim's token, a value the
// worker draws once per claim: go-redis re-runs a script after a read timeout or EOF, and a
// re-run that finds its own token answers as the first run did instead of seeing its own lease
// as someone else's ("busy" → lease expiry → unknown with nothing sent).
//
//	KEYS[1] ledger key, KEYS[2] pending zset, KEYS[3] log stream, KEYS[4] paused hash,
//	KEYS[5] article key, KEYS[6] the channel's unknown index
//	ARGV[1] revision, ARGV[2] lease ms, ARGV[3] claim token, ARGV[4] log max len, ARGV[5] member,
//	ARGV[6] record TTL seconds, ARGV[7] channel, ARGV[8] owner (process, for operators),
//	ARGV[9] the Redis clock's time now as the caller knows it (ms; "0" = unknown: read TIME)
//
// Returns {result, attempt, lease_until, article JSON, created_at ms, after_unknown}: result is "claimed", "missing", "stale"
// (another revision), "paused", "busy" (another claim holds a live lease; the third value is
// the ms it has left), "expired" (a lease ran out mid-send: the record is now unknown), or the
// final state name. The article, the record's creation time (for the publish→post latency) and
// ledgerAfterUnknown come with "claimed", so a delivery costs no round trip to read them. Leases are on the Redis
// clock, as slotScript's: a process whose clock is off neither takes a lease that others see as
// run out nor sees a live one as run out.
var claimScript = logScript(luaExpireLease + `
local f = redis.call("HMGET", KEYS[1], "state", "revision", "attempt", "lease_until", "article_id", "channel", "token", "created_at", "requeued_at", "` + ledgerAfterUnknown + `")
-- The latency counts from the publish, or from an admin's retry or repost (requeued_at).
f[8] = f[9] or f[8]
f[5], f[6] = ledger_ids(KEYS[1])
if not f[1] then return {"missing", 0, 0} end
local state, rev, attempt, lease = f[1], tonumber(f[2]), tonumber(f[3]), tonumber(f[4] or "0")
if rev ~= tonumber(ARGV[1]) then return {"stale", attempt, 0} end
if state == "sending" and f[7] == ARGV[3] then
  return {"claimed", attempt, lease, redis.call("GET", KEYS[5]), f[8], f[10] or ""}
end
-- A claim after a wait for a slot knows the Redis time: the slot's (from slotScript) plus the
-- wait on the caller's monotonic clock, off by a round trip at most. That saves a TIME call per
-- paced delivery; without it (ARGV[9] "0") the script reads the clock.
local now = tonumber(ARGV[9] or "0") or 0
if now <= 0 then
  local t = redis.call("TIME")
  now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
if state == "sending" then
  if lease ~= nil and lease > now then return {"busy", attempt, lease - now} end
  expire_lease(KEYS[1], KEYS[2], KEYS[3], KEYS[6], ARGV[5], now, ARGV[4], ARGV[6], f[5], f[6], attempt)
  return {"expired", attempt, 0}
end
if state ~= "pending" then return {state, attempt, 0} end
if redis.call("HEXISTS", KEYS[4], ARGV[7]) == 1 then return {"paused", attempt, 0} end
attempt = attempt + 1
lease = now + tonumber(ARGV[2])
redis.call("HSET", KEYS[1], "state", "sending", "attempt", attempt, "lease_until", lease,
  "owner", ARGV[8], "token", ARGV[3], "expired", "", "updated_at", now)
return {"claimed", attempt, lease, redis.call("GET", KEYS[5]), f[8], f[10] or ""}
`)

// frontScript moves a pending delivery to the head of its lane (Worker.toFront): the next task
// generation, in the channel's urgent queue (urgent = 1, where the sweeper looks for its task;
// ledgerFront = 1 says it is there for its place, not because the article is urgent). A re-run
// after a lost reply finds the generation it made and answers it again.
//
//	KEYS[1] ledger key, KEYS[2] asynq's pause flag of the channel's urgent queue;
//	ARGV[1] revision, ARGV[2] the current task's generation
//
// Returns the new generation, or 0 when the delivery is not pending at that revision and
// generation, or the urgent queue is not paused (nothing changed): a task moved there would be
// dequeued at once and find the pause again, round and round.
var frontScript = redis.NewScript(`
if redis.call("EXISTS", KEYS[2]) == 0 then return 0 end
local f = redis.call("HMGET", KEYS[1], "state", "revision", "gen", "urgent")
if f[1] ~= "pending" or tonumber(f[2]) ~= tonumber(ARGV[1]) then return 0 end
local gen, want = tonumber(f[3] or "0"), tonumber(ARGV[2])
if gen == want + 1 and f[4] == "1" then return gen end
if gen ~= want then return 0 end
redis.call("HSET", KEYS[1], "gen", gen + 1, "urgent", "1", "` + ledgerFront + `", "1")
return gen + 1
`)

// ledgerFront marks a delivery frontScript moved to its channel's urgent queue: its "urgent"
// field says where its task is, not that the article is urgent (Delivery.Urgent is false), and
// an admin's requeue puts it back in the normal lane.
const ledgerFront = "front"

// ledgerAfterUnknown marks a delivery an admin retried after an unknown outcome, until its next
// requeue: channels.Message.AfterUnknown tells the channel an earlier attempt may have posted,
// so a duplicate refusal on the first attempt after the retry reads as that post, not as
// another story's text.
const ledgerAfterUnknown = "after_unknown"

// ledgerMaybePosted is the ledger field holding when an attempt of a pending delivery may have
// posted (ms): a deduplicating channel retries such an attempt, but not past its platform's
// window (channels.DedupWindowed, Worker.pastDedupWindow).
const ledgerMaybePosted = "maybe_at"

// finishScript moves a claimed delivery to its new state, only for the claim that holds it
// (its token), and logs the change. It is idempotent: a re-run that finds the state it was
// asked to set under its own token answers "ok" and changes nothing. A claim whose lease ran
// out while it was sending (the record became unknown, "expired") may still commit what it
// learned: a receipt turns that unknown into sent with the remote id, a definite failure into
// failed, a request that never left back into pending.
//
//	KEYS[1] ledger key, KEYS[2] pending zset, KEYS[3] log stream, KEYS[4] the channel's unknown index
//	ARGV[1] claim token, ARGV[2] attempt, ARGV[3] new state, ARGV[4] remote id, ARGV[5] post url,
//	ARGV[6] error, ARGV[7] now ms, ARGV[8] log max len, ARGV[9] member, ARGV[10] record TTL s,
//	ARGV[11] "1" to give the attempt back (rate limit, shutdown before the request left, pause),
//	ARGV[12] when this attempt may have posted (ms; a deduplicating channel's retry), else ""
//
// A pending record keeps the first such time (maybe_at, ledgerMaybePosted) until the delivery is
// final. Returns "ok" or "lost" (another claim or an admin took the delivery over; nothing
// changed).
var finishScript = logScript(`
local f = redis.call("HMGET", KEYS[1], "state", "token", "attempt", "article_id", "channel", "expired",
  "kind", "post_url", "created_at", "` + ledgerMaybePosted + `", "requeued_at")
f[4], f[5] = ledger_ids(KEYS[1])
f[9] = f[11] or f[9]
if f[2] ~= ARGV[1] then return "lost" end
local late = f[1] == "unknown" and f[6] == "1"
if f[1] ~= "sending" and not late then
  if f[1] == ARGV[3] then return "ok" end
  return "lost"
end
if late and ARGV[3] == "unknown" then return "ok" end
local attempt = tonumber(f[3])
if ARGV[11] == "1" then attempt = attempt - 1 end
local final = ARGV[3] ~= "pending"
local set = {"state", ARGV[3], "attempt", attempt, "updated_at", ARGV[7]}
local unset = {}
local post_url = f[8]
if ARGV[4] ~= "" then
  table.insert(set, "remote_id"); table.insert(set, ARGV[4])
  table.insert(set, "post_url"); table.insert(set, ARGV[5])
  post_url = ARGV[5]
end
if final then
  -- A final record keeps no empty fields: the lease and its owner go, an empty error and post
  -- URL are left out (parseDelivery reads a missing field as empty).
  unset = {"lease_until", "owner", "expired", "` + ledgerMaybePosted + `"}
  if ARGV[6] ~= "" then table.insert(set, "error"); table.insert(set, ARGV[6])
  else table.insert(unset, "error") end
  if not post_url or post_url == "" then table.insert(unset, "post_url") end
else
  for _, v in ipairs({"lease_until", 0, "owner", "", "expired", "", "error", ARGV[6]}) do table.insert(set, v) end
  if ARGV[12] and ARGV[12] ~= "" and not f[10] then
    table.insert(set, "` + ledgerMaybePosted + `"); table.insert(set, ARGV[12])
  end
end
local err = ARGV[6]
if late then err = "late commit after the lease expired: " .. err end
log_append(KEYS[3], ARGV[8], {article_id = f[4], channel = f[5], status = ARGV[3], attempt = ARGV[2],
  remote_id = ARGV[4], error = err, rec = {f[7], post_url, f[9]}, set = set, unset = unset})
if not final then
  if late then
    redis.call("ZADD", KEYS[2], "NX", ARGV[7], ARGV[9])
    redis.call("PERSIST", KEYS[1])
  end
else
  redis.call("ZREM", KEYS[2], ARGV[9])
  if tonumber(ARGV[10]) > 0 then redis.call("EXPIRE", KEYS[1], ARGV[10]) end
end
-- The unknown index changes only when the delivery enters or leaves unknown.
if ARGV[3] == "unknown" then redis.call("SADD", KEYS[4], ARGV[9])
elseif late then redis.call("SREM", KEYS[4], ARGV[9]) end
return "ok"
`)

// requeueScript moves a final delivery back to pending for an admin: "retry" keeps the revision
// (failed/unknown only), "repost" bumps it (any final state, a fresh post is wanted). Either way
// the delivery's task generation goes up, so its next task has an id never used before (asynq
// keeps a finished task's id for a day). The request token makes a re-run answer "ok" again.
//
//	KEYS[1] ledger key, KEYS[2] pending zset, KEYS[3] log stream, KEYS[4] the channel's unknown index
//	ARGV[1] mode, ARGV[2] now ms, ARGV[3] log max len, ARGV[4] member, ARGV[5] request token,
//	ARGV[6] "unknown" to act only on an unknown delivery (bulk retry), else "", ARGV[7] who asked
//	(the log entry's by, as mark sent and drop have it; "" when unknown)
//
// Returns {result, revision, urgent, generation}: "ok", "missing", "not-final", "editing" (a
// correction is editing the post), "sent" (retry
// refused) or "not-unknown".
var requeueScript = logScript(`
if redis.call("EXISTS", KEYS[1]) == 0 then return {"missing", 0, "0", 0} end
local f = redis.call("HMGET", KEYS[1], "state", "revision", "article_id", "channel", "urgent", "gen", "token", "` + ledgerFront + `",
  "edit_token", "edit_until")
f[3], f[4] = ledger_ids(KEYS[1])
local state, rev, gen = f[1], tonumber(f[2]), tonumber(f[6] or "0")
if state == "pending" and f[7] == ARGV[5] then return {"ok", rev, f[5] or "0", gen} end
if ARGV[6] == "unknown" and state ~= "unknown" then return {"not-unknown", rev, f[5] or "0", gen} end
if state == "pending" or state == "sending" or state == "retracting" then return {"not-final", rev, f[5] or "0", gen} end
-- A correction editing the sent post right now (correct.go's lease): a repost now would take the
-- record from under it, and the edit's outcome would land on the new revision's.
if f[9] and f[9] ~= "" and tonumber(f[10] or "0") > tonumber(ARGV[2]) then return {"editing", rev, f[5] or "0", gen} end
if ARGV[1] == "retry" and (state == "sent" or state == "retracted") then return {state, rev, f[5] or "0", gen} end
if ARGV[1] == "repost" then rev = rev + 1 end
gen = gen + 1
-- requeued_at: the publish→post latency of what follows counts from now, not from the publish
-- (an admin's reaction, or a repost days later, is not herald's delivery time).
redis.call("HSET", KEYS[1], "state", "pending", "revision", rev, "gen", gen, "attempt", 0, "error", "",
  "lease_until", 0, "owner", "", "token", ARGV[5], "expired", "", "updated_at", ARGV[2], "requeued_at", ARGV[2])
-- An admin's decision starts afresh: no earlier attempt's maybe_at limits its retries. A delivery
-- a pause moved to the urgent queue for its place goes back to its own lane.
redis.call("HDEL", KEYS[1], "` + ledgerMaybePosted + `")
if f[8] == "1" then
  redis.call("HDEL", KEYS[1], "urgent", "` + ledgerFront + `")
  f[5] = "0"
end
-- An admin's retry of an unknown outcome: the earlier attempt may have made the post, which the
-- platform may now refuse as a duplicate (ledgerAfterUnknown). Any other requeue starts clean.
if ARGV[1] == "retry" and state == "unknown" then
  redis.call("HSET", KEYS[1], "` + ledgerAfterUnknown + `", "1")
else
  redis.call("HDEL", KEYS[1], "` + ledgerAfterUnknown + `")
end
redis.call("PERSIST", KEYS[1])
-- A repost is a new post: the old one's id and link, its correction (correct.go) and its
-- retraction (retract.go) are not its. A retract of a repost whose outcome is unknown must not
-- delete the old post's id and call the new one deleted.
if ARGV[1] == "repost" then
  -- The post a repost leaves up (sent, not retracted) is still the story's: its id is kept for
  -- a retract to delete with the new one (ledgerEarlierIDs), or a takedown would miss it.
  local old = redis.call("HGET", KEYS[1], "remote_id")
  if old and old ~= "" and state ~= "retracted" then
    local ids = redis.call("HGET", KEYS[1], "` + ledgerEarlierIDs + `")
    redis.call("HSET", KEYS[1], "` + ledgerEarlierIDs + `", ((ids and ids ~= "") and (ids .. "\n") or "") .. old)
  end
  redis.call("HDEL", KEYS[1], "remote_id", "post_url", "edited_at", "edited_by", "not_edited_at", "not_edited_by", "retracted_at", "retracted_by")
end
redis.call("ZADD", KEYS[2], ARGV[2], ARGV[4])
redis.call("SREM", KEYS[4], ARGV[4])
log_append(KEYS[3], ARGV[3], {article_id = f[3], channel = f[4], status = "pending", attempt = 0,
  error = ARGV[1], by = ARGV[7]})
return {"ok", rev, f[5] or "0", gen}
`)

// ErrNotFound is returned for an unknown article or delivery.
var ErrNotFound = errors.New("not found")

func itoa(n int) string { return strconv.Itoa(n) }

func nowMS(t time.Time) string { return strconv.FormatInt(t.UnixMilli(), 10) }
