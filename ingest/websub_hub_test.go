package ingest

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
)

// TestHubOnAnotherPrivateAddressIsRefused: the hub a feed document names is not the operator's
// choice, so herald does not POST to a hub on a private address other than the feed's own
// host's (a third party's feed, or an edited one, probing the operator's network and reading
// the answer in GET /v1/feeds). A hub beside the feed, on its host's address, is subscribed.
func TestHubOnAnotherPrivateAddressIsRefused(t *testing.T) {
	hub := func(addr string) (*httptest.Server, *atomic.Int32) {
		var got atomic.Int32
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			t.Skipf("no listener on %s: %v", addr, err)
		}
		s := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			got.Add(1)
			w.WriteHeader(http.StatusAccepted)
		}))
		s.Listener.Close()
		s.Listener = ln
		s.Start()
		t.Cleanup(s.Close)
		return s, &got
	}
	// Linux answers the whole of 127.0.0.0/8 on loopback: 127.0.0.2 stands for another internal
	// host, 127.0.0.1 for the feed's own.
	inner, innerGot := hub("127.0.0.2:0")
	beside, besideGot := hub("127.0.0.1:0")

	var hubURL atomic.Value
	feed := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/atom+xml")
		w.Write([]byte(`<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>Site</title><id>urn:site</id><updated>2026-11-27T08:00:00Z</updated>
<link rel="hub" href="` + hubURL.Load().(string) + `"/></feed>`))
	}))
	t.Cleanup(feed.Close)
	e := newFeedEnv(t, `
channels: [{name: tg, kind: telegram}]
feeds: [{name: site, url: %q}]
`, feed.URL+"/feed")
	p := e.poller(PollerOptions{PublicURL: "https://herald.example.com"})
	ctx := context.Background()

	hubURL.Store(inner.URL + "/hub")
	if err := p.PollNow(ctx, "site"); err != nil {
		t.Fatal(err)
	}
	ws := e.status("site").WebSub
	if n := innerGot.Load(); n != 0 {
		t.Fatalf("herald sent %d requests to a hub on another private address", n)
	}
	if ws == nil || !strings.Contains(ws.Error, "private address") {
		t.Fatalf("the refusal is not in the feed's status: %+v", ws)
	}

	hubURL.Store(beside.URL + "/hub")
	if err := p.PollNow(ctx, "site"); err != nil {
		t.Fatal(err)
	}
	if n := besideGot.Load(); n != 1 {
		t.Fatalf("the hub on the feed's own host got %d subscription requests, want 1 (status %+v)", n, e.status("site").WebSub)
	}
}
