package webhookfake

// The receiver's side of Standard Webhooks, written from the spec apart from the signer in
// channels/webhook, so a test that passes both is not the signer agreeing with itself.
// Specs: https://github.com/standard-webhooks/standard-webhooks/blob/main/spec/standard-webhooks.md#verifying-webhook-authenticity

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Tolerance is how far webhook-timestamp may be from the receiver's clock (the spec's
// reference libraries use five minutes), against replays.
const Tolerance = 5 * time.Minute

// Verification errors.
var (
	ErrMissingHeaders = errors.New("missing webhook-id, webhook-timestamp or webhook-signature")
	ErrBadTimestamp   = errors.New("webhook-timestamp is not unix seconds within the tolerance")
	ErrNoMatch        = errors.New("no matching signature")
)

// Verifier checks requests against the secrets it knows (any one of them matching is enough,
// which is what lets a sender rotate secrets).
type Verifier struct {
	keys [][]byte
	now  func() time.Time
}

// NewVerifier takes secrets as "whsec_<base64>" or bare base64.
func NewVerifier(secrets ...string) (*Verifier, error) {
	v := &Verifier{now: time.Now}
	for _, s := range secrets {
		raw := s
		if i := strings.Index(raw, "_"); i >= 0 && raw[:i] == "whsec" {
			raw = raw[i+1:]
		}
		k, err := base64.StdEncoding.DecodeString(raw)
		if err != nil {
			return nil, fmt.Errorf("webhookfake: secret is not base64: %w", err)
		}
		v.keys = append(v.keys, k)
	}
	return v, nil
}

// Verify checks one request's headers and exact body bytes.
func (v *Verifier) Verify(h http.Header, body []byte) error {
	id, ts, sigs := h.Get("webhook-id"), h.Get("webhook-timestamp"), h.Get("webhook-signature")
	if id == "" || ts == "" || sigs == "" {
		return ErrMissingHeaders
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || math.Abs(float64(v.now().Unix()-sec)) > Tolerance.Seconds() {
		return ErrBadTimestamp
	}
	return v.VerifyAt(id, ts, body, sigs)
}

// VerifyAt checks a signature header for id, timestamp and body without the clock check (for
// the spec's published example, whose timestamp is long past).
func (v *Verifier) VerifyAt(id, timestamp string, body []byte, signatureHeader string) error {
	signed := make([]byte, 0, len(id)+len(timestamp)+len(body)+2)
	signed = append(signed, id...)
	signed = append(signed, '.')
	signed = append(signed, timestamp...)
	signed = append(signed, '.')
	signed = append(signed, body...)
	for _, part := range strings.Split(signatureHeader, " ") {
		version, sig, ok := strings.Cut(part, ",")
		if !ok || version != "v1" {
			continue // other versions (v1a asymmetric) are not ours to check
		}
		got, err := base64.StdEncoding.DecodeString(sig)
		if err != nil {
			continue
		}
		for _, k := range v.keys {
			m := hmac.New(sha256.New, k)
			m.Write(signed)
			if hmac.Equal(m.Sum(nil), got) {
				return nil
			}
		}
	}
	return ErrNoMatch
}
