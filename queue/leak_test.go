package queue

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"herald/article"
	"herald/channels"
	"herald/formatter"
	"herald/internal/leaktest"
	"herald/internal/redistest"
)

// TestWorkerKeepsEverySecretOut: every channel kind (each WhatsApp gateway too), built through
// the registry with recognisable secrets, delivers through a real worker on a real Redis to a
// loopback server that answers 401, 400 or 500 with the request quoted back (URL, headers,
// body; a credential across the 300-byte excerpt cut) or is not there at all. Whatever the
// worker makes of it (a paused channel, a failed or retried delivery), no secret shows in a
// delivery record, the article's status, the delivery log, the channels' state (their pause
// reasons: herald channels, GET /v1/channels, the dashboard) or a worker log line.
func TestWorkerKeepsEverySecretOut(t *testing.T) {
	ctx := context.Background()
	rdb, _ := redistest.Start(t)
	b := NewBroker(rdb, Options{})
	core, logs := observer.New(zapcore.DebugLevel)
	log := zap.New(core)
	modes := map[string]leaktest.Mode{}
	for _, m := range leaktest.Modes() {
		switch m.Name {
		case "refused", "echo-401-obj", "echo-400-text", "echo-401-tg", "cut-300-500":
			modes[m.Name] = m
		}
	}
	routes := map[channels.Name]Route{}
	var targets []Target
	var cfgs []ChannelConfig
	for _, m := range modes {
		base, _ := leaktest.Start(t, m)
		for _, k := range leaktest.Kinds {
			spec := k.Spec(t, base, "timeout: 5s")
			spec.Name = channels.Name(strings.ToLower(k.Name + "-" + m.Name))
			ch, err := channels.New(spec, channels.Env{Logger: log, HTTPClient: &http.Client{}})
			if err != nil {
				t.Fatalf("%s: %v", spec.Name, err)
			}
			r, err := formatter.New(k.Kind, formatter.Options{})
			if err != nil {
				t.Fatal(err)
			}
			routes[spec.Name] = Route{Channel: ch, Renderer: r, MaxAttempts: 1}
			targets = append(targets, Target{Name: spec.Name, Kind: k.Kind})
			cfgs = append(cfgs, ChannelConfig{Name: spec.Name, Kind: k.Kind})
		}
	}
	a := &article.Article{ID: "leak-1", URL: "https://news.example.com/a/leak-1", Title: "عاجل: خبر الاختبار"}
	a.Normalize()
	if err := a.Validate(); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Publish(ctx, a, targets); err != nil {
		t.Fatal(err)
	}
	opts := testOpts(t)
	opts.Logger = log
	w := NewWorker(b, routes, opts)
	w.sweepMinAge = 0
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- w.Run(runCtx) }()
	t.Cleanup(func() {
		cancel()
		<-done
	})

	// Every delivery was tried and its outcome recorded: an error text, or a final state.
	var ds []Delivery
	waitFor(t, 60*time.Second, func() bool {
		ds = ds[:0]
		for _, tg := range targets {
			d, err := b.Delivery(ctx, a.ID, tg.Name)
			if err != nil || (d.Error == "" && d.State != StateSent && d.State != StateFailed && d.State != StateUnknown) {
				return false
			}
			ds = append(ds, d)
		}
		return true
	})
	var out strings.Builder
	for _, d := range ds {
		fmt.Fprintf(&out, "delivery %s: %+v\n", d.Channel, d)
	}
	st, err := b.Status(ctx, a.ID)
	fmt.Fprintf(&out, "status: %+v %v\n", st, err)
	page, err := b.QueryLog(ctx, LogQuery{ArticleID: a.ID})
	fmt.Fprintf(&out, "log: %+v %v\n", page, err)
	paused, err := b.Paused(ctx)
	fmt.Fprintf(&out, "paused: %+v %v\n", paused, err)
	infos, err := ChannelInfos(ctx, b, cfgs)
	fmt.Fprintf(&out, "channels: %+v %v\n", infos, err)
	for _, e := range logs.All() {
		fmt.Fprintf(&out, "zap %s %s %v\n", e.Level, e.Message, e.ContextMap())
	}
	s := out.String()
	if sec, where, found := leaktest.Find(s, leaktest.AllSecrets()); found {
		t.Fatalf("the secret %q shows: %s", sec, where)
	}
	// The run proves something only if the failures reached the records: auth refusals paused
	// channels, errors were recorded, and the worker logged outcomes.
	if len(paused) == 0 || !strings.Contains(s, "<redacted>") || !strings.Contains(s, "connection refused") || !strings.Contains(s, `"status":"failed"`) && !strings.Contains(s, "status:failed") {
		t.Fatalf("the failures did not reach the records:\n%s", s)
	}
}
