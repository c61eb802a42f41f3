package queue

import (
	"context"
	"runtime/debug"
	"sync"

	"github.com/hibiken/asynq"
	"go.uber.org/zap"
)

// asynq starts a goroutine for each task it hands out. A delivery runs deep (asynq, the
// formatter, go-redis, net/http, JSON), so that fresh goroutine's stack grew through several
// copies on every delivery: about 5% of herald's CPU per delivery in `make bench`'s profile.
// handle therefore runs each delivery on a long-lived runner goroutine, whose stack has grown
// once, and only waits on asynq's goroutine. Behaviour is the same: the delivery gets the
// task's context, and a panic is raised again on asynq's goroutine, which recovers it as
// before (the runner logs where it happened first).

// runner runs deliveries one at a time.
type runner struct {
	in  chan runJob
	out chan runResult
}

type runJob struct {
	ctx  context.Context
	task *asynq.Task
}

type runResult struct {
	err      error
	panicked bool
	panicVal any
}

// runners keeps the idle runners, most recently used first.
type runners struct {
	mu      sync.Mutex
	idle    []*runner
	maxIdle int
	closed  bool
}

func (p *runners) get(run func(context.Context, *asynq.Task) error, log *zap.Logger) *runner {
	p.mu.Lock()
	if n := len(p.idle); n > 0 {
		r := p.idle[n-1]
		p.idle = p.idle[:n-1]
		p.mu.Unlock()
		return r
	}
	p.mu.Unlock()
	r := &runner{in: make(chan runJob), out: make(chan runResult)}
	go r.loop(run, log)
	return r
}

// put keeps r for the next delivery, or ends it when enough are idle or the worker has stopped.
func (p *runners) put(r *runner) {
	p.mu.Lock()
	if p.closed || len(p.idle) >= p.maxIdle {
		p.mu.Unlock()
		close(r.in)
		return
	}
	p.idle = append(p.idle, r)
	p.mu.Unlock()
}

// close ends the idle runners; a runner busy meanwhile ends when its delivery returns.
func (p *runners) close() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.closed = true
	for _, r := range p.idle {
		close(r.in)
	}
	p.idle = nil
}

func (r *runner) loop(run func(context.Context, *asynq.Task) error, log *zap.Logger) {
	for j := range r.in {
		r.out <- r.run(run, j, log)
	}
}

func (r *runner) run(run func(context.Context, *asynq.Task) error, j runJob, log *zap.Logger) (res runResult) {
	defer func() {
		if x := recover(); x != nil {
			log.Error("delivery panicked", zap.Any("panic", x), zap.ByteString("stack", debug.Stack()))
			res = runResult{panicked: true, panicVal: x}
		}
	}()
	return runResult{err: run(j.ctx, j.task)}
}

// handle is the asynq handler of delivery tasks: it runs handleTask on a runner.
func (w *Worker) handle(ctx context.Context, t *asynq.Task) error {
	r := w.runners.get(w.handleTask, w.log)
	r.in <- runJob{ctx: ctx, task: t}
	res := <-r.out
	w.runners.put(r)
	if res.panicked {
		panic(res.panicVal)
	}
	return res.err
}
