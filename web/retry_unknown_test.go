package web

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"

	"go.uber.org/zap"

	"herald/config"
	"herald/ingest"
	"herald/internal/redistest"
	"herald/queue"
)

// POST /v1/channels/{name}/retry-unknown answers how many deliveries it requeued; an unknown
// channel is 404 and the endpoint needs the token.
func TestRetryUnknownEndpoint(t *testing.T) {
	rdb, _ := redistest.Start(t)
	cfg, err := config.Parse([]byte("channels:\n  - {name: tg, kind: telegram}\n"))
	if err != nil {
		t.Fatal(err)
	}
	b := queue.NewBroker(rdb, queue.Options{})
	api := &Server{Publisher: &ingest.Publisher{Config: cfg, Broker: b}, Broker: b, Token: "tok", Logger: zap.NewNop(),
		Channels: []queue.ChannelConfig{{Name: "tg", Kind: "telegram"}}}
	h := api.Handler()
	do := func(path, token string) (int, map[string]any) {
		req := httptest.NewRequest(http.MethodPost, path, nil)
		req.Header.Set("Authorization", "Bearer "+token)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		var body map[string]any
		_ = json.Unmarshal(rec.Body.Bytes(), &body)
		return rec.Code, body
	}
	if code, body := do("/v1/channels/tg/retry-unknown", "tok"); code != http.StatusAccepted || body["requeued"] != float64(0) {
		t.Fatalf("%d %v", code, body)
	}
	if code, _ := do("/v1/channels/nope/retry-unknown", "tok"); code != http.StatusNotFound {
		t.Fatalf("unknown channel: %d", code)
	}
	if code, _ := do("/v1/channels/tg/retry-unknown", "wrong"); code != http.StatusUnauthorized {
		t.Fatalf("wrong token: %d", code)
	}
}
