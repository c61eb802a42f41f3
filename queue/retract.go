package queue

// Retract takes an article back (corrections, a trashed WordPress post): every sent delivery
// on a channel that can delete (channels.Deleter) is deleted on the platform, deliveries not
// yet sent are cancelled, and each change is a `retracted` entry in the delivery log with who
// asked. It runs synchronously, in the caller's process, with the channels the caller built.

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"herald/channels"
)

// StateRetracted is a delivery taken back: its post was deleted on the platform, or it was
// cancelled before it was posted. A queued task for it is acknowledged without posting; a
// repost sends it again.
const StateRetracted State = "retracted"

// StateRetracting holds a sent delivery while one Retract deletes its post (with a lease, so a
// crashed retract is taken over after retractLease).
const StateRetracting State = "retracting"

// retractLease bounds how long one Retract holds a delivery; longer than retractBudget.
const retractLease = time.Minute

// retractBudget bounds the deletes of one Retract, retries included, so an API call (30 s write
// timeout) answers in time; what is left undone is reported and a later Retract resumes it.
// (A variable for the tests.)
var retractBudget = 20 * time.Second

// retractAttempts bounds the delete attempts of one delivery in one Retract.
const retractAttempts = 4

// RetractResult is what Retract did for one delivery.
type RetractResult struct {
	Channel channels.Name `json:"channel"`
	Kind    channels.Kind `json:"kind,omitempty"`
	// Result: "retracted" (deleted on the platform now), "cancelled" (not posted, and now never
	// will be), "already" (retracted before: nothing done), "cannot-delete" (the channel's
	// platform cannot take a post back: the post stays), "no-remote-id" (sent but herald has no
	// id to delete by), "busy" (being sent or retracted right now: try again), "failed" (the
	// delete failed: see Error; the delivery stays sent and a later Retract tries again),
	// "not-configured" (this process has no such channel).
	Result   string `json:"result"`
	RemoteID string `json:"remote_id,omitempty"`
	Error    string `json:"error,omitempty"`
	// Note, on a "cancelled" delivery whose post may be out all the same (its send's outcome is
	// unknown, or an earlier attempt's answer was lost), says to check the platform by hand.
	Note     string `json:"note,omitempty"`
	Attempts int    `json:"attempts,omitempty"`
}

// noteMaybePosted is the note (and the record's error) of a delivery cancelled although its post
// may be out: herald has no id to delete it by.
const noteMaybePosted = "cancelled; the outcome of its send was unknown: if the platform shows the post, remove it by hand"

// Retraction is the result of Retract.
type Retraction struct {
	ArticleID string          `json:"id"`
	By        string          `json:"by"`
	Results   []RetractResult `json:"results"`
}

// Failed reports whether a delete failed or a delivery was busy (worth another Retract).
func (r *Retraction) Failed() bool {
	for _, x := range r.Results {
		if x.Result == "failed" || x.Result == "busy" {
			return true
		}
	}
	return false
}

// Summary is what each channel answered, for the audit log: "tg retracted, x cannot-delete".
func (r *Retraction) Summary() string {
	if r == nil {
		return ""
	}
	parts := make([]string, 0, len(r.Results))
	for _, x := range r.Results {
		parts = append(parts, string(x.Channel)+" "+x.Result)
	}
	return strings.Join(parts, ", ")
}

// retractBeginScript decides what Retract does with one delivery and, for a sent post on a
// deleting channel, takes it (state retracting, the request's token, a lease).
//
//	KEYS[1] ledger key, KEYS[2] pending zset, KEYS[3] log stream, KEYS[4] the channel's unknown index
//	ARGV[1] now ms, ARGV[2] log max len, ARGV[3] member, ARGV[4] record TTL s, ARGV[5] by,
//	ARGV[6] token, ARGV[7] lease until ms, ARGV[8] "1" if the channel can delete, ARGV[9] "1" if
//	this process has the channel (a sent post it leaves is then noted on the record: the error
//	says who asked and that the post stays)
//
// Returns {result, remote id}: "missing", "cancelled", "cancelled-maybe-posted" (cancelled, but
// the post may be out: an unknown outcome without a remote id, a pending retry of a
// deduplicating channel whose earlier answer was lost, maybe_at, or a send whose lease ran out), "already", "busy",
// "cannot-delete", "no-remote-id" or "delete" (the caller deletes, then calls retractFinishScript).
// "busy" also answers a post a correction is editing (edit_token with a live edit_until).
var retractBeginScript = logScript(`
if redis.call("EXISTS", KEYS[1]) == 0 then return {"missing", ""} end
local f = redis.call("HMGET", KEYS[1], "state", "article_id", "channel", "attempt", "remote_id", "token", "lease_until", "` + ledgerMaybePosted + `",
  "edit_token", "edit_until")
f[2], f[3] = ledger_ids(KEYS[1])
local state, rid = f[1], f[5] or ""
local function take_back(note)
  redis.call("HSET", KEYS[1], "state", "retracted", "error", note, "lease_until", 0, "owner", "",
    "updated_at", ARGV[1], "retracted_by", ARGV[5], "retracted_at", ARGV[1])
  redis.call("ZREM", KEYS[2], ARGV[3])
  redis.call("SREM", KEYS[4], ARGV[3])
  if tonumber(ARGV[4]) > 0 then redis.call("EXPIRE", KEYS[1], ARGV[4]) end
  log_append(KEYS[3], ARGV[2], {article_id = f[2], channel = f[3], status = "retracted", attempt = f[4],
    remote_id = rid, error = note, by = ARGV[5]})
end
if state == "retracted" then return {"already", rid} end
if (state == "unknown" and rid == "") or (state == "pending" and f[8]) then
  take_back("` + noteMaybePosted + `")
  return {"cancelled-maybe-posted", ""}
end
if state == "pending" or state == "failed" then
  take_back("cancelled before it was posted")
  return {"cancelled", ""}
end
if state == "sending" then
  -- A send whose lease ran out (on the Redis clock, as leases are) left no worker behind: none
  -- runs to turn it unknown (herald down, the takedown made with the CLI). Its outcome is
  -- unknown: cancelled, saying to check by hand, instead of busy at every call.
  local t = redis.call("TIME")
  local rnow = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
  if rid ~= "" or tonumber(f[7] or "0") > rnow then return {"busy", rid} end
  take_back("` + noteMaybePosted + `")
  return {"cancelled-maybe-posted", ""}
end
if state == "retracting" and f[6] ~= ARGV[6] and tonumber(f[7] or "0") > tonumber(ARGV[1]) then
  return {"busy", rid}
end
if state ~= "sent" and state ~= "unknown" and state ~= "retracting" then return {state, rid} end
-- A post the retract leaves stays sent; its record says so, for herald status, the API and the
-- dashboard, until an admin removes it by hand (another process's channel may still delete it).
local function left(why)
  if ARGV[9] == "1" and state == "sent" then
    redis.call("HSET", KEYS[1], "error", "not retracted (asked by " .. ARGV[5] .. "): " .. why .. "; remove it by hand",
      "updated_at", ARGV[1])
  end
end
if rid == "" then
  left("herald has no id of the post")
  return {"no-remote-id", ""}
end
if ARGV[8] ~= "1" then
  left("the platform cannot delete a post")
  return {"cannot-delete", rid}
end
-- A correction editing the post right now (correct.go's lease): the delete waits for it, as an
-- edit waits for a retract, so neither acts on a post the other is changing.
if f[9] and f[9] ~= "" and tonumber(f[10] or "0") > tonumber(ARGV[1]) then return {"busy", rid} end
redis.call("HSET", KEYS[1], "state", "retracting", "token", ARGV[6], "lease_until", ARGV[7],
  "retract_from", (state == "retracting") and (redis.call("HGET", KEYS[1], "retract_from") or "sent") or state,
  "updated_at", ARGV[1])
return {"delete", rid}
`)

// retractFinishScript records the outcome of the delete of a delivery taken by
// retractBeginScript (only under the same token): "ok" → retracted, logged with who; anything
// else → back to the state it had (sent), with the error kept on the record.
//
//	KEYS[1] ledger key, KEYS[2] pending zset, KEYS[3] log stream, KEYS[4] the channel's unknown index
//	ARGV[1] now ms, ARGV[2] log max len, ARGV[3] member, ARGV[4] record TTL s, ARGV[5] by,
//	ARGV[6] token, ARGV[7] "ok" or the error text
//
// Returns "ok" or "lost".
var retractFinishScript = logScript(`
local f = redis.call("HMGET", KEYS[1], "state", "article_id", "channel", "attempt", "remote_id", "token", "retract_from")
f[2], f[3] = ledger_ids(KEYS[1])
if f[6] ~= ARGV[6] then return "lost" end
if f[1] == "retracted" and ARGV[7] == "ok" then return "ok" end
if f[1] ~= "retracting" then return "lost" end
if ARGV[7] == "ok" then
  redis.call("HSET", KEYS[1], "state", "retracted", "error", "", "lease_until", 0,
    "updated_at", ARGV[1], "retracted_by", ARGV[5], "retracted_at", ARGV[1])
  redis.call("SREM", KEYS[4], ARGV[3])
  if tonumber(ARGV[4]) > 0 then redis.call("EXPIRE", KEYS[1], ARGV[4]) end
  log_append(KEYS[3], ARGV[2], {article_id = f[2], channel = f[3], status = "retracted", attempt = f[4],
    remote_id = f[5], error = "deleted on the platform", by = ARGV[5]})
  return "ok"
end
redis.call("HSET", KEYS[1], "state", f[7] or "sent", "lease_until", 0, "updated_at", ARGV[1],
  "error", "retract failed: " .. ARGV[7])
return "ok"
`)

// Retract takes article articleID back on channel ch ("" for every channel it was routed to):
// sent posts are deleted through chans (the caller's built channels; a channel that is not a
// channels.Deleter is reported "cannot-delete" and its post stays), deliveries not yet sent are
// cancelled. by names who asked. Retracting twice deletes once. A delete is retried like a send
// (rate limits waited for, retryable errors backed off, an unknown outcome retried: deleting
// is idempotent) within retractBudget; a permanent or auth error, or the budget running out,
// is reported "failed" and the delivery stays sent. The error is for the article (ErrNotFound)
// or Redis, never for one channel's delete.
func (b *Broker) Retract(ctx context.Context, articleID string, ch channels.Name, by string, chans map[channels.Name]channels.Channel) (*Retraction, error) {
	dels, err := b.Deliveries(ctx, articleID)
	if errors.Is(err, ErrNotFound) || err == nil && len(dels) == 0 {
		return nil, b.NoRecord(articleID)
	}
	if err != nil {
		return nil, err
	}
	dels = slices.DeleteFunc(dels, func(d Delivery) bool { return ch != "" && d.Channel != ch })
	if len(dels) == 0 {
		return nil, fmt.Errorf("queue: delivery %s: %w", deliveryMember(articleID, ch), ErrNotFound)
	}
	out := &Retraction{ArticleID: articleID, By: by}
	// One budget for every delete of the call, so an API call answers within its write timeout.
	dctx, cancel := context.WithTimeout(ctx, retractBudget)
	defer cancel()
	out.Results, err = eachDelivery(dels, func(d Delivery) (RetractResult, error) { return b.retractOne(ctx, dctx, d, by, chans) })
	sort.Slice(out.Results, func(i, j int) bool { return out.Results[i].Channel < out.Results[j].Channel })
	b.alertPostsLeft(ctx, out)
	return out, err
}

// alertPostsLeft raises an alert (kind "retract", for the admin bot's digest) for each post the
// retraction left up: a trashed WordPress post is retracted with no one reading the answer, and a
// takedown that did not reach a platform must not go unheard. Best effort: the retraction's
// answer says the same.
func (b *Broker) alertPostsLeft(ctx context.Context, out *Retraction) {
	actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	for _, r := range out.Results {
		var why string
		switch {
		case r.Result == "failed":
			why = "the delete failed; the post is still up (retract again, or remove it by hand): " + r.Error
		case r.Result == "cannot-delete":
			why = "the platform cannot delete a post; it is still up: remove it by hand"
		case r.Result == "no-remote-id":
			why = "herald has no id of the post; it is still up: remove it by hand"
		case r.Result == "not-configured":
			why = "the channel is not in this process's config; the post is still up: remove it by hand"
		case r.Result == "cancelled" && r.Note != "":
			why = r.Note
		default:
			continue
		}
		_ = b.RaiseAlert(actx, Alert{Kind: "retract", Subject: out.ArticleID + " on " + string(r.Channel), Text: "retract by " + out.By + ": " + why})
	}
}

// NoRecord is the error (ErrNotFound) of a retract or a correction of an article herald has no
// delivery record of: never published, or published longer ago than the retention, whose posts
// are still up although herald no longer knows them. "Not found" alone read as "never posted".
func (b *Broker) NoRecord(articleID string) error {
	keep := b.opts.Retention.String()
	if b.opts.Retention%(24*time.Hour) == 0 {
		keep = fmt.Sprintf("%d days", b.opts.Retention/(24*time.Hour))
	}
	return fmt.Errorf("queue: article %s: %w: herald has no record of it (never published, or longer ago than the %s herald keeps records: "+
		"remove such posts by hand)", articleID, ErrNotFound, keep)
}

// eachDelivery runs one, for every delivery at once: each channel's delete or edit waits on
// its own platform only, so a platform that hangs does not spend the call's budget for the
// others (one after another, the channels after it failed without a request, call after call).
// It returns the results of the calls that did not fail, and the first error (Redis).
func eachDelivery[R any](dels []Delivery, one func(Delivery) (R, error)) ([]R, error) {
	res := make([]R, len(dels))
	errs := make([]error, len(dels))
	var wg sync.WaitGroup
	for i, d := range dels {
		wg.Go(func() { res[i], errs[i] = one(d) })
	}
	wg.Wait()
	out := make([]R, 0, len(dels))
	var first error
	for i := range dels {
		if errs[i] != nil {
			if first == nil {
				first = errs[i]
			}
			continue
		}
		out = append(out, res[i])
	}
	return out, first
}

func (b *Broker) retractOne(ctx, dctx context.Context, d Delivery, by string, chans map[channels.Name]channels.Channel) (RetractResult, error) {
	r, err := b.retractCurrent(ctx, dctx, d, by, chans)
	if err != nil || len(d.EarlierIDs) == 0 || r.Result == "busy" || r.Result == "not-configured" {
		return r, err
	}
	return b.retractEarlier(ctx, dctx, d, chans[d.Channel], r), nil
}

// retractEarlier deletes the posts a repost left up (Delivery.EarlierIDs) once the current one
// is dealt with, and forgets each one deleted (already gone counts). One that is not deleted
// makes the result "failed" (a channel that cannot delete: "cannot-delete"), with why, and
// stays on the record for the next retract.
func (b *Broker) retractEarlier(ctx, dctx context.Context, d Delivery, c channels.Channel, r RetractResult) RetractResult {
	del, canDelete := c.(channels.Deleter)
	var gone, left []string
	for _, id := range d.EarlierIDs {
		if !canDelete {
			left = append(left, id)
			continue
		}
		n, err := deleteWithRetries(dctx, del, id)
		r.Attempts += n
		if err != nil {
			left = append(left, id)
			r.Result, r.Error = "failed", fmt.Sprintf("an earlier post (before a repost), %s, was not deleted: %v", id, err)
			continue
		}
		gone = append(gone, id)
	}
	if len(gone) > 0 {
		fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		if err := forgetEarlierScript.Run(fctx, b.rdb, []string{ledgerKey(d.ArticleID, d.Channel)}, gone).Err(); err != nil {
			r.Result, r.Error = "failed", fmt.Sprintf("recording the delete of an earlier post: %v", err)
		}
	}
	if len(gone) > 0 && (r.Result == "already" || r.Result == "cancelled" && r.Note == "") {
		r.Result = "retracted" // a post of the story was taken down now
	}
	if len(left) > 0 && !canDelete {
		r.Result = "cannot-delete"
		r.Note = "an earlier post of this delivery (before a repost) is still up: remove it by hand: " + strings.Join(left, ", ")
	}
	return r
}

// forgetEarlierScript removes deleted ids (ARGV) from a record's ledgerEarlierIDs.
var forgetEarlierScript = redis.NewScript(`
local ids = redis.call("HGET", KEYS[1], "` + ledgerEarlierIDs + `")
if not ids then return 0 end
local gone, keep = {}, {}
for _, id in ipairs(ARGV) do gone[id] = true end
for id in string.gmatch(ids, "%S+") do
  if not gone[id] then table.insert(keep, id) end
end
if #keep == 0 then
  redis.call("HDEL", KEYS[1], "` + ledgerEarlierIDs + `")
else
  redis.call("HSET", KEYS[1], "` + ledgerEarlierIDs + `", table.concat(keep, "\n"))
end
return #keep
`)

// retractCurrent retracts the delivery's current post (or cancels its send).
func (b *Broker) retractCurrent(ctx, dctx context.Context, d Delivery, by string, chans map[channels.Name]channels.Channel) (RetractResult, error) {
	r := RetractResult{Channel: d.Channel, Kind: d.Kind}
	c, configured := chans[d.Channel]
	del, canDelete := c.(channels.Deleter)
	member := deliveryMember(d.ArticleID, d.Channel)
	keys := []string{ledgerKey(d.ArticleID, d.Channel), pendingKey, logKey, unknownKey(d.Channel)}
	ttl := int64(b.opts.Retention / time.Second)
	token := randomToken()
	now := b.opts.Now()
	flag, have := "0", "0"
	if canDelete {
		flag = "1"
	}
	if configured {
		have = "1"
	}
	res, err := retractBeginScript.Run(ctx, b.rdb, keys, nowMS(now), b.opts.LogMaxLen, member, ttl, by,
		token, nowMS(now.Add(retractLease)), flag, have).StringSlice()
	if err != nil {
		return r, fmt.Errorf("queue: retracting %s: %w", member, err)
	}
	r.Result, r.RemoteID = res[0], res[1]
	switch {
	case r.Result == "cancelled-maybe-posted":
		r.Result, r.Note = "cancelled", noteMaybePosted
		return r, nil
	case r.Result == "cannot-delete" && !configured:
		r.Result = "not-configured"
		return r, nil
	case r.Result != "delete":
		return r, nil
	}
	attempts, derr := deleteWithRetries(dctx, del, r.RemoteID)
	r.Attempts = attempts
	outcome := "ok"
	if derr != nil {
		outcome = derr.Error()
	}
	// The outcome is recorded even when ctx ended: a deleted post must not stay "sent".
	fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	fin, err := retractFinishScript.Run(fctx, b.rdb, keys, nowMS(b.opts.Now()), b.opts.LogMaxLen, member, ttl, by,
		token, outcome).Text()
	if err != nil {
		return r, fmt.Errorf("queue: recording the retraction of %s: %w", member, err)
	}
	if fin != "ok" {
		r.Result = "busy"
		r.Error = "another retract took the delivery over"
		return r, nil
	}
	if derr != nil {
		r.Result, r.Error = "failed", derr.Error()
		return r, nil
	}
	r.Result = "retracted"
	return r, nil
}

// deleteWithRetries deletes remoteID, retried and classified as withRetries does (correct.go):
// a post already gone counts as deleted.
func deleteWithRetries(ctx context.Context, del channels.Deleter, remoteID string) (int, error) {
	return withRetries(ctx, "retract", func(ctx context.Context) error { return del.Delete(ctx, remoteID) })
}
