package discord

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"

	"herald/channels"
)

// Discord says how much of a webhook's bucket is left on every answer, and asks clients to read
// that rather than hard-code limits. The channel's configured rate (5/2s by default) keeps
// herald under the usual limit; these headers cover the rest (a limit Discord lowered, another
// program posting through the same webhook).
// Specs: https://discord.com/developers/docs/topics/rate-limits#header-format
const (
	headerRemaining  = "X-RateLimit-Remaining"
	headerResetAfter = "X-RateLimit-Reset-After"
)

// MaxInlineWait is the longest wait for an empty bucket that Send spends in memory before
// posting. A bucket resets within seconds; waiting here keeps the delivery's place (a
// RateLimited delivery goes back to the queue behind the channel's next posts) and costs no
// retry round trip. A longer wait is returned as channels.RateLimited for the worker.
const MaxInlineWait = 3 * time.Second

// resetAfter reads X-RateLimit-Reset-After (seconds, fractional).
func resetAfter(h http.Header) (time.Duration, bool) {
	v := strings.TrimSpace(h.Get(headerResetAfter))
	if v == "" {
		return 0, false
	}
	f, err := strconv.ParseFloat(v, 64)
	if err != nil || f < 0 || math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, false
	}
	return seconds(f), true
}

// seconds turns Discord's fractional seconds into a duration, rounded up to the millisecond so
// a wait never ends early.
func seconds(f float64) time.Duration {
	return time.Duration(math.Ceil(f*1000)) * time.Millisecond
}

// noteBucket remembers, from a successful post's headers, that the bucket is empty until its
// reset: the next send waits for it instead of drawing a 429.
func (c *Channel) noteBucket(h http.Header) {
	if strings.TrimSpace(h.Get(headerRemaining)) != "0" {
		return
	}
	d, ok := resetAfter(h)
	if !ok {
		return
	}
	c.holdUntil(c.now().Add(d))
}

// holdUntil makes sends wait until t (never earlier than a wait already known).
func (c *Channel) holdUntil(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if t.After(c.notBefore) {
		c.notBefore = t
	}
}

// waitBucket is called before each post: it returns at once when the bucket has room, waits
// in memory for a short reset (MaxInlineWait, and only within ctx), and otherwise returns
// channels.RateLimited so the worker puts the delivery back until then. Nothing was sent when
// it returns an error.
func (c *Channel) waitBucket(ctx context.Context) error {
	c.mu.Lock()
	until := c.notBefore
	c.mu.Unlock()
	wait := until.Sub(c.now())
	if wait <= 0 {
		return nil
	}
	if dl, ok := ctx.Deadline(); wait > MaxInlineWait || ok && c.now().Add(wait).After(dl) {
		return channels.RateLimited(errors.New("discord: the webhook's rate limit bucket is empty (X-RateLimit-Remaining 0)"), until)
	}
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return fmt.Errorf("discord: waiting %s for the webhook's rate limit: not sent: %w", wait.Round(time.Millisecond), ctx.Err())
	case <-t.C:
		return nil
	}
}
