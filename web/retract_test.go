package web

import (
	"context"
	"net/http"
	"testing"
	"time"

	"go.uber.org/zap"

	"herald/channels"
	"herald/config"
	"herald/queue"
)

// builtChannels builds cfg's channels as serve does, for the retract paths.
func builtChannels(t *testing.T, cfg *config.Config) map[channels.Name]channels.Channel {
	t.Helper()
	out := map[channels.Name]channels.Channel{}
	for _, c := range cfg.Channels {
		ch, err := channels.New(c.Spec, channels.Env{Logger: zap.NewNop()})
		if err != nil {
			t.Fatal(err)
		}
		out[c.Spec.Name] = ch
	}
	return out
}

func (e *hookEnv) deleteRequests() int {
	n := 0
	for _, r := range e.fake.Requests() {
		if r.Method == "deleteMessage" {
			n++
		}
	}
	return n
}

// A WordPress trash event retracts the post: the messages herald sent are deleted from both
// Telegram chats and the records say retracted by wordpress:wordpress; a second trash event (the
// plugin sends one per trash) deletes nothing more.
func TestWordPressTrashRetracts(t *testing.T) {
	e := newHookEnv(t)
	e.startWorker()
	post := []byte(`{"id":21,"status":"publish","link":"https://news.example.com/?p=21","title":{"rendered":"خبر للتصحيح"}}`)
	if code, out := e.do("/v1/hooks/wordpress", post, signStandard(t, wpSecret, "msg_pub21", e.now, post)); code != http.StatusAccepted {
		t.Fatalf("publish: %d %v", code, out)
	}
	e.waitMessages(2)
	const id = "wp-news.example.com-21"
	waitFor(t, 10*time.Second, "both deliveries sent", func() bool {
		ds, err := e.broker.Deliveries(context.Background(), id)
		return err == nil && len(ds) == 2 && ds[0].State == queue.StateSent && ds[1].State == queue.StateSent
	})
	trash := []byte(`{"id":21,"status":"trash","link":"https://news.example.com/?p=21","title":{"rendered":"خبر للتصحيح"}}`)
	code, out := e.do("/v1/hooks/wordpress", trash, signStandard(t, wpSecret, "msg_trash21", e.now, trash))
	if code != http.StatusOK {
		t.Fatalf("trash: %d %v", code, out)
	}
	if n := len(e.fake.Messages()); n != 0 {
		t.Fatalf("Telegram still holds %d messages after the trash event", n)
	}
	ds, err := e.broker.Deliveries(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range ds {
		if d.State != queue.StateRetracted {
			t.Errorf("%s: %s, want retracted", d.Channel, d.State)
		}
	}
	again := signStandard(t, wpSecret, "msg_trash21_again", e.now, trash)
	if code, out := e.do("/v1/hooks/wordpress", trash, again); code != http.StatusOK {
		t.Fatalf("second trash: %d %v", code, out)
	}
	if n := e.deleteRequests(); n != 2 {
		t.Fatalf("%d deleteMessage requests, want 2 (one per channel, once)", n)
	}
}

// POST /v1/articles/{id}/retract is admin only; it answers per channel, 404 for an unknown
// article, and a second call deletes nothing more.
func TestRetractEndpoint(t *testing.T) {
	e := newHookEnv(t)
	e.startWorker()
	post := []byte(`{"id":22,"status":"publish","link":"https://news.example.com/?p=22","title":{"rendered":"x"}}`)
	if code, out := e.do("/v1/hooks/wordpress", post, signStandard(t, wpSecret, "msg_pub22", e.now, post)); code != http.StatusAccepted {
		t.Fatalf("publish: %d %v", code, out)
	}
	e.waitMessages(2)
	const id = "wp-news.example.com-22"
	waitFor(t, 10*time.Second, "both deliveries sent", func() bool {
		ds, err := e.broker.Deliveries(context.Background(), id)
		return err == nil && len(ds) == 2 && ds[0].State == queue.StateSent && ds[1].State == queue.StateSent
	})
	if code, _ := e.do("/v1/articles/"+id+"/retract", nil, nil); code != http.StatusUnauthorized {
		t.Fatalf("no token: %d", code)
	}
	bearer := http.Header{"Authorization": {"Bearer tok"}}
	code, out := e.do("/v1/articles/"+id+"/retract?channel=tg-a&by=desk", nil, bearer)
	if code != http.StatusOK {
		t.Fatalf("retract tg-a: %d %v", code, out)
	}
	res, _ := out["results"].([]any)
	if len(res) != 1 || res[0].(map[string]any)["result"] != "retracted" || out["by"] != "desk" {
		t.Fatalf("retract tg-a: %v", out)
	}
	if n := len(e.fake.Messages()); n != 1 {
		t.Fatalf("%d messages left, want tg-b's", n)
	}
	if code, out := e.do("/v1/articles/"+id+"/retract", nil, bearer); code != http.StatusOK {
		t.Fatalf("retract all: %d %v", code, out)
	}
	if n := len(e.fake.Messages()); n != 0 || e.deleteRequests() != 2 {
		t.Fatalf("%d messages left, %d deletes", n, e.deleteRequests())
	}
	if code, _ := e.do("/v1/articles/nope/retract", nil, bearer); code != http.StatusNotFound {
		t.Fatalf("unknown article: %d", code)
	}
	audit, err := e.broker.Audit(context.Background(), 5)
	if err != nil || len(audit) == 0 || audit[0].Action != "retract" {
		t.Fatalf("audit %+v %v", audit, err)
	}
}
