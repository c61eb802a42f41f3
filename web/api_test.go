package web

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"go.uber.org/zap"

	"herald/config"
	"herald/ingest"
	"herald/internal/redistest"
	"herald/queue"
)

// With Redis gone, publishing answers 503 (safe to retry) with Retry-After and readiness fails;
// liveness holds.
func TestRedisDownIs503NotLoss(t *testing.T) {
	rdb, srv := redistest.Start(t)
	cfg, err := config.Parse([]byte("channels:\n  - {name: tg, kind: telegram}\n"))
	if err != nil {
		t.Fatal(err)
	}
	b := queue.NewBroker(rdb, queue.Options{})
	api := &Server{Publisher: &ingest.Publisher{Config: cfg, Broker: b}, Broker: b, Token: "tok", Logger: zap.NewNop()}
	h := api.Handler()
	var retryAfter string
	do := func(method, path, body string) int {
		req := httptest.NewRequest(method, path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer tok")
		req.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		retryAfter = rec.Header().Get("Retry-After")
		return rec.Code
	}
	if code := do(http.MethodGet, "/readyz", ""); code != 200 {
		t.Fatalf("readyz with Redis up: %d", code)
	}
	srv.Stop()
	if code := do(http.MethodPost, "/v1/articles", `{"url":"https://e.com/a","title":"t"}`); code != http.StatusServiceUnavailable {
		t.Fatalf("publish with Redis down: %d, want 503", code)
	}
	if retryAfter != RetryAfter {
		t.Fatalf("publish with Redis down: Retry-After %q, want %q", retryAfter, RetryAfter)
	}
	if code := do(http.MethodGet, "/readyz", ""); code != http.StatusServiceUnavailable {
		t.Fatalf("readyz with Redis down: %d, want 503", code)
	}
	if code := do(http.MethodGet, "/healthz", ""); code != 200 {
		t.Fatalf("healthz: %d", code)
	}
	if code := do(http.MethodGet, "/v1/articles/x", ""); code != http.StatusServiceUnavailable {
		t.Fatalf("status with Redis down: %d, want 503", code)
	}
	if retryAfter != RetryAfter {
		t.Fatalf("status with Redis down: Retry-After %q, want %q", retryAfter, RetryAfter)
	}
}

// Retry and repost tell a refusal by the delivery's state (409: do something else) from Redis
// failing (503 with Retry-After: call again), and the Redis address stays out of the answer.
// Both were 409 with the dial error as the message.
func TestRequeueWithRedisDownIs503NotConflict(t *testing.T) {
	rdb, srv := redistest.Start(t)
	cfg, err := config.Parse([]byte("channels:\n  - {name: tg, kind: telegram}\n"))
	if err != nil {
		t.Fatal(err)
	}
	b := queue.NewBroker(rdb, queue.Options{})
	api := &Server{Publisher: &ingest.Publisher{Config: cfg, Broker: b}, Broker: b, Token: "tok", Logger: zap.NewNop()}
	h := api.Handler()
	do := func(method, path, body string) *httptest.ResponseRecorder {
		req := httptest.NewRequest(method, path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer tok")
		req.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec
	}
	if rec := do(http.MethodPost, "/v1/articles", `{"id":"q1","url":"https://e.com/q1","title":"t"}`); rec.Code != http.StatusAccepted {
		t.Fatalf("publish: %d %s", rec.Code, rec.Body)
	}
	// No worker runs: the delivery is pending, which a repost refuses.
	if rec := do(http.MethodPost, "/v1/articles/q1/deliveries/tg/repost", ""); rec.Code != http.StatusConflict || !strings.Contains(rec.Body.String(), "still in progress") {
		t.Fatalf("repost of a pending delivery: %d %s, want 409", rec.Code, rec.Body)
	}
	srv.Stop()
	for _, action := range []string{"retry", "repost"} {
		rec := do(http.MethodPost, "/v1/articles/q1/deliveries/tg/"+action, "")
		if rec.Code != http.StatusServiceUnavailable || rec.Header().Get("Retry-After") != RetryAfter {
			t.Fatalf("%s with Redis down: %d Retry-After %q %s, want 503 with Retry-After %s", action, rec.Code, rec.Header().Get("Retry-After"), rec.Body, RetryAfter)
		}
		if strings.Contains(rec.Body.String(), "127.0.0.1") || strings.Contains(rec.Body.String(), "dial") {
			t.Fatalf("%s with Redis down: the answer names Redis: %s", action, rec.Body)
		}
	}
}
