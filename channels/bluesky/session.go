package bluesky

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sync"

	"go.uber.org/zap"

	"herald/channels"
	"herald/channels/httpsend"
)

// session is what createSession and refreshSession answer: two JWTs and the account. The
// tokens are secrets: they go into Authorization headers and nowhere else.
// Specs: https://docs.bsky.app/docs/api/com-atproto-server-create-session
type session struct {
	AccessJwt  string `json:"accessJwt"`
	RefreshJwt string `json:"refreshJwt"`
	DID        string `json:"did"`
	Handle     string `json:"handle"`
	Active     *bool  `json:"active,omitempty"`
	Status     string `json:"status,omitempty"`
}

// sessions keeps the channel's one session in memory. createSession is limited to 30 per 5
// minutes (and 300 a day) per account, so every send shares one session; an expired access
// token is refreshed once, however many sends found it expired at the same time, and a new
// session is created only when the refresh token no longer works. The mutex is held across
// the network call on purpose: the other sends wait for the one renewal instead of making
// their own.
type sessions struct {
	mu  sync.Mutex
	cur *session
}

// current returns the session, creating one if there is none.
func (c *Channel) current(ctx context.Context) (*session, error) {
	c.sess.mu.Lock()
	defer c.sess.mu.Unlock()
	if c.sess.cur != nil {
		return c.sess.cur, nil
	}
	s, err := c.createSession(ctx)
	if err != nil {
		return nil, err
	}
	c.sess.cur = s
	return s, nil
}

// renew replaces stale, whose access token the PDS refused: by nothing when another send has
// renewed it already, else by a refreshed session, else by a new one.
func (c *Channel) renew(ctx context.Context, stale *session) (*session, error) {
	c.sess.mu.Lock()
	defer c.sess.mu.Unlock()
	if c.sess.cur != nil && c.sess.cur != stale {
		return c.sess.cur, nil
	}
	s, err := c.refreshSession(ctx, stale)
	var xe *XRPCError
	if errors.As(err, &xe) && (sessionExpired(xe) || authFailure(xe)) && xe.Name != "AccountTakedown" {
		c.log.Info("bluesky: the refresh token no longer works; creating a new session", zap.String("refresh_error", xe.Name))
		// The stale session is of no use any more, whatever createSession answers.
		c.sess.cur = nil
		s, err = c.createSession(ctx)
	}
	if err != nil {
		// A refresh that failed in transit leaves the session as it was: the next send tries
		// the refresh again instead of spending a createSession.
		return nil, err
	}
	c.sess.cur = s
	return s, nil
}

// createSession logs in with the app password.
// Specs: https://docs.bsky.app/docs/api/com-atproto-server-create-session
func (c *Channel) createSession(ctx context.Context) (*session, error) {
	body, err := json.Marshal(map[string]string{"identifier": c.cfg.Identifier, "password": c.cfg.AppPassword})
	if err != nil {
		return nil, channels.Permanent(c.send.Errorf("creating a session: %w", err))
	}
	s, err := c.sessionCall(ctx, c.send, "creating a session", "com.atproto.server.createSession", "", body)
	if err != nil {
		return nil, err
	}
	c.log.Info("bluesky session created", zap.String("did", s.DID), zap.String("handle", s.Handle))
	return s, nil
}

// refreshSession trades the refresh token for a new pair (the old refresh token is revoked).
// Specs: https://docs.bsky.app/docs/api/com-atproto-server-refresh-session
func (c *Channel) refreshSession(ctx context.Context, old *session) (*session, error) {
	if old == nil || old.RefreshJwt == "" {
		return nil, &XRPCError{Status: http.StatusUnauthorized, Name: "AuthMissing", Message: "no session to refresh"}
	}
	s, err := c.sessionCall(ctx, c.clientFor(old), "refreshing the session", "com.atproto.server.refreshSession", old.RefreshJwt, nil)
	if err != nil {
		return nil, err
	}
	c.log.Debug("bluesky session refreshed", zap.String("did", s.DID))
	return s, nil
}

// sessionCall POSTs to a session method. A refused answer is returned as the *XRPCError
// wrapped in its kind (createSession's 4xx pause the channel: every send would fail the same).
func (c *Channel) sessionCall(ctx context.Context, send *httpsend.Client, action, method, bearer string, body []byte) (*session, error) {
	req, err := http.NewRequest(http.MethodPost, c.xrpcURL(method), bytes.NewReader(body))
	if err != nil {
		return nil, channels.Permanent(send.Errorf("%s: %w", action, err))
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	resp, err := send.Do(ctx, action, req)
	if err != nil {
		var u *channels.UnknownOutcomeError
		if errors.As(err, &u) {
			return nil, u.Err // a session call posts nothing: repeating it is safe
		}
		return nil, err
	}
	if resp.Status != http.StatusOK {
		err := c.classify(send, action, resp)
		if _, pause := channels.AsPause(err); !pause && resp.Status >= 400 && resp.Status < 500 && resp.Status != http.StatusTooManyRequests {
			err = channels.Auth(fmt.Errorf("bluesky: %s: %w", action, parseError(resp, send)))
		}
		return nil, err
	}
	var s session
	if err := json.Unmarshal(resp.Body, &s); err != nil || s.AccessJwt == "" || s.RefreshJwt == "" || s.DID == "" {
		return nil, send.Errorf("%s: the answer has no tokens or did", action)
	}
	return &s, nil
}

// clientFor is the channel's HTTP client with the session's tokens added to the secrets it
// keeps out of errors.
func (c *Channel) clientFor(s *session) *httpsend.Client {
	cp := *c.send
	cp.Secrets = append(append([]string(nil), c.send.Secrets...), s.AccessJwt, s.RefreshJwt)
	return &cp
}

// authed makes an XRPC call with the session's access token. When the PDS says the token
// expired (or no longer verifies) the session is renewed and the call made once more: the
// first request was refused before the method ran, so repeating it is safe. It returns the
// session used, and the answer whatever its status.
func (c *Channel) authed(ctx context.Context, action string, mk func(s *session) (*http.Request, error)) (*session, *httpsend.Client, *httpsend.Response, error) {
	s, err := c.current(ctx)
	if err != nil {
		return nil, nil, nil, err
	}
	for try := 0; ; try++ {
		send := c.clientFor(s)
		req, err := mk(s)
		if err != nil {
			return nil, nil, nil, channels.Permanent(send.Errorf("%s: %w", action, err))
		}
		req.Header.Set("Authorization", "Bearer "+s.AccessJwt)
		resp, err := send.Do(ctx, action, req)
		if err != nil {
			return s, send, nil, err
		}
		if try == 0 && resp.Status >= 400 && sessionExpired(parseError(resp, send)) {
			if s, err = c.renew(ctx, s); err != nil {
				return nil, nil, nil, err
			}
			continue
		}
		return s, send, resp, nil
	}
}

func (c *Channel) xrpcURL(method string) string { return c.cfg.Service + "/xrpc/" + method }
