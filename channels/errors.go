package channels

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// PermanentError means retrying cannot help (chat not found, markup rejected, bot blocked).
type PermanentError struct{ Err error }

func (e *PermanentError) Error() string { return "permanent: " + e.Err.Error() }
func (e *PermanentError) Unwrap() error { return e.Err }

// Permanent marks err as not worth retrying.
func Permanent(err error) error { return &PermanentError{Err: err} }

// RateLimitedError means the platform refused for now; try again at RetryAt. It does not use
// an attempt.
type RateLimitedError struct {
	RetryAt time.Time
	Err     error
}

func (e *RateLimitedError) Error() string {
	return fmt.Sprintf("rate limited until %s: %v", e.RetryAt.UTC().Format(time.RFC3339), e.Err)
}
func (e *RateLimitedError) Unwrap() error { return e.Err }

// RateLimited marks err as a rate limit lasting until at.
func RateLimited(err error, at time.Time) error { return &RateLimitedError{RetryAt: at, Err: err} }

// UnknownOutcomeError means the request may have reached the platform and been accepted (read
// timeout, connection reset after the body was sent). Platforms without idempotency keys must
// not be retried blindly.
type UnknownOutcomeError struct{ Err error }

func (e *UnknownOutcomeError) Error() string { return "outcome unknown: " + e.Err.Error() }
func (e *UnknownOutcomeError) Unwrap() error { return e.Err }

// UnknownOutcome marks err as possibly delivered.
func UnknownOutcome(err error) error { return &UnknownOutcomeError{Err: err} }

// IsPermanent, AsRateLimited and IsUnknownOutcome read the kinds through wrapping.
func IsPermanent(err error) bool {
	var p *PermanentError
	return errors.As(err, &p)
}

func AsRateLimited(err error) (*RateLimitedError, bool) {
	var r *RateLimitedError
	ok := errors.As(err, &r)
	return r, ok
}

func IsUnknownOutcome(err error) bool {
	var u *UnknownOutcomeError
	return errors.As(err, &u)
}

// PauseError means every delivery on this channel would fail the same way until an operator
// acts (a revoked token, a bot removed from its channel, a webhook endpoint gone, a spending
// budget reached). The worker pauses the channel with Reason, visible in `herald channels` and
// the API, and hands the delivery back without using an attempt, instead of failing the whole
// backlog one delivery at a time.
type PauseError struct {
	Reason string // short, operator-facing: "auth: Unauthorized", "webhook gone (410)"
	Err    error
}

// Error says the reason once: an auth reason already holds the platform's error.
func (e *PauseError) Error() string {
	if strings.HasSuffix(e.Reason, e.Err.Error()) {
		return "channel must pause: " + e.Reason
	}
	return "channel must pause (" + e.Reason + "): " + e.Err.Error()
}
func (e *PauseError) Unwrap() error { return e.Err }

// Auth marks err as a credentials or membership failure (401, 403 not a member, Graph 190).
func Auth(err error) error { return &PauseError{Reason: "auth: " + err.Error(), Err: err} }

// Pause marks err as a reason to pause the channel (410 gone, budget reached).
func Pause(reason string, err error) error { return &PauseError{Reason: reason, Err: err} }

// AsPause reads a PauseError through wrapping.
func AsPause(err error) (*PauseError, bool) {
	var p *PauseError
	ok := errors.As(err, &p)
	return p, ok
}

// DuplicateContentError is a permanent refusal because the platform already holds the same
// text (X 403 "duplicate content"); the record says so, so an admin does not retry it blindly.
type DuplicateContentError struct{ Err error }

func (e *DuplicateContentError) Error() string { return "duplicate content: " + e.Err.Error() }
func (e *DuplicateContentError) Unwrap() error { return e.Err }

// DuplicateContent marks err as the platform refusing a repeated post; it is also permanent.
func DuplicateContent(err error) error {
	return &PermanentError{Err: &DuplicateContentError{Err: err}}
}

// IsDuplicateContent reports whether err is a DuplicateContentError.
func IsDuplicateContent(err error) bool {
	var d *DuplicateContentError
	return errors.As(err, &d)
}
