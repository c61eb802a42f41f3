package webhook

import (
	"errors"
	"fmt"
	"time"

	"herald/channels"
	"herald/channels/httpsend"
)

// DefaultRetryAfter is the wait after a 429 without a Retry-After.
const DefaultRetryAfter = 5 * time.Second

// StatusError is a receiver's answer other than 2xx, read with errors.As.
type StatusError struct {
	Status int
	Body   string // the start of the body, secrets removed
}

func (e *StatusError) Error() string {
	if e.Body == "" {
		return fmt.Sprintf("receiver answered %d", e.Status)
	}
	return fmt.Sprintf("receiver answered %d: %s", e.Status, e.Body)
}

// classify maps the receiver's answer to a retry decision (Standard Webhooks, "Delivery
// behaviour"):
//
//	2xx              → delivered
//	410 Gone         → channels.Pause: the endpoint is gone; every later delivery would fail
//	401              → channels.Auth: the receiver refuses herald's signature or credentials
//	                   (a secret rotated on one side only); every later delivery would fail
//	429              → channels.RateLimited until Retry-After (default 5s)
//	5xx              → retryable; with a Retry-After, rate-limited until then
//	408              → retryable: the receiver gave up waiting for the request (RFC 9110 §15.5.9)
//	3xx              → permanent: redirects are not followed (a POST must not become a GET)
//	other 4xx        → channels.Permanent
//
// Transport failures come classified from httpsend: not sent → retryable, may have arrived →
// channels.UnknownOutcome, which the worker retries because the webhook-id deduplicates.
func (c *Channel) classify(id string, resp *httpsend.Response) error {
	if resp.Status >= 200 && resp.Status < 300 {
		return nil
	}
	se := &StatusError{Status: resp.Status, Body: c.http.Snippet(resp.Body)}
	if resp.Status >= 300 && resp.Status < 400 {
		se.Body = "redirect to " + c.http.RedactString(resp.Header.Get("Location")) + "; set url to the final address"
	}
	err := c.http.Errorf("delivering %s: %w", id, se)
	switch {
	case resp.Status == 410:
		return channels.Pause("webhook gone (410)", err)
	case resp.Status == 401:
		return channels.Auth(err)
	case resp.Status == 429:
		return channels.RateLimited(err, c.http.RetryAt(resp, DefaultRetryAfter))
	case resp.Status == 408:
		return err
	case resp.Status >= 500:
		if httpsend.HasRetryAfter(resp) {
			return channels.RateLimited(err, c.http.RetryAt(resp, DefaultRetryAfter))
		}
		return err
	default:
		return channels.Permanent(err)
	}
}

// AsStatus reads a StatusError through wrapping.
func AsStatus(err error) (*StatusError, bool) {
	var se *StatusError
	ok := errors.As(err, &se)
	return se, ok
}
