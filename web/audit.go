package web

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"go.uber.org/zap"

	"herald/queue"
)

// DefaultAuditCount and MaxAuditCount bound GET /v1/audit?n=.
const (
	DefaultAuditCount = 50
	MaxAuditCount     = 1000
)

// audit serves GET /v1/audit?n=N: the newest admin actions, newest first.
func (s *Server) audit(w http.ResponseWriter, r *http.Request) {
	n := DefaultAuditCount
	if v := r.URL.Query().Get("n"); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil || n < 1 || n > MaxAuditCount {
			writeJSON(w, http.StatusBadRequest, apiError{Error: "n must be a number from 1 to " + strconv.Itoa(MaxAuditCount)})
			return
		}
	}
	es, err := s.Broker.Audit(r.Context(), int64(n))
	if err != nil {
		s.Logger.Error("reading the audit log", zap.Error(err))
		writeJSON(w, http.StatusServiceUnavailable, apiError{Error: "could not read the audit log"})
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"entries": es})
}

// auditAPI records an admin action taken through the API. The bearer token is one identity, so
// the entry says where the request came from.
func (s *Server) auditAPI(r *http.Request, action, args, result string) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), 5*time.Second)
	defer cancel()
	e := queue.AuditEntry{Source: "api", Client: r.RemoteAddr, Action: action, Args: args, Result: result, Allowed: true}
	if err := s.Broker.AppendAudit(ctx, e); err != nil {
		s.Logger.Error("writing the audit log", zap.String("action", action), zap.Error(err))
	}
}
