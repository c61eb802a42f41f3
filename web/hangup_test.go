package web

// The plugin waits HERALD_TIMEOUT (5 s) for an answer; a trash event whose deletes take longer
// (a platform's 429 to wait out, many channels) must still finish them.

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

func TestWordPressTrashFinishesWhenThePluginStopsWaiting(t *testing.T) {
	e := newHookEnv(t)
	e.startWorker()
	post := []byte(`{"id":4740,"status":"publish","link":"https://news.example.com/world/hangup/","title":{"rendered":"خبر"}}`)
	if code, out := e.do("/v1/hooks/wordpress", post, signStandard(t, wpSecret, "msg_pub_4740", e.now, post)); code != http.StatusAccepted {
		t.Fatalf("publish: %d %v", code, out)
	}
	const id = "wp-news.example.com-4740"
	waitFor(t, 15*time.Second, "both deliveries sent", func() bool {
		for _, ch := range []channels.Name{"tg-a", "tg-b"} {
			if d, err := e.broker.Delivery(context.Background(), id, ch); err != nil || d.State != queue.StateSent {
				return false
			}
		}
		return true
	})

	// Telegram makes the first delete wait a second; the plugin gives up well before.
	e.fake.FailDeleteNext(1, 429, "Too Many Requests: retry after 1", 1)
	srv := httptest.NewServer(e.h)
	defer srv.Close()
	trash := []byte(`{"id":4740,"status":"trash","link":"https://news.example.com/world/hangup__trashed/","title":{"rendered":"خبر"}}`)
	req, err := http.NewRequest(http.MethodPost, srv.URL+"/v1/hooks/wordpress", bytes.NewReader(trash))
	if err != nil {
		t.Fatal(err)
	}
	req.Header = signStandard(t, wpSecret, "msg_trash_4740", e.now, trash)
	req.Header.Set("Content-Type", "application/json")
	client := &http.Client{Timeout: 300 * time.Millisecond}
	if resp, err := client.Do(req); err == nil {
		resp.Body.Close()
		t.Fatalf("the trash event answered %d within 300 ms; the test needs it slower", resp.StatusCode)
	}
	waitFor(t, 15*time.Second, "both posts retracted after the plugin hung up", func() bool {
		for _, ch := range []channels.Name{"tg-a", "tg-b"} {
			if d, err := e.broker.Delivery(context.Background(), id, ch); err != nil || d.State != queue.StateRetracted {
				return false
			}
		}
		return true
	})
	if n := len(e.fake.Messages()); n != 0 {
		t.Fatalf("%d messages left, want both deleted", n)
	}
	// The plugin's retry of the event it saw time out: already processed.
	waitFor(t, 5*time.Second, "the retry answered as a duplicate", func() bool {
		code, out := e.do("/v1/hooks/wordpress", trash, signStandard(t, wpSecret, "msg_trash_4740", e.now, trash))
		return code == http.StatusOK && out["duplicate"] == true
	})
}
