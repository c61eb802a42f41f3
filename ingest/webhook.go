package ingest

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"herald/config"
)

// Signed publish webhooks: Standard Webhooks and GitHub-style X-Hub-Signature-256.
// Specs: https://github.com/standard-webhooks/standard-webhooks/blob/main/spec/standard-webhooks.md#verifying-webhook-authenticity
// and https://docs.github.com/en/webhooks/using-webhooks/validating-webhook-deliveries

// DefaultTolerance is how far a Standard Webhooks timestamp may be from the clock, either way.
const DefaultTolerance = 5 * time.Minute

// maxMessageID bounds webhook-id, which becomes part of a Redis key.
const maxMessageID = 256

// ErrUnauthorized is wrapped by every verification failure; the text says which check failed
// and never a secret.
var ErrUnauthorized = errors.New("webhook signature refused")

// ErrAlreadyProcessed: a verified Standard Webhooks message whose webhook-id herald has already
// answered with success — the sender's retry after an answer it did not get in time. It is
// answered as a success again and processed no second time. ErrInProgress: the first request
// with that id is still being processed; the sender should try again later (it may fail and
// release the id).
var (
	ErrAlreadyProcessed = errors.New("webhook message already processed")
	ErrInProgress       = errors.New("webhook message is being processed")
)

// processed is the value of a webhook-id record once Confirm ran.
const processed = "done"

// Verifier checks signed requests against the configured webhook sources and refuses a
// Standard Webhooks message id it has seen (remembered in Redis, so every herald process
// refuses it).
type Verifier struct {
	Sources   []config.Webhook
	Redis     redis.UniversalClient
	Tolerance time.Duration    // default DefaultTolerance
	Now       func() time.Time // default time.Now
	// InFlight is how long a message id is held before the request is answered (Confirm makes
	// it the whole replay window): if herald dies mid-request, the sender's retry with the same
	// id is accepted after it. Default DefaultInFlight.
	InFlight time.Duration
}

// DefaultInFlight bounds how long a request answered by nobody (herald killed mid-request)
// keeps its message id: the WordPress plugin retries a minute after its 5s timeout.
const DefaultInFlight = time.Minute

// Signed reports whether a request carries any signature header this verifier reads.
func Signed(h http.Header) bool {
	return h.Get("webhook-signature") != "" || h.Get("webhook-id") != "" || h.Get("X-Hub-Signature-256") != ""
}

// Claim is a verified request. A Standard Webhooks message id is recorded as seen, for
// InFlight until Confirm (the request was answered 2xx) keeps it for the replay window; Release
// forgets it again when the request could not be processed, so the sender's retry (same id) is
// accepted.
type Claim struct {
	Source config.Webhook
	key    string
	rdb    redis.UniversalClient
	window time.Duration
}

// ReplayProtected reports whether the request was signed with Standard Webhooks, whose message
// id is accepted once and whose timestamp expires: a copy of it cannot be sent again. A GitHub
// style signature covers the body alone, which anyone who saw it can send again at any time.
func (c *Claim) ReplayProtected() bool { return c != nil && c.key != "" }

// Confirm keeps the message id for the whole replay window, marked processed: the request was
// answered with success, and a retry with the same id is answered as such.
func (c *Claim) Confirm(ctx context.Context) {
	if c == nil || c.key == "" {
		return
	}
	_ = c.rdb.Set(context.WithoutCancel(ctx), c.key, processed, c.window).Err()
}

// Release forgets the message id (no-op for X-Hub-Signature-256, which carries none).
func (c *Claim) Release(ctx context.Context) {
	if c == nil || c.key == "" {
		return
	}
	_ = c.rdb.Del(context.WithoutCancel(ctx), c.key).Err()
}

func unauthorized(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrUnauthorized, fmt.Sprintf(format, args...))
}

// Verify checks the request's signature over body. Standard Webhooks headers take precedence;
// X-Hub-Signature-256 is the fallback. Failures wrap ErrUnauthorized; a Redis failure does not
// (the caller answers 503: the sender may retry).
func (v *Verifier) Verify(ctx context.Context, h http.Header, body []byte) (*Claim, error) {
	if v == nil || len(v.Sources) == 0 {
		return nil, unauthorized("no webhook sources are configured")
	}
	if h.Get("webhook-signature") != "" || h.Get("webhook-id") != "" {
		return v.verifyStandard(ctx, h, body)
	}
	if sig := h.Get("X-Hub-Signature-256"); sig != "" {
		return v.verifyHub(sig, body)
	}
	return nil, unauthorized("unsigned: no webhook-signature or X-Hub-Signature-256 header")
}

func (v *Verifier) verifyStandard(ctx context.Context, h http.Header, body []byte) (*Claim, error) {
	id, ts, sigs := h.Get("webhook-id"), h.Get("webhook-timestamp"), h.Get("webhook-signature")
	if id == "" || ts == "" || sigs == "" {
		return nil, unauthorized("webhook-id, webhook-timestamp and webhook-signature are all required")
	}
	if len(id) > maxMessageID || strings.ContainsAny(id, "{}\r\n") {
		return nil, unauthorized("webhook-id is longer than %d bytes or has braces or newlines", maxMessageID)
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return nil, unauthorized("webhook-timestamp is not integer Unix seconds")
	}
	now, tol := v.now(), v.tolerance()
	if skew := now.Sub(time.Unix(sec, 0)); math.Abs(float64(skew)) > float64(tol) {
		return nil, unauthorized("webhook-timestamp is %s away from now, more than the %s tolerance", skew.Round(time.Second), tol)
	}
	signed := make([]byte, 0, len(id)+len(ts)+len(body)+2)
	signed = append(append(append(append(append(signed, id...), '.'), ts...), '.'), body...)
	var src *config.Webhook
	for i := range v.Sources {
		mac := hmac.New(sha256.New, []byte(v.Sources[i].SigningKey))
		mac.Write(signed)
		want := mac.Sum(nil)
		for _, s := range strings.Fields(sigs) {
			ver, b64, ok := strings.Cut(s, ",")
			if !ok || ver != "v1" {
				continue
			}
			got, err := base64.StdEncoding.DecodeString(b64)
			if err == nil && hmac.Equal(got, want) {
				src = &v.Sources[i]
			}
		}
		if src != nil {
			break
		}
	}
	if src == nil {
		return nil, unauthorized("no configured webhook secret matches webhook-signature")
	}
	// SET NX is the atomic "first time this id is seen". It is held for InFlight while the
	// request runs; Confirm makes the record outlive the window in which the timestamp is
	// accepted (tolerance either side), so a replay is refused until its timestamp is too old
	// anyway. A request herald never answered (killed mid-way) no longer refuses the sender's
	// retries for the whole window, which lost the article: the plugin gives up on a 401.
	key := "herald:whid:{" + src.Name + "}:" + id
	inFlight := v.InFlight
	if inFlight <= 0 {
		inFlight = DefaultInFlight
	}
	fresh, err := v.Redis.SetNX(ctx, key, now.Unix(), inFlight).Result()
	if err != nil {
		return nil, fmt.Errorf("webhook: recording webhook-id: %w", err)
	}
	if !fresh {
		// A signed message seen before: the sender's retry (or a copy of its genuine request).
		// Refusing it as unauthorized told a sender whose answer was lost that its delivery
		// failed (the WordPress plugin logs a 401 as a wrong secret; a Standard Webhooks sender
		// counts it against the endpoint); it was processed, and is not processed again.
		state, err := v.Redis.Get(ctx, key).Result()
		switch {
		case err == nil && state == processed:
			return nil, fmt.Errorf("%w: webhook-id %q", ErrAlreadyProcessed, id)
		case err == nil || errors.Is(err, redis.Nil):
			return nil, fmt.Errorf("%w: webhook-id %q", ErrInProgress, id)
		default:
			return nil, fmt.Errorf("webhook: reading webhook-id: %w", err)
		}
	}
	return &Claim{Source: *src, key: key, rdb: v.Redis, window: 2*tol + time.Minute}, nil
}

func (v *Verifier) verifyHub(sig string, body []byte) (*Claim, error) {
	hexSig, ok := strings.CutPrefix(sig, "sha256=")
	got, err := hex.DecodeString(hexSig)
	if !ok || err != nil {
		return nil, unauthorized("X-Hub-Signature-256 is not sha256=<hex>")
	}
	for _, src := range v.Sources {
		mac := hmac.New(sha256.New, []byte(src.Secret))
		mac.Write(body)
		if hmac.Equal(got, mac.Sum(nil)) {
			return &Claim{Source: src}, nil
		}
	}
	return nil, unauthorized("no configured webhook secret matches X-Hub-Signature-256")
}

func (v *Verifier) now() time.Time {
	if v.Now != nil {
		return v.Now()
	}
	return time.Now()
}

func (v *Verifier) tolerance() time.Duration {
	if v.Tolerance > 0 {
		return v.Tolerance
	}
	return DefaultTolerance
}
