package web

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
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

// newSession stores a session for role and returns the cookie's id.
func newSession(ctx context.Context, rdb redis.UniversalClient, role string) (string, error) {
	id := randomToken()
	key := sessionKey(id)
	pipe := rdb.TxPipeline()
	pipe.HSet(ctx, key, "role", role, "csrf", randomToken(), "created", time.Now().Unix())
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
	if m["role"] == "" || m["csrf"] == "" {
		return nil, errNoSession
	}
	return &session{key: key, Role: m["role"], CSRF: m["csrf"], Flash: m["flash"]}, nil
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
