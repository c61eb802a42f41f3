package web

// /openapi.yaml describes what POST /v1/hooks/wordpress answers to a trash event: the
// retraction, 200 or 502. A client checking answers against the document refused both.

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"herald/channels"
	"herald/queue"
)

func TestOpenAPIDescribesTheWordPressTrashAnswers(t *testing.T) {
	doc := loadOpenAPI(t)
	e := newHookEnv(t)
	e.startWorker()
	check := func(body []byte, msgID string) int {
		t.Helper()
		req := httptest.NewRequest(http.MethodPost, "/v1/hooks/wordpress", bytes.NewReader(body))
		req.Header = signStandard(t, wpSecret, msgID, e.now, body)
		req.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		e.h.ServeHTTP(rec, req)
		resp, ok := doc.Paths["/v1/hooks/wordpress"]["post"].Responses[strconv.Itoa(rec.Code)]
		if !ok {
			t.Fatalf("answered %d, which web/openapi.yaml does not describe: %s", rec.Code, rec.Body)
		}
		var v any
		if err := json.Unmarshal(rec.Body.Bytes(), &v); err != nil {
			t.Fatal(err)
		}
		if err := validate(doc, resp.Content["application/json"].Schema, v, "$"); err != nil {
			t.Errorf("%d: %v\n%s", rec.Code, err, rec.Body)
		}
		return rec.Code
	}
	publish := func(id int) string {
		t.Helper()
		post := []byte(`{"id":` + strconv.Itoa(id) + `,"status":"publish","link":"https://news.example.com/world/o-` + strconv.Itoa(id) + `/","title":{"rendered":"خبر"}}`)
		if code := check(post, "msg_pub_"+strconv.Itoa(id)); code != http.StatusAccepted {
			t.Fatalf("publish %d: %d", id, code)
		}
		article := "wp-news.example.com-" + strconv.Itoa(id)
		waitFor(t, 15*time.Second, "both posts sent", func() bool {
			for _, ch := range []channels.Name{"tg-a", "tg-b"} {
				if d, err := e.broker.Delivery(context.Background(), article, ch); err != nil || d.State != queue.StateSent {
					return false
				}
			}
			return true
		})
		return `{"id":` + strconv.Itoa(id) + `,"status":"trash","link":"https://news.example.com/world/o-` + strconv.Itoa(id) + `__trashed/","title":{"rendered":"خبر"}}`
	}
	if code := check([]byte(publish(4770)), "msg_trash_4770"); code != http.StatusOK {
		t.Fatalf("trash: %d, want 200", code)
	}
	// Telegram refuses to delete a message older than 48 hours: a failed delete, 502.
	trash := publish(4771)
	e.fake.FailDeleteNext(2, 400, "Bad Request: message can't be deleted", 0)
	if code := check([]byte(trash), "msg_trash_4771"); code != http.StatusBadGateway {
		t.Fatalf("trash whose deletes failed: %d, want 502", code)
	}
}
