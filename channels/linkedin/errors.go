package linkedin

import (
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"time"

	"herald/channels"
	"herald/channels/httpsend"
)

// APIError is a LinkedIn REST error answer
// {"status":403,"serviceErrorCode":100,"code":"ACCESS_DENIED","message":"..."}, read with
// errors.As. A duplicate post's answer also carries
// errorDetails.inputErrors[].code "DUPLICATE_POST".
// Specs: https://learn.microsoft.com/en-us/linkedin/shared/api-guide/concepts/error-handling
type APIError struct {
	Status           int    `json:"status"`
	ServiceErrorCode int    `json:"serviceErrorCode,omitempty"`
	Code             string `json:"code,omitempty"`
	Message          string `json:"message"`
	ErrorDetails     struct {
		InputErrors []struct {
			Code string `json:"code"`
		} `json:"inputErrors"`
	} `json:"errorDetails"`
}

func (e *APIError) Error() string {
	s := fmt.Sprintf("%d %s", e.Status, e.Message)
	switch {
	case e.ServiceErrorCode != 0:
		s += fmt.Sprintf(" (%s, serviceErrorCode %d)", e.Code, e.ServiceErrorCode)
	case e.Code != "":
		s += " (" + e.Code + ")"
	}
	return s
}

// Duplicate reports whether LinkedIn refused the post as a copy of one the Page already has.
func (e *APIError) Duplicate() bool {
	for _, ie := range e.ErrorDetails.InputErrors {
		if ie.Code == "DUPLICATE_POST" {
			return true
		}
	}
	return e.Code == "DUPLICATE_POST" || strings.Contains(strings.ToLower(e.Message), "duplicate")
}

// DuplicateOf is the URN of the post a duplicate copies, as LinkedIn names it ("Content is a
// duplicate of urn:li:share:7141138937766391808"), or "".
func (e *APIError) DuplicateOf() string { return duplicateURN.FindString(e.Message) }

var duplicateURN = regexp.MustCompile(`urn:li:(share|ugcPost):[0-9]+`)

// parseError reads LinkedIn's error answer. Any other answer (a proxy's page, which may quote
// the request) becomes the message through send.Snippet, which removes the token first.
func (c *Channel) parseError(resp *httpsend.Response) *APIError {
	e := &APIError{}
	if json.Unmarshal(resp.Body, e) != nil || e.Message == "" {
		e = &APIError{Message: c.send.Snippet(resp.Body)}
		if e.Message == "" {
			e.Message = http.StatusText(resp.Status)
		}
	}
	e.Status = resp.Status
	e.Message, e.Code = c.send.RedactString(e.Message), c.send.RedactString(e.Code)
	return e
}

// DefaultRateLimitWait is how long a 429 waits when it does not say (LinkedIn sends no
// Retry-After and no rate-limit headers). Its limits are daily and reset at midnight UTC, so
// the wait ends there at the latest; a 429 of LinkedIn's infrastructure protection passes
// sooner, so herald tries again after an hour rather than losing the rest of the day.
// Specs: https://learn.microsoft.com/en-us/linkedin/shared/api-guide/concepts/rate-limits
const DefaultRateLimitWait = time.Hour

// classify turns an error answer into an error of the right kind (channels/errors.go):
//
//	401 (token expired or revoked)           → channels.Auth: the channel pauses
//	403 (scope missing, not a Page admin)     → channels.Auth: the channel pauses
//	429                                      → channels.RateLimited: Retry-After if any, else an
//	                                           hour, at most until midnight UTC; no attempt used
//	422 DUPLICATE_POST                       → channels.DuplicateContent (permanent)
//	3xx (redirects are not followed)          → channels.Permanent
//	408, 409                                 → retryable
//	426 (the pinned version is sunset)        → channels.Pause: every call fails alike
//	other 4xx (400 bad field)                 → channels.Permanent, with LinkedIn's message
//	5xx on a create                          → channels.UnknownOutcome: the post may exist, and
//	                                           LinkedIn has no idempotency key
//	other 5xx                                → retryable
func (c *Channel) classify(action string, resp *httpsend.Response, creating bool) error {
	ae := c.parseError(resp)
	err := fmt.Errorf("linkedin: %s: %w", action, ae)
	switch {
	case resp.Status == http.StatusUnauthorized, resp.Status == http.StatusForbidden:
		return channels.Auth(err)
	case resp.Status == http.StatusTooManyRequests:
		return channels.RateLimited(err, c.retryAt(resp))
	case resp.Status == http.StatusUpgradeRequired:
		// LinkedIn no longer serves the pinned LinkedIn-Version (it keeps one about a year):
		// every call is refused alike until the setting changes.
		return channels.Pause(fmt.Sprintf("linkedin: LinkedIn-Version %s is no longer served (426): set version to a current one (YYYYMM), then resume", c.cfg.Version), err)
	case resp.Status == http.StatusUnprocessableEntity && ae.Duplicate():
		return channels.DuplicateContent(err)
	case resp.Status >= 300 && resp.Status < 400:
		return channels.Permanent(fmt.Errorf("linkedin: %s: the server redirects (%d) to %q: set api_base to %s",
			action, resp.Status, c.send.RedactString(resp.Header.Get("Location")), DefaultAPIBase))
	case resp.Status == http.StatusRequestTimeout, resp.Status == http.StatusConflict:
		return err
	case resp.Status >= 400 && resp.Status < 500:
		return channels.Permanent(err)
	case resp.Status >= 500 && creating:
		return channels.UnknownOutcome(err)
	default:
		return err
	}
}

// retryAt is when a 429 ends: its Retry-After if it has one, else DefaultRateLimitWait from
// now, but no later than the next midnight UTC, when LinkedIn's daily counters reset.
func (c *Channel) retryAt(resp *httpsend.Response) time.Time {
	now := c.now()
	if at, ok := httpsend.ParseRetryAfter(resp.Header.Get("Retry-After"), now); ok {
		return at
	}
	at := now.Add(DefaultRateLimitWait)
	if midnight := now.UTC().Truncate(24 * time.Hour).Add(24 * time.Hour); midnight.Before(at) {
		at = midnight
	}
	return at
}
