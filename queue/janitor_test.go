package queue

import (
	"context"
	"errors"
	"testing"
	"time"

	"herald/channels"
)

// What expiry and trimming leave behind is removed by the janitor a worker runs when it starts
// (and every tidyEvery sweeps): the unknown index's member of a delivery whose record expired,
// and the log index entries of a channel removed from the config, which no append trims any
// more. Without Tidy both stay for ever. The indexes of a live channel keep exactly what the
// log keeps.
func TestTidyRemovesWhatExpiryAndTrimmingLeftBehind(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	rdb := e.broker.rdb
	e.broker.opts.Retention = time.Second
	e.broker.opts.LogMaxLen = 10
	// A channel that is later removed from the config: no worker serves it.
	e.publishTo("g1", "gone")
	e.ch.script(fail(channels.UnknownOutcome(errors.New("read timeout"))))
	e.publish("u0")
	stop := e.start(testOpts(t), nil)
	e.waitState("u0", StateUnknown, 10*time.Second)
	stop()
	if ok, _ := rdb.SIsMember(ctx, unknownKey("tg"), "u0:tg").Result(); !ok {
		t.Fatal("u0 is not in tg's unknown index")
	}
	deadline := time.Now().Add(10 * time.Second)
	for rdb.Exists(ctx, ledgerKey("u0", "tg")).Val() == 1 {
		if time.Now().After(deadline) {
			t.Fatal("u0's record never expired")
		}
		time.Sleep(50 * time.Millisecond) // polling a condition, bounded by the deadline
	}
	// Enough entries that the log drops g1's.
	for i := range 400 {
		e.publish("m" + itoa(i))
	}
	first := rdb.XRangeN(ctx, logKey, "-", "+", 1).Val()[0].ID
	goneIx := logIndexChStatus("gone", "pending")
	if ids := rdb.XRange(ctx, goneIx, "-", "+").Val(); len(ids) != 1 || ids[0].ID >= first {
		t.Fatalf("gone's index before tidying: %v (log starts at %s)", ids, first)
	}

	stop = e.start(testOpts(t), nil) // tidies at start
	deadline = time.Now().Add(10 * time.Second)
	for rdb.Exists(ctx, goneIx).Val() == 1 || rdb.Exists(ctx, unknownKey("tg")).Val() == 1 {
		if time.Now().After(deadline) {
			t.Fatalf("not tidied: gone's index %d entries, tg's unknown index %v",
				rdb.XLen(ctx, goneIx).Val(), rdb.SMembers(ctx, unknownKey("tg")).Val())
		}
		time.Sleep(50 * time.Millisecond) // polling a condition, bounded by the deadline
	}
	stop()
	// tg's indexes hold only entries the log still has, and still every one of them.
	if err := e.broker.Tidy(ctx); err != nil {
		t.Fatal(err)
	}
	log := rdb.XRange(ctx, logKey, "-", "+").Val()
	inLog := 0
	for _, m := range log {
		if m.Values["channel"] == "tg" {
			inLog++
		}
	}
	inIx := 0
	for _, st := range append(append([]string(nil), logStatuses...), logOtherStatus) {
		for _, m := range rdb.XRange(ctx, logIndexChStatus("tg", st), "-", "+").Val() {
			if m.ID < log[0].ID {
				t.Errorf("tg's %s index keeps %s, before the log's first entry %s", st, m.ID, log[0].ID)
			}
			inIx++
		}
	}
	page, err := e.broker.QueryLog(ctx, LogQuery{Channel: "tg", Limit: 1000})
	if err != nil || inLog == 0 || inIx != inLog || len(page.Entries) != inLog {
		t.Fatalf("tg: %d entries in the log, %d in its indexes, %d by query (%v)", inLog, inIx, len(page.Entries), err)
	}
}
