package main

import (
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

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
