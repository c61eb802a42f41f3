package queue

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"herald/internal/redistest"
)

// The bench's yardsticks: every task runs the handler once, mark brackets the processing, and a
// failing handler fails the run (a post-only baseline that silently posted nothing would make
// its rate meaningless).
func TestAsynqBaselineRunsTheHandlerAndReportsItsFailure(t *testing.T) {
	rdb, _ := redistest.Start(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var calls, marks atomic.Int64
	took, err := AsynqBaseline(ctx, rdb, 50, WorkerOptions{Concurrency: 4},
		func(context.Context) error { calls.Add(1); return nil }, func() { marks.Add(1) })
	if err != nil || took <= 0 {
		t.Fatalf("baseline: %v, %v", took, err)
	}
	if calls.Load() != 50 || marks.Load() != 2 {
		t.Fatalf("handler ran %d times (want 50), mark %d (want 2)", calls.Load(), marks.Load())
	}
	boom := errors.New("fake answered 500")
	var n atomic.Int64
	_, err = AsynqBaseline(ctx, rdb, 20, WorkerOptions{Concurrency: 4}, func(context.Context) error {
		if n.Add(1) == 7 {
			return boom
		}
		return nil
	}, nil)
	if !errors.Is(err, boom) {
		t.Fatalf("a failing handler: err = %v, want %v", err, boom)
	}
}
