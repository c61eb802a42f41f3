package queue

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"testing"
	"time"

	"herald/channels"
	"herald/channels/telegram"
	"herald/channels/telegram/telegramfake"
)

// hangingTelegram puts a proxy in front of the env's Telegram fake that forwards everything but
// the methods named (lower case), which it never answers: Telegram's API up for sends, and
// hanging, as an overloaded or blackholed API does, for deletes or edits. A route named "a-tg"
// (the first in the order the deliveries are read) goes through it, with the default per-request timeout (15 s), longer than the call's budget
// (cut to 3 s here, which the hung call spends whole).
func (e *retractEnv) hangingTelegram(methods ...string) {
	e.t.Helper()
	target, err := url.Parse(e.tg.URL())
	if err != nil {
		e.t.Fatal(err)
	}
	fwd := httputil.NewSingleHostReverseProxy(target)
	release := make(chan struct{})
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := strings.ToLower(r.URL.Path)
		for _, m := range methods {
			if strings.HasSuffix(p, "/"+m) {
				select {
				case <-r.Context().Done():
				case <-release:
				}
				return
			}
		}
		fwd.ServeHTTP(w, r)
	}))
	e.t.Cleanup(func() { close(release); proxy.Close() })
	// The hung call spends the whole budget: a short one keeps the test short.
	budget := retractBudget
	retractBudget = 3 * time.Second
	e.t.Cleanup(func() { retractBudget = budget })
	e.routes["a-tg"] = buildChannel(e.t, "a-tg", channels.KindTelegram, fmt.Sprintf("token: %q\nchat_id: \"@%s\"\napi_endpoint: %q\n",
		telegramfake.DefaultToken, telegramfake.DefaultChat.Username, proxy.URL+"/bot%s/%s"), telegram.New)
	e.chans["a-tg"] = e.routes["a-tg"].Channel
}

// TestRetractOfAPlatformThatHangsStillTakesTheOthersBack: Telegram's API hangs on deleteMessage.
// The deletes ran one channel after another under one 20-second budget, so the hung delete
// spent the whole budget and every channel after it failed without a request ("context deadline
// exceeded"), call after call: a takedown could not reach X and Facebook while Telegram was
// down. Each channel's delete now runs beside the others, under the same budget.
func TestRetractOfAPlatformThatHangsStillTakesTheOthersBack(t *testing.T) {
	ctx := context.Background()
	e := newRetractEnv(t)
	e.hangingTelegram("deletemessage")
	e.start()
	e.publish("h1", []Target{{Name: "a-tg", Kind: channels.KindTelegram}, {Name: "x", Kind: channels.KindX}, {Name: "fb", Kind: channels.KindFacebook}})
	e.waitAll("h1", StateSent)
	start := time.Now()
	r, err := e.broker.Retract(ctx, "h1", "", "desk", e.chans)
	if err != nil {
		t.Fatal(err)
	}
	res := results(r)
	for _, n := range []channels.Name{"x", "fb"} {
		if res[n].Result != "retracted" {
			t.Errorf("%s: %+v, want retracted although Telegram hangs", n, res[n])
		}
	}
	if res["a-tg"].Result != "failed" {
		t.Errorf("a-tg: %+v, want failed", res["a-tg"])
	}
	if took := time.Since(start); took > retractBudget+10*time.Second {
		t.Errorf("the retract took %s", took)
	}
	if len(e.x.Deleted()) != 1 || !e.fb.Deleted(e.fb.Posts()[0].ID) {
		t.Errorf("X deleted %v, Facebook posts %+v: want both deleted", e.x.Deleted(), e.fb.Posts())
	}
}

// TestCorrectOfAPlatformThatHangsStillEditsTheOthers: the same for a correction: Telegram's API
// hangs on editMessageText, and Facebook's post is edited all the same.
func TestCorrectOfAPlatformThatHangsStillEditsTheOthers(t *testing.T) {
	ctx := context.Background()
	e := newRetractEnv(t)
	e.hangingTelegram("editmessagetext", "editmessagecaption")
	e.start()
	e.publish("h2", []Target{{Name: "a-tg", Kind: channels.KindTelegram}, {Name: "fb", Kind: channels.KindFacebook}})
	e.waitAll("h2", StateSent)
	c, err := e.broker.Correct(ctx, corrected("h2", "العنوان المصحح h2"), "", "desk", e.routes)
	if err != nil {
		t.Fatal(err)
	}
	res := correctResults(c)
	if res["fb"].Result != "edited" || res["a-tg"].Result != "failed" {
		t.Fatalf("results %+v: want fb edited although Telegram hangs, a-tg failed", c.Results)
	}
	if p := e.fb.Posts(); len(p) != 1 || !strings.Contains(p[0].Message, "العنوان المصحح h2") {
		t.Fatalf("Facebook posts %+v: want the corrected title", p)
	}
}

// TestRetractWaitsForAnEditInFlight: a correction is editing the Telegram message (Telegram slow
// to answer) when a takedown comes. The retract deleted the message under the edit, which then
// failed and wrote "edit failed: …" on the retracted record (or, had it gone through, "edited"
// on a post deleted a moment later). A correction already waits for a retract in flight (busy);
// a retract now waits for an edit in flight the same way: busy, run it again.
func TestRetractWaitsForAnEditInFlight(t *testing.T) {
	ctx := context.Background()
	e := newRetractEnv(t)
	e.hangingTelegram("editmessagetext", "editmessagecaption")
	e.start()
	e.publish("h3", []Target{{Name: "a-tg", Kind: channels.KindTelegram}})
	e.waitAll("h3", StateSent)
	done := make(chan *Correction, 1)
	go func() {
		c, err := e.broker.Correct(ctx, corrected("h3", "العنوان المصحح h3"), "", "desk", e.routes)
		if err != nil {
			t.Error(err)
		}
		done <- c
	}()
	waitFor(t, 10*time.Second, func() bool {
		v, err := e.broker.rdb.HGet(ctx, ledgerKey("h3", "a-tg"), "edit_token").Result()
		return err == nil && v != ""
	})
	r, err := e.broker.Retract(ctx, "h3", "", "desk", e.chans)
	if err != nil {
		t.Fatal(err)
	}
	if got := results(r)["a-tg"]; got.Result != "busy" {
		t.Errorf("retract during the edit: %+v, want busy", got)
	}
	if c := <-done; correctResults(c)["a-tg"].Result != "failed" {
		t.Fatalf("correct %+v: want failed (Telegram never answered)", c)
	}
	if len(e.tg.Messages()) != 1 {
		t.Fatal("the message was deleted under the edit")
	}
	r, err = e.broker.Retract(ctx, "h3", "", "desk", e.chans)
	if err != nil || results(r)["a-tg"].Result != "retracted" {
		t.Fatalf("retract after the edit: %+v %v, want retracted", r, err)
	}
	if d, _ := e.broker.Delivery(ctx, "h3", "a-tg"); d.State != StateRetracted || d.Error != "" {
		t.Fatalf("record %+v: want retracted, no error", d)
	}
}
