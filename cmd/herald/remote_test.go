package main

import (
	"net/http/httptest"
	"strings"
	"testing"

	"go.uber.org/zap"

	"herald/config"
	"herald/ingest"
	"herald/internal/redistest"
	"herald/queue"
	"herald/web"
)

// An unknown article or delivery exits 3 through --server, as it does against Redis.
func TestRemoteNotFoundExits3(t *testing.T) {
	rdb, _ := redistest.Start(t)
	cfg, err := config.Parse([]byte("channels:\n  - {name: tg, kind: telegram}\n"))
	if err != nil {
		t.Fatal(err)
	}
	b := queue.NewBroker(rdb, queue.Options{})
	api := &web.Server{Publisher: &ingest.Publisher{Config: cfg, Broker: b}, Broker: b, Token: testToken, Logger: zap.NewNop(), Channels: cfgChannels(cfg)}
	srv := httptest.NewServer(api.Handler())
	defer srv.Close()
	t.Setenv("HERALD_API_TOKEN", testToken)
	for _, args := range [][]string{
		{"status", "--server", srv.URL, "nope"},
		{"retry", "--server", srv.URL, "nope", "tg"},
		{"repost", "--server", srv.URL, "nope", "tg"},
	} {
		if _, errOut, code := runCLI(t, "", args...); code != 3 || !strings.Contains(errOut, "404") {
			t.Errorf("%v: exit %d (%s), want 3", args, code, errOut)
		}
	}
	// Other client errors keep exit 2.
	if _, errOut, code := runCLI(t, "", "pause", "--server", srv.URL, "nope"); code != 2 {
		t.Errorf("pause of an unknown channel: exit %d (%s), want 2", code, errOut)
	}
}
