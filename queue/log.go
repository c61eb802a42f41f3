package queue

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// luaLogAppend is the one Lua fragment every ledger script uses to append to the delivery log
// (the stream at logKey), so what a log entry holds, how the stream is trimmed and any index
// kept beside it are decided here and nowhere else. A script that changes a delivery's state
// is built with logScript, which puts this fragment in front of its body; the body calls
//
//	log_append(stream, maxlen, e)
//
// with stream the log key (passed in KEYS, so the script declares every key it touches),
// maxlen the approximate cap (Options.LogMaxLen) and e a table with article_id, channel,
// status, attempt and, when there is one, remote_id, error and by (the admin who decided). A
// caller that has just read the ledger record may pass what log_append would read from it (rec:
// kind, post_url, created_at, lease_until, owner, expired, error, as the record will be) and
// its own change of the record (set: field, value, …; unset: field names), which log_append
// writes with the entry's id in one HSET: a commit then costs no extra read or write.
// Every entry holds every field, empty or not (logEntry reads a missing field as "", as in
// entries written before). It returns the new entry's id.
//
// Beside the stream it keeps, for queries that must not scan the whole log (QueryLog, FollowLog,
// Overview; see logindex.go for the key names):
//   - index streams per channel+status holding only a marker under each entry's id (readers
//     fetch the entry itself from the main stream by id), trimmed to the main stream's oldest id
//     on about one append in logTrimEvery; a channel's entries are the union of its indexes
//     (logStatuses, plus a catch-all for any other status), a status's the union of its index
//     in every channel that has a delivery record (the set logChannelsKey, which the publish
//     that creates a record adds to);
//   - per delivery, the ids of its entries, as fields of its ledger record (log_field: "l:"
//     and the id, shortened; they live exactly as long as the record);
//   - per channel and status (logCounted), per-minute counters for the last 25 hours;
//   - per channel, the publish→post latency of each delivery herald sent (not an admin's mark
//     sent), as the value of its marker in the channel's sent index (Overview reads the last
//     hour's).
//
// The entry also carries, for a sent delivery, the post's URL, read from the ledger record. It
// does not carry the channel's kind: readers take it from the ledger record (addDetails), which
// holds it for as long as the entry is kept, so the log spends no ~10 bytes per entry on a
// word every entry of the channel repeats (entries written before still carry it). A caller
// that knows the record's kind and creation time (the publish, which creates the record) passes
// them as e.kind and e.created_at: then no ledger field is read and the caller writes the
// log_field of the returned id itself. When a delivery reaches
// a final state, the ledger's empty fields (no lease, owner or error any more) are removed: a
// final record is kept for the whole retention, and parseDelivery reads a missing field as zero.
// These keys are not passed in KEYS: herald runs on one Redis primary (asynq needs it,
// DESIGN.md), never a Cluster.
var luaLogAppend = `
-- log_field is the ledger field naming a log entry id: "l:" and its milliseconds in base 36,
-- then "-" and its sequence number when that is not 0 (logIDFromField reads it).
local function log_field(ms, seq)
  local digits, s = "0123456789abcdefghijklmnopqrstuvwxyz", ""
  repeat
    local r = ms % 36
    s = string.sub(digits, r + 1, r + 1) .. s
    ms = math.floor(ms / 36)
  until ms == 0
  if seq ~= 0 then s = s .. "-" .. seq end
  return "` + ledgerLogField + `" .. s
end

local known_status = {` + luaSet(logStatuses) + `}
local counted_status = {` + luaSet(logCounted) + `}

-- ledger_ids reads a delivery's article id and channel from its ledger key
-- (herald:dlv:{<article>:<channel>}; a channel name has no ":"): the record does not repeat them.
local function ledger_ids(key)
  return string.match(key, "^` + keyPrefix + `dlv:{(.*):([^:]*)}$")
end

local function log_append(stream, maxlen, e)
  local ledger = "` + keyPrefix + `dlv:{" .. e.article_id .. ":" .. e.channel .. "}"
  local rec
  if e.rec then
    rec = e.rec
  elseif e.kind then
    rec = {e.kind, false, e.created_at, false, false, false, false}
  else
    rec = redis.call("HMGET", ledger, "kind", "post_url", "created_at", "lease_until", "owner", "expired", "error")
  end
  -- Every entry has the same fields, in the same order, empty or not: a stream stores an entry
  -- whose fields are its node's first entry's as values only (field names cost ~70 bytes).
  local post_url = ""
  if e.status == "sent" and rec[2] then post_url = rec[2] end
  local fields = {"article_id", e.article_id, "channel", e.channel, "status", e.status,
    "attempt", tostring(e.attempt or 0), "remote_id", e.remote_id or "",
    "post_url", post_url, "error", e.error or "", "by", e.by or ""}
  local id = redis.call("XADD", stream, "MAXLEN", "~", maxlen, "*", unpack(fields))
  local ms = tonumber(string.match(id, "^(%d+)"))
  local seq = tonumber(string.match(id, "-(%d+)$"))
  -- Trimming the indexes needs the main stream's oldest id (one more call): do it on about one
  -- append in ` + logTrimEvery + `, chosen by the id; until then an index holds a few ids the main stream
  -- dropped, which readers skip.
  local trim = (ms + seq) % ` + logTrimEvery + ` == 0
  local minid
  if trim then
    local first = redis.call("XRANGE", stream, "-", "+", "COUNT", 1)
    minid = id
    if first[1] then minid = first[1][1] end
  end
  local ix = stream .. ":ix:"
  -- A sent entry's marker in its channel's sent index is its publish→post latency (ms): the
  -- samples Overview reads, with no set of their own. An admin's mark sent (by) posted nothing:
  -- its time is the admin's, not herald's, and it is no sample.
  local lat = ""
  if e.status == "sent" and rec[3] and (e.by or "") == "" then lat = tostring(ms - tonumber(rec[3])) end
  -- A channel's entries are the union of its per-status indexes; a status outside the known
  -- list (logStatuses) also goes to the channel's catch-all index, so that union stays whole.
  local keys = {ix .. "cs:" .. e.channel .. ":" .. e.status}
  if not known_status[e.status] then table.insert(keys, ix .. "cs:" .. e.channel .. ":` + logOtherStatus + `") end
  for _, k in ipairs(keys) do
    local v = ""
    if k == ix .. "cs:" .. e.channel .. ":sent" then v = lat end
    if trim then
      redis.call("XADD", k, "MINID", "~", minid, id, "i", v)
    else
      redis.call("XADD", k, id, "i", v)
    end
  end
  if e.set then
    -- The caller's own change of the record, in the same HSET as the entry's id.
    table.insert(e.set, log_field(ms, seq)); table.insert(e.set, "")
    redis.call("HSET", ledger, unpack(e.set))
    if e.unset and #e.unset > 0 then redis.call("HDEL", ledger, unpack(e.unset)) end
  elseif rec[1] and not e.kind then
    local final = e.status == "sent" or e.status == "failed" or e.status == "unknown" or e.status == "retracted"
    local gone = {}
    if final then
      for i, name in ipairs({"lease_until", "owner", "expired", "error"}) do
        local v = rec[3 + i]
        if v and (v == "" or (name == "lease_until" and v == "0")) then table.insert(gone, name) end
      end
      if rec[2] == "" then table.insert(gone, "post_url") end
    end
    redis.call("HSET", ledger, log_field(ms, seq), "")
    if #gone > 0 then redis.call("HDEL", ledger, unpack(gone)) end
  end
  if counted_status[e.status] then
    local hour = math.floor(ms / 3600000)
    local counter = stream .. ":n:" .. e.channel .. ":" .. e.status .. ":" .. hour
    -- A new minute field (answer 1) renews the hour's lifetime; later counts of the minute need not.
    if redis.call("HINCRBY", counter, tostring(math.floor(ms / 60000)), 1) == 1 then
      redis.call("EXPIRE", counter, 90000)
    end
  end
  return id
end
`

// logTrimEvery: about one delivery-log append in this many trims the index streams and the
// latency sets (see luaLogAppend).
const logTrimEvery = "16"

// logStatuses are the statuses the ledger scripts log; a channel's query merges one index per
// status (and logOtherStatus's, for any status not listed here).
var logStatuses = []string{string(StatePending), string(StateSent), string(StateFailed), string(StateUnknown), string(StateRetracted)}

// logOtherStatus names a channel's index of entries whose status is not in logStatuses.
const logOtherStatus = "~other"

// logCounted are the statuses whose per-minute counters herald reads (herald stats, the
// dashboard's charts); other statuses are not counted.
var logCounted = []string{string(StateSent), string(StateFailed), string(StateUnknown)}

// luaSet is a Lua set constructor's body holding names.
func luaSet(names []string) string {
	var b strings.Builder
	for _, n := range names {
		fmt.Fprintf(&b, "[%q] = true, ", n)
	}
	return b.String()
}

// logScript builds a ledger script whose body may call log_append (see luaLogAppend).
func logScript(body string) *redis.Script { return redis.NewScript(luaLogAppend + body) }

// LogEntry is one state change in the delivery log.
type LogEntry struct {
	ID        string    `json:"id"`
	Time      time.Time `json:"time"`
	ArticleID string    `json:"article_id"`
	Channel   string    `json:"channel"`
	Status    string    `json:"status"`
	Attempt   int       `json:"attempt"`
	RemoteID  string    `json:"remote_id"`
	PostURL   string    `json:"post_url"`
	Error     string    `json:"error"`
	// Kind is the channel's kind, from the delivery's ledger record when the entry is read
	// (QueryLog, FollowLog; "" once the record expired); entries written before kept their own.
	Kind string `json:"kind"`
	// Title is the article's title, looked up when the entry is read (QueryLog, FollowLog).
	Title string `json:"title"`
	// By is the admin who decided the change (retry, repost, mark sent, drop), if one did.
	By string `json:"by,omitempty"`
}

// Log returns the newest delivery log entries, newest first.
func (b *Broker) Log(ctx context.Context, count int64) ([]LogEntry, error) {
	msgs, err := b.rdb.XRevRangeN(ctx, logKey, "+", "-", count).Result()
	if err != nil {
		return nil, fmt.Errorf("queue: reading delivery log: %w", err)
	}
	out := make([]LogEntry, 0, len(msgs))
	for _, m := range msgs {
		out = append(out, logEntry(m))
	}
	return out, nil
}

func logEntry(m redis.XMessage) LogEntry {
	s := func(k string) string { v, _ := m.Values[k].(string); return v }
	e := LogEntry{ID: m.ID, ArticleID: s("article_id"), Channel: s("channel"), Kind: s("kind"), Status: s("status"),
		RemoteID: s("remote_id"), PostURL: s("post_url"), Error: s("error"), By: s("by")}
	e.Attempt, _ = strconv.Atoi(s("attempt"))
	if ms, err := strconv.ParseInt(strings.SplitN(m.ID, "-", 2)[0], 10, 64); err == nil {
		e.Time = time.UnixMilli(ms).UTC()
	}
	return e
}
