package web

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"herald/queue"
)

// POST /v1/articles/{id}/correct is admin only; it edits the sent Telegram messages in place
// (answering per channel), refuses an invalid article or a mismatched id with 400 changing
// nothing, answers 404 for an unknown article, 502 when an edit failed, and is audited.
func TestCorrectEndpoint(t *testing.T) {
	e := newHookEnv(t)
	e.startWorker()
	post := []byte(`{"id":23,"status":"publish","link":"https://news.example.com/?p=23","title":{"rendered":"عنوان خاطئ"}}`)
	if code, out := e.do("/v1/hooks/wordpress", post, signStandard(t, wpSecret, "msg_pub23", e.now, post)); code != http.StatusAccepted {
		t.Fatalf("publish: %d %v", code, out)
	}
	e.waitMessages(2)
	const id = "wp-news.example.com-23"
	waitFor(t, 10*time.Second, "both deliveries sent", func() bool {
		ds, err := e.broker.Deliveries(context.Background(), id)
		return err == nil && len(ds) == 2 && ds[0].State == queue.StateSent && ds[1].State == queue.StateSent
	})
	path := "/v1/articles/" + id + "/correct"
	body := []byte(`{"url":"https://news.example.com/?p=23","title":"عنوان مصحح"}`)
	if code, _ := e.do(path, body, nil); code != http.StatusUnauthorized {
		t.Fatalf("no token: %d", code)
	}
	bearer := http.Header{"Authorization": {"Bearer tok"}}
	for _, bad := range []string{`{"url":"https://news.example.com/?p=23","title":""}`, `{"id":"other","url":"https://news.example.com/?p=23","title":"x"}`, `{`} {
		if code, out := e.do(path, []byte(bad), bearer); code != http.StatusBadRequest {
			t.Fatalf("%s: %d %v, want 400", bad, code, out)
		}
	}
	if a, _ := e.broker.Article(context.Background(), id); a.Title != "عنوان خاطئ" {
		t.Fatalf("a refused correction changed the stored article: %q", a.Title)
	}
	code, out := e.do(path+"?by=desk", body, bearer)
	if code != http.StatusOK || out["by"] != "desk" {
		t.Fatalf("correct: %d %v", code, out)
	}
	res, _ := out["results"].([]any)
	if len(res) != 2 || res[0].(map[string]any)["result"] != "edited" || res[1].(map[string]any)["result"] != "edited" {
		t.Fatalf("correct: %v, want both edited", out)
	}
	msgs := e.fake.Messages()
	if len(msgs) != 2 {
		t.Fatalf("Telegram holds %d messages, want the 2 edited ones", len(msgs))
	}
	for _, m := range msgs {
		if m.Edits != 1 || !strings.Contains(m.Plain, "عنوان مصحح") || strings.Contains(m.Plain, "خاطئ") {
			t.Fatalf("message after the correction: %+v", m)
		}
	}
	e.fake.FailEditNext(1, 400, "Bad Request: message can't be edited", 0)
	code, out = e.do(path+"?channel=tg-a", []byte(`{"id":"`+id+`","url":"https://news.example.com/?p=23","title":"ثالث"}`), bearer)
	if code != http.StatusBadGateway {
		t.Fatalf("failed edit: %d %v, want 502", code, out)
	}
	if r := out["results"].([]any)[0].(map[string]any); r["result"] != "failed" || !strings.Contains(r["error"].(string), "can't be edited") {
		t.Fatalf("failed edit: %v", out)
	}
	if code, _ := e.do("/v1/articles/nope/correct", []byte(`{"url":"https://news.example.com/nope","title":"x"}`), bearer); code != http.StatusNotFound {
		t.Fatalf("unknown article: %d", code)
	}
	audit, err := e.broker.Audit(context.Background(), 5)
	if err != nil || len(audit) == 0 || audit[0].Action != "correct" {
		t.Fatalf("audit %+v %v", audit, err)
	}
}
