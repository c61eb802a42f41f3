package web

import (
	"context"
	"errors"
	"mime"
	"net/http"
	"strings"

	"go.uber.org/zap"

	"herald/article"
	"herald/channels"
	"herald/queue"
)

// correct serves POST /v1/articles/{id}/correct?channel=&by= (admin) with the corrected article
// as the body (its id, if given, must be the path's): the stored article is replaced and sent
// posts are edited in place where the platform can edit (queue.Broker.Correct, through the
// routes this process built). 200 with what happened per channel; 502 with the same body when
// an edit failed or a delivery was busy (calling again finishes the job: an edit to the same
// text changes nothing); 400 bad JSON or an invalid article, nothing changed; 404 for an
// unknown article or channel; 415 not JSON; 503 when Redis is unavailable.
func (s *Server) correct(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	q := r.URL.Query()
	ch := channels.Name(strings.TrimSpace(q.Get("channel")))
	by := strings.TrimSpace(q.Get("by"))
	if by == "" {
		by = "api"
	}
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "application/json" {
		writeJSON(w, http.StatusUnsupportedMediaType, apiError{Error: "Content-Type must be application/json"})
		return
	}
	a, err := article.Decode(http.MaxBytesReader(w, r.Body, article.MaxPayloadBytes))
	var tooBig *http.MaxBytesError
	var ve *article.ValidationError
	switch {
	case errors.As(err, &tooBig) || errors.Is(err, article.ErrTooLarge):
		writeJSON(w, http.StatusRequestEntityTooLarge, apiError{Error: "article larger than 4 MiB"})
		return
	case errors.As(err, &ve):
		writeJSON(w, http.StatusBadRequest, apiError{Error: "invalid article", Errors: ve.Errors})
		return
	case err != nil:
		writeJSON(w, http.StatusBadRequest, apiError{Error: err.Error()})
		return
	}
	if a.ID = strings.TrimSpace(a.ID); a.ID != "" && a.ID != id {
		writeJSON(w, http.StatusBadRequest, apiError{Error: "the article's id " + a.ID + " is not the path's " + id})
		return
	}
	a.ID = id
	// As a retract: a client that stops waiting does not stop the edits half-way.
	res, err := s.Broker.Correct(context.WithoutCancel(r.Context()), &a, ch, by, s.Routes)
	args := id + " by " + by
	if ch != "" {
		args = id + " " + string(ch) + " by " + by
	}
	s.auditAPI(r, "correct", args, correctSummary(res, err))
	switch {
	case errors.As(err, &ve):
		writeJSON(w, http.StatusBadRequest, apiError{Error: "invalid article", Errors: ve.Errors})
	case errors.Is(err, queue.ErrNotFound):
		writeJSON(w, http.StatusNotFound, apiError{Error: err.Error()})
	case err != nil:
		s.Logger.Error("correcting", zap.String("article_id", id), zap.Error(err))
		writeJSON(w, http.StatusServiceUnavailable, apiError{Error: "could not record the correction; it is safe to retry"})
	case res.Failed():
		writeJSON(w, http.StatusBadGateway, res)
	default:
		writeJSON(w, http.StatusOK, res)
	}
}

// correctSummary is the audit result: "tg edited, x cannot-edit" or the error.
func correctSummary(res *queue.Correction, err error) string {
	if err != nil {
		return "error: " + err.Error()
	}
	return res.Summary()
}
