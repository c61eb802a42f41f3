package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"herald/channels"
	"herald/channels/httpsend"
	"herald/config"
	"herald/queue"
)

// Sends in flight to one platform host must reuse their connections: Go's default transport
// keeps 2 idle per host, so with 8 in flight 6 new connections (and, on api.telegram.org, 6 TLS
// handshakes) would be opened for every round of posts.
func TestPlatformClientKeepsAConnectionPerSendInFlight(t *testing.T) {
	const inFlight = 8
	cfg := &config.Config{}
	cfg.Worker.Concurrency = inFlight
	cfg.Channels = []config.Channel{{}} // unlimited: worker.concurrency sends in flight
	if got := platformIdlePerHost(cfg); got != inFlight {
		t.Fatalf("idle connections per host = %d, want %d", got, inFlight)
	}
	var newConns atomic.Int64
	var arrived sync.WaitGroup
	var gate atomic.Pointer[chan struct{}]
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		arrived.Done()
		<-*gate.Load() // hold every request until all of the round are in flight together
		_, _ = io.WriteString(w, `{"ok":true}`)
	}))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			newConns.Add(1)
		}
	}
	srv.Start()
	defer srv.Close()

	client := platformClient(cfg, 5*time.Second)
	for round := range 4 {
		g := make(chan struct{})
		gate.Store(&g)
		arrived.Add(inFlight)
		errs := make(chan error, inFlight)
		for range inFlight {
			go func() {
				resp, err := client.Get(srv.URL)
				if err == nil {
					_, _ = io.Copy(io.Discard, resp.Body)
					err = resp.Body.Close()
				}
				errs <- err
			}()
		}
		waited := make(chan struct{})
		go func() { arrived.Wait(); close(waited) }()
		select {
		case <-waited:
		case <-time.After(10 * time.Second):
			t.Fatalf("round %d: the requests never were all in flight together", round)
		}
		close(g)
		for range inFlight {
			if err := <-errs; err != nil {
				t.Fatal(err)
			}
		}
	}
	if n := newConns.Load(); n != inFlight {
		t.Fatalf("4 rounds of %d sends opened %d connections, want %d (one per send in flight, reused)", inFlight, n, inFlight)
	}
}

// A paced channel sends one at a time; an explicit in_flight counts as given.
func TestPlatformIdlePerHostAddsUpChannels(t *testing.T) {
	cfg := &config.Config{}
	cfg.Channels = []config.Channel{
		{Limit: queue.Limit{Count: 20, Period: time.Minute}},
		{Limit: queue.Limit{Count: 20, Period: time.Minute}, InFlight: 3},
		{}, // unlimited, worker.concurrency unset: 10
	}
	if got := platformIdlePerHost(cfg); got != 1+3+10 {
		t.Fatalf("idle connections per host = %d, want 14", got)
	}
}

// A post after a quiet spell to a server that keeps idle connections 5 s (Node's and Apache's
// default: WAHA, many webhook receivers) must not go out on the connection the server is
// closing. Go's transport does not retry a POST that failed that way, and the channels rightly
// record a request written and then cut off as an unknown outcome: with Go's 90 s idle timeout
// such a post was parked unknown for an admin although the server never took it.
func TestPlatformClientDoesNotReuseAConnectionTheServerIsClosing(t *testing.T) {
	const serverKeepAlive = 5 * time.Second
	srv := newKeepAliveServer(t, serverKeepAlive)
	client := &httpsend.Client{HTTP: platformClient(&config.Config{}, 5*time.Second), Timeout: 5 * time.Second, Prefix: "webhook"}
	post := func() error {
		req, _ := http.NewRequest(http.MethodPost, srv.url, strings.NewReader(`{"text":"خبر"}`))
		req.Header.Set("Content-Type", "application/json")
		resp, err := client.Do(context.Background(), "posting", req)
		if err == nil && resp.Status != http.StatusOK {
			err = fmt.Errorf("status %d", resp.Status)
		}
		return err
	}
	if err := post(); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, 2*serverKeepAlive, "the connection to be idle as long as the server keeps it", func() bool {
		return srv.idleFor() > serverKeepAlive
	})
	if err := post(); err != nil {
		t.Fatalf("a post after %s of quiet: %v (unknown outcome: %v); the client reused a connection the server was closing",
			serverKeepAlive, err, channels.IsUnknownOutcome(err))
	}
	if srv.cut.Load() != 0 {
		t.Fatalf("%d request(s) came on a connection idle past the server's keep-alive", srv.cut.Load())
	}
}

// keepAliveServer is an HTTP/1.1 server that keeps an idle connection for keepAlive, whose close
// of it crosses the client's next request on the wire (the race the client loses whenever its
// request leaves before the server's FIN arrives): a request that comes on a connection idle
// longer than that is read, and the connection closed unanswered.
type keepAliveServer struct {
	url       string
	keepAlive time.Duration
	mu        sync.Mutex
	last      time.Time // when the last answer was written
	cut       atomic.Int64
}

func newKeepAliveServer(t *testing.T, keepAlive time.Duration) *keepAliveServer {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	s := &keepAliveServer{url: "http://" + ln.Addr().String() + "/hook", keepAlive: keepAlive}
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			go s.serve(conn)
		}
	}()
	return s
}

func (s *keepAliveServer) serve(conn net.Conn) {
	defer conn.Close()
	br := bufio.NewReader(conn)
	var answered time.Time
	for {
		req, err := http.ReadRequest(br)
		if err != nil {
			return
		}
		_, _ = io.Copy(io.Discard, req.Body)
		if !answered.IsZero() && time.Since(answered) > s.keepAlive {
			s.cut.Add(1)
			return
		}
		if _, err := io.WriteString(conn, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}"); err != nil {
			return
		}
		answered = time.Now()
		s.mu.Lock()
		s.last = answered
		s.mu.Unlock()
	}
}

func (s *keepAliveServer) idleFor() time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return time.Since(s.last)
}

// A new connection to a platform (after the idle timeout, 4 s) resumes the TLS session of the
// last one instead of a full handshake (certificate chain sent and verified again): the
// transport had no session cache, so no connection ever resumed one.
func TestPlatformClientResumesTLSSessions(t *testing.T) {
	var resumed, full atomic.Int64
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.TLS.DidResume {
			resumed.Add(1)
		} else {
			full.Add(1)
		}
		_, _ = io.WriteString(w, `{"ok":true}`)
	}))
	srv.StartTLS()
	defer srv.Close()
	client := platformClient(&config.Config{}, 5*time.Second)
	tr := client.Transport.(*http.Transport)
	// Trust the test server's certificate, as the system's roots trust a platform's.
	tr.TLSClientConfig.RootCAs = srv.Client().Transport.(*http.Transport).TLSClientConfig.RootCAs
	for range 3 {
		resp, err := client.Get(srv.URL)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		client.CloseIdleConnections() // as the idle timeout does between posts
	}
	if full.Load() != 1 || resumed.Load() != 2 {
		t.Fatalf("3 connections: %d full handshakes, %d resumed; want 1 and 2", full.Load(), resumed.Load())
	}
}
