package main

import (
	"io"
	"net"
	"net/http"
	"testing"

	"go.uber.org/zap"
)

func TestPprofServesOnlyOnLoopback(t *testing.T) {
	for _, addr := range []string{"0.0.0.0:0", ":0", "192.0.2.1:6060", "example.com:6060", "nonsense"} {
		t.Setenv(pprofEnv, addr)
		if stop, err := startPprof(zap.NewNop()); err == nil {
			stop()
			t.Errorf("%s=%s: started, want refused", pprofEnv, addr)
		}
	}
	t.Setenv(pprofEnv, "")
	stop, err := startPprof(zap.NewNop())
	if err != nil {
		t.Fatal(err)
	}
	stop()

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	ln.Close()
	t.Setenv(pprofEnv, "127.0.0.1:"+port)
	stop, err = startPprof(zap.NewNop())
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	resp, err := http.Get("http://127.0.0.1:" + port + "/debug/pprof/cmdline")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || len(body) == 0 {
		t.Fatalf("cmdline: %s %q", resp.Status, body)
	}
}
