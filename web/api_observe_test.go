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
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"

	"herald/channels"
	"herald/config"
	"herald/formatter"
	"herald/ingest"
	"herald/internal/redistest"
	"herald/queue"
)

// Tokens of the tests: long enough for the config's check, distinct per role.
const (
	adminToken     = "admin-token-0123456789abcdef"
	adminToken2    = "admin-token-second-0123456789"
	viewerToken    = "viewer-token-0123456789abcdef"
	publisherToken = "publisher-token-0123456789abc"
)

// fakeChannel accepts every post unless told to fail the next ones.
type fakeChannel struct {
	name channels.Name
	mu   sync.Mutex
	errs []error
	n    int
}

func (f *fakeChannel) Name() channels.Name { return f.name }
func (f *fakeChannel) Kind() channels.Kind { return channels.KindTelegram }
func (f *fakeChannel) Send(_ context.Context, m channels.Message) (channels.Receipt, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.errs) > 0 {
		err := f.errs[0]
		f.errs = f.errs[1:]
		return channels.Receipt{}, err
	}
	f.n++
	return channels.Receipt{RemoteID: fmt.Sprint(f.n), PostURL: fmt.Sprintf("https://t.me/herald_fake/%d", f.n)}, nil
}

func (f *fakeChannel) failNext(errs ...error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.errs = append(f.errs, errs...)
}

type testAPI struct {
	t      *testing.T
	srv    *Server
	h      http.Handler
	broker *queue.Broker
	ch     *fakeChannel
	logs   *observer.ObservedLogs
	worker *queue.Worker
}

// newTestAPI serves the API over a real Redis with a worker delivering to a fake channel "tg".
func newTestAPI(t *testing.T, onOutcome func(queue.Outcome)) *testAPI {
	t.Helper()
	rdb, _ := redistest.Start(t)
	cfg, err := config.Parse([]byte("channels:\n  - {name: tg, kind: telegram, rate: unlimited}\n"))
	if err != nil {
		t.Fatal(err)
	}
	b := queue.NewBroker(rdb, queue.Options{})
	ch := &fakeChannel{name: "tg"}
	r, err := formatter.New(channels.KindTelegram, formatter.Options{})
	if err != nil {
		t.Fatal(err)
	}
	w := queue.NewWorker(b, map[channels.Name]queue.Route{"tg": {Channel: ch, Renderer: r, MaxAttempts: 2}}, queue.WorkerOptions{
		PollInterval: 50 * time.Millisecond, BackoffBase: 50 * time.Millisecond, BackoffMax: 100 * time.Millisecond,
		SendTimeout: 2 * time.Second, ShutdownTimeout: 3 * time.Second, OnOutcome: onOutcome,
	})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	core, logs := observer.New(zap.DebugLevel)
	s := &Server{Publisher: &ingest.Publisher{Config: cfg, Broker: b}, Broker: b, Token: adminToken, Logger: zap.New(core),
		Tokens:   []Token{{RoleAdmin, adminToken2}, {RoleViewer, viewerToken}, {RolePublisher, publisherToken}},
		Channels: []queue.ChannelConfig{{Name: "tg", Kind: channels.KindTelegram}}, Workers: w,
		Checks: func() []channels.CheckResult {
			return []channels.CheckResult{{Channel: "tg", Kind: channels.KindTelegram, Status: channels.CheckFailed, Error: "checking the bot token: 401 Unauthorized", CheckedAt: time.Now().UTC()}}
		}}
	api := &testAPI{t: t, srv: s, h: s.Handler(), broker: b, ch: ch, logs: logs, worker: w}
	api.waitFor("workers running", func() bool { return w.Running() })
	return api
}

// do sends a request with a bearer token ("" for none) and returns the status and body.
func (a *testAPI) do(token, method, path, body string) (int, []byte) {
	a.t.Helper()
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	rec := httptest.NewRecorder()
	a.h.ServeHTTP(rec, req)
	out, _ := io.ReadAll(rec.Result().Body)
	return rec.Code, out
}

func (a *testAPI) waitFor(what string, cond func() bool) {
	a.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			a.t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond) // polling a condition, bounded by the deadline
	}
}

func (a *testAPI) publish(id string) {
	a.t.Helper()
	if code, body := a.do(adminToken, http.MethodPost, "/v1/articles", `{"id":"`+id+`","url":"https://news.example.com/`+id+`","title":"عنوان `+id+`"}`); code != 202 {
		a.t.Fatalf("publish %s: %d %s", id, code, body)
	}
}

func (a *testAPI) waitStatus(id string, want queue.State) {
	a.t.Helper()
	a.waitFor(id+" "+string(want), func() bool {
		d, err := a.broker.Delivery(context.Background(), id, "tg")
		return err == nil && d.State == want
	})
}

// A publisher token publishes and nothing else; a viewer reads and nothing else; every admin
// token does everything; a wrong token is 401. No token ever appears in a log line or answer.
func TestRoles(t *testing.T) {
	a := newTestAPI(t, nil)
	article := `{"id":"r1","url":"https://news.example.com/r1","title":"t"}`
	cases := []struct {
		token, method, path, body string
		want                      int
	}{
		{publisherToken, "POST", "/v1/articles", article, 202},
		{publisherToken, "POST", "/v1/channels/tg/pause", "", 403},
		{publisherToken, "POST", "/v1/channels/tg/resume", "", 403},
		{publisherToken, "GET", "/v1/articles/r1", "", 403},
		{publisherToken, "GET", "/v1/deliveries", "", 403},
		{viewerToken, "GET", "/v1/articles/r1", "", 200},
		{viewerToken, "GET", "/v1/channels", "", 200},
		{viewerToken, "GET", "/v1/deliveries", "", 200},
		{viewerToken, "GET", "/v1/stats", "", 200},
		{viewerToken, "POST", "/v1/articles", article, 403},
		{viewerToken, "POST", "/v1/channels/tg/pause", "", 403},
		{viewerToken, "POST", "/v1/articles/r1/deliveries/tg/repost", "", 403},
		{adminToken2, "POST", "/v1/channels/tg/pause", "", 200},
		{adminToken, "POST", "/v1/channels/tg/resume", "", 200},
		{adminToken2, "GET", "/v1/stats", "", 200},
		{"wrong-token-0123456789abcdef", "GET", "/v1/stats", "", 401},
		{"", "GET", "/v1/channels", "", 401},
	}
	var bodies []string
	for _, c := range cases {
		code, body := a.do(c.token, c.method, c.path, c.body)
		if code != c.want {
			t.Errorf("%s…: %s %s = %d %s, want %d", c.token[:min(len(c.token), 6)], c.method, c.path, code, body, c.want)
		}
		bodies = append(bodies, string(body))
	}
	// The dashboard logs in with the same tokens: admins and viewers, never publishers.
	for tok, want := range map[string]string{adminToken2: "admin", viewerToken: "viewer", publisherToken: "", "nope-0123456789abcdef": ""} {
		if role, ok := a.srv.dashboardRole(tok); role != want || ok != (want != "") {
			t.Errorf("dashboard role of a %q token: %q %v", want, role, ok)
		}
	}
	// Only admins changed anything: the channel was paused and resumed by admins, never by others.
	paused, _ := a.broker.Paused(context.Background())
	if len(paused) != 0 {
		t.Fatalf("paused: %+v", paused)
	}
	for _, path := range []string{"/readyz", "/healthz", "/openapi.yaml", "/v1/channels", "/v1/deliveries", "/v1/stats", "/v1/articles/r1"} {
		_, body := a.do(adminToken, "GET", path, "")
		bodies = append(bodies, string(body))
	}
	for _, l := range a.logs.All() {
		bodies = append(bodies, fmt.Sprintf("%s %v", l.Message, l.ContextMap()))
	}
	for _, b := range bodies {
		for _, tok := range []string{adminToken, adminToken2, viewerToken, publisherToken} {
			if strings.Contains(b, tok) {
				t.Fatalf("a token appears in an answer or log line: %s", b)
			}
		}
	}
}

// /readyz: 200 with the channel checks as detail (a failed check does not fail readiness);
// 503 once the workers stop or Redis is away.
func TestReadyz(t *testing.T) {
	rdb, srv := redistest.Start(t)
	b := queue.NewBroker(rdb, queue.Options{})
	workers := &fakeWorkers{running: true}
	s := &Server{Broker: b, Token: adminToken, Logger: zap.NewNop(), Workers: workers,
		Checks: func() []channels.CheckResult {
			return []channels.CheckResult{{Channel: "tg", Kind: "telegram", Status: channels.CheckFailed, Error: "401 Unauthorized"}}
		}}
	h := s.Handler()
	get := func() (int, Readiness) {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", "/readyz", nil))
		var rd Readiness
		_ = json.Unmarshal(rec.Body.Bytes(), &rd)
		return rec.Code, rd
	}
	if code, rd := get(); code != 200 || rd.Workers != "running" || len(rd.Channels) != 1 || rd.Channels[0].Status != "failed" {
		t.Fatalf("ready: %d %+v", code, rd)
	}
	workers.set(false)
	if code, rd := get(); code != 503 || rd.Workers != "not running" {
		t.Fatalf("workers stopped: %d %+v", code, rd)
	}
	workers.set(true)
	srv.Stop()
	if code, rd := get(); code != 503 || rd.Redis != "unavailable" {
		t.Fatalf("redis away: %d %+v", code, rd)
	}
}

type fakeWorkers struct {
	mu      sync.Mutex
	running bool
}

func (f *fakeWorkers) Running() bool { f.mu.Lock(); defer f.mu.Unlock(); return f.running }
func (f *fakeWorkers) set(v bool)    { f.mu.Lock(); defer f.mu.Unlock(); f.running = v }

// GET /v1/deliveries filters by channel, status, article and time, a page at a time.
func TestDeliveriesEndpoint(t *testing.T) {
	a := newTestAPI(t, nil)
	a.ch.failNext(channels.Permanent(errors.New("Bad Request: chat not found")))
	a.publish("d1")
	a.waitStatus("d1", queue.StateFailed)
	for _, id := range []string{"d2", "d3", "d4"} {
		a.publish(id)
		a.waitStatus(id, queue.StateSent)
	}
	page := func(query string) queue.LogPage {
		t.Helper()
		code, body := a.do(viewerToken, "GET", "/v1/deliveries"+query, "")
		var p queue.LogPage
		if code != 200 || json.Unmarshal(body, &p) != nil {
			t.Fatalf("%s: %d %s", query, code, body)
		}
		return p
	}
	var ids []string
	cursor := ""
	for {
		p := page("?channel=tg&status=sent&limit=2" + cursor)
		for _, e := range p.Entries {
			if e.Status != "sent" || e.PostURL == "" {
				t.Fatalf("entry %+v", e)
			}
			ids = append(ids, e.ArticleID)
		}
		if p.NextCursor == "" {
			break
		}
		cursor = "&cursor=" + p.NextCursor
	}
	if strings.Join(ids, ",") != "d4,d3,d2" {
		t.Fatalf("sent, newest first, two per page: %v", ids)
	}
	if p := page("?status=failed"); len(p.Entries) != 1 || p.Entries[0].ArticleID != "d1" || p.Entries[0].Error == "" {
		t.Fatalf("failed: %+v", p.Entries)
	}
	if p := page("?article=d2"); len(p.Entries) != 2 {
		t.Fatalf("article d2: %+v", p.Entries)
	}
	if p := page("?since=1h&until=" + time.Now().Add(time.Minute).UTC().Format(time.RFC3339)); len(p.Entries) != 8 {
		t.Fatalf("last hour: %d entries, want 8", len(p.Entries))
	}
	if p := page("?until=1h"); len(p.Entries) != 0 {
		t.Fatalf("until an hour ago: %+v", p.Entries)
	}
	for _, bad := range []string{"?status=nope", "?since=yesterday", "?limit=0", "?cursor=%2B"} {
		if code, _ := a.do(viewerToken, "GET", "/v1/deliveries"+bad, ""); code != 400 {
			t.Errorf("%s: %d, want 400", bad, code)
		}
	}
}

// GET /v1/deliveries refuses what it would otherwise ignore or misread, with a 400 naming the
// parameter: a misspelt filter (it answered the whole log as if it were the article's), a since
// not before until (an empty page), a number of days whose duration overflows (another time).
func TestDeliveriesRefusesWhatItWouldIgnore(t *testing.T) {
	rdb, _ := redistest.Start(t)
	b := queue.NewBroker(rdb, queue.Options{})
	h := (&Server{Broker: b, Token: adminToken, Logger: zap.NewNop()}).Handler()
	get := func(query string) (int, string) {
		req := httptest.NewRequest(http.MethodGet, "/v1/deliveries"+query, nil)
		req.Header.Set("Authorization", "Bearer "+adminToken)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec.Code, rec.Body.String()
	}
	for query, says := range map[string]string{
		"?article_id=d2":          "article_id: unknown parameter; the parameters are article, channel",
		"?article=d2&Status=sent": "Status: unknown parameter",
		"?since=1h&until=2h":      "since: not before until",
		"?since=2026-11-27T10:00:00Z&until=2026-11-27T10:00:00Z": "since: not before until",
		"?since=999999999d": "since: want an RFC 3339 time or a duration",
		"?until=106752d":    "until: want an RFC 3339 time or a duration",
	} {
		if code, body := get(query); code != http.StatusBadRequest || !strings.Contains(body, says) {
			t.Errorf("%s: %d %s, want 400 saying %q", query, code, body, says)
		}
	}
	for _, query := range []string{"?since=2h&until=1h", "?since=106751d", "?since=1960-01-01T00:00:00Z", "?until=1969-12-31T00:00:00Z", "?article=d2&channel=tg&status=sent&since=2d&until=1h&limit=5"} {
		if code, body := get(query); code != http.StatusOK {
			t.Errorf("%s: %d %s, want 200", query, code, body)
		}
	}
}

// mark-sent's post_url is shown as a link (the admin bot's /status, the dashboard, herald
// status): anything but an absolute http(s) URL is a 400 and the delivery stays as it was. It
// was recorded as given ("t.me/c/1", "javascript:…").
func TestMarkSentRefusesAPostURLThatIsNoLink(t *testing.T) {
	a := newTestAPI(t, nil)
	a.ch.failNext(channels.Permanent(errors.New("Bad Request: chat not found")))
	a.publish("m1")
	a.waitStatus("m1", queue.StateFailed)
	for _, bad := range []string{"t.me/c/1", "javascript:alert(1)", "https://", "/c/1"} {
		code, body := a.do(adminToken, "POST", "/v1/articles/m1/deliveries/tg/mark-sent?post_url="+url.QueryEscape(bad), "")
		if code != http.StatusBadRequest || !strings.Contains(string(body), "post_url") {
			t.Errorf("mark-sent with post_url %q: %d %s, want 400", bad, code, body)
		}
	}
	if d, err := a.broker.Delivery(context.Background(), "m1", "tg"); err != nil || d.State != queue.StateFailed || d.PostURL != "" {
		t.Fatalf("after refused mark-sents: %+v %v, want failed without a post_url", d, err)
	}
	if code, body := a.do(adminToken, "POST", "/v1/articles/m1/deliveries/tg/mark-sent?post_url="+url.QueryEscape("https://t.me/c/1"), ""); code != http.StatusOK {
		t.Fatalf("mark-sent with a link: %d %s", code, body)
	}
}
