package web

import (
	"errors"
	"net/http"
	"strings"

	"go.uber.org/zap"

	"herald/channels"
	"herald/queue"
)

// apiBy is who an API call acts for: its by parameter, else "api". The delivery log's entry of
// the action carries it (mark sent, drop, retry, repost).
func apiBy(r *http.Request) string {
	if by := strings.TrimSpace(r.URL.Query().Get("by")); by != "" {
		return by
	}
	return "api"
}

// decide serves POST /v1/articles/{id}/deliveries/{channel}/mark-sent?remote_id=&post_url=&by=
// (an admin's word that the post exists: the record becomes sent, nothing is posted) and
// …/drop?by= (a final failed, "dropped by …"). by names the admin (default "api").
func (s *Server) decide(w http.ResponseWriter, r *http.Request, action string) {
	id, ch := r.PathValue("id"), channels.Name(r.PathValue("channel"))
	q := r.URL.Query()
	by := apiBy(r)
	var d queue.Delivery
	var err error
	if action == "mark-sent" {
		d, err = s.Broker.MarkSent(r.Context(), id, ch, by, q.Get("remote_id"), q.Get("post_url"))
	} else {
		d, err = s.Broker.Drop(r.Context(), id, ch, by)
	}
	result := string(d.State)
	if err != nil {
		result = "error: " + err.Error()
	}
	s.auditAPI(r, action, id+" "+string(ch)+" by "+by, result)
	switch {
	case errors.Is(err, queue.ErrNotFound):
		writeJSON(w, http.StatusNotFound, apiError{Error: err.Error()})
	case errors.Is(err, queue.ErrInvalidURL):
		writeJSON(w, http.StatusBadRequest, apiError{Error: err.Error()})
	case errors.Is(err, queue.ErrConflict):
		writeJSON(w, http.StatusConflict, apiError{Error: err.Error()})
	case err != nil:
		// Redis failed: logged, as every other 503 of the API is (the answer keeps its address out).
		s.Logger.Error("recording a decision", zap.String("action", action), zap.String("article_id", id), zap.String("channel", string(ch)), zap.Error(err))
		writeJSON(w, http.StatusServiceUnavailable, apiError{Error: "could not record the decision; it is safe to retry"})
	default:
		writeJSON(w, http.StatusOK, d)
	}
}
