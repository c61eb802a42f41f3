package web

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"herald/channels"
	"herald/formatter"
	"herald/queue"
)

// doWith is testAPI.do with more request headers.
func (a *testAPI) doWith(token, method, path string, h map[string]string) (int, http.Header, []byte) {
	a.t.Helper()
	req := httptest.NewRequest(method, path, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	for k, v := range h {
		req.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	a.h.ServeHTTP(rec, req)
	out, _ := io.ReadAll(rec.Result().Body)
	return rec.Code, rec.Header(), out
}

func (a *testAPI) sends() int {
	a.ch.mu.Lock()
	defer a.ch.mu.Unlock()
	return a.ch.n
}

func (a *testAPI) waitRevisionSent(id string, rev int) {
	a.t.Helper()
	a.waitFor(id+" sent at revision "+string(rune('0'+rev)), func() bool {
		d, err := a.broker.Delivery(context.Background(), id, "tg")
		return err == nil && d.State == queue.StateSent && d.Revision == rev
	})
}

// TestRepostWithIdempotencyKeyPostsOnce: a repost sent again with the same Idempotency-Key —
// a newsroom tool retrying after a timeout, once the first repost was already posted — posted
// the story a second time. Now the second call gets the first answer back (Idempotent-Replayed)
// and nothing is posted again, also for a burst of the same call at once; the key with another
// request is 422, a malformed key 400; the key is kept 24 hours in Redis; without a key a
// repost still reposts.
func TestRepostWithIdempotencyKeyPostsOnce(t *testing.T) {
	a := newTestAPI(t, nil)
	a.publish("idem-1")
	a.waitRevisionSent("idem-1", 1)
	repost := "/v1/articles/idem-1/deliveries/tg/repost?by=desk"
	key := map[string]string{"Idempotency-Key": `"8e03978e-40d5-43e8-bc93-6894a57f9324"`}

	code, _, first := a.doWith(adminToken, "POST", repost, key)
	if code != http.StatusAccepted {
		t.Fatalf("repost: %d %s", code, first)
	}
	a.waitRevisionSent("idem-1", 2) // posted: a repost now would post again
	if n := a.sends(); n != 2 {
		t.Fatalf("%d posts after publish and repost; want 2", n)
	}
	// The same key again, quoted as the draft writes it and bare as many clients send it.
	for _, k := range []string{`"8e03978e-40d5-43e8-bc93-6894a57f9324"`, `8e03978e-40d5-43e8-bc93-6894a57f9324`} {
		code, h, again := a.doWith(adminToken, "POST", repost, map[string]string{"Idempotency-Key": k})
		if code != http.StatusAccepted || string(again) != string(first) || h.Get("Idempotent-Replayed") != "true" {
			t.Errorf("the same repost with key %s: %d %q %s; want the first answer replayed:\n%s", k, code, h.Get("Idempotent-Replayed"), again, first)
		}
	}
	if d, _ := a.broker.Delivery(context.Background(), "idem-1", "tg"); d.Revision != 2 || d.State != queue.StateSent {
		t.Fatalf("the repeated repost requeued the delivery: %+v", d)
	}

	// The key with another request: 422, in the API's error shape, as documented.
	doc := loadOpenAPI(t)
	errSchema := doc.Components.Responses["Error"].Content["application/json"].Schema
	for _, other := range []string{"/v1/articles/idem-1/deliveries/tg/repost?by=other", "/v1/articles/idem-1/deliveries/tg/retry?by=desk"} {
		code, _, out := a.doWith(adminToken, "POST", other, key)
		var v any
		_ = json.Unmarshal(out, &v)
		if code != http.StatusUnprocessableEntity || validate(doc, errSchema, v, "$") != nil || !strings.Contains(string(out), "another request") {
			t.Errorf("%s with a used key: %d %s; want 422 {error}", other, code, out)
		}
		if _, ok := doc.Paths["/v1/articles/{id}/deliveries/{channel}/{action}"]["post"].Responses["422"]; !ok {
			t.Error("web/openapi.yaml does not document the 422")
		}
	}
	for _, bad := range []string{strings.Repeat("k", MaxIdempotencyKey+1), "مفتاح", `""`} {
		if code, _, out := a.doWith(adminToken, "POST", repost, map[string]string{"Idempotency-Key": bad}); code != http.StatusBadRequest {
			t.Errorf("key %q: %d %s; want 400", bad, code, out)
		}
	}
	ttl := a.broker.Client().TTL(context.Background(), idemRedisKey("8e03978e-40d5-43e8-bc93-6894a57f9324")).Val()
	if ttl < IdempotencyTTL-time.Minute || ttl > IdempotencyTTL {
		t.Errorf("the key is kept %v; want about %v", ttl, IdempotencyTTL)
	}

	// A burst of one repost with one key (a client that gave up on each at once): one repost.
	var wg sync.WaitGroup
	codes := make([]int, 8)
	for i := range codes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			codes[i], _, _ = a.doWith(adminToken, "POST", repost, map[string]string{"Idempotency-Key": "burst-1"})
		}()
	}
	wg.Wait()
	for _, c := range codes {
		if c != http.StatusAccepted && c != http.StatusConflict {
			t.Errorf("burst: %v; want 202 (done or replayed) or 409 (still running)", codes)
		}
	}
	a.waitRevisionSent("idem-1", 3)
	if d, _ := a.broker.Delivery(context.Background(), "idem-1", "tg"); d.Revision != 3 {
		t.Fatalf("a burst of one keyed repost requeued %d times", d.Revision-2)
	}

	// An answer other than 2xx is not kept (nothing was done): the key may try again.
	if code, h, _ := a.doWith(adminToken, "POST", "/v1/articles/none/deliveries/tg/repost", map[string]string{"Idempotency-Key": "k-404"}); code != http.StatusNotFound || h.Get("Idempotent-Replayed") != "" {
		t.Errorf("repost of an unknown delivery: %d", code)
	}
	if n, _ := a.broker.Client().Exists(context.Background(), idemRedisKey("k-404")).Result(); n != 0 {
		t.Error("a 404's key is kept")
	}

	// Without a key a repost still reposts.
	if code, _, out := a.doWith(adminToken, "POST", repost, nil); code != http.StatusAccepted {
		t.Fatalf("repost without a key: %d %s", code, out)
	}
	a.waitRevisionSent("idem-1", 4)
}

var repostFormRE = regexp.MustCompile(`(?s)action="(/dashboard/articles/[^"]+/repost)".*?name="next" value="([^"]*)"><input type="hidden" name="idem" value="([^"]+)"`)

// TestDashboardRepostSubmittedTwicePostsOnce: a repost button pressed twice (a double click,
// or a form posted again) reposted twice once the first repost had gone out. Each rendered
// form now carries its own key: the second submit does nothing and says what the first did.
func TestDashboardRepostSubmittedTwicePostsOnce(t *testing.T) {
	a := newTestAPI(t, nil)
	a.publish("idem-2")
	a.waitRevisionSent("idem-2", 1)
	hs := httptest.NewServer(a.h)
	t.Cleanup(hs.Close)
	c, csrf := browserLogin(t, hs.URL, adminToken, "/dashboard/articles/idem-2")
	resp, err := c.Get(hs.URL + "/dashboard/articles/idem-2")
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	m := repostFormRE.FindStringSubmatch(string(page))
	if m == nil {
		t.Fatalf("no repost form with a key on the article page:\n%s", page)
	}
	form := url.Values{"csrf": {csrf}, "next": {m[2]}, "idem": {m[3]}}
	submit := func() string {
		t.Helper()
		resp, err := c.PostForm(hs.URL+m[1], form)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		return resp.Status + " " + resp.Request.URL.String() + "\n" + string(body)
	}
	if out := submit(); !strings.Contains(out, "Reposting "+formatter.Isolate("idem-2")+" on tg.") {
		t.Fatalf("first submit: %s", out)
	}
	a.waitRevisionSent("idem-2", 2)
	if out := submit(); !strings.Contains(out, "Reposting "+formatter.Isolate("idem-2")+" on tg. (The button was pressed twice: done once.)") {
		t.Errorf("second submit does not say what the first did, and that it did nothing now: %s", out)
	}
	if d, _ := a.broker.Delivery(context.Background(), "idem-2", "tg"); d.Revision != 2 || d.State != queue.StateSent {
		t.Fatalf("the second submit of one form reposted again: %+v", d)
	}
	if n := a.sends(); n != 2 {
		t.Fatalf("%d posts; want 2 (publish and one repost)", n)
	}
	// Another rendering of the page is another form: it reposts.
	c2, csrf2 := browserLogin(t, hs.URL, adminToken, "/dashboard/articles/idem-2")
	resp, err = c2.Get(hs.URL + "/dashboard/articles/idem-2")
	if err != nil {
		t.Fatal(err)
	}
	page, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	m2 := repostFormRE.FindStringSubmatch(string(page))
	if m2 == nil || m2[3] == m[3] {
		t.Fatalf("a new rendering has no repost form or the same key: %v", m2)
	}
	resp, err = c2.PostForm(hs.URL+m2[1], url.Values{"csrf": {csrf2}, "next": {m2[2]}, "idem": {m2[3]}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	a.waitRevisionSent("idem-2", 3)
}

// hangUpAfterRepost is a go-redis hook: once a repost script has run and its task is enqueued
// (the wake-up PUBLISH that follows the enqueue), the request's context is cancelled — the
// client timed out and hung up while Redis did the work — and a caller whose context is the
// request's sees the cancellation from then on.
type hangUpAfterRepost struct {
	cancel context.CancelFunc
	armed  *atomic.Bool
	once   *sync.Once
}

func (hangUpAfterRepost) DialHook(next redis.DialHook) redis.DialHook { return next }

func (h hangUpAfterRepost) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		err := next(ctx, cmd)
		switch n := cmd.Name(); {
		case (n == "evalsha" || n == "eval") && strings.Contains(fmt.Sprint(cmd.Args()...), "repost"):
			h.armed.Store(true)
		case n == "publish" && h.armed.Load():
			h.once.Do(h.cancel)
		}
		if err == nil && ctx.Err() != nil {
			cmd.SetErr(ctx.Err())
			return ctx.Err()
		}
		return err
	}
}

func (hangUpAfterRepost) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return next
}

// TestKeyedRepostCutOffByAHangUpIsKept: a client that timed out and hung up while Redis ran
// its keyed repost got the repost undone in nothing but its answer: the cancelled context made
// it a 503, the key was freed, and the client's retry with the same key reposted again. The
// request now runs to its end whatever the client does, so the retry gets the 202 replayed.
func TestKeyedRepostCutOffByAHangUpIsKept(t *testing.T) {
	a := newTestAPI(t, nil)
	a.publish("idem-3")
	a.waitRevisionSent("idem-3", 1)
	ctx, cancel := context.WithCancel(context.Background())
	a.broker.Client().AddHook(hangUpAfterRepost{cancel: cancel, armed: &atomic.Bool{}, once: &sync.Once{}})
	path := "/v1/articles/idem-3/deliveries/tg/repost"
	req := httptest.NewRequest("POST", path, nil).WithContext(ctx)
	req.Header.Set("Authorization", "Bearer "+adminToken)
	req.Header.Set("Idempotency-Key", "hang-up-1")
	rec := httptest.NewRecorder()
	a.h.ServeHTTP(rec, req) // the client is gone by the end: nobody reads this answer
	if ctx.Err() == nil {
		t.Fatal("the hook never hung up")
	}
	a.waitRevisionSent("idem-3", 2)
	code, h, out := a.doWith(adminToken, "POST", path, map[string]string{"Idempotency-Key": "hang-up-1"})
	if code != http.StatusAccepted || h.Get("Idempotent-Replayed") != "true" {
		t.Errorf("the client's retry with its key: %d %q %s; want the first repost's 202 replayed", code, h.Get("Idempotent-Replayed"), out)
	}
	if d, _ := a.broker.Delivery(context.Background(), "idem-3", "tg"); d.Revision != 2 {
		t.Fatalf("the retry of a repost cut off by a hang-up reposted again: revision %d", d.Revision)
	}
}

var retryUnknownFormRE = regexp.MustCompile(`(?s)action="/dashboard/channels/tg/retry-unknown" class="retry-unknown">\s*<input type="hidden" name="csrf" value="([^"]+)"><input type="hidden" name="idem" value="([^"]+)">`)

// TestDashboardChannelButtonSubmittedTwiceShowsTheFirstAnswer: "Retry 2 unknown" pressed twice
// requeued both the first time and none the second, whose "Retrying 0 unknown deliveries of
// tg." replaced the first message, so the operator read that nothing went. The channel forms
// now carry their own key too: the second submit does nothing and shows the first answer.
func TestDashboardChannelButtonSubmittedTwiceShowsTheFirstAnswer(t *testing.T) {
	a := newTestAPI(t, nil)
	for _, id := range []string{"idem-4", "idem-5"} {
		a.ch.failNext(channels.UnknownOutcome(errors.New("timeout after the request left")))
		a.publish(id)
		a.waitStatus(id, queue.StateUnknown)
	}
	hs := httptest.NewServer(a.h)
	t.Cleanup(hs.Close)
	c, _ := browserLogin(t, hs.URL, adminToken, "/dashboard/")
	resp, err := c.Get(hs.URL + "/dashboard/")
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	m := retryUnknownFormRE.FindStringSubmatch(string(page))
	if m == nil {
		t.Fatalf("no retry-unknown form with a key:\n%s", page)
	}
	for i := range 2 {
		resp, err := c.PostForm(hs.URL+"/dashboard/channels/tg/retry-unknown", url.Values{"csrf": {m[1]}, "idem": {m[2]}})
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if !strings.Contains(string(body), "Retrying 2 unknown deliveries of tg.") {
			t.Errorf("submit %d does not say 2 went:\n%s", i+1, body)
		}
	}
	a.waitStatus("idem-4", queue.StateSent)
	a.waitStatus("idem-5", queue.StateSent)
}

// TestRetryUnknownWithIdempotencyKeyAnswersTheFirstCount: POST /v1/channels/{name}/retry-unknown
// sent again after a timeout answered "requeued 0" — the first call had already sent every
// unknown delivery on its way — so the tool (herald retry --all-unknown --server, a newsroom
// script) reported that nothing went. With an Idempotency-Key the second call gets the first
// count back; without one it is still a new bulk retry.
func TestRetryUnknownWithIdempotencyKeyAnswersTheFirstCount(t *testing.T) {
	a := newTestAPI(t, nil)
	for _, id := range []string{"idem-6", "idem-7"} {
		a.ch.failNext(channels.UnknownOutcome(errors.New("timeout after the request left")))
		a.publish(id)
		a.waitStatus(id, queue.StateUnknown)
	}
	key := map[string]string{"Idempotency-Key": "bulk-1"}
	code, _, first := a.doWith(adminToken, "POST", "/v1/channels/tg/retry-unknown?by=desk", key)
	if code != http.StatusAccepted || !strings.Contains(string(first), `"requeued":2`) {
		t.Fatalf("retry-unknown: %d %s", code, first)
	}
	a.waitStatus("idem-6", queue.StateSent)
	a.waitStatus("idem-7", queue.StateSent)
	code, h, again := a.doWith(adminToken, "POST", "/v1/channels/tg/retry-unknown?by=desk", key)
	if code != http.StatusAccepted || string(again) != string(first) || h.Get("Idempotent-Replayed") != "true" {
		t.Errorf("the same call with its key: %d %q %s; want the first answer (requeued 2) replayed", code, h.Get("Idempotent-Replayed"), again)
	}
	if code, _, out := a.doWith(adminToken, "POST", "/v1/channels/tg/retry-unknown?by=other", key); code != http.StatusUnprocessableEntity {
		t.Errorf("the key with another request: %d %s; want 422", code, out)
	}
	if code, _, out := a.doWith(adminToken, "POST", "/v1/channels/tg/retry-unknown", nil); code != http.StatusAccepted || !strings.Contains(string(out), `"requeued":0`) {
		t.Errorf("without a key: %d %s; want a new bulk retry, requeued 0", code, out)
	}
	doc := loadOpenAPI(t)
	for _, status := range []string{"400", "409", "422"} {
		if _, ok := doc.Paths["/v1/channels/{name}/retry-unknown"]["post"].Responses[status]; !ok {
			t.Errorf("web/openapi.yaml does not list retry-unknown's %s", status)
		}
	}
}
