package web

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
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
	api := &Server{Publisher: &ingest.Publisher{Config: cfg, Broker: b}, Broker: b, Token: "tok", Logger: zap.NewNop(),
		Channels: []queue.ChannelConfig{{Name: "tg", Kind: "telegram"}}}
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

// A path no route serves and a method a route does not take answer the error JSON every other
// 4xx has (ServeMux answered text/plain "404 page not found" and "Method Not Allowed"); the 405
// keeps its Allow header.
func TestUnknownPathAndMethodAnswerErrorJSON(t *testing.T) {
	rdb, _ := redistest.Start(t)
	cfg, err := config.Parse([]byte("channels:\n  - {name: tg, kind: telegram}\n"))
	if err != nil {
		t.Fatal(err)
	}
	b := queue.NewBroker(rdb, queue.Options{})
	h := (&Server{Publisher: &ingest.Publisher{Config: cfg, Broker: b}, Broker: b, Token: "tok", Logger: zap.NewNop()}).Handler()
	for _, c := range []struct {
		method, path string
		code         int
		allow, says  string
	}{
		{http.MethodGet, "/v1/nothing", http.StatusNotFound, "", "no such endpoint: GET /v1/nothing"},
		{http.MethodPost, "/v1/articles/a1/deliveries/tg", http.StatusNotFound, "", "no such endpoint"},
		{http.MethodPut, "/v1/articles", http.StatusMethodNotAllowed, "GET, HEAD, POST", "does not take PUT"},
		{http.MethodDelete, "/v1/articles/a1", http.StatusMethodNotAllowed, "GET, HEAD", "does not take DELETE"},
		{http.MethodGet, "/v1/channels/tg/pause", http.StatusMethodNotAllowed, "POST", "does not take GET"},
	} {
		req := httptest.NewRequest(c.method, c.path, nil)
		req.Header.Set("Authorization", "Bearer tok")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		var e apiError
		if rec.Code != c.code || rec.Header().Get("Allow") != c.allow || !strings.HasPrefix(rec.Header().Get("Content-Type"), "application/json") ||
			json.Unmarshal(rec.Body.Bytes(), &e) != nil || !strings.Contains(e.Error, c.says) {
			t.Errorf("%s %s: %d Allow %q %s %q, want %d Allow %q and error JSON saying %q", c.method, c.path, rec.Code, rec.Header().Get("Allow"),
				rec.Header().Get("Content-Type"), rec.Body, c.code, c.allow, c.says)
		}
	}
	// A route's own 404 is untouched.
	req := httptest.NewRequest(http.MethodGet, "/v1/articles/none", nil)
	req.Header.Set("Authorization", "Bearer tok")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusNotFound || !strings.Contains(rec.Body.String(), "no article with id none") {
		t.Fatalf("GET /v1/articles/none: %d %s", rec.Code, rec.Body)
	}
}

// GET /v1/articles?url= answers 400 for what cannot be an article's URL (the README's "no or
// malformed url"): a URL without scheme, as copied from a browser's address bar, was a 404 "no
// article", as if the article had not been published.
func TestFindArticleRefusesWhatIsNoArticleURL(t *testing.T) {
	rdb, _ := redistest.Start(t)
	b := queue.NewBroker(rdb, queue.Options{})
	h := (&Server{Broker: b, Token: "tok", Logger: zap.NewNop()}).Handler()
	get := func(raw string) int {
		req := httptest.NewRequest(http.MethodGet, "/v1/articles?url="+url.QueryEscape(raw), nil)
		req.Header.Set("Authorization", "Bearer tok")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec.Code
	}
	for _, raw := range []string{"news.example.com/2026/story", "ftp://news.example.com/a", "/2026/story", "https://", "خبر"} {
		if code := get(raw); code != http.StatusBadRequest {
			t.Errorf("url=%s: %d, want 400", raw, code)
		}
	}
	if code := get("https://news.example.com/أخبار/none#c"); code != http.StatusNotFound {
		t.Errorf("a well-formed URL never published: %d, want 404", code)
	}
}

// A resume of a channel not in the config asks Redis for its pause record; with Redis down the
// answer is 503 (call again), not a 404 that says the channel has no pause to clear.
func TestResumeOfARemovedChannelWithRedisDownIs503(t *testing.T) {
	rdb, srv := redistest.Start(t)
	b := queue.NewBroker(rdb, queue.Options{})
	h := (&Server{Broker: b, Token: "tok", Logger: zap.NewNop()}).Handler()
	if err := b.Pause(context.Background(), "tg-old", "removed while paused"); err != nil {
		t.Fatal(err)
	}
	srv.Stop()
	req := httptest.NewRequest(http.MethodPost, "/v1/channels/tg-old/resume", nil)
	req.Header.Set("Authorization", "Bearer tok")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusServiceUnavailable || rec.Header().Get("Retry-After") != RetryAfter {
		t.Fatalf("resume of a removed channel with Redis down: %d Retry-After %q %s, want 503", rec.Code, rec.Header().Get("Retry-After"), rec.Body)
	}
}

// The Authorization scheme is case-insensitive (RFC 9110 §11.1): "bearer" and "BEARER" carry
// the token as "Bearer" does (they were 401); another scheme or no space is still 401.
func TestBearerSchemeIsCaseInsensitive(t *testing.T) {
	rdb, _ := redistest.Start(t)
	b := queue.NewBroker(rdb, queue.Options{})
	h := (&Server{Broker: b, Token: "tok-0123456789", Logger: zap.NewNop()}).Handler()
	for authorization, want := range map[string]int{
		"Bearer tok-0123456789":   http.StatusOK,
		"bearer tok-0123456789":   http.StatusOK,
		"BEARER  tok-0123456789":  http.StatusOK,
		"Basic tok-0123456789":    http.StatusUnauthorized,
		"Bearertok-0123456789":    http.StatusUnauthorized,
		"tok-0123456789":          http.StatusUnauthorized,
		"Bearer tok-0123456789-x": http.StatusUnauthorized,
	} {
		req := httptest.NewRequest(http.MethodGet, "/v1/deliveries", nil)
		req.Header.Set("Authorization", authorization)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != want {
			t.Errorf("Authorization %q: %d, want %d", authorization, rec.Code, want)
		}
	}
}

// TestDecisionWithRedisDownIsLogged: mark-sent and drop with Redis gone answered 503 and logged
// nothing, unlike every other 503 of the API, so the operator had no line saying why. Now the
// failure is logged (with the action and the delivery) and the answer says it is safe to retry.
func TestDecisionWithRedisDownIsLogged(t *testing.T) {
	a := newTestAPI(t, nil)
	a.publish("dec-1")
	a.waitStatus("dec-1", queue.StateSent)
	_ = a.broker.Client().Shutdown(context.Background()).Err() // the server stops; the reply is lost
	for _, action := range []string{"mark-sent", "drop"} {
		code, body := a.do(adminToken, http.MethodPost, "/v1/articles/dec-1/deliveries/tg/"+action, "")
		if code != http.StatusServiceUnavailable || !strings.Contains(string(body), "safe to retry") {
			t.Errorf("%s with Redis down: %d %s", action, code, body)
		}
		logged := a.logs.FilterMessage("recording a decision").FilterField(zap.String("action", action)).Len()
		if logged != 1 {
			t.Errorf("%s with Redis down: %d log lines; want 1 saying why", action, logged)
		}
	}
}
