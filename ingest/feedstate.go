package ingest

import (
	"context"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"herald/config"
)

// Feed state lives in Redis so every herald process shares it: one hash per feed, a sorted set
// of the item keys (GUIDs and canonical URLs) it has seen, and a lease while a poll runs. Every
// key of a feed has the hash tag {<name>}.

func feedKey(name string) string      { return "herald:feed:{" + name + "}" }
func feedSeenKey(name string) string  { return "herald:feed:{" + name + "}:seen" }
func feedLeaseKey(name string) string { return "herald:feed:{" + name + "}:lease" }

// Fields of the feed hash.
const (
	fURL          = "url"
	fETag         = "etag"
	fLastModified = "last_modified"
	fLastSuccess  = "last_success" // Unix ms
	fLastError    = "last_error"
	fLastErrorAt  = "last_error_at" // Unix ms
	fFailures     = "failures"
	fItemsSeen    = "items_seen"
	fInitialized  = "initialized"
	fNextPoll     = "next_poll" // Unix ms
	fLastPoll     = "last_poll" // Unix ms
	fHub          = "hub"
	fTopic        = "topic"
	fWSSecret     = "ws_secret"
	fWSState      = "ws_state" // pending, verified, denied
	fWSRequested  = "ws_requested"
	fWSExpires    = "ws_expires"
	fWSError      = "ws_error"
	fWSLastPush   = "ws_last_push"
)

// maxSeen bounds a feed's memory of items (up to three keys each); feeds carry tens of items,
// so 10,000 covers years.
const maxSeen = 10_000

// claimPollScript takes the feed's next poll when it is due: it checks next_poll against the
// Redis clock, takes the lease (so a slow poll is never run twice at once) and moves next_poll
// one interval ahead, all at once, so several processes poll a feed once per interval between
// them.
// KEYS[1] feed hash, KEYS[2] lease. ARGV[1] interval ms, ARGV[2] owner, ARGV[3] lease ms.
// Returns the Redis time in ms when claimed, 0 when not due or taken.
var claimPollScript = redis.NewScript(`
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local nxt = tonumber(redis.call('HGET', KEYS[1], 'next_poll') or '0')
if now < nxt then return 0 end
if not redis.call('SET', KEYS[2], ARGV[2], 'NX', 'PX', ARGV[3]) then return 0 end
redis.call('HSET', KEYS[1], 'next_poll', now + tonumber(ARGV[1]), 'last_poll', now)
return now
`)

// deferScript pushes the next poll back by ARGV[1] ms from now on the Redis clock, the clock
// claimPollScript reads. KEYS[1] feed hash.
var deferScript = redis.NewScript(`
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('HSET', KEYS[1], 'next_poll', now + tonumber(ARGV[1]))
return now
`)

// releaseScript drops the lease if this process still holds it.
// KEYS[1] lease. ARGV[1] owner.
var releaseScript = redis.NewScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`)

// markSeenScript records an item by its keys (GUID and canonical URL) and says whether it is
// new: when any key is already known the item is not new, and its other keys are added so a
// later change of only one of them is still recognised.
// KEYS[1] seen set, KEYS[2] feed hash. ARGV[1] now ms, ARGV[2] max entries, ARGV[3..] item keys.
// Returns 1 when new.
var markSeenScript = redis.NewScript(`
local known = false
for i = 3, #ARGV do
  if redis.call('ZSCORE', KEYS[1], ARGV[i]) then known = true end
end
for i = 3, #ARGV do
  redis.call('ZADD', KEYS[1], 'NX', ARGV[1], ARGV[i])
end
local n = redis.call('ZCARD', KEYS[1])
if n > tonumber(ARGV[2]) then redis.call('ZREMRANGEBYRANK', KEYS[1], 0, n - tonumber(ARGV[2]) - 1) end
if known then return 0 end
redis.call('HINCRBY', KEYS[2], 'items_seen', 1)
return 1
`)

// WebSubStatus is a feed's push subscription.
type WebSubStatus struct {
	Hub      string     `json:"hub"`
	Topic    string     `json:"topic"`
	State    string     `json:"state"` // pending, verified, denied, or "" (not subscribed)
	Expires  *time.Time `json:"expires,omitempty"`
	Error    string     `json:"error,omitempty"`
	LastPush *time.Time `json:"last_push,omitempty"`
}

// FeedStatus is one feed's state as herald feeds, GET /v1/feeds and the stats show it.
type FeedStatus struct {
	Name        string        `json:"name"`
	URL         string        `json:"url"`
	Interval    string        `json:"interval"`
	LastPoll    *time.Time    `json:"last_poll,omitempty"`
	LastSuccess *time.Time    `json:"last_success,omitempty"`
	LastError   string        `json:"last_error,omitempty"`
	LastErrorAt *time.Time    `json:"last_error_at,omitempty"`
	Failures    int           `json:"failures"`
	ItemsSeen   int64         `json:"items_seen"`
	NextPoll    *time.Time    `json:"next_poll,omitempty"`
	WebSub      *WebSubStatus `json:"websub,omitempty"`
}

// FeedStatuses reads every configured feed's state from Redis (one round trip).
func FeedStatuses(ctx context.Context, rdb redis.UniversalClient, feeds []config.Feed) ([]FeedStatus, error) {
	pipe := rdb.Pipeline()
	cmds := make([]*redis.MapStringStringCmd, len(feeds))
	for i, f := range feeds {
		cmds[i] = pipe.HGetAll(ctx, feedKey(f.Name))
	}
	if _, err := pipe.Exec(ctx); err != nil {
		return nil, fmt.Errorf("feeds: reading state: %w", err)
	}
	out := make([]FeedStatus, len(feeds))
	for i, f := range feeds {
		h := cmds[i].Val()
		st := FeedStatus{Name: f.Name, URL: redactURL(f.URL), Interval: time.Duration(f.Interval).String(),
			LastPoll: msTime(h[fLastPoll]), LastSuccess: msTime(h[fLastSuccess]), LastError: h[fLastError],
			LastErrorAt: msTime(h[fLastErrorAt]), NextPoll: msTime(h[fNextPoll])}
		st.Failures, _ = strconv.Atoi(h[fFailures])
		st.ItemsSeen, _ = strconv.ParseInt(h[fItemsSeen], 10, 64)
		if h[fHub] != "" {
			st.WebSub = &WebSubStatus{Hub: h[fHub], Topic: h[fTopic], State: h[fWSState], Expires: msTime(h[fWSExpires]),
				Error: h[fWSError], LastPush: msTime(h[fWSLastPush])}
		}
		out[i] = st
	}
	return out, nil
}

func msTime(s string) *time.Time {
	ms, err := strconv.ParseInt(s, 10, 64)
	if err != nil || ms <= 0 {
		return nil
	}
	t := time.UnixMilli(ms).UTC()
	return &t
}

func ms(t time.Time) int64 { return t.UnixMilli() }

// redactURL hides the credentials of a feed URL from status and errors: a password
// (https://user:pass@host/feed) and the value of a query parameter whose name says it is one
// (?api_key=, ?token=, ?secret=, ?password=, ?auth=, ?sig=, as private feeds use).
func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparsable URL)"
	}
	if u.RawQuery != "" {
		parts := strings.Split(u.RawQuery, "&")
		for i, p := range parts {
			name, _, hasValue := strings.Cut(p, "=")
			if hasValue && credentialParam(name) {
				parts[i] = name + "=xxxxx"
			}
		}
		u.RawQuery = strings.Join(parts, "&")
	}
	return u.Redacted()
}

// credentialParam reports whether a query parameter's name says its value is a credential.
func credentialParam(name string) bool {
	n := strings.ToLower(name)
	for _, w := range []string{"key", "token", "secret", "pass", "auth", "sig", "credential", "session"} {
		if strings.Contains(n, w) {
			return true
		}
	}
	return false
}
