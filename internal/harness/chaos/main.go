// Command chaos is `make chaos`: a fault harness. It runs three real `herald serve` processes
// on one real redis-server (AOF, appendfsync always) reached through a proxy that drops some
// replies, and fake Telegram platforms in their own process (internal/harness/fakes) that answer
// some 429s, some 502s before reading the request, and some slow answers. While 1,000 articles
// × 3 channels are published through the API, it kills a random herald process with SIGKILL
// every 2 s ten times (restarting it), kills Redis once and restarts it on its AOF, then stops
// Redis for 30 s and starts it again. When every
// delivery is final (or the time is up) it reads every delivery record and every post the fakes
// accepted and prints, last, one JSON line:
//
//	{"published":N,"deliveries":N,"delivered":N,"failed":N,"unknown":N,"lost":N,"kills":N,
//	 "in_flight_at_kills":N,"duplicates":{"<channel>":N},…}
//
// Targets: lost 0, no duplicates, unknown ≤ in_flight_at_kills; during the outage the API
// answers 503 with Retry-After, no process crashes, and posts resume within 5 s of Redis
// returning. The exit status is 1 when a target is missed. Everything is on loopback and the
// run is bounded (about 3-4 minutes, at most 9).
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"

	"herald/internal/harness/stack"
	"herald/internal/redistest"
	"herald/queue"
)

// dropper drives internal/redistest's Proxy for a chaos run: a share of every command loses
// its reply, at most max in all, and it notes when each was lost (to within 10 ms) so a trace
// can show a dropped reply next to what it caused.
type dropper struct {
	*redistest.Proxy
	rate  float64
	max   int64
	mu    sync.Mutex
	times []time.Time
	quit  chan struct{}
	done  chan struct{}
}

func newDropper(upstream string, rate float64, max int64) (*dropper, error) {
	p, err := redistest.NewProxy(upstream)
	if err != nil {
		return nil, err
	}
	d := &dropper{Proxy: p, rate: rate, max: max, quit: make(chan struct{}), done: make(chan struct{})}
	go d.watch()
	return d, nil
}

// Addr is where herald connects.
func (d *dropper) Addr() string { return d.Proxy.Addr() }

// Enable starts or stops losing replies.
func (d *dropper) Enable(on bool) {
	if on && d.Dropped() < d.max {
		d.SetDropRate(d.rate, "")
	} else {
		d.SetDropRate(0, "")
	}
}

func (d *dropper) watch() {
	defer close(d.done)
	var seen int64
	t := time.NewTicker(10 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-d.quit:
			return
		case <-t.C:
		}
		n := d.Dropped()
		d.mu.Lock()
		for ; seen < n; seen++ {
			d.times = append(d.times, time.Now())
		}
		d.mu.Unlock()
		if n >= d.max {
			d.SetDropRate(0, "")
		}
	}
}

func (d *dropper) stop() {
	close(d.quit)
	<-d.done
}

// Drops is how many replies were lost.
func (d *dropper) Drops() int64 { return d.Dropped() }

// DropTimes are when replies were lost (to within 10 ms).
func (d *dropper) DropTimes() []time.Time {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]time.Time(nil), d.times...)
}

var chans = []string{"ca", "cb", "cc"}

// defaultLease is worker.lease_duration's default (send_timeout 30 s + 30 s), which the
// harness's processes run with.
const defaultLease = 60 * time.Second

// Result is the JSON line.
type Result struct {
	Published       int `json:"published"`
	Deliveries      int `json:"deliveries"`
	Delivered       int `json:"delivered"`
	Failed          int `json:"failed"`
	Unknown         int `json:"unknown"`
	Lost            int `json:"lost"`
	Kills           int `json:"kills"`
	InFlightAtKills int `json:"in_flight_at_kills"`
	// AnsweredAtKills are sends the fakes had answered in the 50 ms before a kill: the process
	// may have died between the answer and its commit, which is unknown by design.
	AnsweredAtKills int            `json:"answered_just_before_kills"`
	Duplicates      map[string]int `json:"duplicates"`
	// Beyond the keys: what else the run saw.
	UnknownNotPosted int      `json:"unknown_not_posted"` // unknown although the fake never accepted the post
	FailedButPosted  int      `json:"failed_but_posted"`  // failed although the fake accepted the post
	SentNotPosted    int      `json:"sent_not_posted"`    // sent with no post at the fake
	RepliesDropped   int64    `json:"redis_replies_dropped"`
	Fake429          int      `json:"fake_429s"`
	Fake5xx          int      `json:"fake_5xx"`
	FakeSlow         int      `json:"fake_slow"`
	RedisRestarts    int      `json:"redis_restarts"`
	OutageSeconds    float64  `json:"outage_s"`
	Outage503        bool     `json:"outage_503"`
	OutageRetryAfter bool     `json:"outage_retry_after"`
	ResumeMS         float64  `json:"resume_ms"`
	Crashes          int      `json:"crashes"`
	Seconds          float64  `json:"seconds"`
	LoadMax          float64  `json:"load_avg_max"` // the machine's highest one-minute load average seen
	Missed           []string `json:"missed"`
}

// killed is one SIGKILL: the run of the process it ended, and when.
type killed struct {
	label string
	at    time.Time
}

type chaos struct {
	dir    string
	herald string
	redis  *stack.Redis
	rdb    *redis.Client // direct, not through the proxy
	proxy  *dropper
	fakes  *stack.Fakes
	procs  []*stack.Herald
	rng    *rand.Rand

	mu          sync.Mutex
	killing     map[*stack.Herald]bool // killed on purpose, not a crash
	starts      map[*stack.Herald]int
	kills       []killed
	published   map[int][]string // article → channels of its 202
	publishedAt map[int]time.Time
	res         Result
	notes       []string
	verbose     bool
	n           int
}

func main() {
	n := flag.Int("articles", 1000, "articles to publish (each to 3 channels)")
	seed := flag.Uint64("seed", uint64(time.Now().UnixNano()), "random seed (kills, faults)")
	keep := flag.Bool("keep", false, "keep the temporary directory (logs, configs, AOF)")
	verbose := flag.Bool("v", false, "say what is happening")
	flag.Parse()
	dir, err := os.MkdirTemp("", "herald-chaos-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "chaos:", err)
		os.Exit(2)
	}
	c := &chaos{dir: dir, rng: rand.New(rand.NewPCG(*seed, 1)), killing: map[*stack.Herald]bool{}, starts: map[*stack.Herald]int{},
		published: map[int][]string{}, publishedAt: map[int]time.Time{}, verbose: *verbose, n: *n}
	c.res.Duplicates = map[string]int{}
	start := time.Now()
	err = c.run(*seed)
	c.cleanup()
	if err != nil {
		fmt.Fprintf(os.Stderr, "chaos: %v (logs in %s)\n", err, dir)
		os.Exit(2)
	}
	c.res.Seconds = stack.Round(time.Since(start).Seconds(), 1)
	// Said before the report, so the JSON stays the last line.
	ok := c.targetsMet()
	if !*keep && ok {
		_ = os.RemoveAll(dir)
	} else {
		fmt.Fprintf(os.Stderr, "chaos: logs, configs and the AOF are in %s\n", dir)
	}
	c.report()
	if !ok {
		os.Exit(1)
	}
}

func (c *chaos) say(format string, args ...any) {
	if c.verbose {
		fmt.Fprintf(os.Stderr, "chaos %s: "+format+"\n", append([]any{time.Now().Format("15:04:05.000")}, args...)...)
	}
}

func (c *chaos) note(format string, args ...any) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.notes = append(c.notes, fmt.Sprintf(format, args...))
}

func (c *chaos) cleanup() {
	for _, p := range c.procs {
		p.Kill()
	}
	if c.fakes != nil {
		c.fakes.Stop()
	}
	if c.proxy != nil {
		c.proxy.Close()
	}
	if c.redis != nil {
		c.redis.Stop(true)
	}
}

func (c *chaos) run(seed uint64) error {
	c.say("building herald and the fakes")
	var fakesBin string
	var err error
	if c.herald, fakesBin, err = stack.Build(c.dir); err != nil {
		return err
	}
	if c.redis, err = stack.StartRedis(filepath.Join(c.dir, "redis"), true); err != nil {
		return err
	}
	c.rdb = c.redis.Client()
	// About one reply in 1,000 is dropped, at most 40 in the run.
	if c.proxy, err = newDropper(c.redis.Addr, 0.001, 40); err != nil {
		return err
	}
	beh := "p429=0.02,retry_after=1,p5xx=0.03,pslow=0.1,slow=200ms-1500ms"
	args := []string{"-seed", strconv.FormatUint(seed, 10), "-chats", "chaos_ca,chaos_cb,chaos_cc"}
	for _, ch := range chans {
		args = append(args, "-platform", ch+"="+beh)
	}
	if c.fakes, err = stack.StartFakes(fakesBin, filepath.Join(c.dir, "fakes.log"), args...); err != nil {
		return err
	}
	for i := range 3 {
		name := fmt.Sprintf("h%d", i+1)
		port, err := stack.FreePort()
		if err != nil {
			return err
		}
		addr := fmt.Sprintf("127.0.0.1:%d", port)
		h := stack.NewHerald(c.herald, name, filepath.Join(c.dir, name+".yaml"), addr, filepath.Join(c.dir, name+".log"))
		c.procs = append(c.procs, h)
		if err := c.start(h); err != nil {
			return err
		}
	}
	c.proxy.Enable(true)
	t0 := time.Now()
	hardStop := t0.Add(8*time.Minute + 30*time.Second)

	stopWatch := make(chan struct{})
	watchDone := make(chan struct{})
	go func() { defer close(watchDone); c.watch(stopWatch) }()

	// The publisher: most articles at a steady 25/s, a burst just before the outage so there
	// is work queued when Redis goes away, the rest during and after the outage.
	pubDone := make(chan struct{})
	outageAt := t0.Add(27 * time.Second)
	go func() { defer close(pubDone); c.publish(t0, outageAt, hardStop) }()

	// Kills: every 2 s from t0+3s, ten times; between the fourth and the fifth, Redis itself is
	// killed and started again on its AOF (appendfsync always: nothing acknowledged is lost).
	for k := range 10 {
		sleepUntil(t0.Add(time.Duration(3+2*k) * time.Second))
		c.kill()
		if k == 3 {
			sleepUntil(t0.Add(time.Duration(3+2*k)*time.Second + time.Second))
			c.crashRedis()
		}
	}

	sleepUntil(outageAt)
	c.outage()

	<-pubDone
	c.say("published %d; waiting for every delivery to be final", len(c.published))
	c.waitFinal(hardStop)
	c.proxy.Enable(false)
	close(stopWatch)
	c.proxy.stop()
	<-watchDone
	return c.account()
}

func sleepUntil(t time.Time) {
	if d := time.Until(t); d > 0 {
		time.Sleep(d) // the harness's own schedule
	}
}

// watch restarts a process that exited without being killed on purpose, and counts it as a
// crash.
func (c *chaos) watch(stop <-chan struct{}) {
	t := time.NewTicker(250 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
		}
		if l := stack.LoadAverage(); l > 0 {
			c.mu.Lock()
			c.res.LoadMax = max(c.res.LoadMax, l)
			c.mu.Unlock()
		}
		for _, h := range c.procs {
			c.mu.Lock()
			killing := c.killing[h]
			c.mu.Unlock()
			if killing || h.Alive() {
				continue
			}
			c.mu.Lock()
			c.res.Crashes++
			c.mu.Unlock()
			b, _ := os.ReadFile(h.Log)
			c.note("%s exited on its own (%v); last log lines: %s", h.Name, h.ExitErr(), tail(string(b), 3))
			c.restart(h)
		}
	}
}

func tail(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], " | ")
}

// kill SIGKILLs a random process, counting the sends the fakes held for it, and restarts it.
func (c *chaos) kill() {
	h := c.procs[c.rng.IntN(len(c.procs))]
	c.mu.Lock()
	c.killing[h] = true
	c.mu.Unlock()
	label := c.label(h)
	inflight, err := c.fakes.InFlight(label)
	if err != nil {
		c.note("kill: reading in-flight sends: %v", err)
	}
	at := time.Now()
	h.Kill()
	c.mu.Lock()
	c.res.Kills++
	c.kills = append(c.kills, killed{label: label, at: at})
	c.mu.Unlock()
	c.say("killed %s with %d sends in flight", label, inflight)
	c.restart(h)
	c.mu.Lock()
	c.killing[h] = false
	c.mu.Unlock()
}

// label names one run of a process ("h2.3": h2's third start) in its api_endpoint, so the fakes
// can tell which requests a killed process left behind.
func (c *chaos) label(h *stack.Herald) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return fmt.Sprintf("%s.%d", h.Name, c.starts[h])
}

// start writes the process's config for its next run and starts it.
func (c *chaos) start(h *stack.Herald) error {
	c.mu.Lock()
	c.starts[h]++
	c.mu.Unlock()
	label := c.label(h)
	var cs []stack.Channel
	for _, ch := range chans {
		cs = append(cs, stack.Channel{Name: ch, Endpoint: c.fakes.Endpoint(ch, label), Chat: "chaos_" + ch, Rate: "20/s"})
	}
	cfg := stack.Config{RedisURL: "redis://" + c.proxy.Addr() + "/0", Addr: h.Addr, Token: c.fakes.Token, Channels: cs, LogLevel: "debug"}
	if err := cfg.Write(h.Config); err != nil {
		return err
	}
	return h.Start()
}

// restart starts a killed process again; herald serve exits at start when Redis does not
// answer, so it is tried for up to 20 s.
func (c *chaos) restart(h *stack.Herald) {
	var err error
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); {
		if err = c.start(h); err == nil {
			return
		}
		time.Sleep(500 * time.Millisecond) // between start attempts, bounded by the deadline
	}
	c.note("restarting %s after a kill: %v", h.Name, err)
}

// crashRedis kills Redis with SIGKILL and starts it again at once on its AOF.
func (c *chaos) crashRedis() {
	c.say("killing Redis and starting it again")
	c.redis.Stop(false)
	t := time.Now()
	if err := c.redis.Start(); err != nil {
		c.note("restarting Redis after a kill: %v", err)
		return
	}
	c.res.RedisRestarts++
	c.say("Redis restarted in %s", time.Since(t).Round(time.Millisecond))
}

// outage stops Redis for 30 s: the API must answer 503 with Retry-After and no process may
// exit; after Redis returns, posts must resume within 5 s.
func (c *chaos) outage() {
	c.say("stopping Redis for 30 s")
	c.redis.Stop(true)
	down := time.Now()
	probed := false
	for time.Since(down) < 30*time.Second {
		if !probed && time.Since(down) > 3*time.Second {
			probed = true
			for _, h := range c.procs {
				code, hdr, _, err := h.Publish(context.Background(), articleJSON(-1))
				if err != nil {
					c.note("outage: publishing to %s: %v", h.Name, err)
					continue
				}
				if code == http.StatusServiceUnavailable {
					c.res.Outage503 = true
					if hdr.Get("Retry-After") != "" {
						c.res.OutageRetryAfter = true
					}
				} else {
					c.note("outage: %s answered %d to a publish, want 503", h.Name, code)
				}
			}
		}
		time.Sleep(250 * time.Millisecond) // the outage lasts 30 s
	}
	posts0 := c.postCount()
	if err := c.redis.Start(); err != nil {
		c.note("restarting Redis: %v", err)
		return
	}
	back := time.Now()
	c.res.OutageSeconds = stack.Round(back.Sub(down).Seconds(), 1)
	c.res.RedisRestarts++
	c.say("Redis is back")
	// Work resumes: the tenth post the fakes accept after Redis is back (the first alone could
	// be a send whose Redis calls were only waiting in go-redis's retries).
	const resumed = 10
	deadline := back.Add(60 * time.Second)
	for time.Now().Before(deadline) {
		posts, _, err := c.fakes.Posts(posts0)
		if err == nil {
			n := 0
			for _, p := range posts {
				if p.Time().After(back) {
					if n++; n == resumed {
						c.res.ResumeMS = stack.Round(float64(p.Time().Sub(back))/1e6, 0)
						c.say("posts resumed: the %dth %.0f ms after Redis returned", resumed, c.res.ResumeMS)
						return
					}
				}
			}
		}
		time.Sleep(50 * time.Millisecond) // polling the fakes, bounded by the deadline
	}
	c.res.ResumeMS = -1
	c.note("fewer than %d posts within 60 s of Redis returning", resumed)
}

func (c *chaos) postCount() int {
	_, next, _ := c.fakes.Posts(1 << 30)
	return next
}

func articleJSON(n int) []byte {
	id, marker := "c-"+strconv.Itoa(n), stack.Marker("chaos", n)
	if n < 0 {
		id, marker = "c-probe", stack.Marker("probe", 0)
	}
	a := map[string]any{
		"id":       id,
		"url":      fmt.Sprintf("https://news.example.com/world/2026/11/chaos-%d", n),
		"title":    "زيلينسكي يقول إن كوريا الشمالية أرسلت قوات لدعم الجيش الروسي " + marker,
		"summary":  "اتهم الرئيس الأوكراني كوريا الشمالية بإرسال قوات إلى الجيش الروسي.",
		"tags":     []string{"أوكرانيا"},
		"language": "ar",
		"channels": chans,
	}
	out, _ := json.Marshal(a)
	return out
}

// publish sends every article until it gets a 202, trying the next process on a connection
// error and honouring Retry-After (capped at 1 s) on a 503.
func (c *chaos) publish(t0, outageAt, hardStop time.Time) {
	steady := c.n * 6 / 10
	burstEnd := c.n * 8 / 10
	var wg sync.WaitGroup
	var next atomic.Int64
	one := func(i int) {
		for try := 0; time.Now().Before(hardStop); try++ {
			h := c.procs[(i+try)%len(c.procs)]
			code, hdr, body, err := h.Publish(context.Background(), articleJSON(i))
			if err == nil && code == http.StatusAccepted {
				var out struct {
					Deliveries []struct {
						Channel string `json:"channel"`
					} `json:"deliveries"`
				}
				_ = json.Unmarshal(body, &out)
				var chs []string
				for _, d := range out.Deliveries {
					chs = append(chs, d.Channel)
				}
				c.mu.Lock()
				c.published[i] = chs
				c.publishedAt[i] = time.Now()
				c.mu.Unlock()
				return
			}
			wait := 100 * time.Millisecond
			if err == nil && code == http.StatusServiceUnavailable {
				if s, _ := strconv.Atoi(hdr.Get("Retry-After")); s > 0 {
					wait = min(time.Duration(s)*time.Second, time.Second)
				} else {
					wait = 500 * time.Millisecond
				}
			} else if err == nil && code != http.StatusServiceUnavailable {
				c.note("article %d: %s answered %d: %.200s", i, h.Name, code, body)
				return
			}
			time.Sleep(wait) // the publisher's retry pause
		}
	}
	for i := range steady {
		sleepUntil(t0.Add(time.Duration(i) * 40 * time.Millisecond)) // 25 articles/s
		wg.Add(1)
		go func() { defer wg.Done(); one(i) }()
	}
	// The burst: 8 clients at once, just before the outage.
	sleepUntil(outageAt.Add(-2 * time.Second))
	next.Store(int64(steady))
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := int(next.Add(1) - 1); j < burstEnd; j = int(next.Add(1) - 1) {
				one(j)
			}
		}()
	}
	// The rest at 25/s from just after Redis stops (503s, retried) until it is back and after.
	sleepUntil(outageAt.Add(time.Second))
	for i := burstEnd; i < c.n; i++ {
		wg.Add(1)
		go func() { defer wg.Done(); one(i) }()
		time.Sleep(40 * time.Millisecond) // 25 articles/s
	}
	wg.Wait()
}

func ledgerKey(article, channel string) string {
	return "herald:dlv:{" + article + ":" + channel + "}"
}

// states reads every published delivery's record through queue's read API, on Redis directly
// (not through the proxy); keys are ledgerKey's.
func (c *chaos) states() (map[string]queue.Delivery, error) {
	c.mu.Lock()
	ids := make([]int, 0, len(c.published))
	want := 0
	for i, chs := range c.published {
		ids = append(ids, i)
		want += len(chs)
	}
	c.mu.Unlock()
	b := queue.NewBroker(c.rdb, queue.Options{})
	out := make(map[string]queue.Delivery, want)
	for _, i := range ids {
		ds, err := b.Deliveries(context.Background(), "c-"+strconv.Itoa(i))
		if err != nil && !errors.Is(err, queue.ErrNotFound) {
			return nil, err
		}
		for _, d := range ds {
			out[ledgerKey(d.ArticleID, string(d.Channel))] = d
		}
	}
	c.mu.Lock()
	for i, chs := range c.published {
		for _, ch := range chs {
			if k := ledgerKey("c-"+strconv.Itoa(i), ch); out[k].State == "" {
				out[k] = queue.Delivery{} // a published delivery with no record: lost
			}
		}
	}
	c.mu.Unlock()
	return out, nil
}

// waitFinal waits until every delivery is sent, failed or unknown, or until the hard stop.
func (c *chaos) waitFinal(hardStop time.Time) {
	for time.Now().Before(hardStop) {
		st, err := c.states()
		if err == nil {
			open := 0
			for _, d := range st {
				if !d.State.Final() {
					open++
				}
			}
			if open == 0 {
				return
			}
			c.say("%d deliveries not final yet", open)
		}
		time.Sleep(2 * time.Second) // polling the ledger, bounded by the hard stop
	}
	c.note("time is up: some deliveries were still not final")
}

func (c *chaos) account() error {
	st, err := c.states()
	if err != nil {
		return fmt.Errorf("reading the ledger: %w", err)
	}
	var posts []stack.Post
	for since := 0; ; {
		ps, next, err := c.fakes.Posts(since)
		if err != nil {
			return err
		}
		posts = append(posts, ps...)
		if next == since || len(ps) == 0 {
			break
		}
		since = next
	}
	// Posts per (chat, text): more than one is a duplicate. Posts per delivery key too.
	perText := map[string]int{}
	perDelivery := map[string]int{}
	for _, p := range posts {
		perText[p.Chat+"\x00"+p.Text]++
		if _, n, ok := stack.ParseMarker(p.Text); ok {
			ch := strings.TrimPrefix(p.Chat, "@chaos_")
			perDelivery[ledgerKey("c-"+strconv.Itoa(n), ch)]++
		}
	}
	for _, ch := range chans {
		c.res.Duplicates[ch] = 0
	}
	for k, n := range perText {
		chat, _, _ := strings.Cut(k, "\x00")
		if n > 1 {
			c.res.Duplicates[strings.TrimPrefix(chat, "@chaos_")] += n - 1
		}
	}
	c.res.Published = len(c.published)
	c.res.Deliveries = len(st)
	for k, d := range st {
		posted := perDelivery[k] > 0
		switch d.State {
		case "sent":
			c.res.Delivered++
			if !posted {
				c.res.SentNotPosted++
			}
		case "failed":
			c.res.Failed++
			if posted {
				c.res.FailedButPosted++
			}
		case "unknown":
			c.res.Unknown++
			if !posted {
				c.res.UnknownNotPosted++
			}
		default:
			c.res.Lost++
		}
	}
	stats, err := c.fakes.Stats()
	if err == nil {
		for _, s := range stats {
			c.res.Fake429 += s.R429
			c.res.Fake5xx += s.R5xx
			c.res.FakeSlow += s.Slow
		}
	}
	c.res.RepliesDropped = c.proxy.Drops()
	for _, k := range c.kills {
		reqs, err := c.fakes.Requests(k.label)
		if err != nil {
			return err
		}
		for _, r := range reqs {
			switch {
			case r.Done.IsZero() || r.Done.After(k.at):
				c.res.InFlightAtKills++
			case r.Done.After(k.at.Add(-50 * time.Millisecond)):
				c.res.AnsweredAtKills++
			}
		}
	}
	if c.res.Failed > 0 || c.res.Unknown > 0 {
		c.note("non-sent deliveries by error: %s", c.errorSummary(st))
	}
	reqs, err := c.fakes.Requests("")
	if err != nil {
		return err
	}
	shown := 0
	for k, d := range st {
		if d.State == queue.StateUnknown && perDelivery[k] == 0 && shown < 5 {
			shown++
			c.note("unknown, never posted: %s: %s", k, c.history(k, reqs))
		}
	}
	return nil
}

// history tells why a delivery that was never posted became unknown: its outcome lines from
// every process's log (debug level), the fakes' requests for it, and the kills (within 2 s) and
// dropped Redis replies (within 200 ms) next to those.
func (c *chaos) history(key string, reqs []stack.Request) string {
	inner := strings.TrimSuffix(strings.TrimPrefix(key, "herald:dlv:{"), "}")
	i := strings.LastIndex(inner, ":")
	art, ch := inner[:i], inner[i+1:]
	n, _ := strconv.Atoi(strings.TrimPrefix(art, "c-"))
	type event struct {
		t    time.Time
		text string
		own  bool
		near time.Duration
	}
	var evs []event
	for _, h := range c.procs {
		b, _ := os.ReadFile(h.Log)
		for line := range strings.SplitSeq(string(b), "\n") {
			var l struct {
				Time    time.Time `json:"time"`
				Article string    `json:"article_id"`
				Channel string    `json:"channel"`
				Status  string    `json:"status"`
				Error   string    `json:"error"`
			}
			if !strings.Contains(line, `"`+art+`"`) || json.Unmarshal([]byte(line), &l) != nil || l.Article != art || l.Channel != ch {
				continue
			}
			evs = append(evs, event{t: l.Time, own: true, text: fmt.Sprintf("%s logged %s %.80s", h.Name, l.Status, l.Error)})
			if l.Status == "unknown" && strings.Contains(l.Error, "lease expired") {
				// The claim that expired was made at least a lease (default 60 s) earlier.
				evs = append(evs, event{t: l.Time.Add(-defaultLease), own: true, text: "(latest time the expired lease can have been taken, with the default 60 s lease)"})
			}
		}
	}
	marker, chat := stack.Marker("chaos", n), "@chaos_"+ch
	for _, r := range reqs {
		if r.Marker != marker || r.Chat != chat {
			continue
		}
		ans := "unanswered"
		if !r.Done.IsZero() {
			ans = fmt.Sprintf("answered %d after %s", r.Code, r.Done.Sub(r.Recv).Round(time.Millisecond))
		}
		evs = append(evs, event{t: r.Recv, own: true, text: fmt.Sprintf("the fake got its request from %s, %s", r.Client, ans)})
	}
	// Kills between the publish and the latest time the expired lease can have been taken could
	// have left it behind; kills within 2 s of anything else are shown too.
	var from, to time.Time
	c.mu.Lock()
	from = c.publishedAt[n]
	c.mu.Unlock()
	for _, e := range evs {
		if strings.HasPrefix(e.text, "(latest time") && e.t.After(to) {
			to = e.t
		}
	}
	evs = append(evs, event{t: from, own: true, text: "published (202)"})
	c.mu.Lock()
	for _, k := range c.kills {
		e := event{t: k.at, near: 2 * time.Second, text: "kill -9 " + k.label}
		e.own = !to.IsZero() && !k.at.Before(from) && !k.at.After(to)
		evs = append(evs, e)
	}
	c.mu.Unlock()
	for _, t := range c.proxy.DropTimes() {
		evs = append(evs, event{t: t, near: 200 * time.Millisecond, text: "the proxy dropped a Redis reply"})
	}
	sort.Slice(evs, func(i, j int) bool { return evs[i].t.Before(evs[j].t) })
	var out []string
	for _, e := range evs {
		keep := e.own
		for _, o := range evs {
			if !keep && o.own && e.t.Sub(o.t).Abs() <= e.near {
				keep = true
			}
		}
		if keep {
			out = append(out, e.t.UTC().Format("15:04:05.000")+" "+e.text)
		}
	}
	return strings.Join(out, " | ")
}

// errorSummary groups the error text of failed and unknown records.
func (c *chaos) errorSummary(st map[string]queue.Delivery) string {
	counts := map[string]int{}
	for _, d := range st {
		if d.State != queue.StateFailed && d.State != queue.StateUnknown {
			continue
		}
		e := d.Error
		if len(e) > 90 {
			e = e[:90]
		}
		counts[string(d.State)+": "+e]++
	}
	type kv struct {
		k string
		n int
	}
	var all []kv
	for k, n := range counts {
		all = append(all, kv{k, n})
	}
	sort.Slice(all, func(i, j int) bool { return all[i].n > all[j].n })
	var parts []string
	for _, e := range all[:min(len(all), 6)] {
		parts = append(parts, fmt.Sprintf("%d× %q", e.n, e.k))
	}
	return strings.Join(parts, "; ")
}

// targetsMet fills Missed and reports whether every target was met.
func (c *chaos) targetsMet() bool {
	r := &c.res
	r.Missed = []string{}
	dups := 0
	for _, n := range r.Duplicates {
		dups += n
	}
	check := func(name string, ok bool) {
		if !ok {
			r.Missed = append(r.Missed, name)
		}
	}
	check("lost", r.Lost == 0 && r.Published == c.n)
	check("duplicates", dups == 0)
	check("unknown", r.Unknown <= r.InFlightAtKills)
	check("outage_503", r.Outage503)
	check("outage_retry_after", r.OutageRetryAfter)
	check("crashes", r.Crashes == 0)
	check("resume", r.ResumeMS >= 0 && r.ResumeMS <= 5000)
	return len(r.Missed) == 0
}

// report prints the table, the notes and, last, the JSON line.
func (c *chaos) report() {
	r := &c.res
	dups := 0
	for _, n := range r.Duplicates {
		dups += n
	}
	fmt.Printf("\nherald chaos (%s; %d cores, load average up to %.1f)\n\n", time.Now().UTC().Format(time.RFC3339), runtime.NumCPU(), r.LoadMax)
	row := func(k, v, want string, ok bool) {
		mark := "met"
		if !ok {
			mark = "MISSED"
		}
		if want == "" {
			mark = ""
		}
		fmt.Printf("  %-24s %10s  %-22s %s\n", k, v, want, mark)
	}
	row("published", fmt.Sprintf("%d", r.Published), fmt.Sprintf("= %d", c.n), r.Published == c.n)
	row("deliveries", fmt.Sprint(r.Deliveries), "", true)
	row("delivered (sent)", fmt.Sprint(r.Delivered), "", true)
	row("failed", fmt.Sprint(r.Failed), "", true)
	row("unknown", fmt.Sprint(r.Unknown), fmt.Sprintf("≤ in_flight_at_kills (%d)", r.InFlightAtKills), r.Unknown <= r.InFlightAtKills)
	row("lost", fmt.Sprint(r.Lost), "0", r.Lost == 0)
	row("duplicates", fmt.Sprint(dups), "0", dups == 0)
	row("kills", fmt.Sprint(r.Kills), "", true)
	row("in_flight_at_kills", fmt.Sprint(r.InFlightAtKills), "", true)
	row("answered_just_before_kills", fmt.Sprint(r.AnsweredAtKills), "", true)
	row("unknown_not_posted", fmt.Sprint(r.UnknownNotPosted), "", true)
	row("failed_but_posted", fmt.Sprint(r.FailedButPosted), "", true)
	row("sent_not_posted", fmt.Sprint(r.SentNotPosted), "", true)
	row("redis_replies_dropped", fmt.Sprint(r.RepliesDropped), "", true)
	row("redis_restarts", fmt.Sprint(r.RedisRestarts), "", true)
	row("fake 429 / 5xx / slow", fmt.Sprintf("%d/%d/%d", r.Fake429, r.Fake5xx, r.FakeSlow), "", true)
	row("outage: 503", fmt.Sprint(r.Outage503), "true", r.Outage503)
	row("outage: Retry-After", fmt.Sprint(r.OutageRetryAfter), "true", r.OutageRetryAfter)
	row("crashes", fmt.Sprint(r.Crashes), "0", r.Crashes == 0)
	row("resume after Redis (ms)", fmt.Sprint(r.ResumeMS), "≤ 5000", r.ResumeMS >= 0 && r.ResumeMS <= 5000)
	if len(c.notes) > 0 {
		fmt.Println()
		for _, n := range c.notes {
			fmt.Println("  note:", n)
		}
	}
	if len(r.Missed) > 0 {
		fmt.Printf("\n  %d target(s) missed: %s\n", len(r.Missed), strings.Join(r.Missed, ", "))
	}
	fmt.Println()
	line, _ := json.Marshal(r)
	fmt.Println(string(line))
}
