package web

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"herald/channels"
	"herald/queue"
)

// A takedown through the API whose client stops waiting (a CMS's short timeout) is carried out
// to the end: the deletes do not run on the request's context. (Before, the hang-up cancelled
// the delete in progress and the ones after it: the post stayed up, sent.)
func TestAPIRetractFinishesWhenTheClientStopsWaiting(t *testing.T) {
	e := newHookEnv(t)
	e.startWorker()
	art := []byte(`{"id":"hang-api","url":"https://news.example.com/world/hang-api","title":"خبر","channels":["tg-a","tg-b"]}`)
	if code, out := e.do("/v1/articles", art, http.Header{"Authorization": {"Bearer tok"}}); code != http.StatusAccepted {
		t.Fatalf("publish: %d %v", code, out)
	}
	waitFor(t, 15*time.Second, "both deliveries sent", func() bool {
		for _, ch := range []channels.Name{"tg-a", "tg-b"} {
			if d, err := e.broker.Delivery(context.Background(), "hang-api", ch); err != nil || d.State != queue.StateSent {
				return false
			}
		}
		return true
	})
	// Telegram makes the first delete wait a second; the client gives up well before.
	e.fake.FailDeleteNext(1, 429, "Too Many Requests: retry after 1", 1)
	srv := httptest.NewServer(e.h)
	defer srv.Close()
	req, err := http.NewRequest(http.MethodPost, srv.URL+"/v1/articles/hang-api/retract?by=desk", bytes.NewReader(nil))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer tok")
	if resp, err := (&http.Client{Timeout: 300 * time.Millisecond}).Do(req); err == nil {
		resp.Body.Close()
		t.Fatalf("the retract answered %d within 300 ms; the test needs it slower", resp.StatusCode)
	}
	waitFor(t, 15*time.Second, "both posts retracted after the client hung up", func() bool {
		for _, ch := range []channels.Name{"tg-a", "tg-b"} {
			if d, err := e.broker.Delivery(context.Background(), "hang-api", ch); err != nil || d.State != queue.StateRetracted {
				return false
			}
		}
		return true
	})
	if n := len(e.fake.Messages()); n != 0 {
		t.Fatalf("%d messages left, want both deleted", n)
	}
}
