package x

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"herald/channels"
	"herald/channels/httpsend"
)

// APIError is an X API v2 error answer: an RFC 7807 problem document
// {"title","type","detail","status"} (some carry "reason" or an "errors" list). Read it with
// errors.As.
// Specs: https://docs.x.com/x-api/fundamentals/response-codes-and-errors
type APIError struct {
	Status int    `json:"status"`
	Title  string `json:"title"`
	Type   string `json:"type"`
	Detail string `json:"detail"`
	Reason string `json:"reason,omitempty"`
	Errors []struct {
		Message string `json:"message"`
	} `json:"errors,omitempty"`
}

func (e *APIError) Error() string {
	parts := []string{strconv.Itoa(e.Status)}
	for _, s := range []string{e.Title, e.Detail} {
		if s != "" && (len(parts) == 1 || s != parts[len(parts)-1]) {
			parts = append(parts, s)
		}
	}
	for _, m := range e.Errors {
		if m.Message != "" {
			parts = append(parts, m.Message)
		}
	}
	return strings.Join(parts, ": ")
}

// parseProblem reads an error body; a body that is not a problem document still yields an
// APIError with the HTTP status and the start of the body as its detail. Every text of the
// answer goes through send's redaction (an answer may quote the request's OAuth header), the
// start of a body that is not a problem document through Snippet, which redacts before it cuts.
func parseProblem(status int, body []byte, send *httpsend.Client) *APIError {
	e := &APIError{}
	if json.Unmarshal(body, e) != nil || (e.Title == "" && e.Detail == "" && len(e.Errors) == 0) {
		e = &APIError{Detail: send.Snippet(body)}
	}
	e.Status = status
	for _, s := range []*string{&e.Title, &e.Type, &e.Detail, &e.Reason} {
		*s = send.RedactString(*s)
	}
	for i := range e.Errors {
		e.Errors[i].Message = send.RedactString(e.Errors[i].Message)
	}
	return e
}

// DefaultRateLimitWait is used for a 429 without a usable x-rate-limit-reset (X's windows are
// 15 minutes long).
const DefaultRateLimitWait = 5 * time.Minute

// Problem types that mean the credentials or the app's access level are wrong: every post
// would fail the same way until an operator acts.
var authProblems = []string{"client-forbidden", "oauth1-permissions", "unsupported-authentication", "not-authorized-for-resource"}

// classify turns an error answer into an error of the right kind (channels/errors.go):
//
//	429 usage-capped                  → channels.Pause (the app's monthly cap is spent)
//	402 CreditsDepleted               → channels.Pause (pay-per-use credits are spent)
//	429                               → channels.RateLimited until reset: the latest reset of
//	                                    the spent windows (15 minutes, app's or user's 24 hours;
//	                                    client.go, rateLimitReset)
//	403 duplicate content             → channels.DuplicateContent (permanent, recorded as such)
//	401, 403 client/permission errors → channels.Auth: the worker pauses the channel
//	other 4xx                         → channels.Permanent
//	504                               → channels.UnknownOutcome for a post (may have gone out)
//	5xx                               → retryable
func (c *Channel) classify(action string, ae *APIError, reset string, posting bool) error {
	err := fmt.Errorf("x: %s: %w", action, ae)
	lower := strings.ToLower(ae.Type + " " + ae.Title + " " + ae.Detail + " " + ae.Reason)
	switch {
	case ae.Status == 429 && (strings.Contains(lower, "usage-capped") || strings.Contains(lower, "usagecapexceeded")):
		return channels.Pause("x usage cap exceeded: "+ae.Detail, err)
	case ae.Status == 402:
		// Pay-per-use: the developer account has no credits left (CreditsDepleted). Every
		// request is refused alike until credits are bought.
		return channels.Pause("x: the developer account's API credits are spent (402 "+ae.Title+"): add credits in the developer console, then resume", err)
	case ae.Status == 429:
		at := c.now().Add(DefaultRateLimitWait)
		if secs, perr := strconv.ParseInt(strings.TrimSpace(reset), 10, 64); perr == nil && secs > 0 {
			at = time.Unix(secs, 0)
			if !at.After(c.now()) {
				at = c.now().Add(time.Second)
			}
		}
		return channels.RateLimited(err, at)
	case ae.Status == 403 && strings.Contains(lower, "duplicate content"):
		return channels.DuplicateContent(err)
	case ae.Status == 401:
		return channels.Auth(err)
	case ae.Status == 403 && containsAny(lower, authProblems):
		return channels.Auth(err)
	case ae.Status == 504 && posting:
		return channels.UnknownOutcome(err)
	case ae.Status >= 500, ae.Status == 409, ae.Status == 408:
		return err
	default:
		return channels.Permanent(err)
	}
}

func containsAny(s string, needles []string) bool {
	for _, n := range needles {
		if strings.Contains(s, n) {
			return true
		}
	}
	return false
}
