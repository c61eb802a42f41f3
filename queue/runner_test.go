package queue

import (
	"context"
	"errors"
	"testing"

	"github.com/hibiken/asynq"
	"go.uber.org/zap"
)

// Deliveries run on reused runners: a delivery's result and panic come back to asynq's
// goroutine as the handler's own, and the runners end with the worker.
func TestRunnersReuseAndEndWithTheWorker(t *testing.T) {
	p := &runners{maxIdle: 2}
	log := zap.NewNop()
	calls := 0 // only ever one delivery at a time here
	run := func(ctx context.Context, task *asynq.Task) error {
		calls++
		switch string(task.Payload()) {
		case "fail":
			return errors.New("failed")
		case "panic":
			panic("boom")
		}
		return nil
	}
	r := p.get(run, log)
	r.in <- runJob{ctx: context.Background(), task: asynq.NewTask("t", []byte("ok"))}
	if res := <-r.out; res.err != nil || res.panicked {
		t.Fatalf("ok: %+v", res)
	}
	p.put(r)
	if again := p.get(run, log); again != r {
		t.Fatal("an idle runner was not reused")
	} else {
		again.in <- runJob{ctx: context.Background(), task: asynq.NewTask("t", []byte("fail"))}
		if res := <-again.out; res.err == nil || res.err.Error() != "failed" {
			t.Fatalf("fail: %+v", res)
		}
		again.in <- runJob{ctx: context.Background(), task: asynq.NewTask("t", []byte("panic"))}
		if res := <-again.out; !res.panicked || res.panicVal != "boom" {
			t.Fatalf("panic: %+v", res)
		}
		p.put(again)
	}
	p.close()
	// A closed input ends the runner's loop.
	if _, open := <-r.in; open {
		t.Fatal("an idle runner was not ended by close")
	}
	late := p.get(run, log) // busy while the worker stopped: ended when it is put back
	p.put(late)
	if _, open := <-late.in; open {
		t.Fatal("a runner put back after close was kept")
	}
	if calls != 3 {
		t.Fatalf("%d calls, want 3", calls)
	}
}

func TestWorkerHandleRepanicsOnAsynqsGoroutine(t *testing.T) {
	w := &Worker{log: zap.NewNop(), runners: &runners{maxIdle: 1}}
	defer w.runners.close()
	defer func() {
		if x := recover(); x == nil {
			t.Fatal("no panic reached the handler's caller")
		}
	}()
	// An unreadable task makes handleTask fail; a nil task makes it panic.
	if err := w.handle(context.Background(), asynq.NewTask(taskType, []byte("{"))); !errors.Is(err, asynq.SkipRetry) {
		t.Fatalf("unreadable task: %v, want SkipRetry", err)
	}
	_ = w.handle(context.Background(), nil)
}
