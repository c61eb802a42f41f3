// Package httpsend is the HTTP round trip the JSON and form channels share (whatsapp, webhook,
// websub): the caller's context and a timeout on every request, a trace that tells a request
// that cannot have left from one that may have arrived, Retry-After parsing, and secrets kept
// out of every error it returns. Deciding what a status code means stays with each channel.
package httpsend

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"go.uber.org/zap"

	"herald/channels"
)

// MaxBody bounds how much of an answer is read: platform answers are small JSON documents.
const MaxBody = 1 << 20

// Client sends requests for one channel. The zero value is not usable; fill every field but
// Log and Now, which default to a no-op logger and time.Now.
type Client struct {
	HTTP    *http.Client
	Timeout time.Duration
	// Prefix starts every error ("whatsapp", "webhook").
	Prefix string
	// Secrets are replaced by "<redacted>" wherever they would appear in an error.
	Secrets []string
	// SafeURL, when set, replaces the request URL in transport errors (a webhook URL may carry
	// a token in its path or query).
	SafeURL func(*url.URL) string
	// Log is the channel's logger; it names the channel already (channels.New).
	Log *zap.Logger
	Now func() time.Time
}

// Response is an answer that arrived: any status, and up to MaxBody of its body.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
}

// Do sends req (its context is replaced by ctx with the timeout). A non-nil Response means an
// answer arrived, whatever its status; the caller classifies it. When no answer arrived whole
// the error is already classified: a plain (retryable) error when the request cannot have
// reached the server (no connection, write failed, cancelled before sending),
// channels.UnknownOutcome when it may have (timeout or reset after writing, or a 2xx whose body
// was cut). Errors say the action and never contain a secret.
func (c *Client) Do(ctx context.Context, action string, req *http.Request) (*Response, error) {
	action = c.RedactString(action) // it may name a URL that carries a credential
	if err := ctx.Err(); err != nil {
		return nil, c.errorf("%s: not sent: %w", action, err)
	}
	ctx, cancel := context.WithTimeout(ctx, c.Timeout)
	defer cancel()
	var conn, writeFailed atomic.Bool
	trace := &httptrace.ClientTrace{
		// A transport retry of an unwritten request starts a new attempt here.
		GotConn: func(httptrace.GotConnInfo) { writeFailed.Store(false); conn.Store(true) },
		WroteRequest: func(info httptrace.WroteRequestInfo) {
			if info.Err != nil {
				writeFailed.Store(true)
			}
		},
	}
	req = req.WithContext(httptrace.WithClientTrace(ctx, trace))
	start := c.now()
	resp, err := c.HTTP.Do(req)
	status := 0
	if resp != nil {
		status = resp.StatusCode
	}
	defer func() {
		c.logger().Debug(c.Prefix+" request", zap.String("action", action),
			zap.Int("status", status), zap.Duration("took", c.now().Sub(start)))
	}()
	if err != nil {
		err = c.errorf("%s: %w", action, c.Redact(err))
		if conn.Load() && !writeFailed.Load() {
			// The request may be with the server: only a platform that deduplicates may repeat it.
			return nil, channels.UnknownOutcome(err)
		}
		return nil, err
	}
	defer resp.Body.Close()
	body, rerr := io.ReadAll(io.LimitReader(resp.Body, MaxBody))
	if rerr != nil && status >= 200 && status < 300 {
		return nil, channels.UnknownOutcome(c.errorf("%s: reading the %d answer: %w", action, status, c.Redact(rerr)))
	}
	return &Response{Status: status, Header: resp.Header, Body: body}, nil
}

// RetryAt is when to try again after resp: its Retry-After (seconds or an HTTP date), else now
// plus def.
func (c *Client) RetryAt(resp *Response, def time.Duration) time.Time {
	now := c.now()
	if resp != nil {
		if at, ok := ParseRetryAfter(resp.Header.Get("Retry-After"), now); ok {
			return at
		}
	}
	return now.Add(def)
}

// HasRetryAfter reports whether the answer said when to come back.
func HasRetryAfter(resp *Response) bool {
	return resp != nil && strings.TrimSpace(resp.Header.Get("Retry-After")) != ""
}

// ParseRetryAfter reads a Retry-After value: delay seconds or an HTTP date.
// Specs: https://www.rfc-editor.org/rfc/rfc9110#field.retry-after
func ParseRetryAfter(v string, now time.Time) (time.Time, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return time.Time{}, false
	}
	if secs, err := strconv.Atoi(v); err == nil {
		if secs < 0 {
			return time.Time{}, false
		}
		return now.Add(time.Duration(secs) * time.Second), true
	}
	if at, err := http.ParseTime(v); err == nil {
		if at.Before(now) {
			return now, true
		}
		return at, true
	}
	return time.Time{}, false
}

// Errorf builds an error that says the channel and the action, with secrets removed from the
// arguments' text.
func (c *Client) Errorf(format string, args ...any) error {
	return c.Redact(c.errorf(format, args...))
}

func (c *Client) errorf(format string, args ...any) error {
	return fmt.Errorf(c.Prefix+": "+format, args...)
}

// Snippet is the start of an answer's body for an error message, secrets removed. They are
// removed before the cut: a secret the cut went through would no longer be found, and its
// first part would stay in the error.
func (c *Client) Snippet(body []byte) string {
	s := c.RedactString(strings.TrimSpace(string(body)))
	if len(s) > 300 {
		s = s[:300] + "…"
	}
	return strings.ToValidUTF8(s, "?")
}

const redacted = "<redacted>"

// Redact removes the secrets from err: the URL of every *url.Error in the chain is replaced
// (SafeURL) or scrubbed, and should a secret still show in the message the error is replaced by
// its redacted text.
func (c *Client) Redact(err error) error {
	if err == nil {
		return nil
	}
	for e := err; e != nil; e = errors.Unwrap(e) {
		if ue, ok := e.(*url.Error); ok {
			if c.SafeURL != nil {
				if u, perr := url.Parse(ue.URL); perr == nil {
					ue.URL = c.SafeURL(u)
				} else {
					ue.URL = redacted
				}
			}
			ue.URL = c.RedactString(ue.URL)
		}
	}
	msg := err.Error()
	if red := c.RedactString(msg); red != msg {
		return errors.New(red)
	}
	return err
}

// RedactString replaces every secret (and its URL-escaped forms) in s.
func (c *Client) RedactString(s string) string {
	for _, sec := range c.Secrets {
		if len(sec) < 4 { // too short to tell from ordinary text
			continue
		}
		s = strings.ReplaceAll(s, sec, redacted)
		s = strings.ReplaceAll(s, url.QueryEscape(sec), redacted)
		s = strings.ReplaceAll(s, url.PathEscape(sec), redacted)
	}
	return s
}

func (c *Client) now() time.Time {
	if c.Now != nil {
		return c.Now()
	}
	return time.Now()
}

func (c *Client) logger() *zap.Logger {
	if c.Log != nil {
		return c.Log
	}
	return zap.NewNop()
}

// NoRedirects returns a copy of hc that hands redirects back instead of following them: a
// POST silently turned into a GET elsewhere is a lost post.
func NoRedirects(hc *http.Client) *http.Client {
	if hc == nil {
		hc = http.DefaultClient
	}
	cp := *hc
	cp.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &cp
}
