package queue

// Correct changes an article after it was published (a fixed headline, summary or figure):
// the corrected article replaces the stored one, so every delivery not yet sent posts it, and
// every sent post on a channel that can edit (channels.Editor) is changed in place — it keeps
// its link and its reactions — each edit an `edited` entry in the delivery log with who asked.
// It runs synchronously, in the caller's process, with the routes the caller built (their
// renderers format the corrected article exactly as the worker would).

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"herald/article"
	"herald/channels"
)

// LogEdited is the delivery-log status of a sent post changed in place by Correct. The record
// itself stays sent (with edited_at and edited_by).
const LogEdited = "edited"

// editLease bounds how long one Correct holds a delivery's edit; longer than retractBudget.
const editLease = time.Minute

// CorrectResult is what Correct did for one delivery.
type CorrectResult struct {
	Channel channels.Name `json:"channel"`
	Kind    channels.Kind `json:"kind,omitempty"`
	// Result: "edited" (the sent post was changed on the platform now), "will-post-corrected"
	// (not posted yet: it will post the corrected article; for an unknown outcome see Note),
	// "cannot-edit" (the channel's platform cannot change a post: it keeps the old text; retract
	// and repost to replace it), "no-remote-id" (sent but herald has no id to edit by), "busy"
	// (being sent, retracted or edited right now: correct again), "retracted" (taken back:
	// nothing to edit), "failed" (the edit failed: see Error; the post keeps the old text and a
	// later Correct tries again), "not-configured" (this process has no such channel).
	Result   string `json:"result"`
	RemoteID string `json:"remote_id,omitempty"`
	Error    string `json:"error,omitempty"`
	Note     string `json:"note,omitempty"`
	Attempts int    `json:"attempts,omitempty"`
}

// Correction is the result of Correct.
type Correction struct {
	ArticleID string          `json:"id"`
	By        string          `json:"by"`
	Results   []CorrectResult `json:"results"`
}

// Failed reports whether an edit failed or a delivery was busy (worth another Correct).
func (c *Correction) Failed() bool {
	for _, x := range c.Results {
		if x.Result == "failed" || x.Result == "busy" {
			return true
		}
	}
	return false
}

// Summary is what each channel answered, for the audit log: "tg edited, x cannot-edit".
func (c *Correction) Summary() string {
	if c == nil {
		return ""
	}
	parts := make([]string, 0, len(c.Results))
	for _, x := range c.Results {
		parts = append(parts, string(x.Channel)+" "+x.Result)
	}
	return strings.Join(parts, ", ")
}

// correctStoreScript replaces a stored article's value, keeping the channel names in front of
// it (or, for a value stored before that layout, none: its names are the set beside it) and its
// lifetime, and indexes the corrected URL with it (urlindex.go; the old URL's entry stays).
//
//	KEYS[1] article key, KEYS[2] URL index bucket; ARGV[1] the article's stored form
//	(encodeArticle), ARGV[2] URL index field ("" = none), ARGV[3] article id, ARGV[4] the
//	bucket's TTL seconds
//
// Returns 0 when the article is not stored.
var correctStoreScript = redis.NewScript(`
local cur = redis.call("GET", KEYS[1])
if not cur then return 0 end
local b = string.byte(cur, 1)
local sep = string.find(cur, "\0", 1, true)
local v = ARGV[1]
if b ~= 123 and b ~= 1 and sep then v = string.sub(cur, 1, sep) .. ARGV[1] end
redis.call("SET", KEYS[1], v, "KEEPTTL")
if ARGV[2] ~= "" then
  redis.call("HSET", KEYS[2], ARGV[2], ARGV[3])
  redis.call("EXPIRE", KEYS[2], ARGV[4])
end
return 1
`)

// editBeginScript decides what Correct does with one delivery and, for a sent post on an
// editing channel, takes its edit (the request's token and a lease in edit_token / edit_until;
// the state stays sent, so the worker and Retract see nothing new).
//
//	KEYS[1] ledger key
//	ARGV[1] now ms, ARGV[2] token, ARGV[3] lease until ms, ARGV[4] "1" if the channel can edit,
//	ARGV[5] who corrects, to record on a sent post its channel cannot edit ("" = record nothing:
//	this process does not have the channel)
//
// Returns {result, remote id}: "missing", "retracted", "pending" (it will post the stored
// article), "failed" (it will, if an admin retries it), "pending-maybe-posted" (a pending retry of a deduplicating channel
// whose earlier attempt's answer was lost, maybe_at: that attempt may have made the post, with
// the old text, which the retry gets back), "unknown", "busy", "no-remote-id", "cannot-edit" or
// "edit" (the caller edits, then calls editFinishScript). A send whose lease ran out answers
// "unknown".
var editBeginScript = logScript(`
if redis.call("EXISTS", KEYS[1]) == 0 then return {"missing", ""} end
local f = redis.call("HMGET", KEYS[1], "state", "remote_id", "edit_token", "edit_until", "` + ledgerMaybePosted + `", "lease_until")
local state, rid = f[1], f[2] or ""
if state == "retracted" then return {"retracted", rid} end
if state == "pending" and f[5] then return {"pending-maybe-posted", rid} end
if state == "pending" then return {"pending", rid} end
if state == "failed" then return {"failed", rid} end
if state == "unknown" then return {"unknown", rid} end
if state == "sending" then
  -- A send whose lease ran out (Redis clock) left no worker behind to turn it unknown (herald
  -- down, the correction made with the CLI): its outcome is unknown, not busy at every call.
  local t = redis.call("TIME")
  if tonumber(f[6] or "0") <= tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000) then return {"unknown", rid} end
end
if state ~= "sent" then return {"busy", rid} end
if rid == "" then return {"no-remote-id", ""} end
if ARGV[4] ~= "1" then
  -- The post keeps the old text: the record says which correction missed it (not_edited_*),
  -- for the dashboard and the admin bot.
  if ARGV[5] ~= "" then redis.call("HSET", KEYS[1], "not_edited_at", ARGV[1], "not_edited_by", ARGV[5]) end
  return {"cannot-edit", rid}
end
if f[3] and f[3] ~= "" and f[3] ~= ARGV[2] and tonumber(f[4] or "0") > tonumber(ARGV[1]) then
  return {"busy", rid}
end
redis.call("HSET", KEYS[1], "edit_token", ARGV[2], "edit_until", ARGV[3])
return {"edit", rid}
`)

// editFinishScript records the outcome of an edit taken by editBeginScript (only under the
// same token): "ok" → edited_at / edited_by on the record (an earlier edit's error cleared) and
// an "edited" log entry with who asked; anything else → the error on the record (it stays sent,
// with the old text).
//
//	KEYS[1] ledger key, KEYS[2] log stream
//	ARGV[1] now ms, ARGV[2] log max len, ARGV[3] by, ARGV[4] token, ARGV[5] "ok" or the error text
//
// Returns "ok" or "lost".
var editFinishScript = logScript(`
local f = redis.call("HMGET", KEYS[1], "state", "attempt", "remote_id", "edit_token", "error")
if f[4] ~= ARGV[4] then return "lost" end
local article_id, channel = ledger_ids(KEYS[1])
redis.call("HDEL", KEYS[1], "edit_token", "edit_until")
if ARGV[5] == "ok" then
  redis.call("HSET", KEYS[1], "edited_at", ARGV[1], "edited_by", ARGV[3], "updated_at", ARGV[1])
  redis.call("HDEL", KEYS[1], "not_edited_at", "not_edited_by")
  -- An earlier edit's error is over now; a retract's is not (the post it left still stands).
  if f[5] and string.sub(f[5], 1, 13) == "edit failed: " then redis.call("HDEL", KEYS[1], "error") end
  log_append(KEYS[2], ARGV[2], {article_id = article_id, channel = channel, status = "` + LogEdited + `",
    attempt = f[2], remote_id = f[3], error = "edited on the platform", by = ARGV[3]})
  return "ok"
end
redis.call("HSET", KEYS[1], "error", "edit failed: " .. ARGV[5], "updated_at", ARGV[1])
return "ok"
`)

// Correct replaces article a (which must have been published: ErrNotFound otherwise) with its
// corrected version, normalised and validated as a publish is (a *article.ValidationError
// before anything changes), then brings its deliveries on channel ch ("" for every channel it
// was routed to) up to date: a sent post on a channel whose route's Channel is a
// channels.Editor is rendered with the route's Renderer and edited in place; deliveries not yet
// sent will post the corrected article. by names who asked. An edit is retried like a delete
// in Retract (rate limits waited for, retryable errors backed off) within one budget for the
// whole call; a permanent or auth error, or the budget running out, is reported "failed". The
// error is for the article (validation, ErrNotFound) or Redis, never for one channel's edit.
func (b *Broker) Correct(ctx context.Context, a *article.Article, ch channels.Name, by string, routes map[channels.Name]Route) (*Correction, error) {
	a.Normalize()
	if err := a.Validate(); err != nil {
		return nil, err
	}
	old, err := b.Article(ctx, a.ID)
	if errors.Is(err, ErrNotFound) {
		return nil, b.NoRecord(a.ID)
	}
	if err != nil {
		return nil, err
	}
	dels, err := b.Deliveries(ctx, a.ID)
	if errors.Is(err, ErrNotFound) || err == nil && len(dels) == 0 {
		return nil, b.NoRecord(a.ID)
	}
	if err != nil {
		return nil, err
	}
	if ch != "" && !hasChannel(dels, ch) {
		return nil, fmt.Errorf("queue: delivery %s: %w", deliveryMember(a.ID, ch), ErrNotFound)
	}
	if len(a.Channels) == 0 {
		// The routing the article was published with stays, unless the correction names one.
		a.Channels = old.Channels
	}
	body, err := json.Marshal(a)
	if err != nil {
		return nil, fmt.Errorf("queue: encoding article: %w", err)
	}
	ixKey, ixField := b.urlIndex(a)
	n, err := correctStoreScript.Run(ctx, b.rdb, []string{articleKey(a.ID), ixKey}, encodeArticle(body),
		ixField, a.ID, b.urlBucketLife(b.opts.Now())).Int()
	if err != nil {
		return nil, fmt.Errorf("queue: storing the corrected article %s: %w", a.ID, err)
	}
	if n == 0 {
		return nil, fmt.Errorf("queue: article %s: %w", a.ID, ErrNotFound)
	}
	out := &Correction{ArticleID: a.ID, By: by}
	// One budget for every edit of the call, so an API call answers within its write timeout;
	// the edits run side by side (eachDelivery), so a platform that hangs delays no other.
	dctx, cancel := context.WithTimeout(ctx, retractBudget)
	defer cancel()
	dels = slices.DeleteFunc(dels, func(d Delivery) bool { return ch != "" && d.Channel != ch })
	out.Results, err = eachDelivery(dels, func(d Delivery) (CorrectResult, error) { return b.correctOne(ctx, dctx, old, a, d, by, routes) })
	sort.Slice(out.Results, func(i, j int) bool { return out.Results[i].Channel < out.Results[j].Channel })
	return out, err
}

func hasChannel(dels []Delivery, ch channels.Name) bool {
	for _, d := range dels {
		if d.Channel == ch {
			return true
		}
	}
	return false
}

func (b *Broker) correctOne(ctx, dctx context.Context, old, a *article.Article, d Delivery, by string, routes map[channels.Name]Route) (CorrectResult, error) {
	r := CorrectResult{Channel: d.Channel, Kind: d.Kind}
	route, configured := routes[d.Channel]
	ed, canEdit := route.Channel.(channels.Editor)
	member := deliveryMember(d.ArticleID, d.Channel)
	key := ledgerKey(d.ArticleID, d.Channel)
	token := randomToken()
	now := b.opts.Now()
	flag, missedBy := "0", by
	if canEdit && route.Renderer != nil {
		flag = "1"
	}
	if !configured {
		missedBy = "" // another process's channel may well edit
	}
	res, err := editBeginScript.Run(ctx, b.rdb, []string{key}, nowMS(now), token, nowMS(now.Add(editLease)), flag, missedBy).StringSlice()
	if err != nil {
		return r, fmt.Errorf("queue: correcting %s: %w", member, err)
	}
	r.Result, r.RemoteID = res[0], res[1]
	switch r.Result {
	case "pending":
		r.Result = "will-post-corrected"
		return r, nil
	case "failed":
		// A failed delivery posts nothing more on its own: only an admin's retry sends it.
		r.Result = "will-post-corrected"
		r.Note = "its send failed: it posts the corrected text only when retried (herald retry, or the bot's or the dashboard's retry)"
		return r, nil
	case "unknown":
		r.Result = "will-post-corrected"
		r.Note = "the outcome of its send is unknown: if the platform shows the post, it has the old text; check by hand"
		return r, nil
	case "pending-maybe-posted":
		// The retry carries the same idempotency key (Mastodon) or record key (Bluesky), or the
		// same webhook-id: the platform answers with, or the receiver keeps, what the first
		// attempt made.
		r.Result = "will-post-corrected"
		r.Note = "an earlier attempt's answer was lost, and its post, if it was made, has the old text, which the retry will record as sent: once it is sent, correct again (or check the post by hand where the platform cannot edit)"
		return r, nil
	case "missing":
		r.Result = "busy"
		r.Error = "the delivery record is gone"
		return r, nil
	case "cannot-edit":
		if !configured {
			r.Result = "not-configured"
		}
		return r, nil
	case "edit":
	default:
		return r, nil
	}
	var eerr error
	posts, err := route.Renderer.Render(a)
	if err != nil {
		eerr = channels.Permanent(fmt.Errorf("formatting for %s: %w", d.Channel, err))
	} else {
		msg := channels.Message{ArticleID: d.ArticleID, Key: TaskID(d.ArticleID, d.Channel, d.Revision), Attempt: 1, Posts: posts}
		r.Attempts, eerr = withRetries(dctx, "correct", func(ctx context.Context) error { return ed.Edit(ctx, r.RemoteID, msg) })
	}
	outcome := "ok"
	if eerr != nil {
		outcome = eerr.Error()
	}
	// The outcome is recorded even when ctx ended: an edit that went out is logged.
	fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	fin, err := editFinishScript.Run(fctx, b.rdb, []string{key, logKey}, nowMS(b.opts.Now()), b.opts.LogMaxLen, by, token, outcome).Text()
	if err != nil {
		return r, fmt.Errorf("queue: recording the correction of %s: %w", member, err)
	}
	switch {
	case fin != "ok":
		r.Result, r.Error = "busy", "another correction took the delivery over"
	case eerr != nil:
		r.Result, r.Error = "failed", eerr.Error()
	default:
		r.Result = "edited"
		// What the platform's edit could not change (LinkedIn's link card) is said, so an edited
		// post does not pass for a fully corrected one.
		if k, ok := ed.(channels.EditKeeper); ok {
			if before, err := route.Renderer.Render(old); err == nil {
				r.Note = k.EditKeeps(before, posts, !d.EditedAt.IsZero())
			}
		}
	}
	return r, nil
}

// withRetries runs call (a delete or an edit of a sent post), classifying errors as the worker
// classifies a send's: permanent and auth (pause) errors end at once; a rate limit waits until
// its time; anything else (retryable, unknown outcome: deleting and editing are idempotent)
// backs off and tries again, within ctx (the call's budget) and retractAttempts. what names
// the call in errors ("retract", "correct").
func withRetries(ctx context.Context, what string, call func(context.Context) error) (int, error) {
	var err error
	for attempt := 1; ; attempt++ {
		err = call(ctx)
		if err == nil {
			return attempt, nil
		}
		if channels.IsPermanent(err) {
			return attempt, err
		}
		if _, ok := channels.AsPause(err); ok {
			return attempt, err
		}
		if attempt >= retractAttempts {
			return attempt, fmt.Errorf("gave up after %d attempts: %w", attempt, err)
		}
		wait := time.Duration(attempt) * 500 * time.Millisecond
		if rl, ok := channels.AsRateLimited(err); ok {
			wait = time.Until(rl.RetryAt)
		}
		if dl, ok := ctx.Deadline(); ok && time.Now().Add(wait).After(dl) {
			return attempt, fmt.Errorf("not retried: the next attempt would be after the %s's %s budget: %w", what, retractBudget, err)
		}
		t := time.NewTimer(max(wait, 0))
		select {
		case <-ctx.Done():
			t.Stop()
			return attempt, errors.Join(err, ctx.Err())
		case <-t.C:
		}
	}
}
