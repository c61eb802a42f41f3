// Command fakes runs fake Telegram Bot API platforms in their own process for `make bench` and
// `make chaos`: each platform is a channels/telegram/telegramfake server behind a listener of
// its own, with a behaviour (instant, a fixed delay, a rate it answers 429 above, random 429s,
// 5xx answered before reading the request, slow answers). Every accepted post is recorded with
// its platform, chat, text and time, so the harnesses can measure latency and count duplicates.
//
//	go run ./internal/harness/fakes -chats bench_a,bench_b \
//	    -platform instant=instant -platform slow=delay=2s -platform paced=rate=60/1m \
//	    -platform chaos=p429=0.03,retry_after=1,p5xx=0.03,pslow=0.1,slow=200ms-1500ms
//
// On start it prints one JSON line to stdout: {"control":"http://…","platforms":{"name":"http://…/bot%s/%s"}}.
// The control listener answers:
//
//	GET  /posts?since=N     accepted posts from index N: {"next":M,"posts":[{"i","platform","chat","text","t_ns"}]}
//	GET  /stats             per platform: requests, accepted, 429s, 5xx, slow answers, abandoned, in flight
//	GET  /inflight?client=C send requests from client C received and not yet answered
//	GET  /requests[?client=C] every send request (from client C): [{"client","recv_ns","done_ns",
//	                        "code","chat","marker"}] (done_ns 0 while unanswered; a client killed
//	                        meanwhile never read the answer)
//	POST /reset             forget posts and counters
//
// A client label is an optional first path segment "/x-<label>" before "/bot…" (give each herald
// process its own api_endpoint), so the harness knows which process a request in flight belongs to.
package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/signal"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"herald/channels/telegram/telegramfake"
)

// Behaviour is how one platform answers send requests.
type Behaviour struct {
	Delay      time.Duration // every accepted post is answered after this long (0 = at once)
	RateN      int           // answer 429 above RateN posts per RatePeriod per chat (0 = off)
	RatePeriod time.Duration
	P429       float64 // probability of a 429 with RetryAfter
	RetryAfter int     // seconds, for P429
	P5xx       float64 // probability of a 502 answered before reading the request
	PSlow      float64 // probability of a slow answer, uniformly in [SlowMin, SlowMax]
	SlowMin    time.Duration
	SlowMax    time.Duration
}

// parseBehaviour reads "instant", "delay=2s", "rate=60/1m", "p429=0.05,retry_after=1,p5xx=0.05,pslow=0.1,slow=200ms-1500ms".
func parseBehaviour(s string) (Behaviour, error) {
	b := Behaviour{RetryAfter: 1, SlowMin: 200 * time.Millisecond, SlowMax: 1500 * time.Millisecond}
	for opt := range strings.SplitSeq(s, ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(opt), "=")
		var err error
		switch k {
		case "", "instant":
		case "delay":
			b.Delay, err = time.ParseDuration(v)
		case "rate":
			n, p, ok := strings.Cut(v, "/")
			if !ok {
				return b, fmt.Errorf("rate %q: want N/duration like 60/1m", v)
			}
			if b.RateN, err = strconv.Atoi(n); err == nil {
				b.RatePeriod, err = time.ParseDuration(p)
			}
		case "p429":
			b.P429, err = strconv.ParseFloat(v, 64)
		case "retry_after":
			b.RetryAfter, err = strconv.Atoi(v)
		case "p5xx":
			b.P5xx, err = strconv.ParseFloat(v, 64)
		case "pslow":
			b.PSlow, err = strconv.ParseFloat(v, 64)
		case "slow":
			lo, hi, ok := strings.Cut(v, "-")
			if !ok {
				return b, fmt.Errorf("slow %q: want min-max like 200ms-1500ms", v)
			}
			if b.SlowMin, err = time.ParseDuration(lo); err == nil {
				b.SlowMax, err = time.ParseDuration(hi)
			}
		default:
			return b, fmt.Errorf("unknown option %q", k)
		}
		if err != nil {
			return b, fmt.Errorf("%s: %w", k, err)
		}
	}
	return b, nil
}

// Post is one accepted post.
type Post struct {
	I        int    `json:"i"`
	Platform string `json:"platform"`
	Chat     string `json:"chat"`
	Text     string `json:"text"`
	TimeNS   int64  `json:"t_ns"`
}

// Stats are one platform's counters.
type Stats struct {
	Requests  int            `json:"requests"`
	Accepted  int            `json:"accepted"`
	R429      int            `json:"r429"`
	R5xx      int            `json:"r5xx"`
	Slow      int            `json:"slow"`
	Abandoned int            `json:"abandoned"` // accepted, but the client went away before the answer
	InFlight  map[string]int `json:"inflight"`
}

type hub struct {
	mu        sync.Mutex
	posts     []Post
	stats     map[string]*Stats
	inflight  map[string]int          // client → send requests unanswered
	requests  map[string][]*reqRecord // client → its send requests
	platforms map[string]*platform
}

// reqRecord is one send request: when it reached the handler and when it was answered, with
// what status, to which chat and for which article (the harness's title marker; both empty for
// a 502 answered before the request was read).
type reqRecord struct {
	Client string `json:"client"`
	RecvNS int64  `json:"recv_ns"`
	DoneNS int64  `json:"done_ns"`
	Code   int    `json:"code"`
	Chat   string `json:"chat"`
	Marker string `json:"marker"`
}

var markerRE = regexp.MustCompile(`\[h-[a-z0-9]+-\d+\]`)

type codeWriter struct {
	http.ResponseWriter
	code int
}

func (w *codeWriter) WriteHeader(code int) {
	if w.code == 0 {
		w.code = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *codeWriter) Write(b []byte) (int, error) {
	if w.code == 0 {
		w.code = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

type platform struct {
	name string
	hub  *hub
	b    Behaviour
	fake *telegramfake.Server
	rng  *rand.Rand
	// window holds, per chat, the times of recent accepted posts (rate mode).
	window map[string][]time.Time
}

func main() {
	var specs, chats multiFlag
	addr := flag.String("addr", "127.0.0.1:0", "control listener")
	flag.Var(&specs, "platform", "name=behaviour (repeatable), e.g. slow=delay=2s")
	flag.Var(&chats, "chats", "comma-separated chat usernames (without @) every platform knows")
	seed := flag.Uint64("seed", uint64(time.Now().UnixNano()), "random seed")
	flag.Parse()
	h := &hub{stats: map[string]*Stats{}, inflight: map[string]int{}, requests: map[string][]*reqRecord{}, platforms: map[string]*platform{}}
	out := map[string]any{}
	eps := map[string]string{}
	var names []string
	for _, c := range chats {
		names = append(names, strings.Split(c, ",")...)
	}
	for i, spec := range specs {
		name, beh, ok := strings.Cut(spec, "=")
		if !ok {
			fail("platform %q: want name=behaviour", spec)
		}
		b, err := parseBehaviour(beh)
		if err != nil {
			fail("platform %s: %v", name, err)
		}
		fake := telegramfake.New()
		for j, c := range names {
			fake.AddChat(telegramfake.Chat{ID: -1002000000000 - int64(j), Type: "channel", Title: c, Username: c})
		}
		p := &platform{name: name, hub: h, b: b, fake: fake, rng: rand.New(rand.NewPCG(*seed, uint64(i))), window: map[string][]time.Time{}}
		fake.OnAccept(p.accepted)
		h.platforms[name] = p
		h.stats[name] = &Stats{InFlight: map[string]int{}}
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			fail("listening: %v", err)
		}
		go func() { _ = (&http.Server{Handler: p}).Serve(ln) }()
		eps[name] = "http://" + ln.Addr().String() + "/bot%s/%s"
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		fail("listening: %v", err)
	}
	out["control"] = "http://" + ln.Addr().String()
	out["platforms"] = eps
	out["token"] = telegramfake.DefaultToken
	line, _ := json.Marshal(out)
	fmt.Println(string(line))
	go func() { _ = (&http.Server{Handler: h.control()}).Serve(ln) }()
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
	<-sig
	for _, p := range h.platforms {
		p.fake.Close()
	}
}

func fail(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "fakes: "+format+"\n", args...)
	os.Exit(2)
}

type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, " ") }
func (m *multiFlag) Set(s string) error { *m = append(*m, s); return nil }

// accepted records a post the fake accepted (telegramfake's OnAccept hook).
func (p *platform) accepted(m telegramfake.Message) {
	text := m.Text
	if m.Method == "sendPhoto" {
		text = m.Caption
	}
	chat := "@" + m.Chat.Username
	if m.Chat.Username == "" {
		chat = strconv.FormatInt(m.Chat.ID, 10)
	}
	h := p.hub
	h.mu.Lock()
	h.posts = append(h.posts, Post{I: len(h.posts), Platform: p.name, Chat: chat, Text: text, TimeNS: m.Time.UnixNano()})
	h.stats[p.name].Accepted++
	h.mu.Unlock()
}

// ServeHTTP applies the behaviour, then hands the request to the fake.
func (p *platform) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	client := ""
	if rest, ok := strings.CutPrefix(r.URL.Path, "/x-"); ok {
		client, rest, _ = strings.Cut(rest, "/")
		r.URL.Path = "/" + rest
	}
	send := strings.HasSuffix(strings.ToLower(r.URL.Path), "/sendmessage") || strings.HasSuffix(strings.ToLower(r.URL.Path), "/sendphoto")
	if !send {
		p.fake.ServeHTTP(w, r)
		return
	}
	h := p.hub
	h.mu.Lock()
	st := h.stats[p.name]
	st.Requests++
	h.inflight[client]++
	rr := &reqRecord{Client: client, RecvNS: time.Now().UnixNano()}
	h.requests[client] = append(h.requests[client], rr)
	st.InFlight[client]++
	roll := p.rng.Float64()
	slow := p.b.Delay
	var kind string
	switch {
	case roll < p.b.P5xx:
		kind = "5xx"
		st.R5xx++
	case roll < p.b.P5xx+p.b.P429:
		kind = "429"
		st.R429++
	case roll < p.b.P5xx+p.b.P429+p.b.PSlow:
		st.Slow++
		slow += p.b.SlowMin + time.Duration(p.rng.Int64N(int64(p.b.SlowMax-p.b.SlowMin)+1))
	}
	h.mu.Unlock()
	cw := &codeWriter{ResponseWriter: w}
	w = cw
	if kind != "5xx" {
		// ParseForm reads a urlencoded body once and keeps it, so the fake still sees every field.
		_ = r.ParseForm()
		text := r.Form.Get("text") + r.Form.Get("caption")
		h.mu.Lock()
		rr.Chat, rr.Marker = r.Form.Get("chat_id"), markerRE.FindString(text)
		h.mu.Unlock()
	}
	defer func() {
		h.mu.Lock()
		h.inflight[client]--
		st.InFlight[client]--
		rr.DoneNS = time.Now().UnixNano()
		rr.Code = cw.code
		h.mu.Unlock()
	}()
	switch kind {
	case "5xx":
		// A front end's answer, written before the request body is read: the Bot API never saw it.
		w.Header().Set("Connection", "close")
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(http.StatusBadGateway)
		_, _ = w.Write([]byte("<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway</h1></center><hr><center>nginx/1.18.0</center></body></html>\n"))
		return
	case "429":
		writeTooMany(w, p.b.RetryAfter)
		return
	}
	if p.b.RateN > 0 {
		if wait := p.reserve(r); wait > 0 {
			h.mu.Lock()
			st.R429++
			h.mu.Unlock()
			writeTooMany(w, int((wait+time.Second-1)/time.Second))
			return
		}
	}
	if slow <= 0 {
		p.fake.ServeHTTP(w, r)
		return
	}
	// Accept (record) the post now, answer later: a client killed or timing out meanwhile never
	// learns that it was posted.
	rec := &bufferedWriter{header: http.Header{}}
	p.fake.ServeHTTP(rec, r)
	select {
	case <-time.After(slow):
	case <-r.Context().Done():
		h.mu.Lock()
		st.Abandoned++
		h.mu.Unlock()
		return
	}
	for k, v := range rec.header {
		w.Header()[k] = v
	}
	w.WriteHeader(rec.code)
	_, _ = w.Write(rec.body.Bytes())
}

// reserve applies the rate mode: it returns how long until the chat may post again when the
// window is full, else takes a place in the window and returns 0. The window is the rate's
// period less 200 ms of allowance for network jitter.
func (p *platform) reserve(r *http.Request) time.Duration {
	chat := r.Form.Get("chat_id")
	now := time.Now()
	span := p.b.RatePeriod - 200*time.Millisecond
	p.hub.mu.Lock()
	defer p.hub.mu.Unlock()
	w := p.window[chat]
	for len(w) > 0 && now.Sub(w[0]) >= span {
		w = w[1:]
	}
	if len(w) >= p.b.RateN {
		p.window[chat] = w
		return w[0].Add(span).Sub(now)
	}
	p.window[chat] = append(w, now)
	return 0
}

// writeTooMany answers like the Bot API's flood control.
// Specs: https://core.telegram.org/bots/api#responseparameters
func writeTooMany(w http.ResponseWriter, retryAfter int) {
	retryAfter = max(retryAfter, 1)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusTooManyRequests)
	_ = json.NewEncoder(w).Encode(map[string]any{"ok": false, "error_code": 429,
		"description": "Too Many Requests: retry after " + strconv.Itoa(retryAfter),
		"parameters":  map[string]any{"retry_after": retryAfter}})
}

type bufferedWriter struct {
	header http.Header
	code   int
	body   bytes.Buffer
}

func (b *bufferedWriter) Header() http.Header { return b.header }
func (b *bufferedWriter) Write(p []byte) (int, error) {
	if b.code == 0 {
		b.code = http.StatusOK
	}
	return b.body.Write(p)
}
func (b *bufferedWriter) WriteHeader(code int) {
	if b.code == 0 {
		b.code = code
	}
}

func (h *hub) control() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /posts", func(w http.ResponseWriter, r *http.Request) {
		since, _ := strconv.Atoi(r.URL.Query().Get("since"))
		h.mu.Lock()
		since = min(max(since, 0), len(h.posts))
		out := map[string]any{"next": len(h.posts), "posts": append([]Post{}, h.posts[since:]...)}
		h.mu.Unlock()
		writeJSON(w, out)
	})
	mux.HandleFunc("GET /stats", func(w http.ResponseWriter, r *http.Request) {
		h.mu.Lock()
		defer h.mu.Unlock()
		writeJSON(w, h.stats)
	})
	mux.HandleFunc("GET /inflight", func(w http.ResponseWriter, r *http.Request) {
		h.mu.Lock()
		n := h.inflight[r.URL.Query().Get("client")]
		h.mu.Unlock()
		writeJSON(w, map[string]int{"inflight": n})
	})
	mux.HandleFunc("GET /requests", func(w http.ResponseWriter, r *http.Request) {
		h.mu.Lock()
		out := []reqRecord{}
		client, all := r.URL.Query().Get("client"), !r.URL.Query().Has("client")
		for c, rrs := range h.requests {
			if all || c == client {
				for _, rr := range rrs {
					out = append(out, *rr)
				}
			}
		}
		h.mu.Unlock()
		writeJSON(w, out)
	})
	mux.HandleFunc("POST /reset", func(w http.ResponseWriter, r *http.Request) {
		h.mu.Lock()
		h.posts = nil
		names := make([]string, 0, len(h.stats))
		for n := range h.stats {
			names = append(names, n)
		}
		sort.Strings(names)
		for _, n := range names {
			h.stats[n] = &Stats{InFlight: map[string]int{}}
			p := h.platforms[n]
			p.window = map[string][]time.Time{}
		}
		h.inflight = map[string]int{}
		h.requests = map[string][]*reqRecord{}
		h.mu.Unlock()
		for _, n := range names {
			p := h.platforms[n]
			p.fake.Reset()
			p.fake.OnAccept(p.accepted) // Reset forgets the hook
		}
		writeJSON(w, map[string]bool{"ok": true})
	})
	return mux
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}
