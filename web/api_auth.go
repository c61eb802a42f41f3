package web

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"net/http"
	"strings"
)

// Role is what a bearer token may do.
type Role string

// Roles. An admin may do everything; a viewer only reads; a publisher only publishes.
const (
	RoleAdmin     Role = "admin"
	RoleViewer    Role = "viewer"
	RolePublisher Role = "publisher"
)

// Roles lists the valid roles.
var Roles = []Role{RoleAdmin, RoleViewer, RolePublisher}

// Valid reports whether r is a known role.
func (r Role) Valid() bool { return r == RoleAdmin || r == RoleViewer || r == RolePublisher }

// Access is what a route needs; each route states one when it is registered (see Server.allow).
type Access int

const (
	// Read: status, lists, stats, the delivery log (viewer, admin).
	Read Access = iota
	// Publish: submitting articles (publisher, admin).
	Publish
	// Admin: changing state — pause, resume, retry, repost (admin only).
	Admin
)

func (a Access) String() string {
	return [...]string{"read", "publish", "admin"}[a]
}

// Can reports whether role r grants access a.
func (r Role) Can(a Access) bool {
	switch r {
	case RoleAdmin:
		return true
	case RoleViewer:
		return a == Read
	case RolePublisher:
		return a == Publish
	}
	return false
}

// Token is one accepted bearer token. Several tokens may share a role.
type Token struct {
	Role  Role
	Token string
}

type roleKey struct{}

// RoleFrom returns the role of the request's token, set by the auth middleware ("" when none).
func RoleFrom(ctx context.Context) Role {
	r, _ := ctx.Value(roleKey{}).(Role)
	return r
}

// Authenticate returns the role of a bearer token. Every configured token is compared, in
// constant time, so the answer's timing does not tell which one nearly matched.
func (s *Server) Authenticate(token string) (Role, bool) {
	token = strings.TrimSpace(token)
	if token == "" {
		return "", false
	}
	// Comparing digests keeps the comparison constant-time even when lengths differ.
	got := sha256.Sum256([]byte(token))
	var role Role
	check := func(t Token) {
		if t.Token == "" {
			return
		}
		want := sha256.Sum256([]byte(t.Token))
		if subtle.ConstantTimeCompare(got[:], want[:]) == 1 && role == "" {
			role = t.Role
		}
	}
	check(Token{Role: RoleAdmin, Token: s.Token})
	for _, t := range s.Tokens {
		check(t)
	}
	return role, role != ""
}

// allow wraps a route: the request needs a bearer token whose role grants access; 401 without
// a valid token, 403 with a token of the wrong role. New routes state their access here:
//
//	mux.Handle("GET /v1/things", s.allow(Read, s.listThings))
func (s *Server) allow(access Access, next http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// The scheme is case-insensitive (RFC 9110 §11.1): "bearer …", as some HTTP clients
		// and CMS plugins write it, is the same credential.
		scheme, got, _ := strings.Cut(strings.TrimSpace(r.Header.Get("Authorization")), " ")
		bearer := strings.EqualFold(scheme, "Bearer")
		role, ok := s.Authenticate(got)
		if !bearer || !ok {
			w.Header().Set("WWW-Authenticate", `Bearer realm="herald"`)
			writeJSON(w, http.StatusUnauthorized, apiError{Error: "missing or wrong bearer token"})
			return
		}
		if !role.Can(access) {
			writeJSON(w, http.StatusForbidden, apiError{Error: "a " + string(role) + " token may not " + access.String() + " (needs " + needs(access) + ")"})
			return
		}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), roleKey{}, role)))
	})
}

func needs(a Access) string {
	switch a {
	case Read:
		return "viewer or admin"
	case Publish:
		return "publisher or admin"
	}
	return "admin"
}
