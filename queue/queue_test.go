package queue

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest"
	"go.uber.org/zap/zaptest/observer"

	"herald/article"
	"herald/channels"
	"herald/formatter"
	"herald/internal/redistest"
)

// scripted is a test double of channels.Channel (not of a platform: platform behaviour is tested
// against the httptest fakes in channels/…). Each Send takes the next scripted answer.
type scripted struct {
	name  channels.Name
	dedup bool
	// window is DedupWindow's answer (0: the platform never forgets a key).
	window time.Duration

	mu      sync.Mutex
	answers []func(ctx context.Context) (channels.Receipt, error)
	sends   []sendRecord
	seq     int
}

type sendRecord struct {
	at        time.Time
	articleID string
	key       string
	attempt   int
	text      string
}

func (s *scripted) Name() channels.Name { return s.name }
func (s *scripted) Kind() channels.Kind { return channels.KindTelegram }
func (s *scripted) Deduplicates() bool  { return s.dedup }
func (s *scripted) DedupWindow() time.Duration {
	return s.window
}

func (s *scripted) Send(ctx context.Context, m channels.Message) (channels.Receipt, error) {
	s.mu.Lock()
	s.sends = append(s.sends, sendRecord{at: time.Now(), articleID: m.ArticleID, key: m.Key, attempt: m.Attempt, text: m.Posts[0].Text})
	var next func(ctx context.Context) (channels.Receipt, error)
	if len(s.answers) > 0 {
		next, s.answers = s.answers[0], s.answers[1:]
	}
	s.seq++
	id := s.seq
	s.mu.Unlock()
	if next != nil {
		return next(ctx)
	}
	return channels.Receipt{RemoteID: fmt.Sprint(id), PostURL: fmt.Sprintf("https://t.me/test/%d", id)}, nil
}

func (s *scripted) script(answers ...func(ctx context.Context) (channels.Receipt, error)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.answers = append(s.answers, answers...)
}

func (s *scripted) sent() []sendRecord {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]sendRecord(nil), s.sends...)
}

func fail(err error) func(context.Context) (channels.Receipt, error) {
	return func(context.Context) (channels.Receipt, error) { return channels.Receipt{}, err }
}

type env struct {
	t      *testing.T
	broker *Broker
	ch     *scripted
	route  Route
	// other is a second channel, "tg2", that every worker also serves: a delivery there going
	// out proves the worker is running while "tg" must stay silent.
	other *scripted
}

func newEnv(t *testing.T) *env {
	t.Helper()
	rdb, _ := redistest.Start(t)
	r, err := formatter.New(channels.KindTelegram, formatter.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ch := &scripted{name: "tg"}
	return &env{t: t, broker: NewBroker(rdb, Options{}), ch: ch, route: Route{Channel: ch, Renderer: r, MaxAttempts: 3}, other: &scripted{name: "tg2"}}
}

func testOpts(t *testing.T) WorkerOptions {
	return WorkerOptions{
		Concurrency: 4, SendTimeout: 2 * time.Second, LeaseDuration: 3 * time.Second,
		BackoffBase: 50 * time.Millisecond, BackoffMax: 200 * time.Millisecond,
		PollInterval: 50 * time.Millisecond, DelayedInterval: 200 * time.Millisecond,
		SweepInterval: 200 * time.Millisecond, ShutdownTimeout: 3 * time.Second, IdleWake: 200 * time.Millisecond,
		Logger: zaptest.NewLogger(t),
	}
}

// start runs a worker until the returned stop is called (or the test ends).
func (e *env) start(opts WorkerOptions, hook func(Delivery)) (stop func()) {
	other := Route{Channel: e.other, Renderer: e.route.Renderer}
	w := NewWorker(e.broker, map[channels.Name]Route{e.ch.name: e.route, e.other.name: other}, opts)
	w.afterSend = hook
	w.sweepMinAge = 0
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				e.t.Errorf("worker: %v", err)
			}
		})
	}
	e.t.Cleanup(stop)
	return stop
}

func (e *env) publish(id string) *Published {
	e.t.Helper()
	return e.publishTo(id, e.ch.name)
}

func (e *env) publishTo(id string, ch channels.Name) *Published {
	e.t.Helper()
	a := &article.Article{ID: id, URL: "https://example.com/news/" + id, Title: "عنوان الخبر " + id}
	a.Normalize()
	if err := a.Validate(); err != nil {
		e.t.Fatal(err)
	}
	p, err := e.broker.Publish(context.Background(), a, []Target{{Name: ch, Kind: channels.KindTelegram}})
	if err != nil {
		e.t.Fatalf("publish: %v", err)
	}
	return p
}

// waitState waits, with a deadline, until the delivery reaches want.
func (e *env) waitState(id string, want State, within time.Duration) Delivery {
	e.t.Helper()
	var d Delivery
	deadline := time.Now().Add(within)
	for {
		var err error
		d, err = e.broker.Delivery(context.Background(), id, e.ch.name)
		if err == nil && d.State == want {
			return d
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("delivery %s: want state %s within %s, have %+v (err %v)", id, want, within, d, err)
		}
		time.Sleep(20 * time.Millisecond) // polling a condition, bounded by the deadline above
	}
}

func TestPublishTwicePostsOnce(t *testing.T) {
	e := newEnv(t)
	first := e.publish("a1")
	second := e.publish("a1")
	if first.Deliveries[0].Duplicate || !second.Deliveries[0].Duplicate {
		t.Fatalf("duplicate flags: first %+v second %+v", first.Deliveries[0], second.Deliveries[0])
	}
	if first.Deliveries[0].TaskID != "a1:tg:1" {
		t.Fatalf("task id %q, want a1:tg:1", first.Deliveries[0].TaskID)
	}
	e.start(testOpts(t), nil)
	d := e.waitState("a1", StateSent, 10*time.Second)
	if d.RemoteID == "" || d.PostURL == "" || d.Attempt != 1 {
		t.Fatalf("sent record incomplete: %+v", d)
	}
	// Publishing again after the post went out must not post again either.
	if p := e.publish("a1"); p.Deliveries[0].Status != StateSent {
		t.Fatalf("republish status %s, want sent", p.Deliveries[0].Status)
	}
	if n := len(e.ch.sent()); n != 1 {
		t.Fatalf("%d sends, want exactly 1", n)
	}
	log, err := e.broker.Log(context.Background(), 10)
	if err != nil || len(log) < 2 || log[0].Status != "sent" || log[0].RemoteID != d.RemoteID {
		t.Fatalf("delivery log: %+v %v", log, err)
	}
}

func TestCrashAfterAcceptBeforeCommitParksUnknown(t *testing.T) {
	e := newEnv(t)
	e.publish("c1")
	opts := testOpts(t)
	opts.LeaseDuration = 2500 * time.Millisecond
	crashed := make(chan struct{})
	var once sync.Once
	stop := e.start(opts, func(Delivery) {
		once.Do(func() { close(crashed) })
		// The process dies here: the platform has the post, the ledger does not.
		panic("injected crash between platform answer and ledger commit")
	})
	select {
	case <-crashed:
	case <-time.After(10 * time.Second):
		t.Fatal("the send never happened")
	}
	stop()
	if d, _ := e.broker.Delivery(context.Background(), "c1", "tg"); d.State != StateSending {
		t.Fatalf("after the crash the ledger should still say sending, have %s", d.State)
	}
	// Restart: a new worker must park the delivery as unknown, never post it again.
	e.start(testOpts(t), nil)
	d := e.waitState("c1", StateUnknown, 15*time.Second)
	if d.Error == "" {
		t.Fatal("unknown delivery should say why")
	}
	if n := len(e.ch.sent()); n != 1 {
		t.Fatalf("%d sends, want 1 (no blind re-post)", n)
	}
	// The task is acknowledged: nothing left to run for the channel.
	e.waitIdle()
	if n := len(e.ch.sent()); n != 1 {
		t.Fatalf("%d sends after settling, want 1", n)
	}
}

func TestRateLimitedWaitsWithoutUsingAnAttempt(t *testing.T) {
	e := newEnv(t)
	retryAt := time.Now().Add(2 * time.Second)
	e.ch.script(fail(channels.RateLimited(errors.New("telegram: 429 Too Many Requests: retry after 2"), retryAt)))
	e.publish("r1")
	e.start(testOpts(t), nil)
	d := e.waitState("r1", StateSent, 15*time.Second)
	sends := e.ch.sent()
	if len(sends) != 2 {
		t.Fatalf("%d sends, want 2 (one 429, one success)", len(sends))
	}
	if sends[1].at.Before(retryAt) {
		t.Fatalf("second request at %s, before retry_after time %s", sends[1].at, retryAt)
	}
	if d.Attempt != 1 || sends[1].attempt != 1 {
		t.Fatalf("a rate limit must not use an attempt: ledger attempt %d, send attempt %d", d.Attempt, sends[1].attempt)
	}
	// Taken on the Redis clock as a wait from the moment the 429 was handled: never earlier than
	// retry_after, and later only by the time between that moment and the script.
	if nb, _ := e.broker.NotBefore(context.Background(), "tg"); nb.UnixMilli() < retryAt.UnixMilli() || nb.Sub(retryAt) > time.Second {
		t.Fatalf("channel not-before %s, want %s", nb, retryAt)
	}
}

func TestPlatformRetryAfterHoldsEveryDelivery(t *testing.T) {
	e := newEnv(t)
	retryAt := time.Now().Add(2 * time.Second)
	e.ch.script(fail(channels.RateLimited(errors.New("429"), retryAt)))
	e.publish("h1")
	e.start(testOpts(t), nil)
	waitFor(t, 10*time.Second, func() bool { return len(e.ch.sent()) >= 1 })
	// A second article published while the channel waits must wait too.
	e.publish("h2")
	e.waitState("h2", StateSent, 15*time.Second)
	e.waitState("h1", StateSent, 15*time.Second)
	for _, s := range e.ch.sent()[1:] {
		if s.at.Before(retryAt) {
			t.Fatalf("request for %s at %s, before the channel's retry time %s", s.articleID, s.at, retryAt)
		}
	}
}

func TestPermanentErrorFailsAtOnce(t *testing.T) {
	e := newEnv(t)
	e.ch.script(fail(channels.Permanent(errors.New("telegram: sending message: Bad Request: chat not found"))))
	e.publish("p1")
	e.start(testOpts(t), nil)
	d := e.waitState("p1", StateFailed, 10*time.Second)
	if d.Attempt != 1 || d.Error == "" {
		t.Fatalf("failed record: %+v", d)
	}
	e.waitIdle()
	if n := len(e.ch.sent()); n != 1 {
		t.Fatalf("%d sends, want 1 (no retry of a permanent error)", n)
	}
}

func TestRetryableErrorRetriesThenFails(t *testing.T) {
	e := newEnv(t)
	boom := fail(errors.New("telegram: 502 Bad Gateway"))
	e.ch.script(boom, boom, boom, boom)
	e.publish("t1")
	e.start(testOpts(t), nil)
	d := e.waitState("t1", StateFailed, 20*time.Second)
	if n := len(e.ch.sent()); n != 3 || d.Attempt != 3 {
		t.Fatalf("%d sends, ledger attempt %d; want 3 (max attempts)", n, d.Attempt)
	}
	for i, s := range e.ch.sent() {
		if s.attempt != i+1 || s.key != "t1:tg:1" {
			t.Fatalf("send %d: attempt %d key %q", i, s.attempt, s.key)
		}
	}
}

func TestRetryableErrorThenSuccess(t *testing.T) {
	e := newEnv(t)
	e.ch.script(fail(errors.New("connection refused")))
	e.publish("t2")
	e.start(testOpts(t), nil)
	d := e.waitState("t2", StateSent, 20*time.Second)
	if d.Attempt != 2 || len(e.ch.sent()) != 2 {
		t.Fatalf("attempt %d sends %d, want 2 and 2", d.Attempt, len(e.ch.sent()))
	}
}

func TestUnknownOutcomeIsParkedUnlessPlatformDeduplicates(t *testing.T) {
	e := newEnv(t)
	e.ch.script(fail(channels.UnknownOutcome(errors.New("read timeout after request was written"))))
	e.publish("u1")
	e.start(testOpts(t), nil)
	e.waitState("u1", StateUnknown, 10*time.Second)
	if n := len(e.ch.sent()); n != 1 {
		t.Fatalf("%d sends, want 1", n)
	}

	e2 := newEnv(t)
	e2.ch.dedup = true
	e2.ch.script(fail(channels.UnknownOutcome(errors.New("read timeout"))))
	e2.publish("u2")
	e2.start(testOpts(t), nil)
	e2.waitState("u2", StateSent, 10*time.Second)
	sends := e2.ch.sent()
	if len(sends) != 2 || sends[0].key != sends[1].key {
		t.Fatalf("a deduplicating platform is retried with the same key: %+v", sends)
	}
}

// A deduplicating platform that forgets a key after a while (Mastodon: an hour): a retry within
// the window is sent with the same key, but once the window has passed since an attempt that
// may have posted, the delivery is parked unknown instead (sent again, it could post twice).
// The first such attempt's time counts, not a later one's. (Fails with pastDedupWindow's
// check removed: the retry is sent.)
func TestDeduplicatedRetryIsParkedPastThePlatformsWindow(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	e.ch.dedup, e.ch.window = true, time.Hour
	e.route.MaxAttempts = 5
	var skew atomic.Int64 // how far the worker's clock is ahead
	opts := testOpts(t)
	opts.Now = func() time.Time { return time.Now().Add(time.Duration(skew.Load())) }
	e.ch.script(
		fail(channels.UnknownOutcome(errors.New("read timeout"))), // may have posted: maybe_at now
		func(context.Context) (channels.Receipt, error) {
			// A second unknown outcome 40 minutes later: the first attempt's time still counts.
			skew.Store(int64(40 * time.Minute))
			return channels.Receipt{}, channels.UnknownOutcome(errors.New("read timeout"))
		},
		func(context.Context) (channels.Receipt, error) {
			// The third attempt fails plainly, and then the hour has passed.
			skew.Store(int64(61 * time.Minute))
			return channels.Receipt{}, errors.New("connection refused")
		},
	)
	e.publish("dw1")
	e.start(opts, nil)
	d := e.waitState("dw1", StateUnknown, 10*time.Second)
	if n := len(e.ch.sent()); n != 3 {
		t.Fatalf("%d sends, want 3: the fourth attempt comes past the window", n)
	}
	if !strings.Contains(d.Error, "remembers its idempotency key for 1h0m0s only") || d.Attempt != 3 {
		t.Fatalf("parked record %+v", d)
	}
	if v, _ := e.broker.rdb.HExists(ctx, ledgerKey("dw1", "tg"), ledgerMaybePosted).Result(); v {
		t.Fatal("a final record keeps maybe_at")
	}
	// An admin's retry starts afresh and is sent.
	if _, err := e.broker.Requeue(ctx, "dw1", "tg", "retry", "admin"); err != nil {
		t.Fatal(err)
	}
	e.waitState("dw1", StateSent, 10*time.Second)
	if n := len(e.ch.sent()); n != 4 {
		t.Fatalf("%d sends after the admin's retry, want 4", n)
	}
}

// A deduplicating channel that gives up after an attempt whose outcome was unknown parks the
// delivery unknown, not failed (failed says nothing went out, and an admin's retry would then
// post again): after the attempts run out, and after a permanent answer. Without such an
// attempt it is failed as before. (Failed before: the record said failed.)
func TestDeduplicatedGiveUpAfterAnUnknownOutcomeIsUnknown(t *testing.T) {
	e := newEnv(t)
	e.ch.dedup = true
	timeout := fail(channels.UnknownOutcome(errors.New("read timeout")))
	refused := fail(errors.New("connection refused"))
	e.ch.script(timeout, refused, refused, // g1: the attempts run out
		timeout, fail(channels.Permanent(errors.New("422 Validation failed"))), // g2: a permanent answer
		refused, refused, refused) // g3: nothing may have posted
	e.start(testOpts(t), nil)
	for _, tc := range []struct {
		id    string
		state State
	}{{"g1", StateUnknown}, {"g2", StateUnknown}, {"g3", StateFailed}} {
		e.publish(tc.id)
		d := e.waitState(tc.id, tc.state, 10*time.Second)
		if tc.state == StateUnknown && !strings.Contains(d.Error, "it may have posted") {
			t.Fatalf("%s: %+v", tc.id, d)
		}
	}
}

// A message of several posts that failed after the first was accepted is unknown (a retry would
// post the first again), and its record keeps the accepted post's id and link: the admin
// deciding sees what is out, and a retract deletes it. (Failed before: the record had no id.)
func TestPartlySentMessageKeepsTheAcceptedPostsID(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	e.ch.script(func(context.Context) (channels.Receipt, error) {
		return channels.Receipt{RemoteID: "41", PostURL: "https://t.me/test/41"},
			channels.UnknownOutcome(errors.New("telegram: post 2 of 2 failed after message(s) 41 were sent: timeout"))
	})
	e.publish("pp1")
	e.start(testOpts(t), nil)
	d := e.waitState("pp1", StateUnknown, 10*time.Second)
	if d.RemoteID != "41" || d.PostURL != "https://t.me/test/41" || !strings.Contains(d.Error, "post 2 of 2") {
		t.Fatalf("unknown record %+v, want the accepted post's id and link", d)
	}
	page, err := e.broker.QueryLog(ctx, LogQuery{ArticleID: "pp1", Status: "unknown"})
	if err != nil || len(page.Entries) != 1 || page.Entries[0].RemoteID != "41" {
		t.Fatalf("unknown log entry %+v %v, want remote id 41", page.Entries, err)
	}
	// An unknown outcome with nothing accepted still names no post.
	e.ch.script(fail(channels.UnknownOutcome(errors.New("read timeout"))))
	e.publish("pp2")
	if d := e.waitState("pp2", StateUnknown, 10*time.Second); d.RemoteID != "" || d.PostURL != "" {
		t.Fatalf("unknown record %+v names a post", d)
	}
}

func TestPauseAndResume(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	if err := e.broker.Pause(ctx, "tg", "maintenance"); err != nil {
		t.Fatal(err)
	}
	if err := e.broker.Pause(ctx, "tg", "again"); err != nil {
		t.Fatalf("pausing twice should be harmless: %v", err)
	}
	e.start(testOpts(t), nil)
	for i := range 3 {
		e.publish(fmt.Sprintf("z%d", i))
	}
	waitFor(t, 5*time.Second, func() bool { st, _ := e.broker.Stats("tg"); return st.Pending == 3 && st.Paused })
	// The worker is live: an article for the other channel, published after, goes out.
	e.publishTo("live", e.other.name)
	waitFor(t, 10*time.Second, func() bool { return len(e.other.sent()) == 1 })
	if n := len(e.ch.sent()); n != 0 {
		t.Fatalf("%d sends while paused", n)
	}
	p, _ := e.broker.Paused(ctx)
	if len(p) != 1 || p[0].Channel != "tg" || p[0].Reason != "maintenance" {
		t.Fatalf("paused list %+v", p)
	}
	if err := e.broker.Resume(ctx, "tg"); err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		e.waitState(fmt.Sprintf("z%d", i), StateSent, 10*time.Second)
	}
	if n := len(e.ch.sent()); n != 3 {
		t.Fatalf("%d sends after resume, want 3", n)
	}
}

func TestShutdownDuringSendLosesAndDuplicatesNothing(t *testing.T) {
	e := newEnv(t)
	inSend := make(chan struct{})
	release := make(chan struct{})
	e.ch.script(func(ctx context.Context) (channels.Receipt, error) {
		close(inSend)
		<-release // the platform is slow to answer while we shut down
		return channels.Receipt{RemoteID: "slow-1"}, nil
	})
	for i := range 4 {
		e.publish(fmt.Sprintf("s%d", i))
	}
	opts := testOpts(t)
	opts.Concurrency = 1
	core, logs := observer.New(zap.InfoLevel)
	opts.Logger = zap.New(zapcore.NewTee(opts.Logger.Core(), core))
	stop := e.start(opts, nil)
	<-inSend
	stopped := make(chan struct{})
	go func() { stop(); close(stopped) }()
	// Release the platform only once the shutdown has begun.
	waitFor(t, 5*time.Second, func() bool { return logs.FilterMessageSnippet("worker stopping").Len() > 0 })
	close(release)
	<-stopped
	// The in-flight send was committed before the worker exited.
	sentBefore := 0
	for i := range 4 {
		d, _ := e.broker.Delivery(context.Background(), fmt.Sprintf("s%d", i), "tg")
		if d.State == StateSent {
			sentBefore++
		}
		if d.State == StateSending {
			t.Fatalf("s%d left in sending after a graceful shutdown", i)
		}
	}
	if sentBefore == 0 {
		t.Fatal("the in-flight send was not committed during shutdown")
	}
	// A new process delivers the rest exactly once.
	e.start(testOpts(t), nil)
	for i := range 4 {
		e.waitState(fmt.Sprintf("s%d", i), StateSent, 15*time.Second)
	}
	seen := map[string]int{}
	for _, s := range e.ch.sent() {
		seen[s.articleID]++
	}
	for i := range 4 {
		if n := seen[fmt.Sprintf("s%d", i)]; n != 1 {
			t.Fatalf("s%d sent %d times, want 1", i, n)
		}
	}
}

// Paced, not polled: a rate-limited channel's deliveries wait for their slot inside the
// handler (no reschedule, no rate_limited round trips), go out in publish order, never closer
// than the rate's spacing, and the burst goes out back to back.
func TestPacedInPublishOrderWithBurst(t *testing.T) {
	e := newEnv(t)
	e.route.Limit = Limit{Count: 5, Period: time.Second, Burst: 2}
	var mu sync.Mutex
	limited := 0
	opts := testOpts(t)
	opts.OnOutcome = func(o Outcome) {
		if o.Status == "rate_limited" || o.Status == "busy" {
			mu.Lock()
			limited++
			mu.Unlock()
		}
	}
	const n = 6
	for i := range n {
		e.publish(fmt.Sprintf("l%d", i))
	}
	e.start(opts, nil)
	waitFor(t, 10*time.Second, func() bool { return len(e.ch.sent()) == n })
	sends := e.ch.sent()
	for i, s := range sends {
		if s.articleID != fmt.Sprintf("l%d", i) {
			t.Fatalf("send %d was %s: not in publish order", i, s.articleID)
		}
	}
	// The burst: the first two back to back; then one per 200ms. Slots are exact on the Redis
	// clock and a send leaves at or a little after its slot, so send i is never earlier than
	// (i-1) spacings after the first (less the first send's own delay).
	if gap := sends[1].at.Sub(sends[0].at); gap > 150*time.Millisecond {
		t.Fatalf("burst of 2: second send %s after the first", gap)
	}
	for i := 2; i < n; i++ {
		if span := sends[i].at.Sub(sends[0].at); span < time.Duration(i-1)*200*time.Millisecond-20*time.Millisecond {
			t.Fatalf("%d sends in %s at 5/s with a burst of 2", i+1, span)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if limited != 0 {
		t.Fatalf("%d deliveries were rescheduled: pacing must wait in place", limited)
	}
}

func TestSweepEnqueuesOrphanedDelivery(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	e.publish("o1")
	// Simulate a crash between the ledger write and the enqueue: the task is gone.
	if err := e.broker.insp.DeleteTask(asynqQueue("tg", false), "o1:tg:1"); err != nil {
		t.Fatal(err)
	}
	e.start(testOpts(t), nil)
	e.waitState("o1", StateSent, 10*time.Second)
	if n := len(e.ch.sent()); n != 1 {
		t.Fatalf("%d sends", n)
	}
	if n, _ := e.broker.rdb.ZCard(ctx, pendingKey).Result(); n != 0 {
		t.Fatalf("pending set still has %d members", n)
	}
}

// A delivery that a worker finishes while the sweeper looks at it (its state read as pending,
// then its task gone because it completed) is not enqueued again: its TaskID, free again, would
// run once more for nothing (a "duplicate" outcome). (Fails with the second state read removed.)
func TestSweepDoesNotReEnqueueADeliveryFinishedMeanwhile(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	e.publish("sw1")
	sweepBetweenReads = func() {
		// What a worker does between the sweeper's two round trips: commit sent, then asynq
		// deletes the completed task.
		if err := e.broker.rdb.HSet(ctx, ledgerKey("sw1", "tg"), "state", "sent").Err(); err != nil {
			t.Error(err)
		}
		if err := e.broker.insp.DeleteTask(asynqQueue("tg", false), "sw1:tg:1"); err != nil {
			t.Error(err)
		}
	}
	defer func() { sweepBetweenReads = nil }()
	if err := e.broker.sweepMembers(ctx, []string{deliveryMember("sw1", "tg")}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.broker.insp.GetTaskInfo(asynqQueue("tg", false), "sw1:tg:1"); err == nil {
		t.Fatal("the sweeper enqueued the finished delivery's task again")
	}
}

func TestRequeueRetryAndRepost(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	e.ch.script(fail(channels.UnknownOutcome(errors.New("timeout"))))
	e.publish("q1")
	e.start(testOpts(t), nil)
	e.waitState("q1", StateUnknown, 10*time.Second)
	if _, err := e.broker.Requeue(ctx, "q1", "tg", "retry", "admin"); err != nil {
		t.Fatal(err)
	}
	d := e.waitState("q1", StateSent, 10*time.Second)
	if _, err := e.broker.Requeue(ctx, "q1", "tg", "retry", "admin"); err == nil {
		t.Fatal("retrying a sent delivery must be refused")
	}
	d2, err := e.broker.Requeue(ctx, "q1", "tg", "repost", "admin")
	if err != nil || d2.Revision != d.Revision+1 {
		t.Fatalf("repost: %+v %v", d2, err)
	}
	waitFor(t, 10*time.Second, func() bool {
		d, _ := e.broker.Delivery(ctx, "q1", "tg")
		return d.State == StateSent && d.Revision == 2
	})
	sends := e.ch.sent()
	if len(sends) != 3 || sends[2].key != "q1:tg:2" {
		t.Fatalf("sends %+v", sends)
	}
	if _, err := e.broker.Requeue(ctx, "nope", "tg", "retry", "admin"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("missing delivery: %v", err)
	}
}

// waitIdle waits until the channel "tg" has no task left in any state: every task acknowledged.
func (e *env) waitIdle() {
	e.t.Helper()
	waitFor(e.t, 10*time.Second, func() bool {
		st, err := e.broker.Stats("tg")
		return err == nil && st.Pending+st.Active+st.Scheduled+st.Retry == 0
	})
}

func waitFor(t *testing.T, within time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("condition not met within %s", within)
		}
		time.Sleep(20 * time.Millisecond) // polling a condition, bounded by the deadline
	}
}

func TestStatsOfAnUnusedChannelAreZero(t *testing.T) {
	e := newEnv(t)
	st, err := e.broker.Stats("never-used")
	if err != nil || st != (ChannelStats{Channel: "never-used"}) {
		t.Fatalf("%+v %v", st, err)
	}
	e.publish("st1")
	if st, err := e.broker.Stats("tg"); err != nil || st.Pending != 1 {
		t.Fatalf("%+v %v", st, err)
	}
}

func TestUrgentArticlesJumpTheBacklog(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	if err := e.broker.Pause(ctx, "tg", "build a backlog"); err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		e.publish(fmt.Sprintf("n%d", i))
	}
	urgent := &article.Article{ID: "breaking", URL: "https://example.com/news/breaking", Title: "عاجل", Priority: 9}
	urgent.Normalize()
	p, err := e.broker.Publish(ctx, urgent, []Target{{Name: "tg", Kind: channels.KindTelegram}})
	if err != nil || !p.Deliveries[0].Urgent {
		t.Fatalf("publish urgent: %+v %v", p, err)
	}
	if st, _ := e.broker.Stats("tg"); st.Pending != 4 || st.Urgent != 1 || !st.Paused {
		t.Fatalf("stats %+v", st)
	}
	opts := testOpts(t)
	opts.Concurrency = 1
	e.start(opts, nil)
	if err := e.broker.Resume(ctx, "tg"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, func() bool { return len(e.ch.sent()) == 4 })
	if first := e.ch.sent()[0].articleID; first != "breaking" {
		t.Fatalf("first post was %s, want the urgent article", first)
	}
	// The urgency is part of the record: a repost goes through the urgent queue again.
	d, err := e.broker.Requeue(ctx, "breaking", "tg", "repost", "admin")
	if err != nil || !d.Urgent {
		t.Fatalf("repost: %+v %v", d, err)
	}
	waitFor(t, 10*time.Second, func() bool { return len(e.ch.sent()) == 5 })
}
