package httpsend

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"herald/channels"
)

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	for v, want := range map[string]time.Time{
		"30":                            now.Add(30 * time.Second),
		" 0 ":                           now,
		"Thu, 26 Nov 2026 12:01:00 GMT": now.Add(time.Minute),
		"Thu, 26 Nov 2026 11:00:00 GMT": now, // in the past: now
	} {
		got, ok := ParseRetryAfter(v, now)
		if !ok || !got.Equal(want) {
			t.Errorf("ParseRetryAfter(%q) = %v, %v; want %v", v, got, ok, want)
		}
	}
	for _, v := range []string{"", "-5", "soon"} {
		if _, ok := ParseRetryAfter(v, now); ok {
			t.Errorf("ParseRetryAfter(%q) accepted", v)
		}
	}
}

func client(hc *http.Client) *Client {
	return &Client{HTTP: hc, Timeout: 300 * time.Millisecond, Prefix: "test", Secrets: []string{"s3cr3t-value"}}
}

func TestDoTellsNotSentFromMaybeArrived(t *testing.T) {
	// Nothing listens: the request cannot have left → retryable, not unknown.
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	addr := ln.Addr().String()
	ln.Close()
	req, _ := http.NewRequest("POST", "http://"+addr+"/x?key=s3cr3t-value", strings.NewReader("{}"))
	_, err := client(http.DefaultClient).Do(context.Background(), "posting", req)
	if err == nil || channels.IsUnknownOutcome(err) || strings.Contains(err.Error(), "s3cr3t-value") || !strings.Contains(err.Error(), "test: posting") {
		t.Fatalf("refused connection: %v, want retryable, redacted, saying the action", err)
	}
	// The server takes the request and never answers → it may have arrived: unknown outcome.
	block := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { <-block }))
	defer srv.Close()
	defer close(block)
	req, _ = http.NewRequest("POST", srv.URL, strings.NewReader("{}"))
	_, err = client(srv.Client()).Do(context.Background(), "posting", req)
	if !channels.IsUnknownOutcome(err) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("no answer after the request was written: %v, want unknown outcome", err)
	}
	// A cancelled context before sending: not sent.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = client(srv.Client()).Do(ctx, "posting", req)
	if err == nil || channels.IsUnknownOutcome(err) || !strings.Contains(err.Error(), "not sent") {
		t.Fatalf("cancelled before sending: %v", err)
	}
}

func TestDoReturnsEveryAnswer(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Retry-After", "4")
		w.WriteHeader(429)
		_, _ = w.Write([]byte(`{"error":"slow down, s3cr3t-value"}`))
	}))
	defer srv.Close()
	c := client(srv.Client())
	now := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	c.Now = func() time.Time { return now }
	req, _ := http.NewRequest("GET", srv.URL, nil)
	resp, err := c.Do(context.Background(), "checking", req)
	if err != nil || resp.Status != 429 {
		t.Fatalf("%+v %v", resp, err)
	}
	if at := c.RetryAt(resp, time.Minute); !at.Equal(now.Add(4 * time.Second)) {
		t.Fatalf("RetryAt %v", at)
	}
	if s := c.Snippet(resp.Body); strings.Contains(s, "s3cr3t-value") || !strings.Contains(s, "<redacted>") {
		t.Fatalf("snippet %q", s)
	}
}

// TestSnippetNeverKeepsPartOfASecret: a body echoing a secret across the 300-byte cut (a proxy
// page quoting the request URL). Cutting before redacting left the secret's first part in the
// error: reverting the order in Snippet fails this test.
func TestSnippetNeverKeepsPartOfASecret(t *testing.T) {
	c := client(nil)
	body := []byte(strings.Repeat("x", 290) + "?key=s3cr3t-value&more")
	if s := c.Snippet(body); strings.Contains(s, "s3cr3") || !strings.Contains(s, "?key=<reda") {
		t.Fatalf("snippet %q keeps part of the secret", s)
	}
}
