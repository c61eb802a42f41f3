package main

import (
	"context"
	"os"
	"os/signal"
	"sync"
	"syscall"

	"go.uber.org/zap"
)

// exitForced is the exit status of a stop cut short by a second signal: a failure (README: 1),
// since sends in flight were abandoned.
const exitForced = 1

// leftInRedis is what a forced stop of herald serve leaves behind, for stopOnSignal's line.
const leftInRedis = "a delivery being sent stays sending until its lease runs out, then turns unknown for an admin to check (herald retry or mark-sent); queued deliveries wait in Redis for the next start"

// stopOnSignal returns a context cancelled by the first SIGINT or SIGTERM, which starts the
// graceful stop (it may wait send_timeout for a send in flight). A second signal during that
// stop ends the process at once through exit(exitForced), after a line saying what is left
// behind (left): signal.NotifyContext kept catching signals until its stop, so an operator's second
// Ctrl-C did nothing while the drain ran. stop releases the signals.
func stopOnSignal(parent context.Context, log *zap.Logger, left string, exit func(int)) (ctx context.Context, stop func()) {
	ctx, cancel := context.WithCancel(parent)
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM)
	done := make(chan struct{})
	go func() {
		select {
		case <-sigs:
			cancel()
		case <-done:
			return
		}
		select {
		case s := <-sigs:
			log.Error("second signal: stopping at once without waiting for sends in flight",
				zap.String("signal", s.String()),
				zap.String("abandoned", left))
			_ = log.Sync()
			exit(exitForced)
		case <-done:
		}
	}()
	var once sync.Once
	return ctx, func() {
		once.Do(func() {
			signal.Stop(sigs)
			close(done)
			cancel()
		})
	}
}
