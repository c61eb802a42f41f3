package mastodon

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"

	"herald/channels"
	"herald/channels/httpsend"
)

// APIError is a Mastodon error answer {"error": "...", "error_description": "..."}, read with
// errors.As.
// Specs: https://docs.joinmastodon.org/entities/Error/
type APIError struct {
	Status      int    `json:"-"`
	Message     string `json:"error"`
	Description string `json:"error_description,omitempty"`
}

func (e *APIError) Error() string {
	s := fmt.Sprintf("%d %s", e.Status, e.Message)
	if e.Description != "" && e.Description != e.Message {
		s += ": " + e.Description
	}
	return s
}

// parseError reads an error body; one that is not Mastodon's JSON (a proxy's page) still
// yields an APIError with the status and the start of the body, secrets removed.
func (c *Channel) parseError(resp *httpsend.Response) *APIError {
	e := &APIError{}
	if json.Unmarshal(resp.Body, e) != nil || e.Message == "" {
		e = &APIError{Message: c.send.Snippet(resp.Body)}
		if e.Message == "" {
			e.Message = http.StatusText(resp.Status)
		}
	}
	e.Status = resp.Status
	e.Message, e.Description = c.send.RedactString(e.Message), c.send.RedactString(e.Description)
	return e
}

// DefaultRateLimitWait is used for a 429 that says neither X-RateLimit-Reset nor Retry-After
// (Mastodon's windows are 5 minutes long).
const DefaultRateLimitWait = 5 * time.Minute

// classify turns an error answer into an error of the right kind (channels/errors.go):
//
//	3xx (redirects are not followed)  → channels.Permanent: the instance setting is not the server's address
//	401, 403                          → channels.Auth: the worker pauses the channel (token revoked,
//	                                    scope missing, account suspended or disabled)
//	429                               → channels.RateLimited until X-RateLimit-Reset (ISO 8601), else
//	                                    Retry-After, else 5 min; no attempt used
//	422 media still processing        → retryable
//	other 4xx (422 validation, 404)   → channels.Permanent, with Mastodon's message
//	5xx on a create                   → channels.UnknownOutcome: the status may exist. The channel
//	                                    deduplicates (Idempotency-Key), so the worker retries it,
//	                                    and a retry within the hour answers the status made
//	other 5xx                         → retryable
func (c *Channel) classify(action string, resp *httpsend.Response, creating bool) error {
	ae := c.parseError(resp)
	err := fmt.Errorf("mastodon: %s: %w", action, ae)
	switch {
	case resp.Status == http.StatusUnauthorized, resp.Status == http.StatusForbidden:
		return channels.Auth(err)
	case resp.Status == http.StatusTooManyRequests:
		return channels.RateLimited(err, c.resetAt(resp))
	case resp.Status == http.StatusUnprocessableEntity && strings.Contains(strings.ToLower(ae.Message), "processing"):
		// "Cannot attach files that have not finished processing. Try again in a moment!"
		return err
	case resp.Status >= 300 && resp.Status < 400:
		// Redirects are not followed (a POST turned into a GET is a lost post): the instance
		// setting names the wrong address (http://, www., an old domain).
		return channels.Permanent(fmt.Errorf("mastodon: %s: the server redirects (%d) to %q: set instance to the server's own address",
			action, resp.Status, c.send.RedactString(resp.Header.Get("Location"))))
	case resp.Status == http.StatusRequestTimeout, resp.Status == http.StatusConflict:
		return err
	case resp.Status >= 400 && resp.Status < 500:
		return channels.Permanent(err)
	case resp.Status >= 500 && creating && resp.Status != http.StatusBadGateway && resp.Status != http.StatusServiceUnavailable:
		// 502/503 come from the front proxy when Puma is away: the request never reached it.
		return channels.UnknownOutcome(err)
	default:
		return err
	}
}

// resetAt is when a 429 ends: X-RateLimit-Reset (an ISO 8601 time), else Retry-After, else
// DefaultRateLimitWait from now.
// Specs: https://docs.joinmastodon.org/api/rate-limits/
func (c *Channel) resetAt(resp *httpsend.Response) time.Time {
	now := c.now()
	if v := strings.TrimSpace(resp.Header.Get("X-RateLimit-Reset")); v != "" {
		if at, err := time.Parse(time.RFC3339Nano, v); err == nil {
			if !at.After(now) {
				return now.Add(time.Second)
			}
			return at
		}
	}
	if at, ok := httpsend.ParseRetryAfter(resp.Header.Get("Retry-After"), now); ok {
		return at
	}
	return now.Add(DefaultRateLimitWait)
}
