package threads

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"

	"herald/channels"
	"herald/channels/httpsend"
)

// APIError is a Threads (Graph-style) error answer, read with errors.As.
// Specs: https://developers.facebook.com/docs/threads/troubleshooting
type APIError struct {
	HTTPStatus int    `json:"-"`
	Message    string `json:"message"`
	Type       string `json:"type"`
	Code       int    `json:"code"`
	Subcode    int    `json:"error_subcode,omitempty"`
	FBTraceID  string `json:"fbtrace_id,omitempty"`
}

func (e *APIError) Error() string {
	s := fmt.Sprintf("%d %s (code %d", e.HTTPStatus, e.Message, e.Code)
	if e.Subcode != 0 {
		s += fmt.Sprintf(", subcode %d", e.Subcode)
	}
	if e.FBTraceID != "" {
		s += ", fbtrace_id " + e.FBTraceID
	}
	return s + ")"
}

func parseError(resp *httpsend.Response, redact func(string) string) *APIError {
	var body struct {
		Error *APIError `json:"error"`
	}
	if json.Unmarshal(resp.Body, &body) != nil || body.Error == nil {
		// Not Graph's: a proxy's page, which may quote the request URL and its token. The token
		// goes before the cut (a cut through it would leave its first part).
		msg := redact(strings.TrimSpace(string(resp.Body)))
		if len(msg) > 200 {
			msg = strings.ToValidUTF8(msg[:200], "") + "…"
		}
		body.Error = &APIError{Message: msg}
	}
	body.Error.HTTPStatus = resp.Status
	body.Error.Message = redact(body.Error.Message)
	return body.Error
}

// Waits when an answer does not say when to come back.
const (
	// DefaultRateLimitWait follows a Graph throttle (codes 4, 17, 32, 613).
	DefaultRateLimitWait = 5 * time.Minute
	// DefaultQuotaWait follows a refusal for the publishing quota when
	// threads_publishing_limit cannot be read: the rolling window frees a post every 24 h / 250
	// on average. Threads does not say when the oldest post of the window drops out.
	DefaultQuotaWait = 24 * time.Hour / 250
)

// transientCodes are the answers that say "try again": Graph's 1 (unknown error) and 2 (service
// temporarily unavailable), and the publishing API's -1 (server error, subcodes 2207001,
// 2207032) and -2 (timeout, 2207003), which come with HTTP 400.
var transientCodes = map[int]bool{1: true, 2: true, -1: true, -2: true}

// rateLimitCodes are Graph's throttling codes: 4 app, 17 user, 32 page, 613 call rate.
var rateLimitCodes = map[int]bool{4: true, 17: true, 32: true, 613: true}

// Publishing-quota and readiness codes Threads shares with the Instagram content publishing API:
// code 9 subcode 2207042 "maximum number of posts reached", 9007 (subcode 2207027) "media not
// ready for publishing".
const (
	codeQuota       = 9
	subcodeQuota    = 2207042
	codeNotReady    = 9007
	subcodeNotReady = 2207027
	// codeMediaNotFound / subcodeMediaNotFound: "Media Not Found: The media with id … cannot be
	// found", answered to a publish of a container Threads made a moment before and cannot find
	// yet; nothing is posted, and the same publish a few seconds later goes through
	// (https://github.com/gitroomhq/postiz-app/pull/2047, 210 of them in 45 days;
	// https://github.com/trypostit/trypost/pull/280).
	codeMediaNotFound    = 24
	subcodeMediaNotFound = 4279009
	subcodeNotFound      = 33 // code 100: the object does not exist (a deleted post)
)

// isQuota reports a refusal for the 250-posts-a-day publishing quota.
func isQuota(ae *APIError) bool {
	return ae.Code == codeQuota || ae.Subcode == subcodeQuota ||
		strings.Contains(strings.ToLower(ae.Message), "publishing limit")
}

// step says which request an answer came from: creating a container posts nothing, publishing
// one does.
type step int

const (
	stepContainer step = iota // POST /{user-id}/threads, GET /{container-id}: nothing posted
	stepPublish               // POST /{user-id}/threads_publish: the post is made here
	stepOther                 // checks, permalinks, deletes
)

// classify turns an error answer into an error of the right kind (channels/errors.go):
//
//	5xx on publish, whatever its code       → channels.UnknownOutcome: the post may exist
//	190 (token invalid or expired), 10 and 200–299 (permission) → channels.Auth: the channel pauses
//	4, 17, 32, 613 (throttled)                → channels.RateLimited (Retry-After, else 5 min)
//	9 / 2207042 (250 posts a day reached)     → channels.RateLimited (see quotaWait)
//	100 / 33 on the container (user_id names no profile the token sees) → channels.Pause
//	9007 (container not ready)                → retryable: nothing was posted
//	24 / 4279009 on publish (the container not found yet) → retryable: nothing was posted
//	1, 2, -1, -2 on publish                   → channels.UnknownOutcome: the post may exist
//	1, 2, -1, -2 (unknown, temporarily down, server error, timeout), 5xx before publish → retryable
//	other 4xx (100 invalid parameter, a text over 500, …) → channels.Permanent with the message
//
// A 5xx on publish is in doubt before anything else: Threads has been seen answering a publish
// with a 5xx carrying code 10 ("Application does not have permission for this action") for a
// container it published (tirthpatell/threads-go#30, as told in
// https://github.com/tirthpatell/fia-f1-docs-bot/pull/52); read as an auth failure, the channel
// would pause and its resume post the news a second time. Codes -1 and -2 are the server error
// and timeout ("Try again", HTTP 400) Threads shares with the Instagram publishing API:
// https://developers.facebook.com/docs/instagram-platform/instagram-graph-api/reference/error-codes
//
// quotaWait is only called for a quota refusal.
func (c *Channel) classify(action string, resp *httpsend.Response, st step, quotaWait func() time.Duration) error {
	ae := parseError(resp, c.send.RedactString)
	err := fmt.Errorf("threads: %s: %w", action, ae)
	switch {
	case st == stepPublish && resp.Status >= 500:
		return channels.UnknownOutcome(err)
	case ae.Code == 190, ae.Code == 10, ae.Code >= 200 && ae.Code < 300:
		return channels.Auth(err)
	case rateLimitCodes[ae.Code] || resp.Status == http.StatusTooManyRequests:
		return channels.RateLimited(err, c.send.RetryAt(resp, DefaultRateLimitWait))
	case isQuota(ae):
		return channels.RateLimited(err, c.now().Add(quotaWait()))
	case st == stepContainer && ae.Code == 100 && ae.Subcode == subcodeNotFound:
		// POST /{user-id}/threads: the object Graph cannot load is the profile itself.
		return channels.Pause(fmt.Sprintf("threads: user_id %s names no profile this token can post as (code 100, subcode 33): check user_id and the token, then resume", c.cfg.UserID), err)
	case st == stepPublish && transientCodes[ae.Code]:
		return channels.UnknownOutcome(err)
	case ae.Code == codeNotReady, transientCodes[ae.Code], resp.Status >= 500:
		return err
	case st == stepPublish && ae.Code == codeMediaNotFound && ae.Subcode == subcodeMediaNotFound:
		return err
	default:
		return channels.Permanent(err)
	}
}
