package channels

import (
	"errors"
	"fmt"
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
