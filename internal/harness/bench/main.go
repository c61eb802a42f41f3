// Command bench is `make bench`: a load harness that runs the real herald binary against a real
// redis-server and fake platforms in their own process (internal/harness/fakes), all on
// loopback, and measures what issue 6 asks for. It prints a table with each figure beside its
// target and, as its last line, one JSON object. A missed target is reported, not fatal: this
// is a measurement. The exit status is non-zero only when the harness itself could not run.
//
//	go run ./internal/harness/bench            # the full run, about 6-7 minutes
//	go run ./internal/harness/bench -quick     # smaller sizes, for trying the harness itself
//
// Phases, each on a flushed Redis with a fresh herald process:
//
//	idle       one article at a time: publish (API 202) → fake receipt latency
//	burst      1,000 articles published at once by 8 clients: the same latency, under load
//	baseline   asynq with a no-op handler, same Redis and concurrency (queue.NoopBaseline), run
//	           while the throughput deliveries wait on their paused channel
//	throughput 3,000 deliveries queued while the channel is paused, then resumed: deliveries/s
//	memory     Redis used_memory growth, less client connection buffers, per retained (final)
//	           delivery after the three phases above
//	fairness   channel B's latency while channel A has a 2,000 backlog on a platform answering in 2 s
//	paced      200 articles to a 60/min channel on a fake answering 429 above 60/min
//	lookup     GET /v1/articles/{id} p99 with 1,000,000 delivery records (on a second Redis,
//	           seeded with queue's SeedFinal while the paced phase runs)
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"

	"herald/article"
	"herald/channels"
	"herald/internal/harness/stack"
	"herald/queue"
)

// Concurrency is worker.concurrency of every herald process and of the asynq baseline.
const Concurrency = 10

type sizes struct {
	noop, idle, burst, tput, backlog, fairB, paced, lookupRecords, lookups int
	pacedWait                                                              time.Duration
}

var full = sizes{noop: 5000, idle: 150, burst: 1000, tput: 3000, backlog: 2000, fairB: 60, paced: 200,
	lookupRecords: 1_000_000, lookups: 2000, pacedWait: 260 * time.Second}

var quick = sizes{noop: 1000, idle: 30, burst: 200, tput: 500, backlog: 300, fairB: 20, paced: 20,
	lookupRecords: 50_000, lookups: 300, pacedWait: 60 * time.Second}

// Result is the JSON line.
type Result struct {
	AsynqNoopPerS float64 `json:"asynq_noop_per_s"`
	HeraldPerS    float64 `json:"herald_per_s"`
	Ratio         float64 `json:"ratio"`
	// RatioCeiling is the ratio herald would reach if its own process cost nothing: the
	// throughput that redis-server (one thread) and the fakes alone allow on this machine, from
	// the CPU they spent per delivery in the throughput phase, over the asynq baseline.
	RatioCeiling float64 `json:"ratio_ceiling"`
	// AsynqPostPerS is plain asynq at the same concurrency with a handler that only makes the
	// one HTTP post a delivery makes (no ledger, no formatting, no log); RatioPost is it over
	// asynq_noop_per_s: what any implementation that posts could reach on this machine.
	AsynqPostPerS float64 `json:"asynq_post_per_s,omitempty"`
	RatioPost     float64 `json:"ratio_post,omitempty"`
	// NoopCPUms is the CPU one no-op task costs the asynq process and redis-server (ms).
	NoopCPUms map[string]float64 `json:"noop_cpu_ms_per_task,omitempty"`
	// PostCPUms is the same for a task that only posts, the fakes' share included.
	PostCPUms map[string]float64 `json:"post_cpu_ms_per_task,omitempty"`
	// CPUms is the CPU each process spent per delivery in the throughput phase (milliseconds).
	CPUms                 map[string]float64 `json:"cpu_ms_per_delivery,omitempty"`
	P50ms                 float64            `json:"p50_ms"`
	P99ms                 float64            `json:"p99_ms"`
	BurstP99ms            float64            `json:"burst_p99_ms"`
	FairP99ms             float64            `json:"fair_p99_ms"`
	Paced429s             int                `json:"paced_429s"`
	PacedUtilisation      float64            `json:"paced_utilisation"`
	PacedInversions       int                `json:"paced_inversions"`
	RedisCmdsPerDelivery  float64            `json:"redis_cmds_per_delivery"`
	WorkerRSSMB           float64            `json:"worker_rss_mb"`
	RedisBytesPerDelivery float64            `json:"redis_bytes_per_delivery"`
	LookupP99ms           float64            `json:"lookup_p99_ms"`
	Duplicates            int                `json:"duplicates"`
	Seconds               float64            `json:"seconds"`
	// Cores and LoadMax say how busy the machine was: the highest one-minute load average seen
	// at the start and end of each phase. Above Cores, other work competed with the run.
	Cores   int      `json:"cores"`
	LoadMax float64  `json:"load_avg_max"`
	Missed  []string `json:"missed"`
}

type bench struct {
	sz      sizes
	dir     string
	herald  string
	redis   *stack.Redis
	rdb     *redis.Client
	fakes   *stack.Fakes
	col     *stack.Collector
	res     Result
	notes   []string
	rss     float64
	mu      sync.Mutex
	verbose bool
	phases  map[string]bool // which phases run (-only)
	// cpuProfile, if set, is where the throughput phase's CPU profile of herald is written.
	cpuProfile string
	profileFor time.Duration
	pprofAddr  string // the fast phase's herald profiler (HERALD_PPROF_ADDR), with -cpuprofile
}

func main() {
	q := flag.Bool("quick", false, "smaller sizes (minutes → about one), to try the harness itself")
	only := flag.String("only", "", "run only these phases, comma-separated: baseline, fast (idle, burst, throughput, memory), fair, paced, lookup")
	keep := flag.Bool("keep", false, "keep the temporary directory (logs, configs)")
	verbose := flag.Bool("v", false, "say what each phase is doing")
	cpuProfile := flag.String("cpuprofile", "", "write herald's CPU profile of the throughput phase to this file (go tool pprof reads it)")
	profileFor := flag.Duration("cpuprofile-for", 3*time.Second, "how long the -cpuprofile profile runs from the resume (keep it within the phase: raise -tput)")
	tput := flag.Int("tput", 0, "deliveries in the throughput phase (default 3,000; 500 with -quick): more give a longer profile")
	flag.Parse()
	b := &bench{sz: full, verbose: *verbose, phases: map[string]bool{}, cpuProfile: *cpuProfile, profileFor: *profileFor}
	for _, p := range []string{"baseline", "fast", "fair", "paced", "lookup"} {
		b.phases[p] = *only == ""
	}
	for p := range strings.SplitSeq(*only, ",") {
		if p = strings.TrimSpace(p); p != "" {
			if _, ok := b.phases[p]; !ok {
				fatal(fmt.Errorf("-only: unknown phase %q", p))
			}
			b.phases[p] = true
		}
	}
	if *q {
		b.sz = quick
	}
	if *tput > 0 {
		b.sz.tput = *tput
	}
	start := time.Now()
	dir, err := os.MkdirTemp("", "herald-bench-")
	if err != nil {
		fatal(err)
	}
	b.dir = dir
	defer func() {
		if !*keep {
			_ = os.RemoveAll(dir)
		}
	}()
	if err := b.run(); err != nil {
		b.cleanup()
		fmt.Fprintf(os.Stderr, "bench: %v (logs in %s)\n", err, dir)
		*keep = true
		os.Exit(1)
	}
	b.cleanup()
	b.res.Seconds = stack.Round(time.Since(start).Seconds(), 1)
	b.report()
}

func fatal(err error) {
	fmt.Fprintln(os.Stderr, "bench:", err)
	os.Exit(1)
}

func (b *bench) say(format string, args ...any) {
	if b.verbose {
		fmt.Fprintf(os.Stderr, "bench: "+format+"\n", args...)
	}
}

// load records the machine's load average.
func (b *bench) load() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.res.LoadMax = max(b.res.LoadMax, stack.LoadAverage())
}

func (b *bench) note(format string, args ...any) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.notes = append(b.notes, fmt.Sprintf(format, args...))
}

func (b *bench) cleanup() {
	if b.col != nil {
		b.col.Stop()
	}
	if b.fakes != nil {
		b.fakes.Stop()
	}
	if b.redis != nil {
		b.redis.Stop(false)
	}
}

func (b *bench) run() error {
	b.say("building herald and the fakes")
	var fakesBin string
	var err error
	if b.herald, fakesBin, err = stack.Build(b.dir); err != nil {
		return err
	}
	if b.redis, err = stack.StartRedis(filepath.Join(b.dir, "redis"), false); err != nil {
		return err
	}
	b.rdb = b.redis.Client()
	b.fakes, err = stack.StartFakes(fakesBin, filepath.Join(b.dir, "fakes.log"),
		"-chats", "bench_post,bench_fast,bench_slowa,bench_fastb,bench_paced,bench_c1,bench_c2,bench_c3,bench_c4",
		"-platform", "instant=instant", "-platform", "slow=delay=2s", "-platform", "paced=rate=60/1m")
	if err != nil {
		return err
	}
	b.col = b.fakes.Collect()
	for _, ph := range []struct {
		name string
		run  func() error
	}{{"baseline", b.baselineAlone}, {"fast", b.fastPhases}, {"fair", b.fairness}, {"paced", b.pacedAndLookup}} {
		if b.phases[ph.name] || (ph.name == "paced" && b.phases["lookup"]) {
			b.load()
			if err := ph.run(); err != nil {
				return err
			}
			b.load()
		}
	}
	return nil
}

// fresh flushes Redis and the fakes between phases.
func (b *bench) fresh() error {
	if err := b.rdb.FlushAll(context.Background()).Err(); err != nil {
		return err
	}
	if err := b.fakes.Reset(); err != nil {
		return err
	}
	b.col.Reset()
	return nil
}

func (b *bench) startHerald(name string, chans []stack.Channel, redisURL string) (*stack.Herald, error) {
	port, err := stack.FreePort()
	if err != nil {
		return nil, err
	}
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	cfg := filepath.Join(b.dir, name+".yaml")
	if redisURL == "" {
		redisURL = "redis://" + b.redis.Addr + "/0"
	}
	c := stack.Config{RedisURL: redisURL, Addr: addr, Token: b.fakes.Token, Channels: chans,
		Worker: fmt.Sprintf("  concurrency: %d", Concurrency)}
	if err := c.Write(cfg); err != nil {
		return nil, err
	}
	h := stack.NewHerald(b.herald, name, cfg, addr, filepath.Join(b.dir, name+".log"))
	if name == "fast" && b.cpuProfile != "" {
		pport, err := stack.FreePort()
		if err != nil {
			return nil, err
		}
		b.pprofAddr = fmt.Sprintf("127.0.0.1:%d", pport)
		h.Env = append(h.Env, "HERALD_PPROF_ADDR="+b.pprofAddr)
	}
	return h, h.Start()
}

func (b *bench) stopHerald(h *stack.Herald) {
	b.rss = max(b.rss, h.PeakRSSMB())
	h.Stop(10 * time.Second)
}

// articleJSON is a realistic short Arabic article (no body) carrying the marker in its title.
func articleJSON(phase string, n int, channel string) []byte {
	a := map[string]any{
		"id":       fmt.Sprintf("h-%s-%06d", phase, n),
		"url":      fmt.Sprintf("https://news.example.com/world/2026/11/bench-%s-%d", phase, n),
		"title":    "زيلينسكي يقول إن كوريا الشمالية أرسلت قوات لدعم الجيش الروسي " + stack.Marker(phase, n),
		"summary":  "اتهم الرئيس الأوكراني فولوديمير زيلينسكي كوريا الشمالية بإرسال أفراد من جيشها إلى روسيا، في تصعيد جديد للحرب.",
		"tags":     []string{"أوكرانيا", "كوريا الشمالية"},
		"category": "الدفاع و الامن",
		"language": "ar",
		"channels": []string{channel},
	}
	out, _ := json.Marshal(a)
	return out
}

// publishAll publishes articles [0,n) of phase to channel with par clients and returns each
// article's publish start time.
func (b *bench) publishAll(h *stack.Herald, phase, channel string, n, par int) ([]time.Time, error) {
	starts := make([]time.Time, n)
	var next atomic.Int64
	var firstErr error
	var once sync.Once
	var wg sync.WaitGroup
	for range par {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				starts[i] = time.Now()
				code, _, body, err := h.Publish(context.Background(), articleJSON(phase, i, channel))
				if err == nil && code != http.StatusAccepted {
					err = fmt.Errorf("publish answered %d: %s", code, body)
				}
				if err != nil {
					once.Do(func() { firstErr = err })
					return
				}
			}
		}()
	}
	wg.Wait()
	return starts, firstErr
}

// latencies are publish → fake receipt in ms for articles [0,n) of phase; missing posts count
// as censored at the time waited.
func (b *bench) latencies(phase string, starts []time.Time, end time.Time) (ms []float64, missing int) {
	for i, t0 := range starts {
		if p, ok := b.col.First(stack.Marker(phase, i)); ok {
			ms = append(ms, float64(p.Time().Sub(t0))/1e6)
		} else {
			missing++
			ms = append(ms, float64(end.Sub(t0))/1e6)
		}
	}
	return ms, missing
}

// baseline runs the asynq no-op yardstick three times and keeps the median (the machine may be
// shared; the three rates are in a note). With the fast phases it runs between queueing the
// throughput deliveries and releasing them, so both figures are taken under the same load.
// It then runs asynq with a handler that makes only the one HTTP post a delivery makes (to the
// same instant fake), three times too: what any implementation that posts could reach here.
func (b *bench) baseline() error {
	b.say("baseline: %d no-op tasks through asynq at concurrency %d, three times; then %d tasks that only post", b.sz.noop, Concurrency, b.sz.noop)
	noop, cpu, err := b.asynqRuns(nil)
	if err != nil {
		return err
	}
	b.res.AsynqNoopPerS = stack.Percentile(noop, 50)
	tasks := float64(3 * b.sz.noop)
	b.res.NoopCPUms = map[string]float64{"asynq": stack.Round(1000*cpu[0]/tasks, 3), "redis": stack.Round(1000*cpu[1]/tasks, 3)}
	b.note("baseline: asynq no-op runs at %v tasks/s; the median is used", noop)

	post, err := b.postOnly()
	if err != nil {
		return err
	}
	posts, cpu, err := b.asynqRuns(post)
	if err != nil {
		return err
	}
	b.res.PostCPUms = map[string]float64{"asynq": stack.Round(1000*cpu[0]/tasks, 3), "redis": stack.Round(1000*cpu[1]/tasks, 3), "fakes": stack.Round(1000*cpu[2]/tasks, 3)}
	b.res.AsynqPostPerS = stack.Percentile(posts, 50)
	b.res.RatioPost = stack.Round(b.res.AsynqPostPerS/b.res.AsynqNoopPerS, 3)
	b.note("baseline: asynq with a handler that only posts runs at %v tasks/s", posts)
	return nil
}

// asynqRuns runs queue.AsynqBaseline three times with handle and returns the three rates and the
// CPU seconds the processing alone (not the enqueueing) cost this process, which runs the
// tasks and is otherwise idle meanwhile, redis-server and the fakes.
func (b *bench) asynqRuns(handle func(context.Context) error) ([]float64, [3]float64, error) {
	var rates []float64
	var cpu [3]float64
	start := true
	mark := func() {
		sign := 1.0 // the end of a run adds its reading, the start subtracts its own
		if start {
			sign = -1
		}
		cpu[0] += sign * stack.CPUSeconds(os.Getpid())
		cpu[1] += sign * stack.CPUSeconds(b.redis.Pid())
		cpu[2] += sign * stack.CPUSeconds(b.fakes.Pid())
		start = !start
	}
	for range 3 {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		took, err := queue.AsynqBaseline(ctx, b.rdb, b.sz.noop, queue.WorkerOptions{Concurrency: Concurrency}, handle, mark)
		cancel()
		if err != nil {
			return nil, cpu, err
		}
		rates = append(rates, stack.Round(float64(b.sz.noop-1)/took.Seconds(), 0))
	}
	return rates, cpu, nil
}

// postOnly is a handler that makes the one request a Telegram delivery makes, and nothing else:
// sendMessage with the bench article's text to the instant fake, over kept-alive connections,
// its answer read and checked.
func (b *bench) postOnly() (func(context.Context) error, error) {
	var a struct{ Title, Summary, URL string }
	if err := json.Unmarshal(articleJSON("post", 0, "post"), &a); err != nil {
		return nil, err
	}
	// Without the marker: these posts belong to no phase and are not counted as duplicates.
	a.Title = strings.TrimSpace(strings.Replace(a.Title, stack.Marker("post", 0), "", 1))
	body, err := json.Marshal(map[string]any{"chat_id": "@bench_post", "parse_mode": "HTML",
		"text": "<b>" + a.Title + "</b>\n\n" + a.Summary + "\n\n" + a.URL})
	if err != nil {
		return nil, err
	}
	url := fmt.Sprintf(b.fakes.Endpoint("instant", ""), b.fakes.Token, "sendMessage")
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = Concurrency
	client := &http.Client{Transport: tr, Timeout: 10 * time.Second}
	return func(ctx context.Context) error {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
		if err != nil {
			return err
		}
		req.Header.Set("Content-Type", "application/json")
		resp, err := client.Do(req)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		var ans struct {
			OK     bool `json:"ok"`
			Result struct {
				MessageID int64 `json:"message_id"`
			} `json:"result"`
		}
		if err := json.NewDecoder(resp.Body).Decode(&ans); err != nil || !ans.OK || ans.Result.MessageID == 0 {
			return fmt.Errorf("posting: %s, %v", resp.Status, err)
		}
		return nil
	}, nil
}

// baselineAlone is the baseline phase when the fast phases do not run it.
func (b *bench) baselineAlone() error {
	if b.phases["fast"] {
		return nil
	}
	if err := b.baseline(); err != nil {
		return err
	}
	return b.fresh()
}

// fastPhases: idle latency, burst latency, throughput and memory, on one channel of the instant
// fake with no rate limit.
func (b *bench) fastPhases() error {
	h, err := b.startHerald("fast", []stack.Channel{{Name: "fast", Endpoint: b.fakes.Endpoint("instant", ""), Chat: "bench_fast", Rate: "unlimited"}}, "")
	if err != nil {
		return err
	}
	defer b.stopHerald(h)
	ctx := context.Background()

	b.say("idle: %d articles one at a time", b.sz.idle)
	// At most 45 s for the idle samples, so a broken build cannot stretch the run past 10 min.
	starts := make([]time.Time, 0, b.sz.idle)
	idleEnd := time.Now().Add(45 * time.Second)
	for i := range b.sz.idle {
		if time.Now().After(idleEnd) {
			b.note("idle: stopped after %d of %d samples (45 s budget)", i, b.sz.idle)
			break
		}
		starts = append(starts, time.Now())
		code, _, body, err := h.Publish(ctx, articleJSON("idle", i, "fast"))
		if err != nil || code != http.StatusAccepted {
			return fmt.Errorf("idle publish: %d %s %v", code, body, err)
		}
		m := stack.Marker("idle", i)
		b.col.WaitFor(time.Now().Add(5*time.Second), func() bool { _, ok := b.col.First(m); return ok })
		time.Sleep(time.Duration(20+rand.IntN(60)) * time.Millisecond) // spacing between samples, so each is idle
	}
	idleN := len(starts)
	ms, missing := b.latencies("idle", starts, time.Now())
	b.res.P50ms, b.res.P99ms = stack.Round(stack.Percentile(ms, 50), 1), stack.Round(stack.Percentile(ms, 99), 1)
	if missing > 0 {
		b.note("idle: %d of %d posts never arrived (counted at the time waited)", missing, len(starts))
	}

	// Memory is measured from here (the process warmed up, its scripts loaded) to the end of the
	// throughput phase, over the burst and throughput deliveries.
	if !b.waitFinal(time.Minute) {
		b.note("memory: the idle deliveries were not all final when measuring began")
	}
	mem0, err := usedMemory(b.rdb)
	if err != nil {
		return err
	}
	clients0, err := infoMemory(b.rdb, "mem_clients_normal")
	if err != nil {
		return err
	}
	b.say("burst: %d articles from 8 clients", b.sz.burst)
	starts, err = b.publishAll(h, "burst", "fast", b.sz.burst, 8)
	if err != nil {
		return fmt.Errorf("burst: %w", err)
	}
	b.col.WaitFor(time.Now().Add(time.Minute), func() bool { return b.col.Count("burst") >= b.sz.burst })
	ms, missing = b.latencies("burst", starts, time.Now())
	b.res.BurstP99ms = stack.Round(stack.Percentile(ms, 99), 1)
	if missing > 0 {
		b.note("burst: %d of %d posts never arrived within 1 min", missing, b.sz.burst)
	}

	b.say("throughput: %d deliveries queued on a paused channel, then resumed", b.sz.tput)
	if code, _, body, err := h.Do(ctx, http.MethodPost, "/v1/channels/fast/pause?reason=bench", nil); err != nil || code != 200 {
		return fmt.Errorf("pausing: %d %s %v", code, body, err)
	}
	if _, err := b.publishAll(h, "tput", "fast", b.sz.tput, 16); err != nil {
		return fmt.Errorf("throughput: %w", err)
	}
	if n := b.col.Count("tput"); n > 0 {
		b.note("throughput: %d deliveries went out while the channel was paused", n)
	}
	if b.phases["baseline"] {
		if err := b.baseline(); err != nil {
			return err
		}
	}
	if err := b.rdb.ConfigResetStat(ctx).Err(); err != nil {
		return err
	}
	cpu0 := b.cpu(h)
	t0 := time.Now()
	profDone := b.profile()
	if code, _, body, err := h.Do(ctx, http.MethodPost, "/v1/channels/fast/resume", nil); err != nil || code != 200 {
		return fmt.Errorf("resuming: %d %s %v", code, body, err)
	}
	ok := b.col.WaitFor(time.Now().Add(75*time.Second), func() bool { return b.col.Count("tput") >= b.sz.tput })
	// Steady state, as for the baseline: from the first post to the last.
	var first, last time.Time
	for i := range b.sz.tput {
		if p, ok := b.col.First(stack.Marker("tput", i)); ok {
			if p.Time().After(last) {
				last = p.Time()
			}
			if first.IsZero() || p.Time().Before(first) {
				first = p.Time()
			}
		}
	}
	got := b.col.Count("tput")
	cpu1 := b.cpu(h)
	if profDone != nil {
		if pr := <-profDone; pr.err != nil {
			b.note("cpuprofile: %v", pr.err)
		} else {
			n := 0
			for _, p := range b.col.All() {
				if t := p.Time(); !t.Before(pr.from) && t.Before(pr.to) {
					n++
				}
			}
			b.note("cpuprofile: %s, %d deliveries in its %.1f s", b.cpuProfile, n, pr.to.Sub(pr.from).Seconds())
		}
	}
	if cmds, top, err := commandStats(b.rdb); err == nil && got > 0 {
		b.note("throughput: %.1f Redis commands per delivery (%s); CPU seconds per 1,000 deliveries: herald %.2f, redis %.2f, fakes %.2f, over %.1f s",
			float64(cmds)/float64(got), top.per(got, b.verbose), 1000*(cpu1[0]-cpu0[0])/float64(got), 1000*(cpu1[1]-cpu0[1])/float64(got),
			1000*(cpu1[2]-cpu0[2])/float64(got), time.Since(t0).Seconds())
	}
	if !ok {
		b.note("throughput: only %d of %d delivered within 75 s", got, b.sz.tput)
	}
	if got > 1 {
		b.res.HeraldPerS = stack.Round(float64(got-1)/last.Sub(first).Seconds(), 0)
	}
	if got > 0 {
		per := func(i int) float64 { return 1000 * (cpu1[i] - cpu0[i]) / float64(got) }
		b.res.CPUms = map[string]float64{"herald": stack.Round(per(0), 3), "redis": stack.Round(per(1), 3), "fakes": stack.Round(per(2), 3)}
		if r, fk := per(1), per(2); r > 0 && b.res.AsynqNoopPerS > 0 {
			ceiling := min(1000/r, 1000*float64(runtime.NumCPU())/(r+fk))
			b.res.RatioCeiling = stack.Round(ceiling/b.res.AsynqNoopPerS, 3)
		}
	}
	if b.res.AsynqNoopPerS > 0 {
		b.res.Ratio = stack.Round(b.res.HeraldPerS/b.res.AsynqNoopPerS, 3)
	}
	b.res.Duplicates += b.duplicates()

	// Every delivery so far is final and retained: Redis bytes per delivery, and where they go.
	total := b.sz.burst + b.sz.tput
	if !b.waitFinal(time.Minute) {
		b.note("memory: not every delivery was final when measured")
	}
	mem1, err := usedMemory(b.rdb)
	if err != nil {
		return err
	}
	// used_memory also counts the buffers of the connections open at that moment (herald's and
	// asynq's pools, grown by the burst), which hold no delivery and go with their connections:
	// the figure is the growth of what is stored, used_memory less mem_clients_normal.
	clients1, err := infoMemory(b.rdb, "mem_clients_normal")
	if err != nil {
		return err
	}
	b.res.RedisBytesPerDelivery = stack.Round(float64((mem1-clients1)-(mem0-clients0))/float64(total), 0)
	b.note("memory: used_memory grew %.0f B per delivery, of which %.0f B are client connection buffers (mem_clients_normal), not stored data",
		float64(mem1-mem0)/float64(total), float64(clients1-clients0)/float64(total))
	b.note("memory per delivery by key kind: %s", b.memoryBreakdown(idleN+total))
	return b.fresh()
}

// waitFinal waits until no delivery record is pending or sending (herald:pending is empty).
func (b *bench) waitFinal(within time.Duration) bool {
	deadline := time.Now().Add(within)
	for time.Now().Before(deadline) {
		if c, err := b.rdb.ZCard(context.Background(), "herald:pending").Result(); err == nil && c == 0 {
			return true
		}
		time.Sleep(100 * time.Millisecond) // polling Redis for the end of a phase, bounded
	}
	return false
}

func usedMemory(rdb *redis.Client) (int64, error) { return infoMemory(rdb, "used_memory") }

// infoMemory reads one field of INFO memory.
func infoMemory(rdb *redis.Client, field string) (int64, error) {
	info, err := rdb.Info(context.Background(), "memory").Result()
	if err != nil {
		return 0, err
	}
	for line := range strings.SplitSeq(info, "\r\n") {
		if v, ok := strings.CutPrefix(line, field+":"); ok {
			return strconv.ParseInt(v, 10, 64)
		}
	}
	return 0, fmt.Errorf("no %s in INFO", field)
}

// idRE finds the ids in key names: hash tags, bench article ids, asynq task ids, and the day and
// shard of a URL index bucket (herald:url:<day>:<shard>).
var idRE = regexp.MustCompile(`\{[^}]*\}|h-[a-z0-9]+-\d+[^:]*|[0-9a-f]{8}-[0-9a-f-]{27}|\d+:\d+$`)

// memoryBreakdown sums MEMORY USAGE by key shape (ids replaced by *) per delivery.
func (b *bench) memoryBreakdown(deliveries int) string {
	ctx := context.Background()
	sums := map[string]int64{}
	iter := b.rdb.Scan(ctx, 0, "*", 1000).Iterator()
	var keys []string
	for iter.Next(ctx) {
		keys = append(keys, iter.Val())
	}
	for i := 0; i < len(keys); i += 500 {
		pipe := b.rdb.Pipeline()
		batch := keys[i:min(i+500, len(keys))]
		cmds := make([]*redis.IntCmd, len(batch))
		for j, k := range batch {
			cmds[j] = pipe.MemoryUsage(ctx, k)
		}
		_, _ = pipe.Exec(ctx)
		for j, k := range batch {
			sums[idRE.ReplaceAllString(k, "*")] += cmds[j].Val()
		}
	}
	type kv struct {
		k string
		v int64
	}
	var all []kv
	for k, v := range sums {
		all = append(all, kv{k, v})
	}
	sort.Slice(all, func(i, j int) bool { return all[i].v > all[j].v })
	var parts []string
	for _, e := range all[:min(10, len(all))] {
		parts = append(parts, fmt.Sprintf("%s %d B", e.k, e.v/int64(deliveries)))
	}
	return strings.Join(parts, ", ")
}

// duplicates counts posts beyond the first per marker so far.
func (b *bench) duplicates() int {
	n := 0
	for _, ps := range b.col.ByMarker() {
		n += len(ps) - 1
	}
	return n
}

// fairness: channel B's latency while channel A has a backlog on a platform answering in 2 s.
func (b *bench) fairness() error {
	h, err := b.startHerald("fair", []stack.Channel{
		{Name: "slowa", Endpoint: b.fakes.Endpoint("slow", ""), Chat: "bench_slowa", Rate: "unlimited"},
		{Name: "fastb", Endpoint: b.fakes.Endpoint("instant", ""), Chat: "bench_fastb", Rate: "unlimited"},
	}, "")
	if err != nil {
		return err
	}
	defer b.stopHerald(h)
	b.say("fairness: %d backlog on the 2 s platform, then %d to the instant one", b.sz.backlog, b.sz.fairB)
	if _, err := b.publishAll(h, "slowa", "slowa", b.sz.backlog, 16); err != nil {
		return fmt.Errorf("fairness backlog: %w", err)
	}
	starts := make([]time.Time, b.sz.fairB)
	for i := range b.sz.fairB {
		starts[i] = time.Now()
		code, _, body, err := h.Publish(context.Background(), articleJSON("fastb", i, "fastb"))
		if err != nil || code != http.StatusAccepted {
			return fmt.Errorf("fairness publish: %d %s %v", code, body, err)
		}
		time.Sleep(100 * time.Millisecond) // B's articles arrive at 10/s while A's backlog is there
	}
	wait := 30 * time.Second
	ok := b.col.WaitFor(time.Now().Add(wait), func() bool { return b.col.Count("fastb") >= b.sz.fairB })
	ms, missing := b.latencies("fastb", starts, time.Now())
	b.res.FairP99ms = stack.Round(stack.Percentile(ms, 99), 1)
	if !ok {
		b.note("fairness: %d of %d posts of channel B had not arrived %s after the last publish (counted at the time waited, so fair_p99_ms is a lower bound)", missing, b.sz.fairB, wait)
	}
	b.note("fairness: channel A posted %d of its %d backlog meanwhile", b.col.Count("slowa"), b.sz.backlog)
	b.res.Duplicates += b.duplicates()
	return nil
}

// pacedAndLookup runs the paced phase on the main Redis and, meanwhile, the lookup phase on a
// second one (its seeding is CPU work, but the paced phase mostly waits).
func (b *bench) pacedAndLookup() error {
	if err := b.fresh(); err != nil {
		return err
	}
	var lookupErr, err error
	var wg sync.WaitGroup
	if b.phases["lookup"] {
		wg.Add(1)
		go func() { defer wg.Done(); lookupErr = b.lookup() }()
	}
	if b.phases["paced"] {
		err = b.paced()
	}
	wg.Wait()
	if err != nil {
		return err
	}
	return lookupErr
}

func (b *bench) paced() error {
	h, err := b.startHerald("paced", []stack.Channel{{Name: "paced", Endpoint: b.fakes.Endpoint("paced", ""), Chat: "bench_paced", Rate: "60/min"}}, "")
	if err != nil {
		return err
	}
	defer b.stopHerald(h)
	ctx := context.Background()
	// What an idle process costs Redis, per second: the part of the per-delivery figure that
	// depends on time, not on deliveries.
	time.Sleep(2 * time.Second) // let the process settle after its start
	if err := b.rdb.ConfigResetStat(ctx).Err(); err != nil {
		return err
	}
	time.Sleep(5 * time.Second) // an idle window of the herald process, measured below
	if idle, top, err := commandStats(b.rdb); err == nil {
		b.note("paced: an idle herald process with this one channel makes %.1f Redis commands/s (%s)", float64(idle)/5, top.per(5, b.verbose))
	}
	if err := b.rdb.ConfigResetStat(ctx).Err(); err != nil {
		return err
	}
	b.say("paced: %d articles to a 60/min channel (about %s)", b.sz.paced, time.Duration(b.sz.paced)*time.Second)
	t0 := time.Now()
	for i := range b.sz.paced {
		code, _, body, err := h.Publish(ctx, articleJSON("paced", i, "paced"))
		if err != nil || code != http.StatusAccepted {
			return fmt.Errorf("paced publish: %d %s %v", code, body, err)
		}
	}
	ok := b.col.WaitFor(t0.Add(b.sz.pacedWait), func() bool { return b.col.Count("paced") >= b.sz.paced })
	end := time.Now()
	cmds, top, err := commandStats(b.rdb)
	if err != nil {
		return err
	}
	var posts []stack.Post
	for _, p := range b.col.All() {
		if ph, _, ok := stack.ParseMarker(p.Text); ok && ph == "paced" {
			posts = append(posts, p)
		}
	}
	n := b.col.Count("paced")
	if !ok {
		b.note("paced: only %d of %d posted within %s", n, b.sz.paced, b.sz.pacedWait)
	}
	st, err := b.fakes.Stats()
	if err != nil {
		return err
	}
	b.res.Paced429s = st["paced"].R429
	if len(posts) > 1 {
		first, last := posts[0].Time(), posts[len(posts)-1].Time()
		if !ok {
			last = end
		}
		// 60/min is one per second: n posts need n-1 seconds at full use of the rate.
		b.res.PacedUtilisation = stack.Round(float64(len(posts)-1)/last.Sub(first).Seconds(), 3)
	}
	order := make([]int, 0, len(posts))
	for _, p := range posts {
		_, i, _ := stack.ParseMarker(p.Text)
		order = append(order, i)
	}
	for i := range order {
		for j := i + 1; j < len(order); j++ {
			if order[i] > order[j] {
				b.res.PacedInversions++
			}
		}
	}
	if n > 0 {
		b.res.RedisCmdsPerDelivery = stack.Round(float64(cmds)/float64(n), 1)
		b.note("paced: Redis commands per delivery by command: %s (over %s)", top.per(n, b.verbose), end.Sub(t0).Round(time.Second))
	}
	b.res.Duplicates += b.duplicates()
	return nil
}

// cmdCounts are INFO commandstats calls by command.
type cmdCounts map[string]int64

// per lists the most called commands (every one with -v), per delivery.
func (c cmdCounts) per(n int, every bool) string {
	type kv struct {
		k string
		v int64
	}
	var all []kv
	for k, v := range c {
		all = append(all, kv{k, v})
	}
	sort.Slice(all, func(i, j int) bool { return all[i].v > all[j].v })
	var parts []string
	shown := all
	if !every {
		shown = all[:min(7, len(all))]
	}
	for _, e := range shown {
		parts = append(parts, fmt.Sprintf("%s %.1f", e.k, float64(e.v)/float64(n)))
	}
	return strings.Join(parts, ", ")
}

// commandStats sums INFO commandstats calls, less the harness's own INFO/CONFIG calls.
func commandStats(rdb *redis.Client) (int64, cmdCounts, error) {
	info, err := rdb.Info(context.Background(), "commandstats").Result()
	if err != nil {
		return 0, nil, err
	}
	var total int64
	by := cmdCounts{}
	for line := range strings.SplitSeq(info, "\r\n") {
		name, rest, ok := strings.Cut(line, ":")
		if !ok || !strings.HasPrefix(name, "cmdstat_") || strings.HasPrefix(name, "cmdstat_info") || strings.HasPrefix(name, "cmdstat_config") {
			continue
		}
		v, _, _ := strings.Cut(strings.TrimPrefix(rest, "calls="), ",")
		n, _ := strconv.ParseInt(v, 10, 64)
		total += n
		by[strings.TrimPrefix(name, "cmdstat_")] = n
	}
	return total, by, nil
}

type profiled struct {
	from, to time.Time
	err      error
}

// profile starts the fast herald's CPU profile for profileFor (with -cpuprofile) and writes it
// to cpuProfile; the channel says when it ran. Nil without -cpuprofile.
func (b *bench) profile() <-chan profiled {
	if b.cpuProfile == "" || b.pprofAddr == "" {
		return nil
	}
	done := make(chan profiled, 1)
	go func() {
		pr := profiled{from: time.Now()}
		defer func() { done <- pr }()
		secs := max(1, int(b.profileFor.Round(time.Second)/time.Second))
		resp, err := http.Get(fmt.Sprintf("http://%s/debug/pprof/profile?seconds=%d", b.pprofAddr, secs))
		if err != nil {
			pr.err = err
			return
		}
		defer resp.Body.Close()
		pr.to = time.Now()
		data, err := io.ReadAll(resp.Body)
		if err == nil && resp.StatusCode != http.StatusOK {
			err = fmt.Errorf("profiler answered %s: %s", resp.Status, data)
		}
		if err == nil {
			err = os.WriteFile(b.cpuProfile, data, 0o644)
		}
		pr.err = err
	}()
	return done
}

// cpu is the CPU seconds used so far by herald, redis-server and the fakes.
func (b *bench) cpu(h *stack.Herald) [3]float64 {
	return [3]float64{stack.CPUSeconds(h.Pid()), stack.CPUSeconds(b.redis.Pid()), stack.CPUSeconds(b.fakes.Pid())}
}

// lookup seeds a second Redis with lookupRecords delivery records (4 channels per article) and
// times GET /v1/articles/{id} against a herald process on it.
func (b *bench) lookup() error {
	r2, err := stack.StartRedis(filepath.Join(b.dir, "redis-lookup"), false)
	if err != nil {
		return err
	}
	defer r2.Stop(false)
	rdb := r2.Client()
	defer rdb.Close()
	chans := []channels.Name{"c1", "c2", "c3", "c4"}
	articles := b.sz.lookupRecords / len(chans)
	broker := queue.NewBroker(rdb, queue.Options{})
	t0 := time.Now()
	const batch = 500
	for i := 0; i < articles; i += batch {
		recs := make([]queue.SeedRecord, 0, batch)
		for j := i; j < min(i+batch, articles); j++ {
			var a article.Article
			if err := json.Unmarshal(articleJSON("seed", j, "c1"), &a); err != nil {
				return err
			}
			a.Channels = nil
			a.Normalize()
			recs = append(recs, queue.SeedRecord{Article: &a, Channels: chans, Kind: channels.KindTelegram})
		}
		if err := broker.SeedFinal(context.Background(), recs); err != nil {
			return err
		}
	}
	b.note("lookup: seeded %d delivery records (%d articles × %d channels) in %s", articles*len(chans), articles, len(chans), time.Since(t0).Round(time.Second))
	var cs []stack.Channel
	for _, c := range chans {
		cs = append(cs, stack.Channel{Name: string(c), Endpoint: b.fakes.Endpoint("instant", ""), Chat: "bench_" + string(c)})
	}
	h, err := b.startHerald("lookup", cs, "redis://"+r2.Addr+"/0")
	if err != nil {
		return err
	}
	defer b.stopHerald(h)
	ms := make([]float64, 0, b.sz.lookups)
	for range b.sz.lookups {
		id := fmt.Sprintf("h-seed-%06d", rand.IntN(articles))
		t := time.Now()
		code, _, body, err := h.Do(context.Background(), http.MethodGet, "/v1/articles/"+id, nil)
		if err != nil || code != 200 {
			return fmt.Errorf("lookup %s: %d %s %v", id, code, body, err)
		}
		ms = append(ms, float64(time.Since(t))/1e6)
	}
	b.mu.Lock()
	b.res.LookupP99ms = stack.Round(stack.Percentile(ms, 99), 2)
	b.mu.Unlock()
	return nil
}

type target struct {
	phase     string // the phase that measures it ("" = any)
	key, want string
	met       func(Result) bool
	value     func(Result) string
}

func f(x float64) string { return strconv.FormatFloat(x, 'f', -1, 64) }

var targets = []target{
	{"baseline", "asynq_noop_per_s", "—", nil, func(r Result) string { return f(r.AsynqNoopPerS) }},
	{"fast", "herald_per_s", "—", nil, func(r Result) string { return f(r.HeraldPerS) }},
	{"fast", "ratio", "≥ 0.6", func(r Result) bool { return r.Ratio >= 0.6 }, func(r Result) string { return f(r.Ratio) }},
	{"fast", "ratio_ceiling", "—", nil, func(r Result) string { return f(r.RatioCeiling) }},
	{"baseline", "asynq_post_per_s", "—", nil, func(r Result) string { return f(r.AsynqPostPerS) }},
	{"baseline", "ratio_post", "—", nil, func(r Result) string { return f(r.RatioPost) }},
	{"fast", "p50_ms", "≤ 15", func(r Result) bool { return r.P50ms <= 15 }, func(r Result) string { return f(r.P50ms) }},
	{"fast", "p99_ms", "≤ 50", func(r Result) bool { return r.P99ms <= 50 }, func(r Result) string { return f(r.P99ms) }},
	{"fast", "burst_p99_ms", "—", nil, func(r Result) string { return f(r.BurstP99ms) }},
	{"fair", "fair_p99_ms", "≤ 1000", func(r Result) bool { return r.FairP99ms <= 1000 }, func(r Result) string { return f(r.FairP99ms) }},
	{"paced", "paced_429s", "0", func(r Result) bool { return r.Paced429s == 0 }, func(r Result) string { return strconv.Itoa(r.Paced429s) }},
	{"paced", "paced_utilisation", "≥ 0.95", func(r Result) bool { return r.PacedUtilisation >= 0.95 }, func(r Result) string { return f(r.PacedUtilisation) }},
	{"paced", "paced_inversions", "0", func(r Result) bool { return r.PacedInversions == 0 }, func(r Result) string { return strconv.Itoa(r.PacedInversions) }},
	{"paced", "redis_cmds_per_delivery", "≤ 60", func(r Result) bool { return r.RedisCmdsPerDelivery <= 60 }, func(r Result) string { return f(r.RedisCmdsPerDelivery) }},
	{"", "worker_rss_mb", "≤ 64", func(r Result) bool { return r.WorkerRSSMB <= 64 }, func(r Result) string { return f(r.WorkerRSSMB) }},
	{"fast", "redis_bytes_per_delivery", "≤ 1024", func(r Result) bool { return r.RedisBytesPerDelivery <= 1024 }, func(r Result) string { return f(r.RedisBytesPerDelivery) }},
	{"lookup", "lookup_p99_ms", "≤ 20", func(r Result) bool { return r.LookupP99ms <= 20 }, func(r Result) string { return f(r.LookupP99ms) }},
	{"", "duplicates", "0", func(r Result) bool { return r.Duplicates == 0 }, func(r Result) string { return strconv.Itoa(r.Duplicates) }},
}

func (b *bench) report() {
	b.res.WorkerRSSMB = stack.Round(b.rss, 1)
	b.res.Missed = []string{}
	b.res.Cores = runtime.NumCPU()
	fmt.Printf("\nherald bench (%s; %d cores, load average up to %.1f)\n\n", time.Now().UTC().Format(time.RFC3339), b.res.Cores, b.res.LoadMax)
	if b.res.LoadMax > float64(b.res.Cores) {
		b.note("the machine was busy with other work (load average up to %.1f on %d cores): throughput and latency figures are lower than on a quiet machine", b.res.LoadMax, b.res.Cores)
	}
	fmt.Printf("  %-26s %12s  %-8s %s\n", "figure", "value", "target", "")
	for _, t := range targets {
		mark := ""
		if t.phase != "" && !b.phases[t.phase] || (t.key == "ratio" || t.key == "ratio_ceiling") && !b.phases["baseline"] {
			fmt.Printf("  %-26s %12s  %-8s %s\n", t.key, "—", t.want, "not run")
			continue
		}
		if t.met != nil {
			if t.met(b.res) {
				mark = "met"
			} else {
				mark = "MISSED"
				b.res.Missed = append(b.res.Missed, t.key)
			}
		}
		fmt.Printf("  %-26s %12s  %-8s %s\n", t.key, t.value(b.res), t.want, mark)
	}
	if len(b.notes) > 0 {
		fmt.Println()
		for _, n := range b.notes {
			fmt.Println("  note:", n)
		}
	}
	if len(b.res.Missed) > 0 {
		fmt.Printf("\n  %d target(s) missed: %s\n", len(b.res.Missed), strings.Join(b.res.Missed, ", "))
	}
	fmt.Println()
	line, _ := json.Marshal(b.res)
	fmt.Println(string(line))
}
