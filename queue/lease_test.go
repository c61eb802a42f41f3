package queue

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"herald/channels"
	"herald/internal/redistest"
)

// platform records posts in the order it accepted them, as a platform numbers its messages:
// when a request is done, not when it was sent. Each worker has its own poster on it, so the
// test can tell who posted what.
type platform struct {
	jitter time.Duration // each request takes a random 0..jitter (network and platform latency)
	block  chan struct{} // if set, requests wait for it to close
	mu     sync.Mutex
	posts  []post
	open   int // requests in progress
}

type post struct {
	article, by string
	at          time.Time
}

type poster struct {
	name channels.Name
	by   string
	p    *platform
}

func (c *poster) Name() channels.Name { return c.name }
func (c *poster) Kind() channels.Kind { return channels.KindTelegram }

func (c *poster) Send(ctx context.Context, m channels.Message) (channels.Receipt, error) {
	c.p.mu.Lock()
	c.p.open++
	c.p.mu.Unlock()
	defer func() { c.p.mu.Lock(); c.p.open--; c.p.mu.Unlock() }()
	if c.p.block != nil {
		select {
		case <-c.p.block:
		case <-ctx.Done():
			return channels.Receipt{}, ctx.Err()
		}
	}
	if c.p.jitter > 0 {
		t := time.NewTimer(rand.N(c.p.jitter + 1)) // the request's latency
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return channels.Receipt{}, ctx.Err()
		}
	}
	c.p.mu.Lock()
	defer c.p.mu.Unlock()
	c.p.posts = append(c.p.posts, post{article: m.ArticleID, by: c.by, at: time.Now()})
	return channels.Receipt{RemoteID: fmt.Sprint(len(c.p.posts))}, nil
}

func (p *platform) all() []post {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]post(nil), p.posts...)
}

func (p *platform) inProgress() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.open
}

// by counts the posts of one worker.
func (p *platform) by(who string) int {
	n := 0
	for _, x := range p.all() {
		if x.by == who {
			n++
		}
	}
	return n
}

// checkOnce fails unless every article in want was posted exactly once.
func (p *platform) checkOnce(t *testing.T, want []string) {
	t.Helper()
	seen := map[string]int{}
	for _, x := range p.all() {
		seen[x.article]++
	}
	for _, id := range want {
		if seen[id] != 1 {
			t.Errorf("%s posted %d times, want 1", id, seen[id])
		}
	}
	if len(seen) != len(want) {
		t.Errorf("%d articles posted, want %d", len(seen), len(want))
	}
}

// inversions counts pairs of posts out of publish order (want is the publish order).
func (p *platform) inversions(want []string) int {
	rank := map[string]int{}
	for i, id := range want {
		rank[id] = i
	}
	posts, n := p.all(), 0
	for i := range posts {
		for j := i + 1; j < len(posts); j++ {
			if rank[posts[i].article] > rank[posts[j].article] {
				n++
			}
		}
	}
	return n
}

// runWorker runs a worker with one route, "tg", posting to p as who (also its Owner), until the
// returned stop is called or the test ends.
func (e *env) runWorker(b *Broker, who string, p *platform, r Route, opts WorkerOptions) (stop func()) {
	r.Channel = &poster{name: "tg", by: who, p: p}
	opts.Owner = who
	w := NewWorker(b, map[channels.Name]Route{"tg": r}, opts)
	w.sweepMinAge = 0
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				e.t.Errorf("worker %s: %v", who, err)
			}
		})
	}
	e.t.Cleanup(stop)
	return stop
}

func (e *env) waitSender(owner string, within time.Duration) {
	e.t.Helper()
	waitFor(e.t, within, func() bool {
		l, err := e.broker.Sender(context.Background(), "tg")
		return err == nil && l.Owner == owner
	})
}

// leaseOpts are testOpts with a short sender lease (renewed every second, a stand-by tries
// every 500 ms), so the tests see handovers within seconds; not shorter, so a loaded machine's
// pauses do not cost a holder its lease.
func leaseOpts(t *testing.T) WorkerOptions {
	o := testOpts(t)
	o.SenderLease = 3 * time.Second
	return o
}

// Two processes on one paced channel post it in publish order: only the sender lease's holder
// runs the channel. Without the lease both run it, each with one worker: their sends overlap,
// and with latency that varies per request (here up to two slot intervals) a later article is
// accepted before an earlier one, or the second process reserves its slot first. (Fails
// without the lease: 10 of 10 runs, with 15 to 60 inversions among 60 posts.)
func TestTwoWorkersPostAPacedChannelInPublishOrder(t *testing.T) {
	e := newEnv(t)
	p := &platform{jitter: 100 * time.Millisecond}
	r := e.route
	r.Limit = Limit{Count: 20, Period: time.Second}
	opts := leaseOpts(t)
	opts.SenderLease = defaultSenderLease // no handover is wanted here
	e.runWorker(e.broker, "A", p, r, opts)
	e.runWorker(e.broker, "B", p, r, opts)
	const n = 60
	var want []string
	for i := range n {
		id := fmt.Sprintf("o%02d", i)
		want = append(want, id)
		e.publish(id)
	}
	waitFor(t, 20*time.Second, func() bool { return len(p.all()) >= n })
	e.waitIdle()
	p.checkOnce(t, want)
	if inv := p.inversions(want); inv != 0 {
		t.Fatalf("%d pairs posted out of publish order (A posted %d, B %d)", inv, p.by("A"), p.by("B"))
	}
	if p.by("A") != n && p.by("B") != n {
		t.Fatalf("A posted %d and B %d: one process should have sent them all", p.by("A"), p.by("B"))
	}
}

// Channels with a larger in-flight cap are not leased: every process runs them, each up to its
// cap. (Fails if every channel were leased: only one process's 4 sends would be in progress.)
func TestUnlimitedChannelRunsInEveryProcess(t *testing.T) {
	e := newEnv(t)
	p := &platform{block: make(chan struct{})}
	e.runWorker(e.broker, "A", p, e.route, leaseOpts(t))
	e.runWorker(e.broker, "B", p, e.route, leaseOpts(t))
	var want []string
	for i := range 8 {
		want = append(want, fmt.Sprintf("u%d", i))
		e.publish(want[i])
	}
	waitFor(t, 10*time.Second, func() bool { return p.inProgress() == 8 })
	close(p.block)
	waitFor(t, 10*time.Second, func() bool { return len(p.all()) == 8 })
	p.checkOnce(t, want)
	if p.by("A") != 4 || p.by("B") != 4 {
		t.Fatalf("A posted %d, B %d: want 4 each", p.by("A"), p.by("B"))
	}
	if l, _ := e.broker.Sender(context.Background(), "tg"); l.Owner != "" {
		t.Fatalf("an unleased channel has a sender lease: %+v", l)
	}
}

// An orderly stop releases the lease: the stand-by takes over at its next try (not after the
// TTL) and delivers the rest; nothing is posted twice.
func TestSenderHandsOverOnStop(t *testing.T) {
	e := newEnv(t)
	p := &platform{}
	r := e.route
	r.Limit = Limit{Count: 20, Period: time.Second}
	opts := leaseOpts(t)
	opts.SenderLease = 30 * time.Second // a handover within seconds can only be the release
	stopA := e.runWorker(e.broker, "A", p, r, opts)
	e.waitSender("A", 5*time.Second)
	e.runWorker(e.broker, "B", p, r, opts)
	const n = 40
	var want []string
	for i := range n {
		want = append(want, fmt.Sprintf("h%02d", i))
		e.publish(want[i])
	}
	waitFor(t, 10*time.Second, func() bool { return p.by("A") >= 5 })
	stopA()
	stopped := p.by("A")
	e.waitSender("B", 3*time.Second)
	waitFor(t, 15*time.Second, func() bool { return len(p.all()) >= n })
	e.waitIdle()
	p.checkOnce(t, want)
	if p.by("A") != stopped || p.by("B") == 0 {
		t.Fatalf("A posted %d (%d when it stopped), B %d", p.by("A"), stopped, p.by("B"))
	}
}

// A lease key that disappears (an operator deleted it; or it expired) is lost for its holder:
// its next renewal finds no key and it stops at once; the stand-by takes the channel and
// delivers the rest; nothing is posted twice.
func TestSenderHandsOverWhenTheLeaseIsGone(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	p := &platform{}
	r := e.route
	r.Limit = Limit{Count: 20, Period: time.Second}
	core, logs := observer.New(zap.InfoLevel)
	optsA := leaseOpts(t)
	optsA.Logger = zap.New(zapcore.NewTee(optsA.Logger.Core(), core))
	e.runWorker(e.broker, "A", p, r, optsA)
	e.waitSender("A", 5*time.Second)
	e.runWorker(e.broker, "B", p, r, leaseOpts(t))
	const n = 40
	var want []string
	for i := range n {
		want = append(want, fmt.Sprintf("g%02d", i))
		e.publish(want[i])
	}
	waitFor(t, 10*time.Second, func() bool { return p.by("A") >= 5 })
	if err := e.broker.rdb.Del(ctx, senderKey("tg")).Err(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 5*time.Second, func() bool { return logs.FilterMessageSnippet("sender lease lost").Len() >= 1 })
	e.waitSender("B", 5*time.Second)
	waitFor(t, 15*time.Second, func() bool { return len(p.all()) >= n })
	e.waitIdle()
	p.checkOnce(t, want)
	if p.by("B") == 0 {
		t.Fatalf("B posted nothing after A lost the lease (A posted %d)", p.by("A"))
	}
}

// A holder cut off from Redis (a partition, or a process too stalled to renew) stops taking
// deliveries before its lease can expire, and the stand-by takes the channel once it has.
func TestPartitionedSenderStandsDownBeforeItsLeaseExpires(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	srvAddr := e.broker.rdb.(*redis.Client).Options().Addr
	px := redistest.StartProxy(t, srvAddr)
	rdbA := redis.NewClient(&redis.Options{Addr: px.Addr()})
	t.Cleanup(func() { _ = rdbA.Close() })
	p := &platform{}
	r := e.route
	r.Limit = Limit{Count: 20, Period: time.Second}
	core, logs := observer.New(zap.InfoLevel)
	optsA := leaseOpts(t)
	optsA.Logger = zap.New(zapcore.NewTee(optsA.Logger.Core(), core))
	e.runWorker(NewBroker(rdbA, Options{}), "A", p, r, optsA)
	e.waitSender("A", 5*time.Second)
	e.runWorker(e.broker, "B", p, r, leaseOpts(t))
	_ = px.Close()
	cut := time.Now()
	waitFor(t, 5*time.Second, func() bool { return logs.FilterMessageSnippet("sender lease lost").Len() >= 1 })
	lost := logs.FilterMessageSnippet("sender lease lost").All()[0].Time
	// The last renewal A sent was before the cut, so its lease lasts until at least then + TTL;
	// it must have decided to stand down a margin before that. (Its worker's stop then waits
	// for a dequeue in flight, which cannot reach Redis.)
	if lost.After(cut.Add(optsA.SenderLease)) {
		t.Fatalf("A stood down %s after the cut, lease %s", lost.Sub(cut), optsA.SenderLease)
	}
	e.waitSender("B", 5*time.Second)
	var want []string
	for i := range 5 {
		want = append(want, fmt.Sprintf("pt%d", i))
		e.publish(want[i])
	}
	waitFor(t, 10*time.Second, func() bool { return len(p.all()) == 5 })
	p.checkOnce(t, want)
	if p.by("B") != 5 {
		t.Fatalf("B posted %d of 5", p.by("B"))
	}
	if l, _ := e.broker.Sender(ctx, "tg"); l.Owner != "B" || l.Until.IsZero() {
		t.Fatalf("lease %+v", l)
	}
}

// A holder whose renewal fails (Redis answers, but with an error) stops taking deliveries at
// its deadline and does not start again until it holds the lease: what is published meanwhile
// waits in the queue. (Fails when renewal errors are ignored: it never stands down and keeps taking deliveries.)
func TestSenderWhoseRenewalFailsStopsDequeuing(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	p := &platform{}
	r := e.route
	r.Limit = Limit{Count: 20, Period: time.Second}
	core, logs := observer.New(zap.DebugLevel)
	opts := leaseOpts(t)
	opts.Logger = zap.New(zapcore.NewTee(opts.Logger.Core(), core))
	e.runWorker(e.broker, "A", p, r, opts)
	e.waitSender("A", 5*time.Second)
	e.publish("rf0")
	waitFor(t, 5*time.Second, func() bool { return len(p.all()) == 1 })
	// The key becomes a hash: every lease script now fails with WRONGTYPE.
	pipe := e.broker.rdb.TxPipeline()
	pipe.Del(ctx, senderKey("tg"))
	pipe.HSet(ctx, senderKey("tg"), "x", "1")
	if _, err := pipe.Exec(ctx); err != nil {
		t.Fatal(err)
	}
	broken := time.Now()
	waitFor(t, 5*time.Second, func() bool { return logs.FilterMessageSnippet("takes no more deliveries").Len() >= 1 })
	if took := logs.FilterMessageSnippet("sender lease lost").All()[0].Time.Sub(broken); took > opts.SenderLease {
		t.Fatalf("stood down %s after renewals began to fail, lease %s", took, opts.SenderLease)
	}
	if logs.FilterMessageSnippet("renewal failed").Len() == 0 {
		t.Fatal("no failed renewal logged")
	}
	for i := range 3 {
		e.publish(fmt.Sprintf("rf%d", i+1))
	}
	// For a few stand-by tries, nothing is taken from the queue.
	for end := time.Now().Add(time.Second); time.Now().Before(end); {
		st, err := e.broker.Stats("tg")
		if err != nil || st.Pending != 3 || len(p.all()) != 1 {
			t.Fatalf("stats %+v, %d posts: a worker without the lease took deliveries", st, len(p.all()))
		}
		time.Sleep(50 * time.Millisecond) // re-checking a condition until the deadline above
	}
	if err := e.broker.rdb.Del(ctx, senderKey("tg")).Err(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, func() bool { return len(p.all()) == 4 })
	p.checkOnce(t, []string{"rf0", "rf1", "rf2", "rf3"})
	if inv := p.inversions([]string{"rf0", "rf1", "rf2", "rf3"}); inv != 0 {
		t.Fatalf("%d inversions", inv)
	}
}

// The lease is visible to operators: a leased channel's sender in ChannelInfos (herald
// channels, GET /v1/channels) is its holder; an unleased channel has none.
func TestChannelInfosShowTheSender(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	r := e.route
	r.Limit = Limit{Count: 20, Period: time.Second}
	e.runWorker(e.broker, "host-1:42:cafe", &platform{}, r, leaseOpts(t))
	e.waitSender("host-1:42:cafe", 5*time.Second)
	infos, err := ChannelInfos(ctx, e.broker, []ChannelConfig{
		{Name: "tg", Kind: channels.KindTelegram, Limit: r.Limit, Leased: true},
		{Name: "tg2", Kind: channels.KindTelegram},
	})
	if err != nil {
		t.Fatal(err)
	}
	if s := infos[0].Sender; s == nil || s.Owner != "host-1:42:cafe" || s.Until.Before(time.Now()) {
		t.Fatalf("tg sender %+v", s)
	}
	if infos[1].Sender != nil {
		t.Fatalf("tg2 sender %+v", infos[1].Sender)
	}
	if !Leased(Limit{Count: 1, Period: time.Minute}, 0, 10) || Leased(Limit{}, 0, 10) || !Leased(Limit{}, 1, 10) ||
		Leased(Limit{Count: 1, Period: time.Minute}, 2, 10) || !Leased(Limit{}, 0, 1) {
		t.Fatal("Leased")
	}
}

// Handovers leave one bell in the channel's bell queue, the holder's: a lost holding's bell is
// not parked again, and a bell of an earlier holding is dropped when dequeued. (Fails with both
// removed — a lost holding's bell parked again and kept by the next holder —: one more bell per
// handover. Either alone keeps the count at one.)
func TestHandoversDoNotPileUpBells(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	r := e.route
	r.Limit = Limit{Count: 20, Period: time.Second}
	core, logs := observer.New(zap.InfoLevel)
	opts := leaseOpts(t)
	opts.Logger = zap.New(zapcore.NewTee(opts.Logger.Core(), core))
	p := &platform{}
	e.runWorker(e.broker, "A", p, r, opts)
	e.runWorker(e.broker, "B", p, r, opts)
	taken := func() int { return logs.FilterMessageSnippet("sender lease taken").Len() }
	waitFor(t, 5*time.Second, func() bool { return taken() >= 1 })
	for i := range 4 {
		if err := e.broker.rdb.Del(ctx, senderKey("tg")).Err(); err != nil {
			t.Fatal(err)
		}
		waitFor(t, 5*time.Second, func() bool { return taken() >= i+2 })
	}
	waitFor(t, 10*time.Second, func() bool {
		q, err := e.broker.insp.GetQueueInfo(bellQueue("tg"))
		return err == nil && q.Size == 1 && q.Active == 1
	})
	// The holder still answers a publish at once.
	e.publish("after")
	waitFor(t, 5*time.Second, func() bool { return len(p.all()) == 1 })
}
