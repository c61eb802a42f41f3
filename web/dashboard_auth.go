package web

// The roles that may log in to the dashboard.
const (
	roleAdmin  = "admin"
	roleViewer = "viewer"
)

// dashboardRole returns the dashboard role of an API token (api_auth.go): admin or viewer. A
// publisher token, or an unknown one, does not log in.
func (s *Server) dashboardRole(token string) (string, bool) {
	switch role, _ := s.Authenticate(token); role {
	case RoleAdmin:
		return roleAdmin, true
	case RoleViewer:
		return roleViewer, true
	}
	return "", false
}
