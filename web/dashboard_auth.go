package web

import (
	"crypto/sha256"
	"crypto/subtle"
	"strings"
)

// The roles that may log in to the dashboard.
const (
	roleAdmin  = "admin"
	roleViewer = "viewer"
)

// dashboardRole returns the dashboard role of an API token: admin or viewer. A publisher token,
// or an unknown one, does not log in.
func (s *Server) dashboardRole(token string) (string, bool) {
	token = strings.TrimSpace(token)
	if token == "" || s.Token == "" {
		return "", false
	}
	got, want := sha256.Sum256([]byte(token)), sha256.Sum256([]byte(s.Token))
	if subtle.ConstantTimeCompare(got[:], want[:]) == 1 {
		return roleAdmin, true
	}
	return "", false
}
