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
// status, attempt and, when there is one, remote_id, error and by (the admin who decided).
// Empty optional fields are left out of the entry (logEntry reads a missing field as ""). It
// returns the new entry's id.
//
// Beside the stream it keeps, for queries that must not scan the whole log (QueryLog, FollowLog,
// Overview; see logindex.go for the key names):
//   - index streams per channel, status and channel+status holding a copy of each entry under
//     the same id, trimmed to the main stream's oldest id (the same retention);
//   - per article, a sorted set of its entries' ids (scored by time);
//   - per channel and status, per-minute counters for the last 25 hours;
//   - per channel, the publish→post latency of each sent delivery of the last 25 hours.
//
// The entry also carries the channel's kind and, for a sent delivery, the post's URL, read
// from the ledger record. These keys are not passed in KEYS: herald runs on one Redis primary
// (asynq needs it, DESIGN.md), never a Cluster.
const luaLogAppend = `
local function log_append(stream, maxlen, e)
  local ledger = "` + keyPrefix + `dlv:{" .. e.article_id .. ":" .. e.channel .. "}"
  local rec = redis.call("HMGET", ledger, "kind", "post_url", "created_at")
  local fields = {"article_id", e.article_id, "channel", e.channel, "status", e.status,
    "attempt", tostring(e.attempt or 0)}
  if rec[1] then
    table.insert(fields, "kind"); table.insert(fields, rec[1])
  end
  if e.remote_id ~= nil and e.remote_id ~= "" then
    table.insert(fields, "remote_id"); table.insert(fields, e.remote_id)
  end
  if e.status == "sent" and rec[2] and rec[2] ~= "" then
    table.insert(fields, "post_url"); table.insert(fields, rec[2])
  end
  if e.error ~= nil and e.error ~= "" then
    table.insert(fields, "error"); table.insert(fields, e.error)
  end
  if e.by ~= nil and e.by ~= "" then
    table.insert(fields, "by"); table.insert(fields, e.by)
  end
  local id = redis.call("XADD", stream, "MAXLEN", "~", maxlen, "*", unpack(fields))
  local first = redis.call("XRANGE", stream, "-", "+", "COUNT", 1)
  local minid = id
  if first[1] then minid = first[1][1] end
  local ix = stream .. ":ix:"
  for _, k in ipairs({ix .. "ch:" .. e.channel, ix .. "st:" .. e.status,
      ix .. "cs:" .. e.channel .. ":" .. e.status}) do
    redis.call("XADD", k, "MINID", "~", minid, id, unpack(fields))
  end
  local ms = tonumber(string.match(id, "^(%d+)"))
  -- An article has a few entries: its index is a small sorted set of their ids (a stream per
  -- article costs ~4.7 KB), read back from the main log. It gets no more entries once the
  -- article is done: let it go with the records.
  redis.call("ZADD", ix .. "art:" .. e.article_id, ms, id)
  redis.call("EXPIRE", ix .. "art:" .. e.article_id, ` + logIndexArticleTTL + `)
  local hour = math.floor(ms / 3600000)
  local counter = stream .. ":n:" .. e.channel .. ":" .. e.status .. ":" .. hour
  redis.call("HINCRBY", counter, tostring(math.floor(ms / 60000)), 1)
  redis.call("EXPIRE", counter, 90000)
  if e.status == "sent" and rec[3] then
    local lat = stream .. ":lat:" .. e.channel
    redis.call("ZADD", lat, ms, tostring(ms - tonumber(rec[3])) .. ":" .. id)
    redis.call("ZREMRANGEBYSCORE", lat, "-inf", ms - 90000000)
  end
  return id
end
`

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
	Kind      string    `json:"kind"`
	RemoteID  string    `json:"remote_id"`
	PostURL   string    `json:"post_url"`
	Error     string    `json:"error"`
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
