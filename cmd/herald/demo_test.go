package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"herald/channels"
	"herald/sandbox"
)

// TestChannelLogLinesCarryEachKeyOnce: every line a channel logs (debug request lines, the X
// "image left out" warning), with the channels built as `herald serve` and `herald demo` build
// them, names its channel once. The logger cmd/herald passed in carried "channel" and the
// channels added it again: x: image left out of the post {"channel": "x-demo", "channel": "x-demo", ...}.
func TestChannelLogLinesCarryEachKeyOnce(t *testing.T) {
	sb, err := sandbox.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer sb.Close()
	arts, err := sb.Samples()
	if err != nil {
		t.Fatal(err)
	}
	a := arts[len(arts)-1] // sample-ar.json, the one with an image
	if !strings.HasSuffix(a.ImageURL, "/gateway.jpg") {
		t.Fatalf("sample image %q", a.ImageURL)
	}
	a.ImageURL = strings.TrimSuffix(a.ImageURL, "gateway.jpg") + "missing.png" // 404: X leaves it out, with a warning
	core, logs := observer.New(zapcore.DebugLevel)
	routes, err := buildRoutes(sb.Config, zap.New(core), sb.HTTPClient())
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for name, r := range routes {
		posts, err := r.Renderer.Render(&a)
		if err != nil {
			t.Fatalf("%s: rendering: %v", name, err)
		}
		if _, err := r.Channel.Send(ctx, channels.Message{ArticleID: "a1", Key: "a1:" + string(name), Attempt: 1, Posts: posts}); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
	}
	named := map[string]bool{}
	warned := false
	for _, e := range logs.All() {
		seen := map[string]int{}
		for _, f := range e.Context {
			seen[f.Key]++
		}
		for k, n := range seen {
			if n != 1 {
				t.Errorf("%q carries %q %d times: %v", e.Message, k, n, e.ContextMap())
			}
		}
		name, _ := e.ContextMap()["channel"].(string)
		if name == "" {
			t.Errorf("%q does not name its channel: %v", e.Message, e.ContextMap())
		}
		named[name] = true
		warned = warned || e.Message == "x: image left out of the post"
	}
	if !warned {
		t.Error(`no "x: image left out of the post" line`)
	}
	for name := range routes {
		if !named[string(name)] {
			t.Errorf("channel %s logged nothing at debug level", name)
		}
	}
}
