package main

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"time"

	"go.uber.org/zap"
)

// pprofEnv names a loopback address on which `herald serve` serves Go's profiler
// (/debug/pprof/…), for the load harness (`make bench -cpuprofile`) and for an operator chasing
// CPU on one host. Unset (the default), nothing listens.
const pprofEnv = "HERALD_PPROF_ADDR"

// startPprof serves the profiler on the loopback address in HERALD_PPROF_ADDR, if set. It
// refuses any other address: the endpoints are unauthenticated and a profile shows memory.
func startPprof(log *zap.Logger) (stop func(), err error) {
	addr := os.Getenv(pprofEnv)
	if addr == "" {
		return func() {}, nil
	}
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("%s=%s: %w", pprofEnv, addr, err)
	}
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return nil, fmt.Errorf("%s=%s: only a loopback address may serve the profiler", pprofEnv, addr)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("%s=%s: %w", pprofEnv, addr, err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Warn("profiler server", zap.Error(err))
		}
	}()
	log.Info("profiler serving", zap.String("addr", ln.Addr().String()))
	return func() { _ = srv.Close() }, nil
}
