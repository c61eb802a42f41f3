package main

import (
	"context"
	"fmt"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"
	"gopkg.in/yaml.v3"

	"herald/channels"
	"herald/channels/x"
	"herald/channels/x/xfake"
	"herald/queue"
)

func TestStartupCheckWarnsAboutWrongCredentials(t *testing.T) {
	fake := xfake.New()
	defer fake.Close()
	build := func(name, secret string) queue.Route {
		c := xfake.DefaultCredentials
		var n yaml.Node
		doc := fmt.Sprintf("{consumer_key: %q, consumer_secret: %q, access_token: %q, access_secret: %q, api_base: %q}",
			c.ConsumerKey, c.ConsumerSecret, c.AccessToken, secret, fake.APIBase())
		if err := yaml.Unmarshal([]byte(doc), &n); err != nil {
			t.Fatal(err)
		}
		ch, err := x.New(channels.Spec{Name: channels.Name(name), Kind: channels.KindX, Settings: *n.Content[0]}, channels.Env{})
		if err != nil {
			t.Fatal(err)
		}
		return queue.Route{Channel: ch}
	}
	core, logs := observer.New(zapcore.InfoLevel)
	routes := map[channels.Name]queue.Route{
		"x-good": build("x-good", xfake.DefaultCredentials.AccessSecret),
		"x-bad":  build("x-bad", "a-wrong-access-secret"),
	}
	select {
	case <-checkChannels(context.Background(), zap.New(core), routes):
	case <-time.After(30 * time.Second):
		t.Fatal("checks did not finish")
	}
	warn := logs.FilterMessageSnippet("channel check failed").All()
	ok := logs.FilterMessageSnippet("channel check passed").All()
	if len(warn) != 1 || warn[0].ContextMap()["channel"] != "x-bad" || len(ok) != 1 || ok[0].ContextMap()["channel"] != "x-good" {
		t.Fatalf("warnings %+v, passes %+v", warn, ok)
	}
}
