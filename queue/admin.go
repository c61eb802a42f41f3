package queue

// Admin operations the CLI, the API and the Telegram admin bot share: an admin's word that a
// post exists (MarkSent), giving a delivery up (Drop), the failed and recent lists, delivery
// counts, the audit trail, alerts from other parts of herald, and reading the delivery log with
// a consumer group.

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"herald/channels"
)

// auditKey is the audit stream: one entry per admin action, capped at AuditMaxLen.
const auditKey = keyPrefix + "audit"

// alertsKey is the stream of alerts raised outside the delivery log (a feed failing), capped at
// alertsMaxLen.
const alertsKey = keyPrefix + "alerts"

// AuditMaxLen caps the audit stream (approximate trimming).
const AuditMaxLen = 10_000

const alertsMaxLen = 10_000

// logScanLimit bounds how far back the failed, recent and outcome views read the delivery log.
const logScanLimit = 50_000

// adminSetScript moves a delivery to a final state on an admin's word and logs the change with
// who decided.
//
//	KEYS[1] ledger key, KEYS[2] pending zset, KEYS[3] log stream, KEYS[4] the channel's unknown set
//	ARGV[1] "sent" (mark sent: from failed or unknown) or "drop" (→ failed: from pending, failed
//	or unknown), ARGV[2] now ms, ARGV[3] log max len, ARGV[4] member, ARGV[5] record TTL s,
//	ARGV[6] by, ARGV[7] remote id, ARGV[8] post url, ARGV[9] error text, ARGV[10] the action's
//	token
//
// Returns "ok", "missing", or the state that refused the change. The token makes the action
// idempotent like a claim's changes: when a reply is lost and go-redis runs the script again,
// the record already carries this token (decided_token) and the re-run answers "ok" without a
// second change or log entry — not "conflict" (a mark sent finding its own sent) nor a second
// "dropped" entry (a drop finding its own failed).
var adminSetScript = logScript(`
if redis.call("EXISTS", KEYS[1]) == 0 then return "missing" end
local f = redis.call("HMGET", KEYS[1], "state", "article_id", "channel", "attempt", "decided_token")
f[2], f[3] = ledger_ids(KEYS[1])
local state = f[1]
if f[5] == ARGV[10] then return "ok" end
local allowed
if ARGV[1] == "sent" then
  allowed = state == "failed" or state == "unknown"
else
  allowed = state == "pending" or state == "failed" or state == "unknown"
end
if not allowed then return state end
local new = "failed"
if ARGV[1] == "sent" then new = "sent" end
redis.call("HSET", KEYS[1], "state", new, "error", ARGV[9], "lease_until", 0, "owner", "",
  "updated_at", ARGV[2], "decided_by", ARGV[6], "decided_token", ARGV[10])
if ARGV[1] == "sent" then
  redis.call("HSET", KEYS[1], "remote_id", ARGV[7], "post_url", ARGV[8])
end
redis.call("ZREM", KEYS[2], ARGV[4])
redis.call("SREM", KEYS[4], ARGV[4])
if tonumber(ARGV[5]) > 0 then redis.call("EXPIRE", KEYS[1], ARGV[5]) end
log_append(KEYS[3], ARGV[3], {article_id = f[2], channel = f[3], status = new, attempt = f[4],
  remote_id = ARGV[7], error = ARGV[9], by = ARGV[6]})
return "ok"
`)

// ErrConflict is returned when a delivery's state does not allow an admin action.
var ErrConflict = errors.New("not allowed in this state")

// MarkSent records an admin's word that a failed or unknown delivery's post exists: the state
// becomes sent and nothing is posted. remoteID and postURL may be empty; by names the admin.
func (b *Broker) MarkSent(ctx context.Context, articleID string, ch channels.Name, by, remoteID, postURL string) (Delivery, error) {
	// The link is shown as one by /status, the dashboard and herald status: only a web address.
	if u, err := url.Parse(postURL); postURL != "" && (err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "") {
		return Delivery{}, fmt.Errorf("queue: marking sent %s: post_url %q is not an absolute http or https URL: %w", deliveryMember(articleID, ch), postURL, ErrInvalidURL)
	}
	return b.adminSet(ctx, "sent", articleID, ch, by, remoteID, postURL, "marked sent by "+by)
}

// Drop gives a pending, failed or unknown delivery up: it becomes a final failed with the reason
// "dropped by <by>", and its queued task is deleted (one running at that moment is acknowledged
// without posting). Left queued, the task of a channel removed from the config would be counted
// as that channel's backlog until the channel came back.
func (b *Broker) Drop(ctx context.Context, articleID string, ch channels.Name, by string) (Delivery, error) {
	d, err := b.adminSet(ctx, "drop", articleID, ch, by, "", "", "dropped by "+by)
	if err == nil {
		id := taskID(articleID, ch, d.Revision, d.Gen)
		for _, q := range asynqQueues(ch) {
			// Not found (no such task, or in the other queue) and "running" are both fine: the
			// record is final, and a task that runs finds it so.
			_ = b.insp.DeleteTask(q, id)
		}
	}
	return d, err
}

func (b *Broker) adminSet(ctx context.Context, mode, articleID string, ch channels.Name, by, remoteID, postURL, note string) (Delivery, error) {
	member := deliveryMember(articleID, ch)
	res, err := adminSetScript.Run(ctx, b.rdb, []string{ledgerKey(articleID, ch), pendingKey, logKey, unknownKey(ch)},
		mode, nowMS(b.opts.Now()), b.opts.LogMaxLen, member, int64(b.opts.Retention/time.Second),
		by, remoteID, postURL, note, randomToken()).Text()
	if err != nil {
		return Delivery{}, fmt.Errorf("queue: %s %s: %w", adminVerb(mode), member, err)
	}
	switch res {
	case "ok":
		return b.Delivery(ctx, articleID, ch)
	case "missing":
		return Delivery{}, fmt.Errorf("queue: delivery %s: %w", member, ErrNotFound)
	default:
		return Delivery{}, fmt.Errorf("queue: %s %s: it is %s: %w", adminVerb(mode), member, res, ErrConflict)
	}
}

func adminVerb(mode string) string {
	if mode == "sent" {
		return "marking sent"
	}
	return "dropping"
}

// LogEvent is a delivery log entry with the admin who caused it, if one did.
type LogEvent struct {
	LogEntry
	By string `json:"by,omitempty"`
}

func logEvent(m redis.XMessage) LogEvent {
	by, _ := m.Values["by"].(string)
	return LogEvent{LogEntry: logEntry(m), By: by}
}

// scanLog calls f with log entries newest first, a page at a time, until f returns false or
// logScanLimit entries were read.
func (b *Broker) scanLog(ctx context.Context, f func(LogEvent) bool) error {
	end := "+"
	for read := 0; read < logScanLimit; {
		msgs, err := b.rdb.XRevRangeN(ctx, logKey, end, "-", 500).Result()
		if err != nil {
			return fmt.Errorf("queue: reading delivery log: %w", err)
		}
		for _, m := range msgs {
			if !f(logEvent(m)) {
				return nil
			}
		}
		read += len(msgs)
		if len(msgs) < 500 {
			return nil
		}
		end = "(" + msgs[len(msgs)-1].ID
	}
	return nil
}

// Failed lists deliveries that are now failed or unknown, most recently changed first, at most
// n, on channel ch ("" for every channel). It reads the newest part of the delivery log.
func (b *Broker) Failed(ctx context.Context, ch channels.Name, n int) ([]Delivery, error) {
	if n <= 0 {
		return nil, nil
	}
	seen := map[string]bool{}
	var out []Delivery
	var scanErr error
	err := b.scanLog(ctx, func(e LogEvent) bool {
		if (e.Status != string(StateFailed) && e.Status != string(StateUnknown)) || (ch != "" && e.Channel != string(ch)) {
			return true
		}
		m := deliveryMember(e.ArticleID, channels.Name(e.Channel))
		if seen[m] {
			return true
		}
		seen[m] = true
		d, ok, err := getDelivery(ctx, b.rdb, e.ArticleID, channels.Name(e.Channel))
		if err != nil {
			scanErr = err
			return false
		}
		if ok && (d.State == StateFailed || d.State == StateUnknown) {
			out = append(out, d)
		}
		return len(out) < n
	})
	if err == nil {
		err = scanErr
	}
	return out, err
}

// Recent returns the n articles whose deliveries changed most recently, newest first.
func (b *Broker) Recent(ctx context.Context, n int) ([]ArticleStatus, error) {
	var ids []string
	seen := map[string]bool{}
	err := b.scanLog(ctx, func(e LogEvent) bool {
		if !seen[e.ArticleID] {
			seen[e.ArticleID] = true
			ids = append(ids, e.ArticleID)
		}
		return len(ids) < n
	})
	if err != nil {
		return nil, err
	}
	out := make([]ArticleStatus, 0, len(ids))
	for _, id := range ids {
		st, err := b.Status(ctx, id)
		if errors.Is(err, ErrNotFound) {
			continue // expired since
		}
		if err != nil {
			return nil, err
		}
		out = append(out, *st)
	}
	return out, nil
}

// Counts are delivery outcomes of one channel over a period.
type Counts struct {
	Sent    int `json:"sent"`
	Failed  int `json:"failed"`
	Unknown int `json:"unknown"`
}

// Outcomes counts the sent, failed and unknown entries of the delivery log since a time, per
// channel.
func (b *Broker) Outcomes(ctx context.Context, since time.Time) (map[channels.Name]Counts, error) {
	out := map[channels.Name]Counts{}
	start := strconv.FormatInt(since.UnixMilli(), 10)
	for read := 0; read < logScanLimit; {
		msgs, err := b.rdb.XRangeN(ctx, logKey, start, "+", 1000).Result()
		if err != nil {
			return nil, fmt.Errorf("queue: reading delivery log: %w", err)
		}
		for _, m := range msgs {
			e := logEntry(m)
			c := out[channels.Name(e.Channel)]
			switch State(e.Status) {
			case StateSent:
				c.Sent++
			case StateFailed:
				c.Failed++
			case StateUnknown:
				c.Unknown++
			default:
				continue
			}
			out[channels.Name(e.Channel)] = c
		}
		read += len(msgs)
		if len(msgs) < 1000 {
			break
		}
		start = "(" + msgs[len(msgs)-1].ID
	}
	return out, nil
}

// AuditEntry is one admin action: who, when, what, and the result.
type AuditEntry struct {
	ID     string    `json:"id,omitempty"`
	Time   time.Time `json:"time"`
	Source string    `json:"source"` // "telegram", "api", "cli"
	// Client is where an API or CLI action came from (remote address, host).
	Client   string `json:"client,omitempty"`
	UserID   int64  `json:"user_id,omitempty"`
	Username string `json:"username,omitempty"`
	ChatID   int64  `json:"chat_id,omitempty"`
	Action   string `json:"action"` // "/repost", "button:mark_sent", …
	Args     string `json:"args,omitempty"`
	Result   string `json:"result"`
	// Allowed is false when the user was refused.
	Allowed bool `json:"allowed"`
}

// AppendAudit adds an entry to the audit stream (time set to now when zero).
func (b *Broker) AppendAudit(ctx context.Context, e AuditEntry) error {
	if e.Time.IsZero() {
		e.Time = b.opts.Now()
	}
	vals := map[string]any{
		"time": e.Time.UnixMilli(), "source": e.Source, "client": e.Client, "user_id": e.UserID, "username": e.Username,
		"chat_id": e.ChatID, "action": e.Action, "args": e.Args, "result": e.Result, "allowed": strconv.FormatBool(e.Allowed),
	}
	err := b.rdb.XAdd(ctx, &redis.XAddArgs{Stream: auditKey, MaxLen: AuditMaxLen, Approx: true, Values: vals}).Err()
	if err != nil {
		return fmt.Errorf("queue: appending to the audit log: %w", err)
	}
	return nil
}

// Audit returns the newest n audit entries, newest first.
func (b *Broker) Audit(ctx context.Context, n int64) ([]AuditEntry, error) {
	msgs, err := b.rdb.XRevRangeN(ctx, auditKey, "+", "-", n).Result()
	if err != nil {
		return nil, fmt.Errorf("queue: reading the audit log: %w", err)
	}
	out := make([]AuditEntry, 0, len(msgs))
	for _, m := range msgs {
		s := func(k string) string { v, _ := m.Values[k].(string); return v }
		i64 := func(k string) int64 { n, _ := strconv.ParseInt(s(k), 10, 64); return n }
		out = append(out, AuditEntry{
			ID: m.ID, Time: time.UnixMilli(i64("time")).UTC(), Source: s("source"), Client: s("client"), UserID: i64("user_id"),
			Username: s("username"), ChatID: i64("chat_id"), Action: s("action"), Args: s("args"),
			Result: s("result"), Allowed: s("allowed") == "true",
		})
	}
	return out, nil
}

// Alert is something an admin should hear about that is not a delivery's state change: a feed
// failing, a channel herald paused by itself. Any part of herald raises one with RaiseAlert;
// the admin bot sends them to its alert chat in its digest.
type Alert struct {
	ID      string    `json:"id,omitempty"`
	Time    time.Time `json:"time"`
	Kind    string    `json:"kind"`    // "feed", "pause", …
	Subject string    `json:"subject"` // the feed URL, the channel name
	Text    string    `json:"text"`    // what went wrong, for a human
}

// RaiseAlert records an alert for the admin bot (time set to now when zero). It is cheap and
// safe to call from any process; with no admin bot configured the stream is only capped.
func (b *Broker) RaiseAlert(ctx context.Context, a Alert) error {
	if a.Time.IsZero() {
		a.Time = b.opts.Now()
	}
	err := b.rdb.XAdd(ctx, &redis.XAddArgs{Stream: alertsKey, MaxLen: alertsMaxLen, Approx: true, Values: map[string]any{
		"time": a.Time.UnixMilli(), "kind": a.Kind, "subject": a.Subject, "text": a.Text,
	}}).Err()
	if err != nil {
		return fmt.Errorf("queue: raising alert: %w", err)
	}
	return nil
}

// Consumer reads the delivery log and the alert stream through a Redis consumer group, so that
// of several herald processes exactly one handles each entry. Entries a stopped consumer read
// but did not acknowledge are taken over after ClaimIdle.
type Consumer struct {
	b         *Broker
	Group     string
	Name      string
	ClaimIdle time.Duration
}

// NewConsumer returns a consumer of group (created at the streams' current end when missing:
// history is not replayed) named name (unique per process).
func (b *Broker) NewConsumer(ctx context.Context, group, name string) (*Consumer, error) {
	for _, s := range []string{logKey, alertsKey} {
		err := b.rdb.XGroupCreateMkStream(ctx, s, group, "$").Err()
		if err != nil && !strings.Contains(err.Error(), "BUSYGROUP") {
			return nil, fmt.Errorf("queue: creating consumer group %s on %s: %w", group, s, err)
		}
	}
	if err := b.forgetConsumers(ctx, group); err != nil {
		return nil, err
	}
	return &Consumer{b: b, Group: group, Name: name, ClaimIdle: time.Minute}, nil
}

// consumerForgetIdle is how long a consumer with nothing pending may be idle before a new
// consumer of its group deletes it. Consumers are named per process (host:pid:random), so every
// restart adds one to the group on both streams, kept for ever: a live one reads at least
// every few seconds, and what a dead one left pending is taken over (XAUTOCLAIM) before it can
// be deleted.
var consumerForgetIdle = time.Hour

// forgetConsumers deletes the group's consumers that have nothing pending and have been idle
// for consumerForgetIdle (processes gone). A consumer deleted while still alive comes back at
// its next read; only its pending entries would be lost, and it has none.
func (b *Broker) forgetConsumers(ctx context.Context, group string) error {
	for _, s := range []string{logKey, alertsKey} {
		cs, err := b.rdb.XInfoConsumers(ctx, s, group).Result()
		if err != nil {
			return fmt.Errorf("queue: listing the consumers of %s on %s: %w", group, s, err)
		}
		for _, c := range cs {
			if c.Pending == 0 && c.Idle >= consumerForgetIdle {
				if err := b.rdb.XGroupDelConsumer(ctx, s, group, c.Name).Err(); err != nil {
					return fmt.Errorf("queue: deleting consumer %s of %s on %s: %w", c.Name, group, s, err)
				}
			}
		}
	}
	return nil
}

// Batch is what one Read returned; Ack it once handled.
type Batch struct {
	Log    []LogEvent
	Alerts []Alert
	logIDs []string
	alIDs  []string
}

// Read returns new entries of both streams (up to count each), first taking over entries other
// consumers left unacknowledged, waiting up to block when there are none.
func (c *Consumer) Read(ctx context.Context, count int64, block time.Duration) (*Batch, error) {
	out := &Batch{}
	add := func(stream string, msgs []redis.XMessage) {
		for _, m := range msgs {
			if stream == logKey {
				out.Log = append(out.Log, logEvent(m))
				out.logIDs = append(out.logIDs, m.ID)
				continue
			}
			out.Alerts = append(out.Alerts, alertFrom(m))
			out.alIDs = append(out.alIDs, m.ID)
		}
	}
	for _, s := range []string{logKey, alertsKey} {
		msgs, _, err := c.b.rdb.XAutoClaim(ctx, &redis.XAutoClaimArgs{Stream: s, Group: c.Group, Consumer: c.Name,
			MinIdle: c.ClaimIdle, Start: "0-0", Count: count}).Result()
		if err != nil {
			return nil, fmt.Errorf("queue: claiming idle entries of %s: %w", s, err)
		}
		add(s, msgs)
	}
	if len(out.logIDs)+len(out.alIDs) > 0 {
		block = -1 // do not wait when there is work
	}
	streams, err := c.b.rdb.XReadGroup(ctx, &redis.XReadGroupArgs{Group: c.Group, Consumer: c.Name,
		Streams: []string{logKey, alertsKey, ">", ">"}, Count: count, Block: block}).Result()
	if err != nil && !errors.Is(err, redis.Nil) {
		return out, fmt.Errorf("queue: reading the delivery log: %w", err)
	}
	for _, s := range streams {
		add(s.Stream, s.Messages)
	}
	return out, nil
}

// Ack acknowledges a batch: its entries will not be read by the group again.
func (c *Consumer) Ack(ctx context.Context, batch *Batch) error {
	pipe := c.b.rdb.Pipeline()
	if len(batch.logIDs) > 0 {
		pipe.XAck(ctx, logKey, c.Group, batch.logIDs...)
	}
	if len(batch.alIDs) > 0 {
		pipe.XAck(ctx, alertsKey, c.Group, batch.alIDs...)
	}
	if _, err := pipe.Exec(ctx); err != nil {
		return fmt.Errorf("queue: acknowledging log entries: %w", err)
	}
	return nil
}

func alertFrom(m redis.XMessage) Alert {
	s := func(k string) string { v, _ := m.Values[k].(string); return v }
	ms, _ := strconv.ParseInt(s("time"), 10, 64)
	return Alert{ID: m.ID, Time: time.UnixMilli(ms).UTC(), Kind: s("kind"), Subject: s("subject"), Text: s("text")}
}

// Client is the broker's Redis client, for components that keep keys of their own next to the
// queue's (the admin bot's offsets, leases and buttons).
func (b *Broker) Client() redis.UniversalClient { return b.rdb }
