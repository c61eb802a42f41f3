package queue

import (
	"errors"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"

	"herald/channels"
)

// One log line per delivery outcome, with the fixed keys operators search by.
func TestOneLogLinePerOutcomeWithFixedKeys(t *testing.T) {
	e := newEnv(t)
	e.ch.script(fail(channels.Permanent(errors.New("Bad Request: chat not found"))))
	core, logs := observer.New(zap.InfoLevel)
	opts := testOpts(t)
	opts.Logger = zap.New(core)
	e.start(opts, nil)
	// One at a time: the scripted failure must meet log-1.
	e.publish("log-1")
	e.waitState("log-1", StateFailed, 10*time.Second)
	e.publish("log-2")
	e.waitState("log-2", StateSent, 10*time.Second)
	waitFor(t, 5*time.Second, func() bool { return logs.FilterMessage("delivery").Len() >= 2 })
	byArticle := map[string][]observer.LoggedEntry{}
	for _, l := range logs.FilterMessage("delivery").All() {
		m := l.ContextMap()
		for _, k := range []string{"article_id", "channel", "attempt", "status", "remote_id", "error"} {
			if _, ok := m[k]; !ok {
				t.Fatalf("delivery line without %q: %v", k, m)
			}
		}
		byArticle[m["article_id"].(string)] = append(byArticle[m["article_id"].(string)], l)
	}
	if len(byArticle["log-1"]) != 1 || len(byArticle["log-2"]) != 1 {
		t.Fatalf("want exactly one line per delivery, have %v", byArticle)
	}
	failed := byArticle["log-1"][0].ContextMap()
	if failed["status"] != "failed" || failed["error"] == "" || byArticle["log-1"][0].Level != zap.WarnLevel {
		t.Fatalf("failed line: %v", failed)
	}
	sent := byArticle["log-2"][0].ContextMap()
	if sent["status"] != "sent" || sent["remote_id"] == "" || sent["attempt"] != int64(1) || sent["channel"] != "tg" {
		t.Fatalf("sent line: %v", sent)
	}
}
