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
const luaLogAppend = `
local function log_append(stream, maxlen, e)
  local fields = {"article_id", e.article_id, "channel", e.channel, "status", e.status,
    "attempt", tostring(e.attempt or 0)}
  if e.remote_id ~= nil and e.remote_id ~= "" then
    table.insert(fields, "remote_id"); table.insert(fields, e.remote_id)
  end
  if e.error ~= nil and e.error ~= "" then
    table.insert(fields, "error"); table.insert(fields, e.error)
  end
  if e.by ~= nil and e.by ~= "" then
    table.insert(fields, "by"); table.insert(fields, e.by)
  end
  return redis.call("XADD", stream, "MAXLEN", "~", maxlen, "*", unpack(fields))
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
	RemoteID  string    `json:"remote_id,omitempty"`
	Error     string    `json:"error,omitempty"`
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
	e := LogEntry{ID: m.ID, ArticleID: s("article_id"), Channel: s("channel"), Status: s("status"), RemoteID: s("remote_id"), Error: s("error")}
	e.Attempt, _ = strconv.Atoi(s("attempt"))
	if ms, err := strconv.ParseInt(strings.SplitN(m.ID, "-", 2)[0], 10, 64); err == nil {
		e.Time = time.UnixMilli(ms).UTC()
	}
	return e
}
