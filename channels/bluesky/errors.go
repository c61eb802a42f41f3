package bluesky

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"herald/channels"
	"herald/channels/httpsend"
)

// XRPCError is an error answer of an XRPC method, {"error":"Name","message":"…"}, read with
// errors.As.
// Specs: https://atproto.com/specs/xrpc#error-responses
type XRPCError struct {
	Status  int    `json:"-"`
	Name    string `json:"error"`
	Message string `json:"message"`
}

func (e *XRPCError) Error() string {
	s := strconv.Itoa(e.Status)
	if e.Name != "" {
		s += " " + e.Name
	}
	if e.Message != "" {
		s += ": " + e.Message
	}
	return s
}

// parseError reads an error answer; a body that is not XRPC (a proxy's page) keeps a short,
// redacted excerpt as the message.
func parseError(resp *httpsend.Response, send *httpsend.Client) *XRPCError {
	var e XRPCError
	if json.Unmarshal(resp.Body, &e) != nil || (e.Name == "" && e.Message == "") {
		e = XRPCError{Message: send.Snippet(resp.Body)}
	}
	e.Status = resp.Status
	e.Name = send.RedactString(e.Name)
	e.Message = send.RedactString(e.Message)
	return &e
}

// sessionExpired reports whether the answer says the access token no longer works (the PDS
// answers 400 ExpiredToken for an expired JWT, 400 InvalidToken for one it cannot verify and
// 401 for a missing or revoked one): the session is refreshed and the call made once more.
func sessionExpired(e *XRPCError) bool {
	switch e.Name {
	case "ExpiredToken", "InvalidToken":
		return e.Status == http.StatusBadRequest || e.Status == http.StatusUnauthorized
	}
	return e.Status == http.StatusUnauthorized
}

// authFailure reports an answer no retry can fix: wrong credentials, a taken-down or
// deactivated account, a second factor the app password should have avoided.
func authFailure(e *XRPCError) bool {
	switch e.Name {
	case "AuthenticationRequired", "AuthMissing", "AccountTakedown", "AccountDeactivated", "AuthFactorTokenRequired", "InvalidToken", "ExpiredToken":
		return true
	}
	return e.Status == http.StatusUnauthorized || e.Status == http.StatusForbidden
}

// DefaultRateLimitWait is used when a 429 says neither RateLimit-Reset nor Retry-After.
const DefaultRateLimitWait = time.Minute

// retryAt reads when a 429 ends: RateLimit-Reset (unix seconds, what the PDS sends), else
// Retry-After, else a minute.
// Specs: https://docs.bsky.app/docs/advanced-guides/rate-limits
func (c *Channel) retryAt(resp *httpsend.Response) time.Time {
	now := c.now()
	if v := strings.TrimSpace(resp.Header.Get("RateLimit-Reset")); v != "" {
		if secs, err := strconv.ParseInt(v, 10, 64); err == nil && secs > 0 {
			at := time.Unix(secs, 0)
			if at.Before(now) {
				return now
			}
			return at
		}
	}
	if at, ok := httpsend.ParseRetryAfter(resp.Header.Get("Retry-After"), now); ok {
		return at
	}
	return now.Add(DefaultRateLimitWait)
}

// classify turns an XRPC error answer into an error of the right kind (channels/errors.go):
//
//	429 RateLimitExceeded                    → channels.RateLimited until RateLimit-Reset
//	401, AuthenticationRequired, AccountTakedown, … (the session was renewed already)
//	                                         → channels.Auth: the channel pauses
//	5xx                                      → retryable (createRecord looks for its record first)
//	other 4xx (InvalidRequest: the record failed validation, …) → channels.Permanent
func (c *Channel) classify(send *httpsend.Client, action string, resp *httpsend.Response) error {
	xe := parseError(resp, send)
	err := fmt.Errorf("bluesky: %s: %w", action, xe)
	switch {
	case resp.Status == http.StatusTooManyRequests || xe.Name == "RateLimitExceeded":
		return channels.RateLimited(err, c.retryAt(resp))
	case authFailure(xe):
		return channels.Auth(err)
	case resp.Status >= 500:
		return err
	default:
		return channels.Permanent(err)
	}
}
