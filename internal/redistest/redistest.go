// Package redistest gives tests a real redis-server. With HERALD_TEST_REDIS_ADDR set it uses that
// server (flushing the chosen DB); otherwise it starts redis-server on a free loopback port with
// a temporary directory and stops it when the test ends. miniredis is deliberately not used:
// the queue's Lua scripts and asynq must be tested against the real thing.
package redistest

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// Server is a running redis-server.
type Server struct {
	Addr string
	cmd  *exec.Cmd
}

var dbCounter atomic.Int32

// Start returns a client on a fresh, empty database. Each call with HERALD_TEST_REDIS_ADDR set
// uses the next DB number (1..15) so parallel packages do not collide; otherwise each test gets
// its own server process.
func Start(t testing.TB) (*redis.Client, *Server) {
	t.Helper()
	if addr := os.Getenv("HERALD_TEST_REDIS_ADDR"); addr != "" {
		db := int(dbCounter.Add(1)%15) + 1
		c := redis.NewClient(&redis.Options{Addr: addr, DB: db})
		if err := c.FlushDB(context.Background()).Err(); err != nil {
			t.Fatalf("redistest: flushing %s db %d: %v", addr, db, err)
		}
		t.Cleanup(func() { _ = c.Close() })
		return c, &Server{Addr: addr}
	}
	s := StartServer(t)
	c := redis.NewClient(&redis.Options{Addr: s.Addr})
	t.Cleanup(func() { _ = c.Close() })
	return c, s
}

// StartServer starts a dedicated redis-server and returns once it answers PING.
func StartServer(t testing.TB) *Server {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		t.Fatalf("redistest: redis-server not found in PATH (run `make deps`, or `apt-get install redis-server`, or set HERALD_TEST_REDIS_ADDR): %v", err)
	}
	dir := t.TempDir()
	var lastErr error
	for try := 0; try < 5; try++ {
		port, err := freePort()
		if err != nil {
			t.Fatalf("redistest: finding a free port: %v", err)
		}
		s, err := launch(bin, dir, port)
		if err == nil {
			t.Cleanup(s.Stop)
			return s
		}
		lastErr = err // most likely the port was taken between probe and bind; try another
	}
	t.Fatalf("redistest: starting redis-server: %v", lastErr)
	return nil
}

func launch(bin, dir string, port int) (*Server, error) {
	args := []string{
		"--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--dir", dir,
		"--save", "", "--appendonly", "no", "--protected-mode", "yes",
		"--maxmemory-policy", "noeviction", "--loglevel", "warning",
	}
	cmd := exec.Command(bin, args...)
	logf, err := os.Create(filepath.Join(dir, fmt.Sprintf("redis-%d.log", port)))
	if err != nil {
		return nil, err
	}
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	s := &Server{Addr: fmt.Sprintf("127.0.0.1:%d", port), cmd: cmd}
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if ping(s.Addr) {
			return s, nil
		}
		if cmd.ProcessState != nil {
			break
		}
		time.Sleep(20 * time.Millisecond) // polling for the server to accept, bounded by deadline
	}
	s.Stop()
	b, _ := os.ReadFile(logf.Name())
	return nil, fmt.Errorf("redis-server on port %d did not answer PING: %s", port, strings.TrimSpace(string(b)))
}

func ping(addr string) bool {
	c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
	if err != nil {
		return false
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(time.Second))
	if _, err := c.Write([]byte("PING\r\n")); err != nil {
		return false
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	return err == nil && strings.HasPrefix(line, "+PONG")
}

// Stop kills the server (it holds no data worth saving).
func (s *Server) Stop() {
	if s.cmd == nil || s.cmd.Process == nil {
		return
	}
	_ = s.cmd.Process.Kill()
	_ = s.cmd.Wait()
	s.cmd = nil
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
