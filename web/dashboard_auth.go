package web

// The roles that may log in to the dashboard: an admin sees the buttons, a viewer does not.
// A publisher token does not log in.
const (
	roleAdmin  = string(RoleAdmin)
	roleViewer = string(RoleViewer)
)

// dashboardRole returns the dashboard role of an API token (api_auth.go compares every
// configured token in constant time).
func (s *Server) dashboardRole(token string) (string, bool) {
	role, ok := s.Authenticate(token)
	if !ok || (role != RoleAdmin && role != RoleViewer) {
		return "", false
	}
	return string(role), true
}
