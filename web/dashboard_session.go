package web

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// Dashboard sessions live in Redis so that logout ends them in every herald process. The
// cookie holds a random id; Redis holds only its SHA-256, so a copy of Redis does not hand out
// live sessions. Each session has its own CSRF token for the dashboard's POST forms.

const (
	sessionCookie = "herald_session"
	// SessionTTL is how long a dashboard login lasts.
	SessionTTL    = 12 * time.Hour
	sessionPrefix = "herald:dash:sess:"
)

type session struct {
	key  string // Redis key (hash of the cookie's id)
	id   string // the cookie's id
	tok  string // tokenMAC of the token the session was made with
	Role string
	CSRF string
	// Flash is a one-time message for the next page (the result of a button).
	Flash string
}

func (s *session) admin() bool { return s.Role == roleAdmin }

func randomToken() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (Go 1.24+)
	return base64.RawURLEncoding.EncodeToString(b)
}

func sessionKey(id string) string {
	sum := sha256.Sum256([]byte(id))
	return sessionPrefix + hex.EncodeToString(sum[:])
}

// tokenMAC ties a session to the token it was made with: an HMAC of the token keyed with the
// session's id. Redis has only the id's hash, so what it stores says nothing about the token,
// and each request can still check that the token is configured, with which role.
func tokenMAC(id, token string) string {
	m := hmac.New(sha256.New, []byte(id))
	m.Write([]byte(strings.TrimSpace(token)))
	return hex.EncodeToString(m.Sum(nil))
}

// newSession stores a session made with token (of role) and returns the cookie's id.
func newSession(ctx context.Context, rdb redis.UniversalClient, role, token string) (string, error) {
	id := randomToken()
	key := sessionKey(id)
	pipe := rdb.TxPipeline()
	pipe.HSet(ctx, key, "role", role, "tok", tokenMAC(id, token), "csrf", randomToken(), "created", time.Now().Unix())
	pipe.Expire(ctx, key, SessionTTL)
	if _, err := pipe.Exec(ctx); err != nil {
		return "", fmt.Errorf("dashboard: storing a session: %w", err)
	}
	return id, nil
}

var errNoSession = errors.New("no session")

// loadSession reads the request's session; errNoSession when there is none or it ended.
func loadSession(r *http.Request, rdb redis.UniversalClient) (*session, error) {
	c, err := r.Cookie(sessionCookie)
	if err != nil || c.Value == "" {
		return nil, errNoSession
	}
	key := sessionKey(c.Value)
	m, err := rdb.HGetAll(r.Context(), key).Result()
	if err != nil {
		return nil, fmt.Errorf("dashboard: reading a session: %w", err)
	}
	if m["role"] == "" || m["csrf"] == "" || m["tok"] == "" {
		return nil, errNoSession
	}
	return &session{key: key, id: c.Value, tok: m["tok"], Role: m["role"], CSRF: m["csrf"], Flash: m["flash"]}, nil
}

// session reads the request's session with the role its token has now: errNoSession when there
// is none, it ended, or the token it was made with is no longer an admin or viewer token in the
// configuration (a session ends with its token, and a token demoted to viewer demotes its
// sessions at their next request).
func (s *Server) session(r *http.Request) (*session, error) {
	sess, err := loadSession(r, s.Broker.Client())
	if err != nil {
		return nil, err
	}
	var role Role
	check := func(t Token) {
		if t.Token != "" && role == "" && hmac.Equal([]byte(tokenMAC(sess.id, t.Token)), []byte(sess.tok)) {
			role = t.Role
		}
	}
	check(Token{Role: RoleAdmin, Token: s.Token}) // first, as Authenticate does
	for _, t := range s.Tokens {
		check(t)
	}
	if role != RoleAdmin && role != RoleViewer {
		// Refused, not deleted: in a rolling restart a process with the old configuration must
		// not end the sessions of a token only the new one has.
		return nil, errNoSession
	}
	sess.Role = string(role)
	return sess, nil
}

// checkCSRF compares the form's token with the session's in constant time.
func (s *session) checkCSRF(got string) bool {
	return got != "" && subtle.ConstantTimeCompare([]byte(got), []byte(s.CSRF)) == 1
}

// setFlash stores the message only while the session exists: a session that expired or was
// logged out since the request read it would otherwise come back as a hash with no TTL, kept
// for ever (loadSession refuses it, nothing deletes it).
func (s *session) setFlash(ctx context.Context, rdb redis.UniversalClient, msg string) {
	_ = flashScript.Run(ctx, rdb, []string{s.key}, msg).Err()
}

// flashScript: KEYS[1] session hash, ARGV[1] message. HSET keeps the session's TTL.
var flashScript = redis.NewScript(`
if redis.call("EXISTS", KEYS[1]) == 1 then redis.call("HSET", KEYS[1], "flash", ARGV[1]) end
return 1
`)

// takeFlash returns the flash message once.
func (s *session) takeFlash(ctx context.Context, rdb redis.UniversalClient) string {
	if s.Flash != "" {
		_ = rdb.HDel(ctx, s.key, "flash").Err()
	}
	return s.Flash
}

func (s *session) end(ctx context.Context, rdb redis.UniversalClient) error {
	return rdb.Del(ctx, s.key).Err()
}

// setSessionCookie: HttpOnly (no script reads it), SameSite=Strict (no other site's page sends
// it), Secure when the request came over TLS or the dashboard is told it sits behind TLS.
func setSessionCookie(w http.ResponseWriter, value string, secure bool, maxAge int) {
	http.SetCookie(w, &http.Cookie{
		Name: sessionCookie, Value: value, Path: "/", MaxAge: maxAge,
		HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: secure,
	})
}
