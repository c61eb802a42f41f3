// Package web serves herald's HTTP API: publishing, delivery status, health and readiness.
package web

import (
	"crypto/subtle"
	"encoding/json"
	"errors"
	"mime"
	"net/http"
	"strings"

	"go.uber.org/zap"

	"herald/article"
	"herald/ingest"
	"herald/queue"
)

// Server holds the API's dependencies.
type Server struct {
	Publisher *ingest.Publisher
	Broker    *queue.Broker
	// Token is the bearer token required on /v1; it is never logged or echoed.
	Token  string
	Logger *zap.Logger
}

// Handler returns the API's routes.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("POST /v1/articles", s.auth(http.HandlerFunc(s.postArticle)))
	mux.Handle("GET /v1/articles/{id}", s.auth(http.HandlerFunc(s.getArticle)))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	mux.HandleFunc("GET /readyz", s.ready)
	return mux
}

type apiError struct {
	Error  string               `json:"error"`
	Errors []article.FieldError `json:"errors,omitempty"`
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
}

func (s *Server) auth(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !ok || s.Token == "" || subtle.ConstantTimeCompare([]byte(strings.TrimSpace(got)), []byte(s.Token)) != 1 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="herald"`)
			writeJSON(w, http.StatusUnauthorized, apiError{Error: "missing or wrong bearer token"})
			return
		}
		next.ServeHTTP(w, r)
	})
}

// postArticle: 202 with the id and deliveries; 400 bad JSON, 401, 413 too large, 415 not JSON,
// 422 invalid fields (all of them at once). Nothing is enqueued on any 4xx.
func (s *Server) postArticle(w http.ResponseWriter, r *http.Request) {
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
		writeJSON(w, http.StatusUnprocessableEntity, apiError{Error: "invalid article", Errors: ve.Errors})
		return
	case err != nil:
		writeJSON(w, http.StatusBadRequest, apiError{Error: err.Error()})
		return
	}
	res, err := s.Publisher.Publish(r.Context(), &a)
	if errors.As(err, &ve) {
		status := http.StatusUnprocessableEntity
		for _, fe := range ve.Errors {
			if fe.Field == "body" && strings.Contains(fe.Message, "bytes") {
				status = http.StatusRequestEntityTooLarge
			}
		}
		writeJSON(w, status, apiError{Error: "invalid article", Errors: ve.Errors})
		return
	}
	if err != nil {
		s.Logger.Error("publishing article", zap.String("article_id", a.ID), zap.Error(err))
		writeJSON(w, http.StatusServiceUnavailable, apiError{Error: "could not queue the article; it is safe to retry"})
		return
	}
	writeJSON(w, http.StatusAccepted, res)
}

func (s *Server) getArticle(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	st, err := s.Broker.Status(r.Context(), id)
	if errors.Is(err, queue.ErrNotFound) {
		writeJSON(w, http.StatusNotFound, apiError{Error: "no article with id " + id})
		return
	}
	if err != nil {
		s.Logger.Error("reading article status", zap.String("article_id", id), zap.Error(err))
		writeJSON(w, http.StatusServiceUnavailable, apiError{Error: "could not read the delivery records"})
		return
	}
	writeJSON(w, http.StatusOK, st)
}

func (s *Server) ready(w http.ResponseWriter, r *http.Request) {
	if err := s.Broker.Ping(r.Context()); err != nil {
		writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "redis unavailable"})
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
}
