package web

import (
	"context"
	_ "embed"
	"errors"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"go.uber.org/zap"

	"herald/channels"
	"herald/ingest"
	"herald/queue"
)

// routeMux is the API's ServeMux, remembering each pattern so the OpenAPI test can compare the
// document with what is actually served.
type routeMux struct {
	*http.ServeMux
	mu       sync.Mutex
	patterns []string
}

func newRouteMux() *routeMux { return &routeMux{ServeMux: http.NewServeMux()} }

func (m *routeMux) Handle(pattern string, h http.Handler) {
	m.mu.Lock()
	m.patterns = append(m.patterns, pattern)
	m.mu.Unlock()
	m.ServeMux.Handle(pattern, h)
}

func (m *routeMux) HandleFunc(pattern string, h func(http.ResponseWriter, *http.Request)) {
	m.Handle(pattern, http.HandlerFunc(h))
}

// ServeHTTP answers a path no route serves (404) and a method its route does not take (405,
// with ServeMux's Allow) with the API's error JSON, not ServeMux's plain text, which a client
// decoding {"error"} cannot read. The dashboard's pages keep their own answers.
func (m *routeMux) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if _, pattern := m.ServeMux.Handler(r); pattern != "" || strings.HasPrefix(r.URL.Path, "/dashboard/") {
		m.ServeMux.ServeHTTP(w, r)
		return
	}
	m.ServeMux.ServeHTTP(&muxErrorWriter{ResponseWriter: w, r: r}, r)
}

// muxErrorWriter replaces ServeMux's own 404 and 405 (http.Error's text) with the error JSON.
type muxErrorWriter struct {
	http.ResponseWriter
	r        *http.Request
	replaced bool
}

func (e *muxErrorWriter) WriteHeader(code int) {
	switch code {
	case http.StatusNotFound:
		e.replaced = true
		writeJSON(e.ResponseWriter, code, apiError{Error: "no such endpoint: " + e.r.Method + " " + e.r.URL.Path + " (see /openapi.yaml)"})
	case http.StatusMethodNotAllowed:
		e.replaced = true
		writeJSON(e.ResponseWriter, code, apiError{Error: e.r.URL.Path + " does not take " + e.r.Method + " (allowed: " + e.Header().Get("Allow") + ")"})
	default:
		e.ResponseWriter.WriteHeader(code)
	}
}

func (e *muxErrorWriter) Write(b []byte) (int, error) {
	if e.replaced {
		return len(b), nil // http.Error's text, already answered as JSON
	}
	return e.ResponseWriter.Write(b)
}

// Patterns lists the registered route patterns ("GET /v1/stats").
func (m *routeMux) Patterns() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]string(nil), m.patterns...)
}

// Workers is what readiness asks of the delivery workers (queue.Worker).
type Workers interface {
	Running() bool
}

//go:embed openapi.yaml
var openAPI []byte

// observeRoutes adds the monitoring routes: the delivery log, stats, metrics, the OpenAPI
// document.
func (s *Server) observeRoutes(mux *routeMux) {
	mux.Handle("GET /v1/deliveries", s.allow(Read, s.listDeliveries))
	mux.Handle("GET /v1/stats", s.allow(Read, s.stats))
	mux.HandleFunc("GET /openapi.yaml", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/yaml; charset=utf-8")
		_, _ = w.Write(openAPI)
	})
	if s.Metrics != nil {
		mux.Handle("GET /metrics", s.Metrics)
	}
}

// listDeliveries serves GET /v1/deliveries?article=&channel=&status=&since=&until=&limit=&cursor=:
// delivery log entries newest first, a page at a time.
func (s *Server) listDeliveries(w http.ResponseWriter, r *http.Request) {
	q, err := logQuery(r)
	if err != nil {
		writeJSON(w, http.StatusBadRequest, apiError{Error: err.Error()})
		return
	}
	page, err := s.Broker.QueryLog(r.Context(), q)
	if errors.Is(err, queue.ErrBadCursor) {
		writeJSON(w, http.StatusBadRequest, apiError{Error: "cursor: not one this API handed out"})
		return
	}
	if err != nil {
		s.Logger.Error("reading the delivery log", zap.Error(err))
		writeJSON(w, http.StatusServiceUnavailable, apiError{Error: "could not read the delivery log"})
		return
	}
	if page.Entries == nil {
		page.Entries = []queue.LogEntry{}
	}
	writeJSON(w, http.StatusOK, page)
}

var logParams = []string{"article", "channel", "status", "since", "until", "limit", "cursor"}

var logStatuses = []string{"pending", "sent", "failed", "unknown", "retracted", "edited"}

// logQuery reads the query string; since and until take RFC 3339 times or a duration back from
// now ("1h").
func logQuery(r *http.Request) (queue.LogQuery, error) {
	v := r.URL.Query()
	// A misspelt filter (article_id=, as the entries name the field) would answer the whole
	// log as if it were the article's: refuse it, as the article JSON refuses unknown fields.
	for k := range v {
		if !contains(logParams, k) {
			return queue.LogQuery{}, fmt.Errorf("%s: unknown parameter; the parameters are %s", k, strings.Join(logParams, ", "))
		}
	}
	q := queue.LogQuery{ArticleID: v.Get("article"), Channel: v.Get("channel"), Status: v.Get("status"), Cursor: v.Get("cursor")}
	if q.Status != "" && !contains(logStatuses, q.Status) {
		return q, errors.New("status: want one of pending, sent, failed, unknown, retracted, edited")
	}
	var err error
	if q.Since, err = ParseSince(v.Get("since"), time.Now()); err != nil {
		return q, errors.New("since: " + err.Error())
	}
	if q.Until, err = ParseSince(v.Get("until"), time.Now()); err != nil {
		return q, errors.New("until: " + err.Error())
	}
	if !q.Since.IsZero() && !q.Until.IsZero() && !q.Since.Before(q.Until) {
		return q, errors.New("since: not before until (since is inclusive, until exclusive)")
	}
	if l := v.Get("limit"); l != "" {
		if q.Limit, err = strconv.Atoi(l); err != nil || q.Limit < 1 || q.Limit > 1000 {
			return q, errors.New("limit: want 1..1000")
		}
	}
	return q, nil
}

func contains(list []string, v string) bool {
	for _, l := range list {
		if l == v {
			return true
		}
	}
	return false
}

// ParseSince reads a time as RFC 3339 ("2026-05-01T10:00:00Z") or as a duration back from now
// ("90m", "1h", "2d"); "" is the zero time.
func ParseSince(s string, now time.Time) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	if n, ok := cutSuffix(s, "d"); ok {
		// Beyond maxDays the Duration would overflow and wrap to some other time.
		if days, err := strconv.Atoi(n); err == nil && days >= 0 && days <= maxDays {
			return now.Add(-time.Duration(days) * 24 * time.Hour), nil
		}
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		return time.Time{}, errors.New("want an RFC 3339 time or a duration such as 1h or 2d")
	}
	return now.Add(-d), nil
}

// maxDays is the most days a Duration holds (about 106,751).
const maxDays = int(math.MaxInt64 / int64(24*time.Hour))

func cutSuffix(s, suffix string) (string, bool) {
	if len(s) > len(suffix) && s[len(s)-len(suffix):] == suffix {
		return s[:len(s)-len(suffix)], true
	}
	return s, false
}

// Stats is GET /v1/stats and `herald stats --json`: the delivery overview and, when feeds are
// configured, each feed's poll state.
type Stats struct {
	*queue.Overview
	Feeds []ingest.FeedStatus `json:"feeds,omitempty"`
}

// ReadStats builds Stats; feeds reads the feeds' state, nil when none are configured.
func ReadStats(ctx context.Context, b *queue.Broker, chs []queue.ChannelConfig, feeds func(context.Context) ([]ingest.FeedStatus, error)) (*Stats, error) {
	ov, err := b.Overview(ctx, chs)
	if err != nil {
		return nil, err
	}
	if ov.Channels == nil {
		ov.Channels = []queue.ChannelOverview{}
	}
	st := &Stats{Overview: ov}
	if feeds != nil {
		if st.Feeds, err = feeds(ctx); err != nil {
			return nil, err
		}
	}
	return st, nil
}

// stats serves GET /v1/stats (herald stats --json).
func (s *Server) stats(w http.ResponseWriter, r *http.Request) {
	var feeds func(context.Context) ([]ingest.FeedStatus, error)
	if s.Feeds != nil && len(s.Feeds.Feeds()) > 0 {
		feeds = s.Feeds.Statuses
	}
	st, err := ReadStats(r.Context(), s.Broker, s.Channels, feeds)
	if err != nil {
		s.Logger.Error("reading stats", zap.Error(err))
		writeJSON(w, http.StatusServiceUnavailable, apiError{Error: "could not read the stats"})
		return
	}
	writeJSON(w, http.StatusOK, st)
}

// Readiness is GET /readyz's answer.
type Readiness struct {
	Status  string `json:"status"`  // ready, or not ready
	Redis   string `json:"redis"`   // ok, or unavailable
	Workers string `json:"workers"` // running, not running, or not part of this process
	// Channels are the start-up checks of each channel (getMe and the like). A failed check is
	// shown here but does not fail readiness: one platform's outage must not stop the others.
	Channels []channels.CheckResult `json:"channels,omitempty"`
}

// ready serves GET /readyz: 200 when Redis answers and the workers run, else 503; the channel
// checks are detail.
func (s *Server) ready(w http.ResponseWriter, r *http.Request) {
	rd := Readiness{Status: "ready", Redis: "ok", Workers: "not part of this process"}
	if err := s.Broker.Ping(r.Context()); err != nil {
		rd.Status, rd.Redis = "not ready", "unavailable"
	}
	if s.Workers != nil {
		rd.Workers = "running"
		if !s.Workers.Running() {
			rd.Status, rd.Workers = "not ready", "not running"
		}
	}
	if s.Checks != nil {
		rd.Channels = s.Checks()
	}
	code := http.StatusOK
	if rd.Status != "ready" {
		code = http.StatusServiceUnavailable
	}
	writeJSON(w, code, rd)
}
