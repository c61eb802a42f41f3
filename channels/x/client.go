package x

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/dghubble/oauth1"
	"go.uber.org/zap"

	"herald/channels"
	"herald/channels/internal/httpx"
)

// newSignedClient returns a client that signs every request with OAuth 1.0a user context
// (HMAC-SHA1 over the method, URL and query; X's JSON bodies are not signed) through base's
// transport, with the channel's timeout.
// Specs: https://docs.x.com/resources/fundamentals/authentication/oauth-1-0a/authorizing-a-request
func newSignedClient(cfg Config, base *http.Client) *http.Client {
	ctx := context.WithValue(context.Background(), oauth1.HTTPClient, base)
	signed := oauth1.NewClient(ctx, oauth1.NewConfig(cfg.ConsumerKey, cfg.ConsumerSecret), oauth1.NewToken(cfg.AccessToken, cfg.AccessSecret))
	return &http.Client{Transport: signed.Transport, Timeout: cfg.Timeout, CheckRedirect: base.CheckRedirect}
}

// maxAnswer caps how much of an answer is read.
const maxAnswer = 1 << 20

// call runs one X API request: body (JSON) is sent when not nil, a 2xx answer is decoded into
// out when not nil, any other answer becomes a classified error (errors.go). posting marks a
// request that creates something, whose transport failure after the request may have left is
// an unknown outcome rather than retryable. Errors never contain a credential.
func (c *Channel) call(ctx context.Context, action, method, path string, body, out any, posting bool) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("x: %s: not sent: %w", action, err)
	}
	ctx, cancel := context.WithTimeout(ctx, c.cfg.Timeout)
	defer cancel()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return channels.Permanent(fmt.Errorf("x: %s: encoding: %w", action, err))
		}
		rd = bytes.NewReader(b)
	}
	trace := &httpx.Trace{}
	req, err := http.NewRequestWithContext(trace.Context(ctx), method, c.cfg.APIBase+path, rd)
	if err != nil {
		return channels.Permanent(fmt.Errorf("x: %s: %w", action, c.redact(err)))
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Accept", "application/json")
	start := time.Now()
	status, err := c.roundTrip(req, action, out, trace, posting)
	c.log.Debug("x request", zap.String("channel", string(c.name)), zap.String("action", action),
		zap.Int("status", status), zap.Duration("took", time.Since(start)), zap.Error(err))
	return err
}

func (c *Channel) roundTrip(req *http.Request, action string, out any, trace *httpx.Trace, posting bool) (int, error) {
	resp, err := c.http.Do(req)
	if err != nil {
		err = fmt.Errorf("x: %s: %w", action, c.redact(err))
		if posting && trace.MayHaveArrived() {
			return 0, channels.UnknownOutcome(err)
		}
		return 0, err // never reached X whole: safe to retry
	}
	defer resp.Body.Close()
	data, rerr := io.ReadAll(io.LimitReader(resp.Body, maxAnswer))
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		if rerr == nil && out != nil {
			rerr = json.Unmarshal(data, out)
		}
		if rerr != nil {
			// X answered yes but we cannot read the id: the post exists.
			err = fmt.Errorf("x: %s: reading the %d answer: %w", action, resp.StatusCode, rerr)
			if posting {
				return resp.StatusCode, channels.UnknownOutcome(err)
			}
			return resp.StatusCode, err
		}
		return resp.StatusCode, nil
	}
	ae := parseProblem(resp.StatusCode, data)
	ae.Detail = httpx.RedactString(ae.Detail, c.cfg.secrets()...)
	ae.Title = httpx.RedactString(ae.Title, c.cfg.secrets()...)
	return resp.StatusCode, c.classify(action, ae, resp.Header.Get("x-rate-limit-reset"), posting)
}

func (c *Channel) redact(err error) error { return httpx.Redact(err, c.cfg.secrets()...) }
