// Package web serves herald's HTTP API: publishing, delivery status, health and readiness.
package web

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"go.uber.org/zap"

	"herald/article"
	"herald/channels"
	"herald/ingest"
	"herald/queue"
)

// Server holds the API's dependencies.
type Server struct {
	Publisher *ingest.Publisher
	Broker    *queue.Broker
	// Token is an admin bearer token for /v1 (http.api_token); it is never logged or echoed.
	Token string
	// Tokens are more bearer tokens, each with a role (http.tokens); see api_auth.go.
	Tokens []Token
	Logger *zap.Logger
	// Channels are the configured channels (GET /v1/channels, pause and resume).
	Channels []queue.ChannelConfig
	// Webhooks verifies signed publishes (web/hooks.go); nil refuses every signed request.
	Webhooks *ingest.Verifier
	// Feeds serves GET /v1/feeds and the WebSub callbacks; nil means no feeds.
	Feeds *ingest.Poller
	// Dashboard configures the web dashboard at /dashboard/ (web/dashboard*.go).
	Dashboard DashboardOptions
	// Metrics serves GET /metrics (Prometheus); nil leaves the route out.
	Metrics http.Handler
	// Workers, when set, must be running for /readyz to answer 200.
	Workers Workers
	// Checks returns the channels' start-up checks, shown by /readyz.
	Checks func() []channels.CheckResult
	// Built are the channels as this process built them: POST /v1/articles/{id}/retract and a
	// trashed WordPress post delete through them (channels.Deleter). nil: nothing is deleted.
	Built map[channels.Name]channels.Channel
	// Routes are the routes as this process built them: POST /v1/articles/{id}/correct renders
	// the corrected article and edits sent posts through them (channels.Editor). nil: nothing
	// is edited.
	Routes map[channels.Name]queue.Route
}

// Handler returns the API's routes.
func (s *Server) Handler() http.Handler {
	mux := newRouteMux()
	// A signed request (Standard Webhooks or X-Hub-Signature-256) needs no bearer token.
	mux.Handle("POST /v1/articles", s.signedOr(s.allow(Publish, s.postArticle), http.HandlerFunc(s.postArticle)))
	mux.HandleFunc("POST /v1/hooks/wordpress", s.wordpressHook)
	mux.Handle("GET /v1/feeds", s.allow(Read, s.listFeeds))
	mux.HandleFunc("GET /websub/{feed}", s.websubVerify)
	mux.HandleFunc("POST /websub/{feed}", s.websubPush)
	mux.Handle("GET /v1/articles", s.allow(Read, s.findArticle))
	mux.Handle("GET /v1/articles/{id}", s.allow(Read, s.getArticle))
	mux.Handle("GET /v1/channels", s.allow(Read, s.listChannels))
	mux.Handle("POST /v1/channels/{name}/pause", s.auth(http.HandlerFunc(s.pauseChannel)))
	mux.Handle("POST /v1/channels/{name}/resume", s.auth(http.HandlerFunc(s.pauseChannel)))
	mux.Handle("POST /v1/articles/{id}/deliveries/{channel}/{action}", s.auth(http.HandlerFunc(s.requeue)))
	mux.Handle("POST /v1/channels/{name}/retry-unknown", s.auth(http.HandlerFunc(s.retryUnknown)))
	mux.Handle("POST /v1/articles/{id}/retract", s.auth(http.HandlerFunc(s.retract)))
	mux.Handle("POST /v1/articles/{id}/correct", s.auth(http.HandlerFunc(s.correct)))
	mux.Handle("GET /v1/audit", s.auth(http.HandlerFunc(s.audit)))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	mux.HandleFunc("GET /readyz", s.ready)
	// The dashboard's HTML pages are not API routes: they stay out of the OpenAPI comparison.
	s.dashboardRoutes(mux.ServeMux)
	s.observeRoutes(mux)
	return mux
}

type apiError struct {
	Error  string               `json:"error"`
	Errors []article.FieldError `json:"errors,omitempty"`
}

// RetryAfter is the Retry-After (seconds) of every 503: Redis is unavailable, and a client that
// retries after this long loses nothing (nothing was enqueued, or the retry is deduplicated).
const RetryAfter = "2"

func writeJSON(w http.ResponseWriter, status int, v any) {
	writeJSONBody(w, status, encodeJSON(v))
}

// encodeJSON is v as writeJSON answers it (an answer kept for an Idempotency-Key too).
func encodeJSON(v any) []byte {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
	return b.Bytes()
}

func writeJSONBody(w http.ResponseWriter, status int, body []byte) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	if status == http.StatusServiceUnavailable {
		w.Header().Set("Retry-After", RetryAfter)
	}
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// auth requires an admin token (everything that changes state). Routes other roles may use
// say so with s.allow(Read|Publish, …), see api_auth.go.
func (s *Server) auth(next http.Handler) http.Handler {
	return s.allow(Admin, next.ServeHTTP)
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
	s.writeStatus(w, r, r.PathValue("id"))
}

// findArticle is GET /v1/articles?url=…: the article published with that URL, found as the
// admin bot's /status finds it (queue.Broker.ArticleIDByURL: an article with an id of its own
// through the URL index, else the canonical URL's id), answered as GET /v1/articles/{id}.
func (s *Server) findArticle(w http.ResponseWriter, r *http.Request) {
	raw := r.URL.Query().Get("url")
	if raw == "" {
		writeJSON(w, http.StatusBadRequest, apiError{Error: "url is required: GET /v1/articles?url=<the article's URL>"})
		return
	}
	// Only an absolute http(s) URL can be an article's (article.Validate): anything else is a
	// malformed url (400), not an article that is not there (404).
	if u, err := url.Parse(strings.TrimSpace(raw)); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		writeJSON(w, http.StatusBadRequest, apiError{Error: "url: not an absolute http or https URL"})
		return
	}
	id, err := s.Broker.ArticleIDByURL(r.Context(), raw)
	switch {
	case errors.Is(err, queue.ErrInvalidURL):
		writeJSON(w, http.StatusBadRequest, apiError{Error: "url: not a valid URL"})
		return
	case errors.Is(err, queue.ErrNotFound):
		writeJSON(w, http.StatusNotFound, apiError{Error: "no article with url " + raw})
		return
	case err != nil:
		s.Logger.Error("finding an article by URL", zap.Error(err))
		writeJSON(w, http.StatusServiceUnavailable, apiError{Error: "could not read the URL index"})
		return
	}
	s.writeStatus(w, r, id)
}

// writeStatus answers an article's delivery records.
func (s *Server) writeStatus(w http.ResponseWriter, r *http.Request, id string) {
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

func (s *Server) listChannels(w http.ResponseWriter, r *http.Request) {
	infos, err := queue.ChannelInfos(r.Context(), s.Broker, s.Channels)
	if err != nil {
		s.Logger.Error("reading channel state", zap.Error(err))
		writeJSON(w, http.StatusServiceUnavailable, apiError{Error: "could not read channel state"})
		return
	}
	// A channel removed from the config while deliveries waited has no worker: say so.
	unconfigured, err := s.Broker.Unconfigured(r.Context(), s.Channels)
	if err != nil {
		s.Logger.Error("reading unconfigured channels' queues", zap.Error(err))
		writeJSON(w, http.StatusServiceUnavailable, apiError{Error: "could not read channel state"})
		return
	}
	if unconfigured == nil {
		unconfigured = []queue.ChannelStats{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"channels": infos, "unconfigured": unconfigured})
}

func (s *Server) channel(name string) bool {
	for _, c := range s.Channels {
		if string(c.Name) == name {
			return true
		}
	}
	return false
}

// hasPauseRecord reports whether channel name has a pause record.
func (s *Server) hasPauseRecord(r *http.Request, name string) (bool, error) {
	ps, err := s.Broker.Paused(r.Context())
	return err == nil && slices.ContainsFunc(ps, func(p queue.PauseInfo) bool { return string(p.Channel) == name }), err
}

// pauseChannel serves POST /v1/channels/{name}/pause?reason=… and …/resume.
func (s *Server) pauseChannel(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	paused := strings.HasSuffix(r.URL.Path, "/pause")
	// A channel removed from the config while paused keeps its pause record: resume clears it.
	if !s.channel(name) {
		has := false
		if !paused {
			var err error
			if has, err = s.hasPauseRecord(r, name); err != nil {
				// Redis did not say whether a pause record is there: not a 404, call again.
				s.Logger.Error("reading pause records", zap.String("channel", name), zap.Error(err))
				writeJSON(w, http.StatusServiceUnavailable, apiError{Error: "could not read the channels' pause records"})
				return
			}
		}
		if !has {
			writeJSON(w, http.StatusNotFound, apiError{Error: "no configured channel " + name})
			return
		}
	}
	var err error
	var already *queue.PauseInfo
	if paused {
		// A pause of a paused channel keeps the first pause (who, why, since): the answer says
		// so, as the bot's reply does, rather than let the caller think its reason was recorded.
		if ps, perr := s.Broker.Paused(r.Context()); perr == nil {
			if i := slices.IndexFunc(ps, func(p queue.PauseInfo) bool { return string(p.Channel) == name }); i >= 0 {
				already = &ps[i]
			}
		}
		// Who paused it, as the bot's and the dashboard's pauses say (herald channels, the
		// alert digest): the caller's by=, else only that it came through the API.
		by := "API"
		if v := strings.TrimSpace(r.URL.Query().Get("by")); v != "" {
			by = v + " via API"
		}
		err = s.Broker.PauseBy(r.Context(), channels.Name(name), r.URL.Query().Get("reason"), by)
	} else {
		err = s.Broker.Resume(r.Context(), channels.Name(name))
	}
	action, args := "resume", name
	if paused {
		action, args = "pause", strings.TrimSpace(name+" "+r.URL.Query().Get("reason"))
	}
	if err != nil {
		s.Logger.Error("pausing or resuming", zap.String("channel", name), zap.Error(err))
		s.auditAPI(r, action, args, "error: "+err.Error())
		writeJSON(w, http.StatusServiceUnavailable, apiError{Error: "could not change the channel's state"})
		return
	}
	if already != nil {
		s.auditAPI(r, action, args, "already paused by "+already.By)
		writeJSON(w, http.StatusOK, map[string]any{"channel": name, "paused": paused, "already": already})
		return
	}
	s.auditAPI(r, action, args, action+"d")
	writeJSON(w, http.StatusOK, map[string]any{"channel": name, "paused": paused})
}

// retryUnknown serves POST /v1/channels/{name}/retry-unknown: every unknown delivery of the
// channel is sent again (an admin checked the channel and what is missing must go out).
func (s *Server) retryUnknown(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	if !s.channel(name) {
		writeJSON(w, http.StatusNotFound, apiError{Error: "no configured channel " + name})
		return
	}
	// With an Idempotency-Key, the call sent again after a timeout gets the first count back
	// ("requeued 3"), not "requeued 0" for deliveries the first call already sent on their way.
	s.idempotent(w, r, func(r *http.Request) idemAnswer {
		n, err := s.Broker.RetryUnknown(r.Context(), channels.Name(name), apiBy(r))
		result := fmt.Sprintf("requeued %d", n)
		if err != nil {
			result += ", error: " + err.Error()
		}
		s.auditAPI(r, "retry-unknown", name, result)
		if err != nil {
			s.Logger.Error("retrying unknown deliveries", zap.String("channel", name), zap.Int("requeued", n), zap.Error(err))
			// The count in the message too: a client that shows only "error" (herald retry
			// --all-unknown --server) must not read "none went" while n are being sent again.
			return idemAnswer{Status: http.StatusServiceUnavailable, Body: string(encodeJSON(map[string]any{"requeued": n,
				"error": fmt.Sprintf("could not retry every unknown delivery: %d requeued before Redis failed, the rest are still unknown; call again to send them", n)}))}
		}
		return idemAnswer{Status: http.StatusAccepted, Body: string(encodeJSON(map[string]any{"channel": name, "requeued": n}))}
	})
}

// requeue serves POST /v1/articles/{id}/deliveries/{channel}/retry and …/repost.
func (s *Server) requeue(w http.ResponseWriter, r *http.Request) {
	action := r.PathValue("action")
	if action == "mark-sent" || action == "drop" {
		s.decide(w, r, action)
		return
	}
	if action != "retry" && action != "repost" {
		writeJSON(w, http.StatusNotFound, apiError{Error: "unknown action " + action + " (retry, repost, mark-sent or drop)"})
		return
	}
	// With an Idempotency-Key the call posts at most once (web/idempotency.go): a client that
	// sends it again after a timeout gets the first answer back.
	s.idempotent(w, r, func(r *http.Request) idemAnswer { return s.requeueAnswer(r, action) })
}

// idempotent answers do's answer, once per Idempotency-Key when the request has one (see
// web/idempotency.go): the same request with the same key gets the first 2xx answer again.
func (s *Server) idempotent(w http.ResponseWriter, r *http.Request, do func(*http.Request) idemAnswer) {
	key, err := idempotencyKey(r.Header)
	if err != nil {
		writeJSON(w, http.StatusBadRequest, apiError{Error: err.Error()})
		return
	}
	if key == "" {
		ans := do(r)
		writeJSONBody(w, ans.Status, []byte(ans.Body))
		return
	}
	ans, replayed, err := s.once(r.Context(), key, r.Method+" "+r.URL.Path+"?"+r.URL.Query().Encode(), func(ctx context.Context) idemAnswer {
		return do(r.WithContext(ctx))
	})
	switch {
	case errors.Is(err, errIdemOther):
		writeJSON(w, http.StatusUnprocessableEntity, apiError{Error: err.Error()})
	case errors.Is(err, errIdemRunning):
		writeJSON(w, http.StatusConflict, apiError{Error: err.Error()})
	case err != nil:
		s.Logger.Error("checking an Idempotency-Key", zap.Error(err))
		writeJSON(w, http.StatusServiceUnavailable, apiError{Error: "could not check the Idempotency-Key; nothing was done, it is safe to retry"})
	default:
		if replayed {
			w.Header().Set("Idempotent-Replayed", "true")
		}
		writeJSONBody(w, ans.Status, []byte(ans.Body))
	}
}

// requeueAnswer does a retry or repost and answers it.
func (s *Server) requeueAnswer(r *http.Request, action string) idemAnswer {
	d, err := s.requeueConfigured(r, r.PathValue("id"), r.PathValue("channel"), action, apiBy(r))
	result := "requeued"
	if err != nil {
		result = "error: " + err.Error()
	}
	s.auditAPI(r, action, r.PathValue("id")+" "+r.PathValue("channel"), result)
	answer := func(status int, v any) idemAnswer { return idemAnswer{Status: status, Body: string(encodeJSON(v))} }
	switch {
	case errors.Is(err, queue.ErrNotFound):
		return answer(http.StatusNotFound, apiError{Error: err.Error()})
	case errors.Is(err, queue.ErrConflict):
		return answer(http.StatusConflict, apiError{Error: err.Error()})
	case err != nil:
		// Redis failed: not a conflict (a client would give up), and its address stays out of
		// the answer.
		s.Logger.Error("requeueing a delivery", zap.String("article_id", r.PathValue("id")), zap.String("channel", r.PathValue("channel")), zap.Error(err))
		return answer(http.StatusServiceUnavailable, apiError{Error: "could not requeue the delivery; it is safe to retry"})
	}
	return answer(http.StatusAccepted, d)
}

// errNotConfigured refuses a retry or repost to a channel that is not in the config (removed or
// renamed): its task would wait in a queue no worker serves, the delivery pending for ever,
// while the answer said it was being sent.
type errNotConfigured struct{ channel string }

func (e errNotConfigured) Error() string {
	return "channel " + e.channel + " is not in the config: no worker would send the delivery (add the channel back, or give the delivery up with drop)"
}

func (errNotConfigured) Is(target error) bool { return target == queue.ErrConflict }

// requeueConfigured is queue.Broker.Requeue for the API and the dashboard, refusing a channel
// this process does not have configured (an unknown delivery is still ErrNotFound). by names
// who asked.
func (s *Server) requeueConfigured(r *http.Request, id, ch, action, by string) (queue.Delivery, error) {
	if !s.channel(ch) {
		if _, err := s.Broker.Delivery(r.Context(), id, channels.Name(ch)); err != nil {
			return queue.Delivery{}, err
		}
		return queue.Delivery{}, errNotConfigured{channel: ch}
	}
	return s.Broker.Requeue(r.Context(), id, channels.Name(ch), action, by)
}
