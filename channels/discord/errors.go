package discord

import (
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"time"

	"herald/channels"
	"herald/channels/httpsend"
)

// Discord's JSON error codes herald acts on.
// Specs: https://discord.com/developers/docs/topics/opcodes-and-status-codes#json-json-error-codes
const (
	CodeUnknownChannel      = 10003 // thread_id names no channel or thread the webhook can reach
	CodeUnknownMessage      = 10008
	CodeUnknownWebhook      = 10015 // the webhook was deleted
	CodeInvalidWebhookToken = 50027
	CodeEmptyMessage        = 50006
	CodeInvalidFormBody     = 50035
	// The webhook's channel is a forum (or media) channel: a message must name a thread
	// (thread_id) or create one, which herald does not do.
	CodeForumNeedsThread     = 220001 // "Webhooks posted to forum channels must have a thread_name or thread_id"
	CodeForumOnlyThreads     = 220003 // "Webhooks can only create threads in forum channels"
	CodeForumNoWebhookServer = 220004 // "Webhook services cannot be used in forum channels"
)

// APIError is Discord's answer other than 2xx, read with errors.As.
type APIError struct {
	Status  int
	Code    int    `json:"code"`
	Message string `json:"message"`
	// Fields summarises an Invalid Form Body's errors: "embeds.0.title: Must be 256 or fewer
	// in length." (at most three).
	Fields string `json:"-"`
	// RetryAfter (seconds, may be fractional) and Global come with a 429.
	RetryAfter float64 `json:"retry_after"`
	Global     bool    `json:"global"`
}

func (e *APIError) Error() string {
	s := fmt.Sprintf("%d %s", e.Status, e.Message)
	if e.Code != 0 {
		s += fmt.Sprintf(" (code %d)", e.Code)
	}
	if e.Fields != "" {
		s += ": " + e.Fields
	}
	return s
}

// parseError reads an error answer: {"code":…,"message":…,"errors":{…}}, or a 429's
// {"message":…,"retry_after":…,"global":…}. Anything else (a Cloudflare page) is kept as a
// short excerpt.
func parseError(resp *httpsend.Response, snippet func([]byte) string) *APIError {
	var body struct {
		APIError
		Errors json.RawMessage `json:"errors"`
	}
	if err := json.Unmarshal(resp.Body, &body); err != nil || (body.Message == "" && body.Code == 0) {
		msg := snippet(resp.Body)
		if msg == "" {
			msg = http.StatusText(resp.Status)
		}
		return &APIError{Status: resp.Status, Message: msg}
	}
	e := body.APIError
	e.Status = resp.Status
	e.Message = strings.TrimSpace(snippet([]byte(e.Message)))
	if len(body.Errors) > 0 {
		e.Fields = snippet([]byte(summarizeFields(body.Errors))) // secrets removed, as the message
	}
	return &e
}

// summarizeFields turns Discord's nested form errors ({"embeds":{"0":{"title":{"_errors":
// [{"code":…,"message":…}]}}}}) into "embeds.0.title: message", the first three by path.
// Specs: https://discord.com/developers/docs/reference#error-messages
func summarizeFields(raw json.RawMessage) string {
	var tree any
	if json.Unmarshal(raw, &tree) != nil {
		return ""
	}
	var out []string
	var walk func(path string, v any)
	walk = func(path string, v any) {
		m, ok := v.(map[string]any)
		if !ok {
			return
		}
		if list, ok := m["_errors"].([]any); ok {
			for _, it := range list {
				if e, ok := it.(map[string]any); ok {
					msg, _ := e["message"].(string)
					if msg == "" {
						msg, _ = e["code"].(string)
					}
					out = append(out, strings.TrimPrefix(path, ".")+": "+msg)
				}
			}
		}
		for k, x := range m {
			if k != "_errors" {
				walk(path+"."+k, x)
			}
		}
	}
	walk("", tree)
	sort.Strings(out)
	if len(out) > 3 {
		out = append(out[:3], fmt.Sprintf("and %d more", len(out)-3))
	}
	return strings.Join(out, "; ")
}

// originNotReached reports Cloudflare's answers (Discord's API is behind it) that say the
// request was never handed to Discord: 521 the origin refused the connection, 523 the origin
// is unreachable, 525 and 526 the TLS connection to it failed. A post cannot have been made.
// (522 and 524 can come after the origin got the request: they stay unknown.)
// Specs: https://developers.cloudflare.com/support/troubleshooting/http-status-codes/cloudflare-5xx-errors/
func originNotReached(status int) bool {
	switch status {
	case 521, 523, 525, 526:
		return true
	}
	return false
}

// DefaultRetryAfter is the wait after a 429 that says nothing about when to come back.
const DefaultRetryAfter = 5 * time.Second

// classify turns an answer other than 2xx into an error of the right kind (channels/errors.go):
//
//	401, 403 (token invalid, webhook not allowed) → channels.Auth: the channel pauses
//	404 Unknown Webhook (10015: the webhook was deleted) → channels.Auth
//	Unknown Channel (10003: thread_id is wrong)    → channels.Pause: every post would fail
//	a forum channel without thread_id (220001…)     → channels.Pause: every post would fail
//	429                                             → channels.RateLimited (retry_after, Retry-After)
//	Cloudflare 521, 523, 525, 526 (Discord never got the request) → retryable
//	5xx after a post was written                    → channels.UnknownOutcome: Discord has no idempotency key
//	5xx on a read or a delete                       → retryable
//	400 Invalid Form Body (50035), other 4xx        → channels.Permanent, naming the field
//
// posting says whether the request creates a message.
func (c *Channel) classify(action string, resp *httpsend.Response, posting bool) error {
	ae := parseError(resp, c.http.Snippet)
	err := fmt.Errorf("discord: %s: %w", action, ae)
	switch {
	case resp.Status == http.StatusTooManyRequests:
		return channels.RateLimited(err, c.retryAt(resp, ae))
	case resp.Status == http.StatusUnauthorized || resp.Status == http.StatusForbidden || ae.Code == CodeUnknownWebhook:
		return channels.Auth(err)
	case ae.Code == CodeUnknownChannel && c.cfg.ThreadID != "":
		return channels.Pause("discord: thread_id "+c.cfg.ThreadID+" not found", err)
	case ae.Code == CodeForumNeedsThread || ae.Code == CodeForumOnlyThreads || ae.Code == CodeForumNoWebhookServer:
		// Every post to this webhook would be refused the same way until thread_id is set.
		return channels.Pause("discord: the webhook's channel is a forum: set thread_id to one of its posts", err)
	case originNotReached(resp.Status):
		return err
	case resp.Status >= 500 && posting:
		return channels.UnknownOutcome(err)
	case resp.Status >= 500:
		return err
	default:
		return channels.Permanent(err)
	}
}

// retryAt is when a 429 ends: the body's retry_after (seconds with milliseconds), else
// X-RateLimit-Reset-After (the same precision), else Retry-After (whole seconds), else
// DefaultRetryAfter.
// Specs: https://discord.com/developers/docs/topics/rate-limits#exceeding-a-rate-limit
func (c *Channel) retryAt(resp *httpsend.Response, ae *APIError) time.Time {
	now := c.now()
	if ae.RetryAfter > 0 {
		return now.Add(seconds(ae.RetryAfter))
	}
	if d, ok := resetAfter(resp.Header); ok {
		return now.Add(d)
	}
	return c.http.RetryAt(resp, DefaultRetryAfter)
}
