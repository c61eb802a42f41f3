// Package stack starts the real parts the load and fault harnesses (`make bench`, `make chaos`)
// run against: redis-server on a free loopback port, the herald binary (`herald serve`), and the
// fake platforms process (internal/harness/fakes). Everything listens on 127.0.0.1 only and
// lives in one temporary directory.
package stack

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/redis/go-redis/v9"
)

// APIToken is the bearer token every harness herald process is given.
const APIToken = "harness-api-token"

// Root is the module's root directory (where go.mod is).
func Root() (string, error) {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("stack: go env GOMOD: %w", err)
	}
	mod := strings.TrimSpace(string(out))
	if mod == "" || mod == os.DevNull {
		return "", errors.New("stack: run the harness from inside the herald module")
	}
	return filepath.Dir(mod), nil
}

// Build builds the herald binary and the fakes into dir and returns their paths.
func Build(dir string) (herald, fakes string, err error) {
	root, err := Root()
	if err != nil {
		return "", "", err
	}
	herald, fakes = filepath.Join(dir, "herald"), filepath.Join(dir, "fakes")
	for _, b := range [][2]string{{herald, "./cmd/herald"}, {fakes, "./internal/harness/fakes"}} {
		cmd := exec.Command("go", "build", "-o", b[0], b[1])
		cmd.Dir = root
		if out, err := cmd.CombinedOutput(); err != nil {
			return "", "", fmt.Errorf("stack: go build %s: %v\n%s", b[1], err, out)
		}
	}
	return herald, fakes, nil
}

// FreePort returns a loopback port nobody listens on right now.
func FreePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// Redis is a redis-server process on a fixed loopback port and data directory, so it can be
// stopped and started again with its data (AOF) in place.
type Redis struct {
	Addr string
	Dir  string
	AOF  bool
	Port int
	cmd  *exec.Cmd
	done chan struct{}
}

// StartRedis starts redis-server in dir; with aof it appends every write (appendfsync always,
// so a kill loses nothing acknowledged).
func StartRedis(dir string, aof bool) (*Redis, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	port, err := FreePort()
	if err != nil {
		return nil, err
	}
	r := &Redis{Addr: fmt.Sprintf("127.0.0.1:%d", port), Dir: dir, AOF: aof, Port: port}
	return r, r.Start()
}

// Start (re)starts the server on its port and directory and waits until it answers PING.
func (r *Redis) Start() error {
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		return fmt.Errorf("stack: redis-server not found (make redis installs it): %w", err)
	}
	args := []string{"--port", strconv.Itoa(r.Port), "--bind", "127.0.0.1", "--dir", r.Dir,
		"--save", "", "--protected-mode", "yes", "--maxmemory-policy", "noeviction",
		"--logfile", filepath.Join(r.Dir, "redis.log"), "--loglevel", "warning"}
	if r.AOF {
		args = append(args, "--appendonly", "yes", "--appendfsync", "always")
	} else {
		args = append(args, "--appendonly", "no")
	}
	cmd := exec.Command(bin, args...)
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("stack: starting redis-server: %w", err)
	}
	r.cmd, r.done = cmd, make(chan struct{})
	go func() { _ = cmd.Wait(); close(r.done) }()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		c := redis.NewClient(&redis.Options{Addr: r.Addr})
		err := c.Ping(context.Background()).Err()
		_ = c.Close()
		if err == nil {
			return nil
		}
		select {
		case <-r.done:
			b, _ := os.ReadFile(filepath.Join(r.Dir, "redis.log"))
			return fmt.Errorf("stack: redis-server exited: %s", lastLines(string(b), 5))
		case <-time.After(20 * time.Millisecond): // waiting for the server to accept, bounded
		}
	}
	return errors.New("stack: redis-server did not answer PING within 20s")
}

// Stop stops the server: gracefully (SIGTERM, AOF flushed) or with SIGKILL.
func (r *Redis) Stop(graceful bool) {
	if r.cmd == nil {
		return
	}
	if graceful {
		_ = r.cmd.Process.Signal(syscall.SIGTERM)
	} else {
		_ = r.cmd.Process.Kill()
	}
	select {
	case <-r.done:
	case <-time.After(20 * time.Second):
		_ = r.cmd.Process.Kill()
		<-r.done
	}
	r.cmd = nil
}

// Pid is the server's process id (0 when stopped).
func (r *Redis) Pid() int {
	if r.cmd == nil || r.cmd.Process == nil {
		return 0
	}
	return r.cmd.Process.Pid
}

// Client is a new go-redis client on the server.
func (r *Redis) Client() *redis.Client {
	return redis.NewClient(&redis.Options{Addr: r.Addr, ReadTimeout: 30 * time.Second, WriteTimeout: 30 * time.Second})
}

// Fakes is the fake platforms process.
type Fakes struct {
	Control   string            // control URL
	Platforms map[string]string // name → api_endpoint
	Token     string            // the bot token the fakes accept
	cmd       *exec.Cmd
	http      *http.Client
}

// StartFakes runs the fakes binary with args and reads its endpoints.
func StartFakes(bin, logPath string, args ...string) (*Fakes, error) {
	cmd := exec.Command(bin, args...)
	logf, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	cmd.Stderr = logf
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("stack: starting fakes: %w", err)
	}
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		_ = cmd.Process.Kill()
		return nil, fmt.Errorf("stack: reading the fakes' endpoints: %w", err)
	}
	f := &Fakes{cmd: cmd, http: &http.Client{Timeout: 30 * time.Second}}
	var hello struct {
		Control   string            `json:"control"`
		Platforms map[string]string `json:"platforms"`
		Token     string            `json:"token"`
	}
	if err := json.Unmarshal([]byte(line), &hello); err != nil {
		_ = cmd.Process.Kill()
		return nil, fmt.Errorf("stack: fakes said %q: %w", line, err)
	}
	f.Control, f.Platforms, f.Token = hello.Control, hello.Platforms, hello.Token
	return f, nil
}

// Pid is the fakes' process id.
func (f *Fakes) Pid() int {
	if f.cmd == nil || f.cmd.Process == nil {
		return 0
	}
	return f.cmd.Process.Pid
}

// Stop ends the fakes process.
func (f *Fakes) Stop() {
	if f.cmd != nil && f.cmd.Process != nil {
		_ = f.cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { _ = f.cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			_ = f.cmd.Process.Kill()
		}
	}
}

// Post is one post a fake platform accepted.
type Post struct {
	I        int    `json:"i"`
	Platform string `json:"platform"`
	Chat     string `json:"chat"`
	Text     string `json:"text"`
	TimeNS   int64  `json:"t_ns"`
}

// Time is when the fake accepted the post.
func (p Post) Time() time.Time { return time.Unix(0, p.TimeNS) }

// PlatformStats are one fake platform's counters.
type PlatformStats struct {
	Requests  int            `json:"requests"`
	Accepted  int            `json:"accepted"`
	R429      int            `json:"r429"`
	R5xx      int            `json:"r5xx"`
	Slow      int            `json:"slow"`
	Abandoned int            `json:"abandoned"`
	InFlight  map[string]int `json:"inflight"`
}

func (f *Fakes) get(path string, v any) error {
	resp, err := f.http.Get(f.Control + path)
	if err != nil {
		return fmt.Errorf("stack: fakes %s: %w", path, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		return fmt.Errorf("stack: fakes %s: %s", path, resp.Status)
	}
	return json.NewDecoder(resp.Body).Decode(v)
}

// Posts returns the posts accepted from index since on, and the index to ask from next.
func (f *Fakes) Posts(since int) ([]Post, int, error) {
	var out struct {
		Next  int    `json:"next"`
		Posts []Post `json:"posts"`
	}
	err := f.get("/posts?since="+strconv.Itoa(since), &out)
	return out.Posts, out.Next, err
}

// Stats returns every platform's counters.
func (f *Fakes) Stats() (map[string]PlatformStats, error) {
	out := map[string]PlatformStats{}
	return out, f.get("/stats", &out)
}

// InFlight is how many send requests from client the fakes hold unanswered right now.
func (f *Fakes) InFlight(client string) (int, error) {
	var out struct {
		N int `json:"inflight"`
	}
	err := f.get("/inflight?client="+client, &out)
	return out.N, err
}

// Request is one send request a fake received: when its handler started and when it answered
// (zero while unanswered), the status, the chat_id and the article's marker (both empty for a
// 502 answered before reading the request).
type Request struct {
	Client string
	Recv   time.Time
	Done   time.Time
	Code   int
	Chat   string
	Marker string
}

// Requests lists every send request from client ("" = from every client).
func (f *Fakes) Requests(client string) ([]Request, error) {
	var raw []struct {
		Client string `json:"client"`
		Recv   int64  `json:"recv_ns"`
		Done   int64  `json:"done_ns"`
		Code   int    `json:"code"`
		Chat   string `json:"chat"`
		Marker string `json:"marker"`
	}
	path := "/requests"
	if client != "" {
		path += "?client=" + client
	}
	if err := f.get(path, &raw); err != nil {
		return nil, err
	}
	out := make([]Request, len(raw))
	for i, r := range raw {
		out[i] = Request{Client: r.Client, Recv: time.Unix(0, r.Recv), Code: r.Code, Chat: r.Chat, Marker: r.Marker}
		if r.Done != 0 {
			out[i].Done = time.Unix(0, r.Done)
		}
	}
	return out, nil
}

// Reset forgets every post and counter.
func (f *Fakes) Reset() error {
	resp, err := f.http.Post(f.Control+"/reset", "application/json", nil)
	if err != nil {
		return fmt.Errorf("stack: resetting fakes: %w", err)
	}
	resp.Body.Close()
	return nil
}

// Endpoint is platform's api_endpoint with a client label (see the fakes' doc).
func (f *Fakes) Endpoint(platform, client string) string {
	ep := f.Platforms[platform]
	if client == "" {
		return ep
	}
	return strings.Replace(ep, "/bot%s", "/x-"+client+"/bot%s", 1)
}

// Channel is one channel in a generated herald config.
type Channel struct {
	Name     string
	Endpoint string
	Chat     string // username without "@"
	Rate     string // "" = the kind's default
	Extra    string // more YAML lines for the channel, indented by 4
}

// Config is a generated herald config.
type Config struct {
	RedisURL string
	Addr     string
	Token    string // bot token
	Worker   string // YAML lines under worker:, indented by 2 ("" = defaults)
	LogLevel string
	Channels []Channel
}

// Write writes the config as YAML to path.
func (c Config) Write(path string) error {
	var b strings.Builder
	fmt.Fprintf(&b, "redis:\n  url: %q\nhttp:\n  addr: %q\n  api_token: %q\nlog:\n  level: %s\n", c.RedisURL, c.Addr, APIToken, orDefault(c.LogLevel, "info"))
	if c.Worker != "" {
		fmt.Fprintf(&b, "worker:\n%s\n", strings.TrimRight(c.Worker, "\n"))
	}
	b.WriteString("channels:\n")
	for _, ch := range c.Channels {
		fmt.Fprintf(&b, "  - name: %s\n    kind: telegram\n", ch.Name)
		if ch.Rate != "" {
			fmt.Fprintf(&b, "    rate: %s\n", ch.Rate)
		}
		if ch.Extra != "" {
			fmt.Fprintf(&b, "%s\n", strings.TrimRight(ch.Extra, "\n"))
		}
		// bot_rate: unlimited — the fakes do not enforce Telegram's ~30 messages/s per bot, which
		// herald otherwise applies to every channel on one token (the throughput phase would
		// measure that limit, not herald).
		fmt.Fprintf(&b, "    settings:\n      token: %q\n      chat_id: \"@%s\"\n      api_endpoint: %q\n      bot_rate: unlimited\n", c.Token, ch.Chat, ch.Endpoint)
	}
	return os.WriteFile(path, []byte(b.String()), 0o600)
}

func orDefault(s, d string) string {
	if s == "" {
		return d
	}
	return s
}

// Herald is one `herald serve` process.
type Herald struct {
	Name   string
	Addr   string
	Config string
	Log    string
	// Env is added to the process's environment (after the caller's REDIS_URL and HERALD_*
	// variables are left out).
	Env    []string
	bin    string
	cmd    *exec.Cmd
	done   chan struct{}
	err    error
	http   *http.Client
	starts int
}

// NewHerald prepares a process (Start runs it). addr is its API address.
func NewHerald(bin, name, config, addr, logPath string) *Herald {
	return &Herald{Name: name, Addr: addr, Config: config, Log: logPath, bin: bin,
		http: &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 64}}}
}

// Start runs `herald serve` and waits until /healthz answers (readiness needs Redis, which a
// harness may be holding down on purpose; healthz says the process is up).
func (h *Herald) Start() error {
	logf, err := os.OpenFile(h.Log, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	cmd := exec.Command(h.bin, "serve", "--config", h.Config)
	env := []string{}
	for _, e := range os.Environ() {
		if !strings.HasPrefix(e, "REDIS_URL=") && !strings.HasPrefix(e, "HERALD_") {
			env = append(env, e)
		}
	}
	cmd.Env = append(env, h.Env...)
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		logf.Close()
		return fmt.Errorf("stack: starting %s: %w", h.Name, err)
	}
	h.starts++
	h.cmd, h.done = cmd, make(chan struct{})
	go func() { h.err = cmd.Wait(); logf.Close(); close(h.done) }()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-h.done:
			b, _ := os.ReadFile(h.Log)
			return fmt.Errorf("stack: %s exited at start (%v): %s", h.Name, h.err, lastLines(string(b), 8))
		default:
		}
		resp, err := h.http.Get("http://" + h.Addr + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return nil
			}
		}
		time.Sleep(20 * time.Millisecond) // waiting for the listener, bounded by the deadline
	}
	return fmt.Errorf("stack: %s did not answer /healthz within 30s", h.Name)
}

// Pid is the running process's id (0 when not running).
func (h *Herald) Pid() int {
	if h.cmd == nil || h.cmd.Process == nil {
		return 0
	}
	return h.cmd.Process.Pid
}

// Alive reports whether the process is running.
func (h *Herald) Alive() bool {
	if h.done == nil {
		return false
	}
	select {
	case <-h.done:
		return false
	default:
		return true
	}
}

// ExitErr is the last exit's error (nil while running or after a clean exit).
func (h *Herald) ExitErr() error {
	if h.Alive() {
		return nil
	}
	return h.err
}

// Kill sends SIGKILL and waits for the exit.
func (h *Herald) Kill() {
	if !h.Alive() {
		return
	}
	_ = h.cmd.Process.Kill()
	<-h.done
}

// Stop sends SIGTERM and waits up to timeout, then kills.
func (h *Herald) Stop(timeout time.Duration) {
	if !h.Alive() {
		return
	}
	_ = h.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-h.done:
	case <-time.After(timeout):
		h.Kill()
	}
}

// PeakRSSMB is the process's peak resident set (VmHWM) in MiB, read from /proc.
func (h *Herald) PeakRSSMB() float64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", h.Pid()))
	if err != nil {
		return 0
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, _ := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 64)
			return kb / 1024
		}
	}
	return 0
}

// Do calls the API with the harness token.
func (h *Herald) Do(ctx context.Context, method, path string, body []byte) (int, http.Header, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, method, "http://"+h.Addr+path, bytes.NewReader(body))
	if err != nil {
		return 0, nil, nil, err
	}
	req.Header.Set("Authorization", "Bearer "+APIToken)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := h.http.Do(req)
	if err != nil {
		return 0, nil, nil, err
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, out, err
}

// Publish posts an article; it returns the status and the response body.
func (h *Herald) Publish(ctx context.Context, article []byte) (int, http.Header, []byte, error) {
	return h.Do(ctx, http.MethodPost, "/v1/articles", article)
}

// CPUSeconds is the user+system CPU time a process has used, from /proc/<pid>/stat.
func CPUSeconds(pid int) float64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	// The command name (field 2) may hold spaces; the fields after it are space-separated.
	_, rest, ok := strings.Cut(string(b), ") ")
	if !ok {
		return 0
	}
	f := strings.Fields(rest)
	if len(f) < 13 {
		return 0
	}
	ut, _ := strconv.ParseFloat(f[11], 64) // utime, field 14
	st, _ := strconv.ParseFloat(f[12], 64) // stime, field 15
	return (ut + st) / 100                 // clock ticks; USER_HZ is 100 on Linux
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
