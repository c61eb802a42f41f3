// Package hubfake is a fake WebSub hub on loopback, for tests and the sandbox (herald demo).
// It takes publish pings as Google's hub does (POST, form body, hub.mode=publish, hub.url an
// absolute http(s) URL; 204 No Content, 400 with a text body otherwise), on any path, so one
// server can play several hubs (HubURL). Failures can be injected (FailNext).
package hubfake

import (
	"fmt"
	"mime"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"time"
)

// Ping is one accepted publish ping.
type Ping struct {
	Hub   string // the path the ping came to: "/hub" for HubURL("hub")
	Topic string
	Time  time.Time
}

// Request is every request received.
type Request struct {
	Hub    string
	Status int
	Time   time.Time
}

type failure struct {
	status     int
	retryAfter string
}

// Server is the fake hub.
type Server struct {
	srv *httptest.Server

	mu    sync.Mutex
	pings []Ping
	reqs  []Request
	fail  []failure
}

// New starts a hub.
func New() *Server {
	s := &Server{}
	s.srv = httptest.NewServer(s)
	return s
}

// HubURL is the address of one hub on this server.
func (s *Server) HubURL(name string) string { return s.srv.URL + "/" + name }

// Close stops the server.
func (s *Server) Close() { s.srv.Close() }

// FailNext makes the next n pings answer status (with Retry-After when set).
func (s *Server) FailNext(n, status int, retryAfter string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for range n {
		s.fail = append(s.fail, failure{status, retryAfter})
	}
}

// Pings returns the accepted pings, oldest first.
func (s *Server) Pings() []Ping {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Ping(nil), s.pings...)
}

// Requests returns every request, oldest first.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.reqs...)
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	status, msg := s.serve(w, r)
	if msg != "" {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	}
	w.WriteHeader(status)
	if msg != "" {
		fmt.Fprintln(w, msg)
	}
	s.mu.Lock()
	s.reqs = append(s.reqs, Request{Hub: r.URL.Path, Status: status, Time: time.Now()})
	s.mu.Unlock()
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) (int, string) {
	if r.Method != http.MethodPost {
		return http.StatusMethodNotAllowed, "Method not allowed"
	}
	s.mu.Lock()
	if len(s.fail) > 0 {
		f := s.fail[0]
		s.fail = s.fail[1:]
		s.mu.Unlock()
		if f.retryAfter != "" {
			w.Header().Set("Retry-After", f.retryAfter)
		}
		return f.status, http.StatusText(f.status)
	}
	s.mu.Unlock()
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "application/x-www-form-urlencoded" {
		return http.StatusBadRequest, "Invalid request: the body must be application/x-www-form-urlencoded"
	}
	if err := r.ParseForm(); err != nil {
		return http.StatusBadRequest, "Invalid request: " + err.Error()
	}
	if mode := r.PostForm.Get("hub.mode"); mode != "publish" {
		return http.StatusBadRequest, fmt.Sprintf("Invalid value for hub.mode: %q", mode)
	}
	topics := r.PostForm["hub.url"]
	if len(topics) == 0 {
		return http.StatusBadRequest, "MUST supply at least one hub.url parameter"
	}
	for _, t := range topics {
		u, err := url.Parse(t)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || strings.Contains(t, "#") {
			return http.StatusBadRequest, "Invalid topic URL: " + t
		}
	}
	s.mu.Lock()
	for _, t := range topics {
		s.pings = append(s.pings, Ping{Hub: r.URL.Path, Topic: t, Time: time.Now()})
	}
	s.mu.Unlock()
	return http.StatusNoContent, ""
}
