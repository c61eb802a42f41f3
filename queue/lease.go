package queue

// The sender lease: one process at a time sends for a channel whose in-flight cap is 1.
//
// Within one process a paced channel keeps publish order because its asynq server has one
// worker: tasks are dequeued in order and each reserves its send slot (slotScript) before the
// next is dequeued. With several `herald serve` processes each would run such a server: A
// dequeues article 1, B article 2, B reserves its slot first, or B's send overtakes A's slower
// one, and the channel's posts come out of order. So only the process holding the channel's
// sender lease (a Redis key, SET NX PX, owner = WorkerOptions.Owner) runs that channel's
// server; the others stand by and try to take the lease about once a second.
//
// Safety rests on one rule: the holder stops taking deliveries before its lease could have
// expired. A renewal sent at time s keeps the key at least until s + TTL (Redis sets the expiry
// when the command arrives, after s), so the holder, on its own clock, stops at s + TTL −
// margin unless a later renewal confirmed; a renewal that finds another owner, or no key (an
// operator deleted it), stops it at once. Stopping is asynq's Server.Stop: when it returns the
// processor takes nothing more from the queue; the send in flight, if any, finishes (its slot is
// already reserved ahead of anything a successor reserves, and its claim token guards the
// ledger), while Shutdown drains in the background. An asynq.Server cannot be started again, so
// every holding builds a new one.
//
// The TTL (WorkerOptions.SenderLease, default 6 s) is a trade: a kill -9 of the holder hands the
// channel over after at most TTL + one stand-by try (≈7 s), while renewals every TTL/3 leave
// room for a lost reply (go-redis waits its 3 s read timeout, then re-runs the script) before
// the TTL/6 margin runs out. A Redis outage longer than that stops every holder; when Redis is
// back the leases have expired and the first stand-by try (within a second) takes each channel.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"
	"go.uber.org/zap"

	"herald/channels"
)

// defaultSenderLease is WorkerOptions.SenderLease's default (see the top of this file).
const defaultSenderLease = 6 * time.Second

// senderKey holds the owner id of the process sending for a channel (PX = the lease's end).
func senderKey(ch channels.Name) string { return keyPrefix + "sender:{" + string(ch) + "}" }

// Leased reports whether a channel is sent for by one process at a time under a sender lease:
// its in-flight cap is 1 (inFlight as configured, 0 = default: 1 with a rate limit, else the
// worker's concurrency, default 10).
func Leased(l Limit, inFlight, concurrency int) bool {
	if inFlight > 0 {
		return inFlight == 1
	}
	if !l.IsZero() {
		return true
	}
	return concurrency == 1
}

// acquireSenderScript takes a free lease, or extends one this owner already holds (so a re-run
// after a lost reply answers as the first run did).
//
//	KEYS[1] sender key; ARGV[1] owner, ARGV[2] TTL ms. Returns 1 when the caller holds it.
var acquireSenderScript = redis.NewScript(`
local cur = redis.call("GET", KEYS[1])
if cur == ARGV[1] then
  redis.call("PEXPIRE", KEYS[1], ARGV[2])
  return 1
end
if cur then return 0 end
redis.call("SET", KEYS[1], ARGV[1], "PX", ARGV[2])
return 1
`)

// renewSenderScript extends the lease only if the caller still holds it: a missing key is a
// lost lease (someone may have held it since), not one to take again here.
//
//	KEYS[1] sender key; ARGV[1] owner, ARGV[2] TTL ms. Returns 1 when extended.
var renewSenderScript = redis.NewScript(`
if redis.call("GET", KEYS[1]) == ARGV[1] then
  redis.call("PEXPIRE", KEYS[1], ARGV[2])
  return 1
end
return 0
`)

// releaseSenderScript deletes the lease if the caller holds it (an orderly stop), so a
// stand-by takes over at its next try instead of after the TTL.
var releaseSenderScript = redis.NewScript(`
if redis.call("GET", KEYS[1]) == ARGV[1] then return redis.call("DEL", KEYS[1]) end
return 0
`)

// SenderLease says which process sends for a leased channel (herald channels, GET /v1/channels).
type SenderLease struct {
	// Owner is the holding process's worker id (host:pid:random); empty when none holds it:
	// no process is running, or they stood down while Redis could not confirm the lease.
	Owner string    `json:"owner"`
	Until time.Time `json:"until,omitzero"` // the lease's end unless renewed (every TTL/3)
}

// Sender reads a channel's sender lease.
func (b *Broker) Sender(ctx context.Context, ch channels.Name) (SenderLease, error) {
	pipe := b.rdb.Pipeline()
	owner := pipe.Get(ctx, senderKey(ch))
	ttl := pipe.PTTL(ctx, senderKey(ch))
	if _, err := pipe.Exec(ctx); err != nil && !errors.Is(err, redis.Nil) {
		return SenderLease{}, fmt.Errorf("queue: reading the sender lease of %s: %w", ch, err)
	}
	l := SenderLease{Owner: owner.Val()}
	if l.Owner != "" && ttl.Val() > 0 {
		l.Until = b.opts.Now().Add(ttl.Val()).UTC().Truncate(time.Millisecond)
	}
	return l, nil
}

// senderTimes are a lease's timings, all derived from its TTL.
type senderTimes struct {
	ttl     time.Duration
	renew   time.Duration // renew this long after the last confirmed renewal was sent
	margin  time.Duration // stop this long before the lease could have expired
	retry   time.Duration // next renewal try after an error
	standby time.Duration // a stand-by's tries
}

func newSenderTimes(ttl time.Duration) senderTimes {
	if ttl <= 0 {
		ttl = defaultSenderLease
	}
	return senderTimes{ttl: ttl, renew: ttl / 3, margin: ttl / 6, retry: min(ttl/12, 250*time.Millisecond), standby: min(ttl/6, time.Second)}
}

// sender runs one leased channel in this process: stand by, take the lease, run the channel's
// asynq server while renewing, stop it when the lease is lost, stand by again.
type sender struct {
	w     *Worker
	name  channels.Name
	route Route
	t     senderTimes
	log   *zap.Logger
	// drains are servers of lost holdings still finishing their send in flight.
	drains sync.WaitGroup
	stint  int // the current holding's number; bells of earlier holdings are dropped
}

func (w *Worker) newSender(name channels.Name, r Route) *sender {
	return &sender{w: w, name: name, route: r, t: newSenderTimes(w.opts.SenderLease),
		log: w.log.With(zap.String("channel", string(name)), zap.String("owner", w.opts.Owner))}
}

// run takes and holds the lease until ctx ends; it returns after the channel's server (and
// every draining one) has stopped and the lease is released.
func (s *sender) run(ctx context.Context) {
	defer s.drains.Wait()
	failing := false
	for {
		at := time.Now()
		ok, err := s.call(ctx, acquireSenderScript)
		if ctx.Err() != nil {
			return
		}
		switch {
		case err != nil && !failing:
			s.log.Warn("sender lease: cannot reach Redis; standing by", zap.Error(err))
			failing = true
		case err == nil:
			failing = false
		}
		if ok && time.Since(at) < s.t.ttl-s.t.margin {
			if s.hold(ctx, at.Add(s.t.ttl-s.t.margin)) {
				return
			}
		}
		t := time.NewTimer(s.t.standby)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
	}
}

// call runs one lease script for this process; ok is the script's 1.
func (s *sender) call(ctx context.Context, script *redis.Script) (bool, error) {
	cctx, cancel := context.WithTimeout(ctx, s.t.ttl)
	defer cancel()
	n, err := script.Run(cctx, s.w.rdb, []string{senderKey(s.name)}, s.w.opts.Owner, s.t.ttl.Milliseconds()).Int()
	return n == 1, err
}

// hold runs the channel's server while the lease lasts: deadline is when it must stop unless a
// renewal confirms. It reports true when ctx ended (the server is shut down, the lease
// released), false when the lease was lost (the server takes nothing more; it drains in the
// background).
func (s *sender) hold(ctx context.Context, deadline time.Time) bool {
	s.stint++
	lost := make(chan struct{})
	srv, err := s.w.startServer(s.name, s.route, s.bell(s.stint, lost))
	if err != nil {
		s.log.Error("sender lease: starting the channel's worker", zap.Error(err))
		s.release()
		return false
	}
	if err := s.w.ringBell(ctx, s.name, s.stint); err != nil && ctx.Err() == nil {
		s.log.Warn("parking an idle worker", zap.Error(err))
	}
	s.log.Info("sender lease taken: sending for the channel")
	type renewal struct {
		at  time.Time
		ok  bool
		err error
	}
	done := make(chan renewal, 1) // one renewal in flight at a time
	inFlight := false
	next := deadline.Add(-s.t.ttl + s.t.margin + s.t.renew)
	timer := time.NewTimer(0)
	defer timer.Stop()
	reason := ""
	for reason == "" {
		now := time.Now()
		if !now.Before(deadline) {
			reason = "no renewal confirmed in time"
			break
		}
		if !inFlight && !now.Before(next) {
			inFlight = true
			go func() {
				// Not ctx: a renewal must not be cut short by the stop it races with.
				ok, err := s.call(context.Background(), renewSenderScript)
				done <- renewal{now, ok, err}
			}()
		}
		wake := deadline
		if !inFlight && next.Before(wake) {
			wake = next
		}
		timer.Reset(time.Until(wake))
		select {
		case <-ctx.Done():
			// An orderly stop: no new work, the send in flight finishes (Run's stopping makes
			// a wait for a slot hand its delivery back), then the successor may start at once.
			srv.Stop()
			close(lost)
			srv.Shutdown()
			s.release()
			return true
		case r := <-done:
			inFlight = false
			switch {
			case r.err != nil:
				s.log.Debug("sender lease: renewal failed; trying again", zap.Error(r.err))
				next = time.Now().Add(s.t.retry)
			case !r.ok:
				reason = "held by another process or removed"
			default:
				deadline, next = r.at.Add(s.t.ttl-s.t.margin), r.at.Add(s.t.renew)
			}
		case <-timer.C:
		}
	}
	// Stop returns once asynq's processor has stopped dequeuing: from here this process takes
	// no delivery of the channel, before any other process can hold the lease. It waits for the
	// processor's current look at the queue (an idle pause of up to 1.5 poll intervals, or a
	// dequeue in flight, which cannot succeed while Redis is unreachable).
	s.log.Warn("sender lease lost: stopping the channel's worker", zap.String("reason", reason))
	srv.Stop()
	close(lost)
	s.log.Info("sender lease lost: the channel's worker takes no more deliveries")
	s.drains.Add(1)
	go func() { defer s.drains.Done(); srv.Shutdown() }()
	return false
}

// release gives the lease up (compare-and-delete), on its own short deadline: it runs when the
// worker is stopping.
func (s *sender) release() {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := releaseSenderScript.Run(ctx, s.w.rdb, []string{senderKey(s.name)}, s.w.opts.Owner).Err(); err != nil {
		s.log.Warn("sender lease: releasing (it expires by itself)", zap.Error(err))
		return
	}
	s.log.Info("sender lease released")
}

// bell is Worker.bell for a leased channel, whose one worker has one bell per holding (its
// Slot is the holding's number): a bell of an earlier holding, this process's or another's, is
// dropped (the holder rang its own), and a lost lease ends the wait without re-parking, so
// bells do not pile up in the queue over handovers.
func (s *sender) bell(stint int, lost <-chan struct{}) asynq.HandlerFunc {
	return func(ctx context.Context, t *asynq.Task) error {
		var b bellPayload
		if json.Unmarshal(t.Payload(), &b) != nil || b.Owner != s.w.opts.Owner || b.Slot != stint {
			return nil
		}
		timer := time.NewTimer(s.w.opts.IdleWake)
		defer timer.Stop()
	wait:
		for {
			select {
			case <-s.w.wake[s.name]:
				break wait
			case <-timer.C:
				if s.w.hasWork(ctx, s.name) {
					break wait
				}
				timer.Reset(s.w.opts.IdleWake)
			case <-lost:
				return nil
			case <-s.w.stopping:
				return nil
			case <-ctx.Done():
				break wait
			}
		}
		if err := s.w.ringBell(context.WithoutCancel(ctx), s.name, stint); err != nil {
			s.log.Warn("re-parking an idle worker", zap.Error(err))
		}
		return nil
	}
}

// startServer starts one channel's asynq server (urgent, backlog, bells; see Run) with bell as
// its bell handler.
func (w *Worker) startServer(name channels.Name, r Route, bell asynq.HandlerFunc) (*asynq.Server, error) {
	srv := asynq.NewServerFromRedisClient(w.rdb, w.serverConfig(name, r))
	mux := asynq.NewServeMux()
	mux.HandleFunc(taskType, w.handle)
	mux.Handle(bellType, bell)
	if err := srv.Start(mux); err != nil {
		return nil, fmt.Errorf("queue: starting worker of %s: %w", name, err)
	}
	return srv, nil
}
