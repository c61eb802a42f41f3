package queue

// Retract against the platform fakes on a real Redis: sent posts deleted on X, Facebook and
// Telegram, pending deliveries cancelled, a second retract deleting nothing, delete errors
// classified like sends, and a channel that cannot delete reported.

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"herald/article"
	"herald/channels"
	"herald/channels/facebook"
	"herald/channels/facebook/facebookfake"
	"herald/channels/telegram"
	"herald/channels/telegram/telegramfake"
	"herald/channels/x"
	"herald/channels/x/xfake"
	"herald/formatter"
	"herald/internal/redistest"
)

type retractEnv struct {
	t      *testing.T
	broker *Broker
	routes map[channels.Name]Route
	chans  map[channels.Name]channels.Channel
	x      *xfake.Server
	fb     *facebookfake.Server
	tg     *telegramfake.Server
	plain  *scripted // a channel whose platform cannot delete (no channels.Deleter)
}

func buildChannel(t *testing.T, name channels.Name, kind channels.Kind, doc string, build func(channels.Spec, channels.Env) (channels.Channel, error)) Route {
	t.Helper()
	var settings yaml.Node
	if err := yaml.Unmarshal([]byte(doc), &settings); err != nil {
		t.Fatal(err)
	}
	ch, err := build(channels.Spec{Name: name, Kind: kind, Settings: *settings.Content[0]}, channels.Env{})
	if err != nil {
		t.Fatal(err)
	}
	r, err := formatter.New(kind, formatter.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return Route{Channel: ch, Renderer: r, MaxAttempts: 3}
}

func newRetractEnv(t *testing.T) *retractEnv {
	t.Helper()
	rdb, _ := redistest.Start(t)
	e := &retractEnv{t: t, broker: NewBroker(rdb, Options{}), x: xfake.New(), fb: facebookfake.New(), tg: telegramfake.New(), plain: &scripted{name: "plain"}}
	t.Cleanup(e.x.Close)
	t.Cleanup(e.fb.Close)
	t.Cleanup(e.tg.Close)
	c := xfake.DefaultCredentials
	e.routes = map[channels.Name]Route{
		"x": buildChannel(t, "x", channels.KindX, fmt.Sprintf("consumer_key: %q\nconsumer_secret: %q\naccess_token: %q\naccess_secret: %q\napi_base: %q\ntimeout: 1s\n",
			c.ConsumerKey, c.ConsumerSecret, c.AccessToken, c.AccessSecret, e.x.APIBase()), x.New),
		"fb": buildChannel(t, "fb", channels.KindFacebook, fmt.Sprintf("page_id: %q\npage_token: %q\ngraph_base: %q\ntimeout: 1s\n",
			facebookfake.DefaultPage, facebookfake.DefaultToken, e.fb.GraphBase()), facebook.New),
		"tg": buildChannel(t, "tg", channels.KindTelegram, fmt.Sprintf("token: %q\nchat_id: \"@%s\"\napi_endpoint: %q\ntimeout: 1s\n",
			telegramfake.DefaultToken, telegramfake.DefaultChat.Username, e.tg.Endpoint()), telegram.New),
	}
	tgR, _ := formatter.New(channels.KindTelegram, formatter.Options{})
	e.routes["plain"] = Route{Channel: e.plain, Renderer: tgR, MaxAttempts: 3}
	e.chans = map[channels.Name]channels.Channel{}
	for n, r := range e.routes {
		e.chans[n] = r.Channel
	}
	return e
}

var retractTargets = []Target{{Name: "x", Kind: channels.KindX}, {Name: "fb", Kind: channels.KindFacebook}, {Name: "tg", Kind: channels.KindTelegram}, {Name: "plain", Kind: channels.KindTelegram}}

func (e *retractEnv) publish(id string, targets []Target) {
	e.t.Helper()
	a := &article.Article{ID: id, URL: "https://example.com/news/" + id, Title: "عنوان الخبر " + id}
	a.Normalize()
	if _, err := e.broker.Publish(context.Background(), a, targets); err != nil {
		e.t.Fatalf("publish: %v", err)
	}
}

func (e *retractEnv) start() {
	w := NewWorker(e.broker, e.routes, testOpts(e.t))
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); _ = w.Run(ctx) }()
	e.t.Cleanup(func() { cancel(); wg.Wait() })
}

func (e *retractEnv) waitAll(id string, want State) {
	e.t.Helper()
	waitFor(e.t, 20*time.Second, func() bool {
		ds, err := e.broker.Deliveries(context.Background(), id)
		if err != nil || len(ds) == 0 {
			return false
		}
		for _, d := range ds {
			if d.State != want {
				return false
			}
		}
		return true
	})
}

func results(r *Retraction) map[channels.Name]RetractResult {
	out := map[channels.Name]RetractResult{}
	for _, x := range r.Results {
		out[x.Channel] = x
	}
	return out
}

func (e *retractEnv) deleteRequests() (xn, fbn, tgn int) {
	for _, r := range e.x.Requests() {
		if r.Method == http.MethodDelete {
			xn++
		}
	}
	for _, r := range e.fb.Requests() {
		if r.Method == http.MethodDelete {
			fbn++
		}
	}
	for _, r := range e.tg.Requests() {
		if r.Method == "deleteMessage" {
			tgn++
		}
	}
	return
}

// TestRetractDeletesSentPostsOnEveryPlatform: after a retract the fakes no longer hold the posts,
// the records and the delivery log say retracted with who; the channel that cannot delete is
// reported and keeps its post; retracting again sends no delete request.
func TestRetractDeletesSentPostsOnEveryPlatform(t *testing.T) {
	ctx := context.Background()
	e := newRetractEnv(t)
	e.start()
	e.publish("r1", retractTargets)
	e.waitAll("r1", StateSent)

	r, err := e.broker.Retract(ctx, "r1", "", "editor@desk", e.chans)
	if err != nil {
		t.Fatal(err)
	}
	res := results(r)
	for _, n := range []channels.Name{"x", "fb", "tg"} {
		if res[n].Result != "retracted" {
			t.Errorf("%s: %+v, want retracted", n, res[n])
		}
		d, err := e.broker.Delivery(ctx, "r1", n)
		if err != nil || d.State != StateRetracted || d.RetractedBy != "editor@desk" || d.RetractedAt.IsZero() {
			t.Errorf("%s record: %+v %v", n, d, err)
		}
	}
	if res["plain"].Result != "cannot-delete" {
		t.Errorf("plain: %+v, want cannot-delete", res["plain"])
	}
	if d, _ := e.broker.Delivery(ctx, "r1", "plain"); d.State != StateSent {
		t.Errorf("plain record %+v: a post that stays must stay sent", d)
	}
	xp := e.x.Posts()
	if len(xp) != 1 || len(e.x.Deleted()) != 1 || e.x.Deleted()[0] != xp[0].ID {
		t.Errorf("X posts %+v deleted %v", xp, e.x.Deleted())
	}
	fp := e.fb.Posts()
	if len(fp) != 1 || !e.fb.Deleted(fp[0].ID) {
		t.Errorf("Facebook posts %+v: not deleted", fp)
	}
	if n := len(e.tg.Messages()); n != 0 || len(e.tg.DeletedMessages()) != 1 {
		t.Errorf("Telegram still holds %d messages, deleted %v", n, e.tg.DeletedMessages())
	}
	// The delivery log has one retracted entry per deleted post, with who asked.
	log, err := e.broker.Log(ctx, 50)
	if err != nil {
		t.Fatal(err)
	}
	var retracted int
	err = e.broker.scanLog(ctx, func(ev LogEvent) bool {
		if ev.Status == string(StateRetracted) {
			retracted++
			if ev.By != "editor@desk" || ev.RemoteID == "" {
				t.Errorf("log entry %+v: want by and the remote id", ev)
			}
		}
		return true
	})
	if err != nil || retracted != 3 {
		t.Fatalf("%d retracted log entries (%v), want 3; log %+v", retracted, err, log)
	}

	// Twice: nothing deleted again.
	r2, err := e.broker.Retract(ctx, "r1", "", "editor@desk", e.chans)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []channels.Name{"x", "fb", "tg"} {
		if results(r2)[n].Result != "already" {
			t.Errorf("second retract %s: %+v, want already", n, results(r2)[n])
		}
	}
	if xn, fbn, tgn := e.deleteRequests(); xn != 1 || fbn != 1 || tgn != 1 {
		t.Fatalf("delete requests x=%d fb=%d tg=%d, want one each", xn, fbn, tgn)
	}
	// A retracted post is not brought back by a retry (same revision): only a deliberate repost.
	if _, err := e.broker.Requeue(ctx, "r1", "tg", "retry", "admin"); err == nil || !strings.Contains(err.Error(), "retracted") {
		t.Fatalf("retry of a retracted delivery: %v, want a refusal naming retracted", err)
	}
	if d, _, _ := getDelivery(ctx, e.broker.rdb, "r1", "tg"); d.State != StateRetracted {
		t.Fatalf("after the refused retry the record is %s, want retracted", d.State)
	}
	// One channel only, and an unknown one.
	if _, err := e.broker.Retract(ctx, "r1", "nope", "editor@desk", e.chans); !errors.Is(err, ErrNotFound) {
		t.Fatalf("unknown channel: %v", err)
	}
	if _, err := e.broker.Retract(ctx, "never-published", "", "editor@desk", e.chans); !errors.Is(err, ErrNotFound) {
		t.Fatalf("unknown article: %v", err)
	}
}

// TestRetractCancelsPendingDeliveries: a delivery not yet sent is cancelled and never posted,
// even though its task is still queued.
func TestRetractCancelsPendingDeliveries(t *testing.T) {
	ctx := context.Background()
	e := newRetractEnv(t)
	e.publish("p1", retractTargets[:3]) // no worker yet: all pending
	r, err := e.broker.Retract(ctx, "p1", "", "wordpress", e.chans)
	if err != nil {
		t.Fatal(err)
	}
	for _, x := range r.Results {
		if x.Result != "cancelled" {
			t.Errorf("%s: %+v, want cancelled", x.Channel, x)
		}
	}
	e.start()
	// A second article proves the worker ran through the queued tasks of the first.
	e.publish("p2", retractTargets[:3])
	e.waitAll("p2", StateSent)
	waitFor(t, 10*time.Second, func() bool {
		st, err := e.broker.Stats("x")
		return err == nil && st.Pending == 0 && st.Active == 0
	})
	e.waitAll("p1", StateRetracted)
	if n := len(e.x.Posts()); n != 1 {
		t.Errorf("X has %d posts, want only p2's", n)
	}
	if n := len(e.fb.Posts()); n != 1 {
		t.Errorf("Facebook has %d posts, want only p2's", n)
	}
	if n := len(e.tg.Messages()); n != 1 {
		t.Errorf("Telegram has %d messages, want only p2's", n)
	}
	if xn, fbn, tgn := e.deleteRequests(); xn+fbn+tgn != 0 {
		t.Errorf("delete requests for posts never sent: %d %d %d", xn, fbn, tgn)
	}
}

// TestRetractDeleteErrorsClassifiedLikeSends: a rate limit is waited for and a 5xx retried
// (the post is deleted in the end); a permanent error (Telegram's 48-hour limit) and an auth
// error are reported failed at once, the delivery stays sent, and a later retract tries again.
func TestRetractDeleteErrorsClassifiedLikeSends(t *testing.T) {
	ctx := context.Background()
	e := newRetractEnv(t)
	e.start()
	e.publish("e1", retractTargets[:3])
	e.waitAll("e1", StateSent)

	e.x.FailDeleteNext(503, `{"title":"Service Unavailable","detail":"Service Unavailable","type":"about:blank","status":503}`, nil)
	e.fb.FailDeleteNext(500, 2, 0, "An unexpected error has occurred. Please retry your request later.", nil)
	e.tg.FailDeleteNext(1, 429, "", 1)
	start := time.Now()
	r, err := e.broker.Retract(ctx, "e1", "", "admin", e.chans)
	if err != nil {
		t.Fatal(err)
	}
	for _, x := range r.Results {
		if x.Result != "retracted" || x.Attempts != 2 {
			t.Errorf("%s: %+v, want retracted on the second attempt", x.Channel, x)
		}
	}
	if time.Since(start) < time.Second {
		t.Errorf("Telegram's retry_after 1 was not waited for")
	}

	e.publish("e2", retractTargets[2:3])
	waitFor(t, 20*time.Second, func() bool {
		d, err := e.broker.Delivery(ctx, "e2", "tg")
		return err == nil && d.State == StateSent
	})
	e.tg.Age(telegramfake.DefaultChat.ID, e.tg.Messages()[0].MessageID, telegramfake.DeleteLimit)
	r, err = e.broker.Retract(ctx, "e2", "tg", "admin", e.chans)
	if err != nil {
		t.Fatal(err)
	}
	if got := results(r)["tg"]; got.Result != "failed" || got.Attempts != 1 || !r.Failed() {
		t.Fatalf("48-hour-old message: %+v, want failed after one attempt", got)
	}
	d, _ := e.broker.Delivery(ctx, "e2", "tg")
	if d.State != StateSent || d.Error == "" {
		t.Fatalf("record after a failed delete: %+v, want sent with the error", d)
	}
	e.tg.Age(telegramfake.DefaultChat.ID, e.tg.Messages()[0].MessageID, -telegramfake.DeleteLimit)
	e.tg.SetToken("000:revoked")
	r, err = e.broker.Retract(ctx, "e2", "tg", "admin", e.chans)
	if err != nil || results(r)["tg"].Result != "failed" || results(r)["tg"].Attempts != 1 {
		t.Fatalf("401 on delete: %+v %v, want failed at once", r, err)
	}
	if msg := results(r)["tg"].Error; strings.Contains(msg, telegramfake.DefaultToken) || !strings.Contains(msg, "401") {
		t.Fatalf("the delete error %q must say 401 and never hold the bot token", msg)
	}
	e.tg.SetToken(telegramfake.DefaultToken)
	r, err = e.broker.Retract(ctx, "e2", "tg", "admin", e.chans)
	if err != nil || results(r)["tg"].Result != "retracted" || len(e.tg.Messages()) != 0 {
		t.Fatalf("retract after the fix: %+v %v", r, err)
	}
}

// TestRetractAuthErrorKeepsTheTokenOut: a Graph auth error on delete (code 190) is reported at
// once with the reason, the record stays sent, and neither the result nor the record hold the
// Page token; the delivery log's retracted filter finds only real retractions.
func TestRetractAuthErrorKeepsTheTokenOut(t *testing.T) {
	ctx := context.Background()
	e := newRetractEnv(t)
	e.start()
	e.publish("a1", retractTargets[1:2])
	e.waitAll("a1", StateSent)
	e.fb.FailDeleteNext(400, 190, 460, "Error validating access token: The session has been invalidated.", nil)
	r, err := e.broker.Retract(ctx, "a1", "fb", "admin", e.chans)
	if err != nil {
		t.Fatal(err)
	}
	got := results(r)["fb"]
	if got.Result != "failed" || got.Attempts != 1 || !strings.Contains(got.Error, "190") || strings.Contains(got.Error, facebookfake.DefaultToken) {
		t.Fatalf("auth error on delete: %+v", got)
	}
	d, _ := e.broker.Delivery(ctx, "a1", "fb")
	if d.State != StateSent || strings.Contains(d.Error, facebookfake.DefaultToken) {
		t.Fatalf("record %+v", d)
	}
	page, err := e.broker.QueryLog(ctx, LogQuery{Status: string(StateRetracted)})
	if err != nil || len(page.Entries) != 0 {
		t.Fatalf("retracted entries after a failed delete: %+v %v", page, err)
	}
	if r, err := e.broker.Retract(ctx, "a1", "fb", "admin", e.chans); err != nil || results(r)["fb"].Result != "retracted" {
		t.Fatalf("retract after the token is fine again: %+v %v", r, err)
	}
	page, err = e.broker.QueryLog(ctx, LogQuery{Status: string(StateRetracted)})
	if err != nil || len(page.Entries) != 1 || page.Entries[0].ArticleID != "a1" {
		t.Fatalf("retracted entries: %+v %v", page, err)
	}
}

// A repost is a new post: until it is sent the record must not carry the id of the post it
// replaces. Here the old post was retracted (deleted), the repost's outcome is unknown (a 504),
// and a second retract must cancel it with the check-by-hand note — not "delete" the old,
// already deleted post again and call the delivery deleted on the platform while the new post
// may be live. (Fails with the remote id kept across the repost.)
func TestRepostDoesNotKeepTheOldPostsID(t *testing.T) {
	ctx := context.Background()
	e := newRetractEnv(t)
	e.start()
	tgOnly := []Target{{Name: "tg", Kind: channels.KindTelegram}}
	e.publish("rp", tgOnly)
	e.waitAll("rp", StateSent)
	if r, err := e.broker.Retract(ctx, "rp", "tg", "desk", e.chans); err != nil || results(r)["tg"].Result != "retracted" {
		t.Fatalf("first retract: %+v %v", r, err)
	}
	e.tg.FailNext(1, 504, "Gateway Timeout")
	d, err := e.broker.Requeue(ctx, "rp", "tg", "repost", "admin")
	if err != nil {
		t.Fatal(err)
	}
	if d.RemoteID != "" || d.PostURL != "" {
		t.Errorf("reposted record %+v: still names the old post", d)
	}
	e.waitAll("rp", StateUnknown)
	if d, _ := e.broker.Delivery(ctx, "rp", "tg"); d.RemoteID != "" || d.PostURL != "" || d.RetractedBy != "" {
		t.Errorf("unknown repost %+v: names the old post or its retraction", d)
	}
	r, err := e.broker.Retract(ctx, "rp", "tg", "desk", e.chans)
	if err != nil {
		t.Fatal(err)
	}
	if got := results(r)["tg"]; got.Result != "cancelled" {
		t.Fatalf("retract of the unknown repost: %+v, want cancelled", got)
	}
	if d, _ := e.broker.Delivery(ctx, "rp", "tg"); d.State != StateRetracted || !strings.Contains(d.Error, "by hand") {
		t.Fatalf("record %+v: want retracted with the check-by-hand note", d)
	}
	if _, _, tgn := e.deleteRequests(); tgn != 1 {
		t.Fatalf("%d deleteMessage requests, want 1 (the first retract's)", tgn)
	}
}
