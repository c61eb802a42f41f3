package redistest

import (
	"bytes"
	"math/rand/v2"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Proxy is a TCP proxy in front of a Redis server that can lose replies: the command reaches
// Redis and runs, but its reply never reaches the client, whose connection is closed instead.
// That is what a client sees when a network path fails after the request was written (go-redis
// then re-runs the command on a new connection), so tests can prove that a script's re-run
// answers as its first run did.
//
// Point a client at Addr(); arm a loss with DropNext (one reply, of the next command whose
// request bytes contain a pattern) or SetDropRate (a share of all matching commands, for chaos
// runs). Commands are matched on the raw RESP request, so "EVALSHA" matches every script call
// and a script's SHA or an argument such as a key matches one script or one key.
type Proxy struct {
	ln       net.Listener
	upstream string

	mu      sync.Mutex
	next    [][]byte // patterns whose next matching command loses its reply (one each)
	rate    float64  // share of commands matching ratePat that lose their reply
	ratePat []byte
	conns   map[net.Conn]struct{}
	closed  bool

	dropped atomic.Int64
	wg      sync.WaitGroup
}

// NewProxy listens on a free loopback port and forwards every connection to upstream
// ("127.0.0.1:6379"). Close it when done; StartProxy does that for tests.
func NewProxy(upstream string) (*Proxy, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	p := &Proxy{ln: ln, upstream: upstream, conns: map[net.Conn]struct{}{}}
	p.wg.Add(1)
	go p.accept()
	return p, nil
}

// StartProxy is NewProxy for a test: it fails the test on error and closes the proxy at the end.
func StartProxy(t testing.TB, upstream string) *Proxy {
	t.Helper()
	p, err := NewProxy(upstream)
	if err != nil {
		t.Fatalf("redistest: starting proxy: %v", err)
	}
	t.Cleanup(func() { _ = p.Close() })
	return p
}

// Addr is the address clients dial instead of the server's.
func (p *Proxy) Addr() string { return p.ln.Addr().String() }

// DropNext makes the next command whose request contains pattern lose its reply. Calls add up:
// DropNext("x") twice drops two replies.
func (p *Proxy) DropNext(pattern string) {
	p.mu.Lock()
	p.next = append(p.next, []byte(pattern))
	p.mu.Unlock()
}

// SetDropRate makes each command whose request contains pattern ("" = every command) lose its
// reply with probability rate (0 turns it off).
func (p *Proxy) SetDropRate(rate float64, pattern string) {
	p.mu.Lock()
	p.rate, p.ratePat = rate, []byte(pattern)
	p.mu.Unlock()
}

// Dropped counts the replies lost so far.
func (p *Proxy) Dropped() int64 { return p.dropped.Load() }

// Close stops listening and closes every proxied connection.
func (p *Proxy) Close() error {
	p.mu.Lock()
	p.closed = true
	for c := range p.conns {
		_ = c.Close()
	}
	p.mu.Unlock()
	err := p.ln.Close()
	p.wg.Wait()
	return err
}

func (p *Proxy) accept() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		up, err := net.DialTimeout("tcp", p.upstream, 2*time.Second)
		if err != nil {
			_ = c.Close()
			continue
		}
		p.mu.Lock()
		if p.closed {
			p.mu.Unlock()
			_ = c.Close()
			_ = up.Close()
			return
		}
		p.conns[c], p.conns[up] = struct{}{}, struct{}{}
		p.mu.Unlock()
		p.wg.Add(2)
		pc := &proxyConn{p: p, client: c, up: up}
		go pc.requests()
		go pc.replies()
	}
}

// shouldDrop decides, for one request chunk, whether its reply is lost.
func (p *Proxy) shouldDrop(req []byte) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	for i, pat := range p.next {
		if bytes.Contains(req, pat) {
			p.next = append(p.next[:i], p.next[i+1:]...)
			return true
		}
	}
	return p.rate > 0 && bytes.Contains(req, p.ratePat) && rand.Float64() < p.rate
}

type proxyConn struct {
	p          *Proxy
	client, up net.Conn
	drop       atomic.Bool // the reply to the last forwarded request must be lost
	once       sync.Once
}

func (pc *proxyConn) close() {
	pc.once.Do(func() {
		_ = pc.client.Close()
		_ = pc.up.Close()
		pc.p.mu.Lock()
		delete(pc.p.conns, pc.client)
		delete(pc.p.conns, pc.up)
		pc.p.mu.Unlock()
	})
}

// requests copies client → Redis, arming a drop before forwarding a matching request so the
// reply reader cannot miss it.
func (pc *proxyConn) requests() {
	defer pc.p.wg.Done()
	buf := make([]byte, 64<<10)
	for {
		n, err := pc.client.Read(buf)
		if n > 0 {
			if pc.p.shouldDrop(buf[:n]) {
				pc.drop.Store(true)
			}
			if _, werr := pc.up.Write(buf[:n]); werr != nil {
				pc.close()
				return
			}
			if pc.drop.Load() {
				// Nothing more from this client may reach Redis; replies() hangs up once the
				// reply has come back, exactly as a broken network path would leave it.
				return
			}
		}
		if err != nil {
			pc.close()
			return
		}
	}
}

// replies copies Redis → client; when a drop is armed it reads the reply (so the command has
// run), throws it away and closes the client's connection.
func (pc *proxyConn) replies() {
	defer pc.p.wg.Done()
	defer pc.close()
	buf := make([]byte, 64<<10)
	for {
		n, err := pc.up.Read(buf)
		if n > 0 {
			if pc.drop.Load() {
				// Drain what else of the reply is on its way, then hang up on the client.
				_ = pc.up.SetReadDeadline(time.Now().Add(20 * time.Millisecond))
				for {
					if _, err := pc.up.Read(buf); err != nil {
						break
					}
				}
				pc.p.dropped.Add(1)
				return
			}
			if _, werr := pc.client.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}
