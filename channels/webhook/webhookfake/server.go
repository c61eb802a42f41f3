// Package webhookfake is a Standard Webhooks receiver on loopback, for tests and the sandbox
// (herald demo). It verifies every request's signature with its own verifier (verify.go),
// answers 401 to a bad one, drops repeats of a webhook-id as real receivers do (answering 200),
// and can be told to fail: FailNext (any status, with Retry-After), Gone (410 from now on),
// OnAccept (block after accepting, so the sender times out on an accepted delivery).
//
//	fake := webhookfake.New(webhookfake.DefaultSecret)
//	defer fake.Close()
//	// settings: url: fake.URL(), secret: webhookfake.DefaultSecret
package webhookfake

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"time"
)

// DefaultSecret is the Standard Webhooks specification's example secret.
const DefaultSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"

// Delivery is one accepted webhook (repeats of its id are counted, not recorded again).
type Delivery struct {
	ID        string
	Timestamp string
	Signature string
	Header    http.Header
	Body      []byte
	// Repeats counts later requests with the same webhook-id that were dropped.
	Repeats int
	Time    time.Time
}

// Request is every request received, accepted or not.
type Request struct {
	ID     string
	Status int // 0 while it is being handled
	Time   time.Time
}

type failure struct {
	status     int
	retryAfter string
}

// Server is the fake receiver.
type Server struct {
	srv      *httptest.Server
	verifier *Verifier

	mu       sync.Mutex
	byID     map[string]int // webhook-id → index in deliveries
	dels     []Delivery
	reqs     []Request
	fail     []failure
	gone     bool
	onAccept func(Delivery)
}

// New starts a receiver that accepts signatures made with any of secrets.
func New(secrets ...string) *Server {
	v, err := NewVerifier(secrets...)
	if err != nil {
		panic(err)
	}
	s := &Server{verifier: v, byID: map[string]int{}}
	s.srv = httptest.NewServer(s)
	return s
}

// URL is the receiver's address.
func (s *Server) URL() string { return s.srv.URL + "/hooks/herald" }

// Close stops the server.
func (s *Server) Close() { s.srv.Close() }

// FailNext makes the next n requests answer status (with Retry-After when retryAfter is set),
// before any check.
func (s *Server) FailNext(n, status int, retryAfter string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for range n {
		s.fail = append(s.fail, failure{status: status, retryAfter: retryAfter})
	}
}

// Gone makes every request answer 410 Gone from now on.
func (s *Server) Gone() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.gone = true
}

// OnAccept sets a hook run after a new delivery is recorded and before the answer is written;
// blocking in it makes the sender time out on a delivery the receiver has.
func (s *Server) OnAccept(f func(Delivery)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.onAccept = f
}

// Deliveries returns the accepted deliveries, one per webhook-id, oldest first.
func (s *Server) Deliveries() []Delivery {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Delivery, len(s.dels))
	copy(out, s.dels)
	return out
}

// Requests returns every request received, oldest first.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.reqs...)
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	// Recorded on arrival: a request held in OnAccept is already visible, with status 0.
	s.mu.Lock()
	i := len(s.reqs)
	s.reqs = append(s.reqs, Request{ID: r.Header.Get("webhook-id"), Time: time.Now()})
	s.mu.Unlock()
	status := s.serve(w, r)
	s.mu.Lock()
	s.reqs[i].Status = status
	s.mu.Unlock()
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) int {
	if r.Method != http.MethodPost {
		return answer(w, http.StatusMethodNotAllowed, "method not allowed")
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, 4<<20))
	if err != nil {
		return answer(w, http.StatusBadRequest, "unreadable body")
	}
	s.mu.Lock()
	if s.gone {
		s.mu.Unlock()
		return answer(w, http.StatusGone, "this endpoint is gone")
	}
	if len(s.fail) > 0 {
		f := s.fail[0]
		s.fail = s.fail[1:]
		s.mu.Unlock()
		if f.retryAfter != "" {
			w.Header().Set("Retry-After", f.retryAfter)
		}
		return answer(w, f.status, http.StatusText(f.status))
	}
	s.mu.Unlock()
	if err := s.verifier.Verify(r.Header, body); err != nil {
		return answer(w, http.StatusUnauthorized, err.Error())
	}
	id := r.Header.Get("webhook-id")
	s.mu.Lock()
	if i, dup := s.byID[id]; dup {
		s.dels[i].Repeats++
		s.mu.Unlock()
		return answer(w, http.StatusOK, "already received")
	}
	d := Delivery{ID: id, Timestamp: r.Header.Get("webhook-timestamp"), Signature: r.Header.Get("webhook-signature"),
		Header: r.Header.Clone(), Body: body, Time: time.Now()}
	s.byID[id] = len(s.dels)
	s.dels = append(s.dels, d)
	hook := s.onAccept
	s.mu.Unlock()
	if hook != nil {
		hook(d)
	}
	return answer(w, http.StatusNoContent, "")
}

func answer(w http.ResponseWriter, status int, msg string) int {
	if msg == "" {
		w.WriteHeader(status)
		return status
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Content-Length", strconv.Itoa(len(msg)+1))
	w.WriteHeader(status)
	_, _ = io.WriteString(w, msg+"\n")
	return status
}
