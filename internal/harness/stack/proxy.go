package stack

import (
	"io"
	"math/rand/v2"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// DropProxy is a TCP proxy in front of Redis that now and then drops a reply: it swallows what
// the server answered and closes the client's connection, so the client wrote a command that
// ran but never learns the result (go-redis then sees EOF and, for most commands, runs the
// command again on a new connection). This is the "lost reply" of issue 6, point 3.
type DropProxy struct {
	Addr    string
	backend string
	ln      net.Listener
	p       float64 // probability of dropping one read of server output
	max     int64   // at most this many drops in all
	drops   atomic.Int64
	on      atomic.Bool
	mu      sync.Mutex
	rng     *rand.Rand
	conns   map[net.Conn]struct{}
	times   []time.Time
}

// StartDropProxy listens on a free loopback port and forwards to backend, dropping each chunk
// of server output with probability p (at most max times) while enabled.
func StartDropProxy(backend string, p float64, max int64, seed uint64) (*DropProxy, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	d := &DropProxy{Addr: ln.Addr().String(), backend: backend, ln: ln, p: p, max: max,
		rng: rand.New(rand.NewPCG(seed, 7)), conns: map[net.Conn]struct{}{}}
	go d.accept()
	return d, nil
}

// Enable turns dropping on or off (forwarding goes on either way).
func (d *DropProxy) Enable(on bool) { d.on.Store(on) }

// Drops is how many replies were dropped.
func (d *DropProxy) Drops() int64 { return d.drops.Load() }

// Close stops listening and closes every connection.
func (d *DropProxy) Close() {
	_ = d.ln.Close()
	d.mu.Lock()
	defer d.mu.Unlock()
	for c := range d.conns {
		_ = c.Close()
	}
}

func (d *DropProxy) track(c net.Conn, add bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if add {
		d.conns[c] = struct{}{}
	} else {
		delete(d.conns, c)
	}
}

func (d *DropProxy) accept() {
	for {
		c, err := d.ln.Accept()
		if err != nil {
			return
		}
		go d.serve(c)
	}
}

func (d *DropProxy) drop() bool {
	if !d.on.Load() || d.drops.Load() >= d.max {
		return false
	}
	d.mu.Lock()
	hit := d.rng.Float64() < d.p
	d.mu.Unlock()
	if !hit || d.drops.Add(1) > d.max {
		return false
	}
	d.mu.Lock()
	d.times = append(d.times, time.Now())
	d.mu.Unlock()
	return true
}

// DropTimes are when replies were dropped.
func (d *DropProxy) DropTimes() []time.Time {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]time.Time(nil), d.times...)
}

func (d *DropProxy) serve(client net.Conn) {
	server, err := net.Dial("tcp", d.backend)
	if err != nil {
		_ = client.Close() // Redis is down: the client sees its connection closed
		return
	}
	d.track(client, true)
	d.track(server, true)
	closeBoth := func() {
		_ = client.Close()
		_ = server.Close()
		d.track(client, false)
		d.track(server, false)
	}
	go func() {
		_, _ = io.Copy(server, client)
		closeBoth()
	}()
	buf := make([]byte, 32<<10)
	for {
		n, err := server.Read(buf)
		if n > 0 {
			if d.drop() {
				closeBoth()
				return
			}
			if _, werr := client.Write(buf[:n]); werr != nil {
				break
			}
		}
		if err != nil {
			break
		}
	}
	closeBoth()
}
