package x

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/dghubble/oauth1"

	"herald/channels"
	"herald/channels/httpsend"
)

// newSignedClient returns a client that signs every request with OAuth 1.0a user context
// (HMAC-SHA1 over the method, URL and query; X's JSON bodies are not signed) through base's
// transport, with the channel's timeout.
// Specs: https://docs.x.com/resources/fundamentals/authentication/oauth-1-0a/authorizing-a-request
func newSignedClient(cfg Config, base *http.Client) *http.Client {
	ctx := context.WithValue(context.Background(), oauth1.HTTPClient, base)
	signed := oauth1.NewClient(ctx, oauth1.NewConfig(cfg.ConsumerKey, cfg.ConsumerSecret), oauth1.NewToken(cfg.AccessToken, cfg.AccessSecret))
	// A redirect is handed back, not followed (httpsend.NoRedirects): a POST turned into a GET
	// elsewhere is a lost post.
	return &http.Client{Transport: signed.Transport, Timeout: cfg.Timeout, CheckRedirect: httpsend.NoRedirects(base).CheckRedirect}
}

// call runs one X API request through the shared round trip (httpsend: timeout, context,
// request-left-or-not trace, secrets out of errors): body (JSON) is sent when not nil, a 2xx
// answer is decoded into out when not nil, any other answer becomes a classified error
// (errors.go). posting marks a request that creates something: only there may a lost answer
// mean a post went out (UnknownOutcome); elsewhere it is retryable.
func (c *Channel) call(ctx context.Context, action, method, path string, body, out any, posting bool) error {
	var rd io.Reader
	if body != nil {
		b, err := marshal(body)
		if err != nil {
			return channels.Permanent(fmt.Errorf("x: %s: encoding: %w", action, err))
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, c.cfg.APIBase+path, rd)
	if err != nil {
		return channels.Permanent(c.send.Errorf("%s: %w", action, err))
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Accept", "application/json")
	resp, err := c.send.Do(ctx, action, req)
	if err != nil {
		var u *channels.UnknownOutcomeError
		if !posting && errors.As(err, &u) {
			return u.Err // nothing is created by this request: trying again is safe
		}
		return err
	}
	if resp.Status >= 200 && resp.Status < 300 {
		if out == nil {
			return nil
		}
		if err := json.Unmarshal(resp.Body, out); err != nil {
			// X answered yes but we cannot read the id: the post exists.
			err = c.send.Errorf("%s: reading the %d answer: %w", action, resp.Status, err)
			if posting {
				return channels.UnknownOutcome(err)
			}
			return err
		}
		return nil
	}
	ae := parseProblem(resp.Status, resp.Body, c.send)
	return c.classify(action, ae, rateLimitReset(resp.Header), posting)
}

// rateLimitWindows are the header prefixes of X's rate limits on one answer: the endpoint's
// 15-minute window, and for POST /2/tweets the app's and the user's 24-hour windows.
// Specs: https://docs.x.com/x-api/fundamentals/rate-limits
var rateLimitWindows = []string{"x-rate-limit", "x-app-limit-24hour", "x-user-limit-24hour"}

// rateLimitReset is when a 429 ends (epoch seconds, as X writes it): the latest reset of the
// windows whose remaining is 0, else x-rate-limit-reset. A spent 24-hour window comes with a
// 15-minute window that may have room; its reset alone would bring the post back within
// minutes for another 429, every 15 minutes for the rest of the day.
func rateLimitReset(h http.Header) string {
	best, bestAt := h.Get("x-rate-limit-reset"), int64(0)
	for _, w := range rateLimitWindows {
		if strings.TrimSpace(h.Get(w+"-remaining")) != "0" {
			continue
		}
		reset := strings.TrimSpace(h.Get(w + "-reset"))
		if at, err := strconv.ParseInt(reset, 10, 64); err == nil && at > bestAt {
			best, bestAt = reset, at
		}
	}
	return best
}

// marshal is JSON as sent: text as it is (no \u003c for '<'), no trailing newline.
func marshal(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}
