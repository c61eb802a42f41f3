package queue

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"herald/article"
	"herald/channels"
	"herald/formatter"
	"herald/internal/redistest"
)

// newEnvVia is newEnv with the broker's (and so the worker's) Redis client behind a proxy that
// can lose replies.
func newEnvVia(t *testing.T) (*env, *redistest.Proxy) {
	t.Helper()
	_, srv := redistest.Start(t)
	px := redistest.StartProxy(t, srv.Addr)
	rdb := redis.NewClient(&redis.Options{Addr: px.Addr(), MaxRetries: 3})
	t.Cleanup(func() { _ = rdb.Close() })
	r, err := formatter.New(channels.KindTelegram, formatter.Options{})
	if err != nil {
		t.Fatal(err)
	}
	// Loaded up front, so EVALSHA runs the script at once and a dropped reply is the script's.
	for _, s := range []*redis.Script{claimScript, finishScript, slotScript, requeueScript, recordScript} {
		if err := s.Load(context.Background(), rdb).Err(); err != nil {
			t.Fatal(err)
		}
	}
	ch := &scripted{name: "tg"}
	return &env{t: t, broker: NewBroker(rdb, Options{}), ch: ch, route: Route{Channel: ch, Renderer: r, MaxAttempts: 3}, other: &scripted{name: "tg2"}}, px
}

// outcomes records every Outcome of a worker.
type outcomes struct {
	mu  sync.Mutex
	all []Outcome
}

func (o *outcomes) add(x Outcome) { o.mu.Lock(); o.all = append(o.all, x); o.mu.Unlock() }

func (o *outcomes) statuses(article string) []string {
	o.mu.Lock()
	defer o.mu.Unlock()
	var out []string
	for _, x := range o.all {
		if x.ArticleID == article {
			out = append(out, x.Status)
		}
	}
	return out
}

// A lost reply to the claim: go-redis re-runs the script, and the re-run must see its own claim
// (same token) as claimed, not as another worker's lease — which would end, after the lease,
// as unknown with nothing sent. On a channel without a limit the claim is made by the slot
// script (the slot is now); on a paced channel whose slot lies ahead, by claimScript after
// the wait. (Fails with the token check in either script removed.)
func TestLostClaimReplyIsNotAnotherWorkersLease(t *testing.T) {
	for _, tc := range []struct {
		name   string
		script *redis.Script
		limit  Limit
		ids    []string
	}{
		{"slot now", slotScript, Limit{}, []string{"lr1"}},
		// The first delivery takes the slot now; the second waits half a second, then claims.
		{"slot ahead", claimScript, Limit{Count: 2, Period: time.Second}, []string{"lr1a", "lr1b"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e, px := newEnvVia(t)
			e.route.Limit = tc.limit
			for _, id := range tc.ids {
				e.publish(id)
			}
			px.DropNext(tc.script.Hash())
			var outs outcomes
			opts := testOpts(t)
			opts.OnOutcome = outs.add
			e.start(opts, nil)
			for _, id := range tc.ids {
				e.waitState(id, StateSent, 10*time.Second)
			}
			if px.Dropped() != 1 {
				t.Fatalf("%d replies dropped, want 1", px.Dropped())
			}
			if n := len(e.ch.sent()); n != len(tc.ids) {
				t.Fatalf("%d sends, want %d", n, len(tc.ids))
			}
			for _, id := range tc.ids {
				d, err := e.broker.Delivery(context.Background(), id, "tg")
				if err != nil || d.Attempt != 1 {
					t.Fatalf("%s: attempt %d (%v), want 1", id, d.Attempt, err)
				}
				if got := outs.statuses(id); len(got) != 1 || got[0] != "sent" {
					t.Fatalf("%s: outcomes %v, want [sent]", id, got)
				}
			}
		})
	}
}

// A lost reply to the commit: the re-run finds the state it was asked to set under its own token
// and answers ok; the delivery is sent once and the worker reports sent, not a retry.
// (Fails with the "already applied" branch of finishScript removed.)
func TestLostCommitReplyAnswersAsTheFirstRun(t *testing.T) {
	e, px := newEnvVia(t)
	e.publish("lr2")
	px.DropNext(finishScript.Hash())
	var outs outcomes
	opts := testOpts(t)
	opts.OnOutcome = outs.add
	e.start(opts, nil)
	e.waitState("lr2", StateSent, 10*time.Second)
	waitFor(t, 5*time.Second, func() bool { return len(outs.statuses("lr2")) > 0 })
	if got := outs.statuses("lr2"); got[0] != "sent" {
		t.Fatalf("outcomes %v, want sent first", got)
	}
	if n := len(e.ch.sent()); n != 1 || px.Dropped() != 1 {
		t.Fatalf("%d sends, %d dropped", n, px.Dropped())
	}
}

// A retryable failure whose hand-back commit cannot reach Redis for a while (more lost replies
// than go-redis retries): the worker keeps committing under its token until it lands, so the
// delivery goes back to pending and is sent — never parked unknown with nothing posted.
func TestHandBackThatFailsIsRetriedNotParkedUnknown(t *testing.T) {
	e, px := newEnvVia(t)
	e.ch.script(fail(errors.New("connection refused")))
	e.publish("lr3")
	for range 6 { // go-redis tries 4 times: the first finish call fails, a later one lands
		px.DropNext(finishScript.Hash())
	}
	opts := testOpts(t)
	e.start(opts, nil)
	d := e.waitState("lr3", StateSent, 15*time.Second)
	if n := len(e.ch.sent()); n != 2 || d.Attempt != 2 {
		t.Fatalf("%d sends, attempt %d: want 2 and 2", n, d.Attempt)
	}
}

// The scripts, replayed by hand: every state change answers a re-run as its first run did.
func TestClaimAndFinishAreIdempotentByToken(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	e.publish("idem")
	w := NewWorker(e.broker, map[channels.Name]Route{"tg": e.route}, testOpts(t))
	claimOnce := func(token string) []any {
		res, err := claimScript.Run(ctx, e.broker.rdb,
			[]string{ledgerKey("idem", "tg"), pendingKey, logKey, pausedKey, articleKey("idem"), unknownKey("tg")},
			1, time.Minute.Milliseconds(), token, 100, "idem:tg", 0, "tg", "test").Slice()
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	first, again := claimOnce("T1"), claimOnce("T1")
	if first[0] != "claimed" || again[0] != "claimed" || first[1] != again[1] {
		t.Fatalf("claim %v, re-run %v: want claimed twice with the same attempt", first, again)
	}
	if other := claimOnce("T2"); other[0] != "busy" {
		t.Fatalf("another claim: %v, want busy", other)
	}
	c := &claim{p: taskPayload{ArticleID: "idem", Channel: "tg", Revision: 1}, member: "idem:tg", token: "T1", attempt: 1, until: time.Now().Add(time.Minute)}
	for i := range 2 {
		if err := w.finish(c, StateSent, channels.Receipt{RemoteID: "42"}, "", false); err != nil {
			t.Fatalf("finish run %d: %v", i+1, err)
		}
	}
	log, _ := e.broker.Log(ctx, 10)
	sent := 0
	for _, l := range log {
		if l.Status == "sent" {
			sent++
		}
	}
	if sent != 1 {
		t.Fatalf("%d sent log entries after a re-run, want 1", sent)
	}
	c.token = "T2"
	if err := w.finish(c, StateFailed, channels.Receipt{}, "x", false); err == nil {
		t.Fatal("a finish under another token changed the record")
	}
}

// A slow send whose lease expired (another worker found it and parked it unknown) still commits
// its receipt: the real post is recorded as sent with its remote id, not left unknown.
// (Fails with the "late" branch of finishScript removed.)
func TestLateCommitTurnsLeaseExpiredUnknownIntoSent(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	e.publish("late")
	hook := func(d Delivery) {
		// The lease runs out now: another claim finds it expired and parks the delivery.
		if err := e.broker.rdb.HSet(ctx, ledgerKey("late", "tg"), "lease_until", 1).Err(); err != nil {
			t.Error(err)
		}
		res, err := claimScript.Run(ctx, e.broker.rdb,
			[]string{ledgerKey("late", "tg"), pendingKey, logKey, pausedKey, articleKey("late"), unknownKey("tg")},
			1, time.Minute.Milliseconds(), "other", 100, "late:tg", 0, "tg", "other").Slice()
		if err != nil || res[0] != "expired" {
			t.Errorf("expiring the lease: %v %v", res, err)
		}
	}
	e.start(testOpts(t), hook)
	d := e.waitState("late", StateSent, 10*time.Second)
	if d.RemoteID == "" || n(e) != 1 {
		t.Fatalf("record %+v after %d sends", d, n(e))
	}
	if m, _ := e.broker.rdb.SIsMember(ctx, unknownKey("tg"), "late:tg").Result(); m {
		t.Fatal("still indexed as unknown")
	}
	log, _ := e.broker.Log(ctx, 1)
	if !strings.Contains(log[0].Error, "late commit") {
		t.Fatalf("log %+v", log)
	}
}

func n(e *env) int { return len(e.ch.sent()) }

// An admin retry whose enqueue never happened (the process died after the ledger moved to
// pending) is picked up by the sweeper under a task id never used before; the finished task of
// the first try, which asynq keeps for a day, does not block it. (Fails with the generation
// removed from the task id.)
func TestInterruptedRetryIsNotStuckBehindTheOldTaskID(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	e.ch.script(fail(channels.Permanent(errors.New("Bad Request: chat not found"))))
	e.publish("rq")
	e.start(testOpts(t), nil)
	e.waitState("rq", StateFailed, 10*time.Second)
	e.waitIdle()
	// The retry's ledger step only, as if the process died before enqueueing.
	res, err := requeueScript.Run(ctx, e.broker.rdb, []string{ledgerKey("rq", "tg"), pendingKey, logKey, unknownKey("tg")},
		"retry", nowMS(time.Now().Add(-time.Minute)), 100, "rq:tg", "tok", "").Slice()
	if err != nil || res[0] != "ok" {
		t.Fatalf("requeue script: %v %v", res, err)
	}
	// A re-run of the same request answers ok again and does not bump the generation twice.
	res2, _ := requeueScript.Run(ctx, e.broker.rdb, []string{ledgerKey("rq", "tg"), pendingKey, logKey, unknownKey("tg")},
		"retry", nowMS(time.Now()), 100, "rq:tg", "tok", "").Slice()
	if res2[0] != "ok" || toInt64(res2[3]) != toInt64(res[3]) {
		t.Fatalf("re-run %v after %v", res2, res)
	}
	d := e.waitState("rq", StateSent, 10*time.Second)
	if d.TaskID() != "rq:tg:1.1" {
		t.Fatalf("task id %s", d.TaskID())
	}
}

// A task that comes again after its delivery was committed sent (asynq redelivers after a crash
// between the commit and the acknowledgement) is acknowledged without posting.
func TestTaskRedeliveredAfterSentIsNotPostedAgain(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	var outs outcomes
	opts := testOpts(t)
	opts.OnOutcome = outs.add
	e.publish("again")
	e.start(opts, nil)
	e.waitState("again", StateSent, 10*time.Second)
	// The same revision under another task id, as a redelivery would bring it.
	if err := e.broker.enqueue(ctx, "again", "tg", 1, 7, false); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, func() bool { return len(outs.statuses("again")) == 2 })
	if got := outs.statuses("again"); got[1] != "duplicate" || n(e) != 1 {
		t.Fatalf("outcomes %v after %d sends", got, n(e))
	}
}

// The worker's own pause check: a task dequeued although the channel is paused (asynq's queue
// pause missed, or the pause came after the dequeue) is not sent, and waits.
func TestWorkerChecksThePauseItself(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	// Only herald's pause record, not asynq's queue pause.
	if err := e.broker.rdb.HSet(ctx, pausedKey, "tg", `{"channel":"tg","reason":"test"}`).Err(); err != nil {
		t.Fatal(err)
	}
	var outs outcomes
	opts := testOpts(t)
	opts.OnOutcome = outs.add
	e.publish("pz")
	e.start(opts, nil)
	waitFor(t, 10*time.Second, func() bool { return len(outs.statuses("pz")) > 0 })
	if got := outs.statuses("pz"); got[0] != "paused" || n(e) != 0 {
		t.Fatalf("outcomes %v, %d sends", got, n(e))
	}
	if d, _ := e.broker.Delivery(ctx, "pz", "tg"); d.State != StatePending || d.Attempt != 0 {
		t.Fatalf("record %+v", d)
	}
	// On a lane with one send in flight a paused delivery moves to the head of its lane (the
	// urgent queue) only while that queue is paused too: otherwise it would be dequeued at once
	// and find the pause again, round and round. (Fails with frontScript's check removed.)
	e2 := newEnv(t)
	e2.route.InFlight = 1
	if err := e2.broker.rdb.HSet(ctx, pausedKey, "tg", `{"channel":"tg","reason":"test"}`).Err(); err != nil {
		t.Fatal(err)
	}
	var outs2 outcomes
	opts2 := testOpts(t)
	opts2.OnOutcome = outs2.add
	e2.publish("pz2")
	e2.start(opts2, nil)
	waitFor(t, 10*time.Second, func() bool { return len(outs2.statuses("pz2")) > 0 })
	if d, _ := e2.broker.Delivery(ctx, "pz2", "tg"); d.Urgent || d.Gen != 0 {
		t.Fatalf("moved to the urgent queue while it is not paused: %+v", d)
	}
}

// A revoked token or a removed bot (channels.PauseError) pauses the channel, by herald, with the
// reason; the delivery goes back without using an attempt and the backlog waits.
func TestAuthErrorPausesTheChannelInsteadOfFailingTheBacklog(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	e.route.InFlight = 1
	e.ch.script(fail(channels.Auth(errors.New("401 Unauthorized"))))
	for i := range 3 {
		e.publish(fmt.Sprintf("au%d", i))
	}
	e.start(testOpts(t), nil)
	waitFor(t, 10*time.Second, func() bool {
		p, _ := e.broker.Paused(ctx)
		return len(p) == 1
	})
	p, _ := e.broker.Paused(ctx)
	if p[0].By != PausedByHerald || !strings.Contains(p[0].Reason, "401 Unauthorized") {
		t.Fatalf("pause %+v", p[0])
	}
	// The worker pauses the channel, then hands the delivery back.
	e.waitState("au0", StatePending, 10*time.Second)
	for i := range 3 {
		d, _ := e.broker.Delivery(ctx, fmt.Sprintf("au%d", i), "tg")
		if d.State != StatePending || d.Attempt != 0 {
			t.Fatalf("au%d: %+v, want pending with no attempt used", i, d)
		}
	}
	if n(e) != 1 {
		t.Fatalf("%d sends while paused", n(e))
	}
	if err := e.broker.Resume(ctx, "tg"); err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		e.waitState(fmt.Sprintf("au%d", i), StateSent, 20*time.Second)
	}
	// The delivery the pause stopped stayed at the head of its lane: after the resume the
	// posts go out in publish order. (Failed before: handed back to asynq, au0's retry was
	// queued behind au1 and au2.)
	var order []string
	for _, s := range e.ch.sent()[1:] {
		order = append(order, s.articleID)
	}
	if fmt.Sprint(order) != "[au0 au1 au2]" {
		t.Fatalf("posted in the order %v after the resume, want [au0 au1 au2]", order)
	}
}

// Fair between channels: a backlog on a platform that hangs holds only its own channel's
// workers; another channel's delivery goes out meanwhile. (Fails with one shared asynq server.)
func TestSlowChannelDoesNotHoldAnother(t *testing.T) {
	e := newEnv(t)
	release := make(chan struct{})
	defer close(release)
	block := func(ctx context.Context) (channels.Receipt, error) {
		select {
		case <-release:
		case <-ctx.Done():
		}
		return channels.Receipt{}, errors.New("connection refused")
	}
	for range 20 {
		e.ch.script(block)
	}
	for i := range 20 {
		e.publish(fmt.Sprintf("slow%d", i))
	}
	opts := testOpts(t)
	opts.SendTimeout = 10 * time.Second
	opts.LeaseDuration = 20 * time.Second
	e.start(opts, nil)
	waitFor(t, 5*time.Second, func() bool { return len(e.ch.sent()) >= opts.Concurrency })
	e.publishTo("fast", "tg2")
	waitFor(t, 3*time.Second, func() bool { return len(e.other.sent()) == 1 })
}

// An idle worker is woken by the publish itself, not by its next poll: with polling and the
// idle look-again both slower than the deadline, the post still goes out at once.
func TestIdlePublishWakesTheWorker(t *testing.T) {
	e := newEnv(t)
	opts := testOpts(t)
	opts.PollInterval = 10 * time.Second
	opts.IdleWake = 30 * time.Second
	e.start(opts, nil)
	// Let every worker park on its bell.
	waitFor(t, 5*time.Second, func() bool {
		st, err := e.broker.insp.GetQueueInfo(bellQueue("tg"))
		return err == nil && st.Active == opts.Concurrency
	})
	for i := range 3 {
		start := time.Now()
		e.publish(fmt.Sprintf("wake%d", i))
		e.waitState(fmt.Sprintf("wake%d", i), StateSent, 2*time.Second)
		t.Logf("publish → sent in %s", time.Since(start))
	}
}

// Urgent deliveries go first within their channel, strictly: with a backlog waiting, every
// urgent one goes out before any normal one. (Fails most of the time with StrictPriority off:
// each dequeue would pick the normal queue with probability 1/3.)
func TestUrgentFirstStrictly(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	if err := e.broker.Pause(ctx, "tg", "build a backlog"); err != nil {
		t.Fatal(err)
	}
	for i := range 5 {
		e.publish(fmt.Sprintf("norm%d", i))
	}
	for i := range 8 {
		a := &article.Article{ID: fmt.Sprintf("urg%d", i), URL: fmt.Sprintf("https://example.com/u/%d", i), Title: "عاجل", Priority: 9}
		a.Normalize()
		if _, err := e.broker.Publish(ctx, a, []Target{{Name: "tg", Kind: channels.KindTelegram}}); err != nil {
			t.Fatal(err)
		}
	}
	e.route.InFlight = 1
	e.start(testOpts(t), nil)
	if err := e.broker.Resume(ctx, "tg"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 15*time.Second, func() bool { return n(e) == 13 })
	for i, s := range e.ch.sent() {
		want := fmt.Sprintf("urg%d", i)
		if i >= 8 {
			want = fmt.Sprintf("norm%d", i-8)
		}
		if s.articleID != want {
			t.Fatalf("send %d was %s, want %s", i, s.articleID, want)
		}
	}
}

// Channels that share a rate group (one bot token) share its limit: two channels at 20/s each
// but in a group of 10/s never send faster than 10/s together.
func TestRateGroupIsSharedAcrossChannels(t *testing.T) {
	e := newEnv(t)
	e.route.Group, e.route.GroupLimit = "bot-1", Limit{Count: 10, Period: time.Second}
	e.route.Limit = Limit{Count: 20, Period: time.Second}
	other := Route{Channel: e.other, Renderer: e.route.Renderer, Limit: e.route.Limit, Group: "bot-1", GroupLimit: e.route.GroupLimit}
	w := NewWorker(e.broker, map[channels.Name]Route{"tg": e.route, "tg2": other}, testOpts(t))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx) }()
	defer func() { cancel(); <-done }()
	for i := range 4 {
		e.publishTo(fmt.Sprintf("g%d", i), "tg")
		e.publishTo(fmt.Sprintf("h%d", i), "tg2")
	}
	waitFor(t, 10*time.Second, func() bool { return len(e.ch.sent())+len(e.other.sent()) == 8 })
	var at []time.Time
	for _, s := range append(e.ch.sent(), e.other.sent()...) {
		at = append(at, s.at)
	}
	first, last := at[0], at[0]
	for _, x := range at {
		if x.Before(first) {
			first = x
		}
		if x.After(last) {
			last = x
		}
	}
	if span := last.Sub(first); span < 7*100*time.Millisecond {
		t.Fatalf("8 sends in %s with a shared 10/s", span)
	}
}

// RetryUnknown sends every unknown delivery of one channel again, and only those: a sent or
// failed one, or another channel's unknown, is left alone.
func TestRetryUnknownRetriesEveryUnknownOfTheChannel(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	for range 3 {
		e.ch.script(fail(channels.UnknownOutcome(errors.New("read timeout"))))
	}
	e.ch.script(fail(channels.Permanent(errors.New("Bad Request: chat not found"))))
	e.route.InFlight = 1
	for i := range 4 {
		e.publish(fmt.Sprintf("u%d", i))
	}
	e.publish("ok")
	e.start(testOpts(t), nil)
	for i := range 3 {
		e.waitState(fmt.Sprintf("u%d", i), StateUnknown, 10*time.Second)
	}
	e.waitState("u3", StateFailed, 10*time.Second)
	e.waitState("ok", StateSent, 10*time.Second)
	got, err := e.broker.RetryUnknown(ctx, "tg", "admin")
	if err != nil || got != 3 {
		t.Fatalf("RetryUnknown = %d, %v; want 3", got, err)
	}
	for i := range 3 {
		d := e.waitState(fmt.Sprintf("u%d", i), StateSent, 10*time.Second)
		if d.Gen != 1 {
			t.Fatalf("u%d: %+v", i, d)
		}
	}
	if d, _ := e.broker.Delivery(ctx, "u3", "tg"); d.State != StateFailed {
		t.Fatalf("failed delivery touched: %+v", d)
	}
	if got, err := e.broker.RetryUnknown(ctx, "tg", "admin"); err != nil || got != 0 {
		t.Fatalf("second RetryUnknown = %d, %v; want 0", got, err)
	}
	if n(e) != 8 {
		t.Fatalf("%d sends, want 5 + 3 retries", n(e))
	}
}

// A bulk retry after an outage re-sends a channel's unknown deliveries in the order they were
// published, not in the order of their ids as strings (n10 before n9), so the channel's lane
// keeps publish order. (Fails with the members sorted as strings.)
func TestRetryUnknownKeepsPublishOrder(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	ids := []string{"n9", "n10", "n11", "n8"}
	for range ids {
		e.ch.script(fail(channels.UnknownOutcome(errors.New("read timeout"))))
	}
	e.route.InFlight = 1
	for _, id := range ids {
		e.publish(id)
	}
	e.start(testOpts(t), nil)
	for _, id := range ids {
		e.waitState(id, StateUnknown, 10*time.Second)
	}
	if got, err := e.broker.RetryUnknown(ctx, "tg", "admin"); err != nil || got != len(ids) {
		t.Fatalf("RetryUnknown = %d, %v; want %d", got, err, len(ids))
	}
	for _, id := range ids {
		e.waitState(id, StateSent, 10*time.Second)
	}
	var order []string
	for _, s := range e.ch.sent()[len(ids):] {
		order = append(order, s.articleID)
	}
	if fmt.Sprint(order) != fmt.Sprint(ids) {
		t.Fatalf("retried in the order %v, want the publish order %v", order, ids)
	}
}

// The shutdown budget is one ShutdownTimeout for the whole worker, whatever the number of
// channels: their servers stop together. (With the servers stopped one after the other, two
// hung sends take two timeouts.)
func TestShutdownOfEveryChannelTakesOneTimeout(t *testing.T) {
	e := newEnv(t)
	hang := func(ctx context.Context) (channels.Receipt, error) {
		<-ctx.Done()
		return channels.Receipt{}, ctx.Err()
	}
	e.ch.script(hang)
	e.other.script(hang)
	opts := testOpts(t)
	opts.SendTimeout, opts.LeaseDuration, opts.ShutdownTimeout = 20*time.Second, 30*time.Second, time.Second
	stop := e.start(opts, nil)
	e.publish("sd1")
	e.publishTo("sd2", "tg2")
	waitFor(t, 5*time.Second, func() bool { return n(e) == 1 && len(e.other.sent()) == 1 })
	start := time.Now()
	stop()
	if took := time.Since(start); took > 1800*time.Millisecond {
		t.Fatalf("stopping took %s with a 1s shutdown timeout", took)
	}
}

// The idle check looks at queue lengths first and at the pause flags only when a queue has
// work: work waiting on a paused channel wakes nobody (the resume does), work on a running one
// wakes the channel's parked workers.
func TestIdleCheckSeesWorkButNotPausedWork(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	w := NewWorker(e.broker, map[channels.Name]Route{"tg": e.route}, testOpts(t))
	if w.hasWork(ctx, "tg") {
		t.Fatal("an empty channel has work")
	}
	if err := e.broker.Pause(ctx, "tg", "test"); err != nil {
		t.Fatal(err)
	}
	e.publish("idle1")
	if w.hasWork(ctx, "tg") {
		t.Fatal("work on a paused channel woke its workers")
	}
	if len(w.wake["tg"]) != 0 {
		t.Fatal("a wake-up token was handed out")
	}
	if err := e.broker.Resume(ctx, "tg"); err != nil {
		t.Fatal(err)
	}
	if !w.hasWork(ctx, "tg") {
		t.Fatal("a pending delivery was not seen")
	}
	if len(w.wake["tg"]) != cap(w.wake["tg"]) {
		t.Fatalf("%d of %d parked workers woken", len(w.wake["tg"]), cap(w.wake["tg"]))
	}
}

// A resume wakes every parked worker of the channel, not one: a parked worker holds one of the
// channel's in-flight slots, so with one wake-up the paused backlog went out one at a time until
// the next idle check. (Fails with Resume's wake-all turned back into a single wake-up.)
func TestResumeWakesEveryParkedWorker(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	if err := e.broker.Pause(ctx, "tg", "test"); err != nil {
		t.Fatal(err)
	}
	const inFlight = 4
	var mu sync.Mutex
	busy, most := 0, 0
	release := make(chan struct{})
	for range 2 * inFlight {
		e.ch.script(func(ctx context.Context) (channels.Receipt, error) {
			mu.Lock()
			busy++
			most = max(most, busy)
			mu.Unlock()
			select {
			case <-release:
			case <-ctx.Done():
			}
			mu.Lock()
			busy--
			mu.Unlock()
			return channels.Receipt{RemoteID: "r"}, nil
		})
	}
	for i := range 2 * inFlight {
		e.publish(fmt.Sprintf("rw%d", i))
	}
	opts := testOpts(t)
	opts.Concurrency = inFlight
	opts.IdleWake = time.Minute // the idle check must not be what wakes them
	w := NewWorker(e.broker, map[channels.Name]Route{"tg": e.route}, opts)
	wctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- w.Run(wctx) }()
	defer func() { close(release); cancel(); <-done }()
	// Every worker is parked once all the channel's bells are active.
	waitFor(t, 10*time.Second, func() bool {
		n, err := e.broker.rdb.LLen(ctx, "asynq:{"+bellQueue("tg")+"}:active").Result()
		return err == nil && n == inFlight
	})
	if err := e.broker.Resume(ctx, "tg"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, func() bool { mu.Lock(); defer mu.Unlock(); return most == inFlight })
}

// The sweeper looks at a waiting delivery when its age crosses sweepMinAge (and again only at
// 10×, 100×, 1000× that), not at every sweep: a long paced backlog costs it O(log wait) Redis
// work per delivery. An orphan whose age crosses the first mark is still found and sent.
// (Fails when every sweep looks at every delivery older than sweepMinAge.)
func TestSweeperLooksAtEachWaitingDeliveryOnce(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	if err := e.broker.Pause(ctx, "tg", "test"); err != nil {
		t.Fatal(err)
	}
	const waiting = 5
	for i := range waiting {
		e.publish(fmt.Sprintf("sw%d", i))
	}
	e.publishTo("orphan", "tg2")
	if err := e.broker.insp.DeleteTask(asynqQueue("tg2", false), "orphan:tg2:1"); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	looked, ticks := 0, 0
	opts := testOpts(t)
	opts.SweepInterval = 50 * time.Millisecond
	other := Route{Channel: e.other, Renderer: e.route.Renderer}
	w := NewWorker(e.broker, map[channels.Name]Route{"tg": e.route, "tg2": other}, opts)
	w.sweepMinAge = 400 * time.Millisecond
	w.afterSweep = func(n int) { mu.Lock(); looked += n; ticks++; mu.Unlock() }
	wctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- w.Run(wctx) }()
	defer func() { cancel(); <-done }()
	waitFor(t, 10*time.Second, func() bool {
		d, err := e.broker.Delivery(ctx, "orphan", "tg2")
		return err == nil && d.State == StateSent
	})
	// Twenty more sweeps, within 10 × sweepMinAge of the publish: none may look again.
	mu.Lock()
	after := ticks + 20
	mu.Unlock()
	waitFor(t, 10*time.Second, func() bool { mu.Lock(); defer mu.Unlock(); return ticks >= after })
	mu.Lock()
	defer mu.Unlock()
	if looked != waiting+1 {
		t.Fatalf("the sweeper looked %d times at %d waiting deliveries and an orphan, want once each", looked, waiting)
	}
}

// A stopping worker of a channel with one sender at a time sends the delivery whose slot it
// holds when that fits in the shutdown budget, instead of handing it back: handed back, it would
// go out after the next one, which the process taking over the channel sends first. The one
// after it stays queued. (Fails with the slot always handed back on stop.)
func TestStoppingPacedWorkerKeepsItsSlot(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	e.route.Limit = Limit{Count: 1, Period: time.Second}
	for _, id := range []string{"k1", "k2", "k3"} {
		e.publish(id)
	}
	opts := testOpts(t)
	opts.ShutdownTimeout = 5 * time.Second
	stop := e.start(opts, nil)
	e.waitState("k1", StateSent, 10*time.Second)
	// k2 has taken its slot (a second after k1's) once the channel's schedule is more than one
	// interval ahead.
	waitFor(t, 10*time.Second, func() bool {
		v, err := e.broker.rdb.Get(ctx, scheduleKey("tg")).Result()
		tat, _ := strconv.ParseInt(strings.SplitN(v, ":", 2)[0], 10, 64) // "<tat>[:<token>:<slot>]"
		return err == nil && tat-time.Now().UnixMilli() > 1100
	})
	stop()
	if d, _ := e.broker.Delivery(ctx, "k2", "tg"); d.State != StateSent {
		t.Fatalf("k2 is %s after the stop, want sent", d.State)
	}
	if d, _ := e.broker.Delivery(ctx, "k3", "tg"); d.State != StatePending {
		t.Fatalf("k3 is %s after the stop, want pending", d.State)
	}
	if got := e.ch.sent(); len(got) != 2 || got[0].articleID != "k1" || got[1].articleID != "k2" {
		t.Fatalf("sends %+v, want k1 then k2", got)
	}
}

// A process whose clock is a minute behind Redis's (the clock every process shares for rates):
// a platform's retry-after is still waited for in full, by the delivery that got the 429 and by
// the next one. The not-before time is taken on the Redis clock, as the slot script reads it,
// not written as this process's time. (Fails with the absolute time of this process written:
// nb2 goes out at once, into the platform's limit.)
func TestRetryAfterIsKeptOnTheRedisClock(t *testing.T) {
	e := newEnv(t)
	now := func() time.Time { return time.Now().Add(-time.Minute) }
	e.ch.script(func(context.Context) (channels.Receipt, error) {
		return channels.Receipt{}, channels.RateLimited(errors.New("429 Too Many Requests: retry after 2"), now().Add(2*time.Second))
	})
	e.route.InFlight = 1
	e.publish("nb1")
	e.publish("nb2")
	opts := testOpts(t)
	opts.Now = now
	e.start(opts, nil)
	e.waitState("nb1", StateSent, 15*time.Second)
	e.waitState("nb2", StateSent, 15*time.Second)
	s := e.ch.sent()
	if len(s) != 3 {
		t.Fatalf("%d sends, want the 429 and two posts", len(s))
	}
	for _, x := range s[1:] {
		if gap := x.at.Sub(s[0].at); gap < 1900*time.Millisecond {
			t.Fatalf("%s sent %s after a 429 that said retry after 2 s", x.articleID, gap)
		}
	}
}

// A process whose clock is a minute behind Redis's claims a paced delivery after waiting for
// its slot: the lease it takes is on the Redis clock, so another process that finds the
// delivery while it is being sent (a task handed out again) sees it busy, not a lease that
// ran out, and does not park a live send as unknown. (Fails with the claim's lease taken on
// the process clock.)
func TestClaimLeaseIsOnTheRedisClock(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	e.route.Limit = Limit{Count: 2, Period: time.Second}
	release := make(chan struct{})
	sending := make(chan struct{})
	e.ch.script(nil, func(ctx context.Context) (channels.Receipt, error) {
		close(sending)
		<-release
		return channels.Receipt{RemoteID: "77"}, nil
	})
	e.publish("ck1")
	e.publish("ck2") // its slot is half a second after ck1's: claimed after the wait
	opts := testOpts(t)
	opts.Now = func() time.Time { return time.Now().Add(-time.Minute) }
	e.start(opts, nil)
	select {
	case <-sending:
	case <-time.After(10 * time.Second):
		t.Fatal("ck2 was not sent")
	}
	other := NewWorker(e.broker, map[channels.Name]Route{"tg": e.route}, testOpts(t))
	out := other.deliver(ctx, taskPayload{ArticleID: "ck2", Channel: "tg", Revision: 1})
	close(release)
	if out.Status != "busy" {
		t.Fatalf("another process found the delivery being sent %q (%v), want busy", out.Status, out.Err)
	}
	d := e.waitState("ck2", StateSent, 10*time.Second)
	if d.RemoteID != "77" || n(e) != 2 {
		t.Fatalf("record %+v after %d sends", d, n(e))
	}
}

// A lost reply to the slot script of a delivery whose slot lies ahead: go-redis runs the script
// again, and the re-run must answer with the slot the first run reserved, not reserve the next
// one too — which would leave a slot of the channel's rate unused and push every later post
// back by one interval. (Fails with the re-run taking a second slot.)
func TestLostSlotReplyTakesNoSecondSlot(t *testing.T) {
	e, px := newEnvVia(t)
	e.route.Limit = Limit{Count: 1, Period: time.Second}
	for _, id := range []string{"sl1", "sl2", "sl3"} {
		e.publish(id)
	}
	// The slot script of sl2 (its slot is one interval after sl1's), by its SHA and first key.
	px.DropNext(slotScript.Hash() + "\r\n$1\r\n9\r\n$" + fmt.Sprint(len(ledgerKey("sl2", "tg"))) + "\r\n" + ledgerKey("sl2", "tg"))
	e.start(testOpts(t), nil)
	e.waitState("sl3", StateSent, 15*time.Second)
	if px.Dropped() != 1 {
		t.Fatalf("%d replies dropped, want 1", px.Dropped())
	}
	s := e.ch.sent()
	if len(s) != 3 || s[0].articleID != "sl1" || s[1].articleID != "sl2" || s[2].articleID != "sl3" {
		t.Fatalf("sends %+v, want sl1, sl2, sl3 once each", s)
	}
	// Two intervals (2 × 1.02 s) from sl1 to sl3; a wasted slot makes it three.
	if gap := s[2].at.Sub(s[0].at); gap > 2550*time.Millisecond {
		t.Fatalf("sl3 went out %s after sl1: a slot was lost to the re-run", gap)
	}
}

// A pause (an auth failure's, by herald) and a resume (an admin's) at the same time: whichever
// wins, the pause record that herald channels shows and asynq's pause of the channel's queues
// agree. Two separate steps each let a resume land between a pause's record and its queue
// pause: the channel then shows not paused while its queues stay paused, and its backlog waits
// forever. (Fails, within a few rounds, with the record and the queues changed in separate
// steps.)
func TestPauseAndResumeAtOnceAgree(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	e.publish("pr")
	qs := []string{"asynq:{" + asynqQueue("tg", true) + "}:paused", "asynq:{" + asynqQueue("tg", false) + "}:paused"}
	for round := range 200 {
		var wg sync.WaitGroup
		wg.Add(2)
		go func() { defer wg.Done(); _ = e.broker.PauseBy(ctx, "tg", "auth: 401 Unauthorized", PausedByHerald) }()
		go func() { defer wg.Done(); _ = e.broker.Resume(ctx, "tg") }()
		wg.Wait()
		rec, err := e.broker.rdb.HExists(ctx, pausedKey, "tg").Result()
		if err != nil {
			t.Fatal(err)
		}
		n, err := e.broker.rdb.Exists(ctx, qs...).Result()
		if err != nil {
			t.Fatal(err)
		}
		if rec && n != 2 || !rec && n != 0 {
			t.Fatalf("round %d: pause record %v, %d of 2 queues paused", round, rec, n)
		}
		if err := e.broker.Resume(ctx, "tg"); err != nil {
			t.Fatal(err)
		}
	}
}

// A platform's 429 on a paced lane does not reorder it: the delivery that got it takes the
// lane's next slot (at the retry-after time) and goes out before the ones published after it,
// which a retry through asynq would put it behind (its retry is queued after them). (Fails
// with the 429 always handed back to asynq: sl-b and sl-c go out first.)
func TestRateLimitKeepsPublishOrder(t *testing.T) {
	e := newEnv(t)
	e.route.Limit = Limit{Count: 20, Period: time.Second}
	e.ch.script(func(context.Context) (channels.Receipt, error) {
		return channels.Receipt{}, channels.RateLimited(errors.New("429 Too Many Requests: retry after 1"), time.Now().Add(time.Second))
	})
	ids := []string{"ro-a", "ro-b", "ro-c"}
	for _, id := range ids {
		e.publish(id)
	}
	var outs outcomes
	opts := testOpts(t)
	opts.OnOutcome = outs.add
	e.start(opts, nil)
	for _, id := range ids {
		e.waitState(id, StateSent, 15*time.Second)
	}
	var order []string
	for _, s := range e.ch.sent()[1:] {
		order = append(order, s.articleID)
	}
	if fmt.Sprint(order) != fmt.Sprint(ids) {
		t.Fatalf("posted in the order %v after the 429, want %v", order, ids)
	}
	if d, _ := e.broker.Delivery(context.Background(), "ro-a", "tg"); d.Attempt != 1 {
		t.Fatalf("ro-a: attempt %d, want 1 (a 429 uses none)", d.Attempt)
	}
	if got := outs.statuses("ro-a"); fmt.Sprint(got) != "[rate_limited sent]" {
		t.Fatalf("ro-a outcomes %v, want one line for the 429 and one for the post", got)
	}
}

// A worker stopping just as the slot script claimed a paced delivery whose slot is now sends it
// (the send fits in the shutdown budget, as for a slot it waited for): handed back, it would go
// out after the next delivery, which the process taking over the lane sends first. An unlimited
// channel's claim is handed back as before. (Fails with every claim handed back on stop.)
func TestStoppingPacedWorkerSendsWhatItJustClaimed(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	e.publish("sc1")
	e.publishTo("sc2", "tg2")
	paced := e.route
	paced.Limit = Limit{Count: 1, Period: time.Second}
	other := Route{Channel: e.other, Renderer: e.route.Renderer}
	w := NewWorker(e.broker, map[channels.Name]Route{"tg": paced, "tg2": other}, testOpts(t))
	close(w.stopping) // the stop arrives while the slot script's answer is on its way
	if out := w.deliver(ctx, taskPayload{ArticleID: "sc1", Channel: "tg", Revision: 1}); out.Status != "sent" {
		t.Fatalf("paced delivery claimed on stop: %q (%v), want sent", out.Status, out.Err)
	}
	if out := w.deliver(ctx, taskPayload{ArticleID: "sc2", Channel: "tg2", Revision: 1}); out.Status != "handback" {
		t.Fatalf("unlimited delivery claimed on stop: %q (%v), want handback", out.Status, out.Err)
	}
	if d, _ := e.broker.Delivery(ctx, "sc2", "tg2"); d.State != StatePending || d.Attempt != 0 {
		t.Fatalf("handed-back record %+v, want pending with no attempt used", d)
	}
}

// A delivery claimed after waiting for its slot takes the Redis time from the slot (slotScript's
// answer plus the wait on the monotonic clock) rather than a TIME call of its own: one TIME per
// paced delivery, the slot script's. TestClaimLeaseIsOnTheRedisClock checks that such a lease is
// still on the Redis clock. (Fails with claimScript reading TIME again: 3 calls for 2 deliveries.)
func TestClaimAfterSlotWaitReadsNoTime(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	e.route.Limit = Limit{Count: 4, Period: time.Second}
	e.publish("tm1")
	e.publish("tm2") // its slot is a quarter second after tm1's: claimed after the wait
	if err := e.broker.rdb.ConfigResetStat(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	e.start(testOpts(t), nil)
	e.waitState("tm1", StateSent, 10*time.Second)
	e.waitState("tm2", StateSent, 10*time.Second)
	stats := e.broker.rdb.Info(ctx, "commandstats").Val()
	calls := -1
	for line := range strings.SplitSeq(stats, "\n") {
		if rest, ok := strings.CutPrefix(strings.TrimSpace(line), "cmdstat_time:calls="); ok {
			calls, _ = strconv.Atoi(strings.SplitN(rest, ",", 2)[0])
		}
	}
	if calls != 2 {
		t.Fatalf("%d TIME calls for two paced deliveries, want 2 (one per slot script)", calls)
	}
}

// Claim tokens are 8 characters of base64url (48 random bits): never a ':' (the schedule key
// separates "<tat>:<token>:<slot>" with it), and distinct across many draws.
func TestRandomTokenIsShortAndDistinct(t *testing.T) {
	seen := map[string]bool{}
	for range 10000 {
		tok := randomToken()
		if len(tok) != 8 || strings.ContainsAny(tok, ":{} ,") {
			t.Fatalf("token %q: want 8 characters without ':' or separators", tok)
		}
		if seen[tok] {
			t.Fatalf("token %q drawn twice in 10,000", tok)
		}
		seen[tok] = true
	}
}

// TestOutcomeKeepsThePlatformsErrorApartFromHerald: an outcome says what the platform answered
// (PlatformErr) apart from herald's own error (Err), so metrics count a platform error only for
// the platform's failure: a post the platform accepted whose commit to Redis then failed has
// Err set and no platform error; a platform failure has both.
func TestOutcomeKeepsThePlatformsErrorApartFromHerald(t *testing.T) {
	e := newEnv(t)
	outs := &outcomes{}
	opts := testOpts(t)
	opts.OnOutcome = outs.add
	e.ch.script(fail(channels.Permanent(errors.New("telegram: 400 Bad Request: chat not found here"))))
	e.publish("pe1")
	var once sync.Once
	e.start(opts, func(d Delivery) {
		if d.ArticleID != "pe2" {
			return
		}
		// Another claim takes the record over between the platform's answer and the commit:
		// the commit is refused ("lease lost"), herald's error, not the platform's.
		once.Do(func() {
			e.broker.rdb.HSet(context.Background(), ledgerKey("pe2", "tg"), "token", "someone-else")
		})
	})
	e.waitState("pe1", StateFailed, 10*time.Second)
	e.publish("pe2")
	find := func(id string, pred func(Outcome) bool) (Outcome, bool) {
		outs.mu.Lock()
		defer outs.mu.Unlock()
		for _, o := range outs.all {
			if o.ArticleID == id && pred(o) {
				return o, true
			}
		}
		return Outcome{}, false
	}
	deadline := time.Now().Add(10 * time.Second)
	var committed Outcome
	for {
		var ok bool
		if committed, ok = find("pe2", func(o Outcome) bool { return o.Took > 0 }); ok {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no outcome of the send whose commit failed")
		}
		time.Sleep(20 * time.Millisecond) // polling a condition, bounded by the deadline
	}
	if committed.Err == nil || committed.PlatformErr != nil {
		t.Fatalf("accepted post, refused commit: Err %v, PlatformErr %v; want herald's error only", committed.Err, committed.PlatformErr)
	}
	failed, _ := find("pe1", func(o Outcome) bool { return o.Status == "failed" })
	if failed.PlatformErr == nil || !channels.IsPermanent(failed.PlatformErr) {
		t.Fatalf("platform refusal: PlatformErr %v, want the platform's permanent error", failed.PlatformErr)
	}
}
