package admin

import (
	"strings"
	"testing"

	"herald/channels/telegram/telegramfake"
	"herald/queue"
)

// TestRepliesStayInTheirForumTopic: in an admin group with topics, a command written in a topic
// is answered in that topic, and so is a repost question and what its button does; a reply in
// the General topic (a thread that is no topic) is answered in General, and the digests go to
// alert_thread_id. Before, every reply carried no message_thread_id and landed in General,
// away from the admins who asked (tgbotapi v5.5.1 neither reads nor sends the field).
func TestRepliesStayInTheirForumTopic(t *testing.T) {
	e := newEnv(t)
	group := int64(-1007770000042)
	e.botTG.AddChat(telegramfake.Chat{ID: group, Type: "supergroup", Title: "newsroom admins"})
	e.botTG.AddTopic(group, 42) // "herald"
	e.botTG.AddTopic(group, 77) // "alerts"
	e.cfg.Telegram.AdminChatID, e.cfg.Telegram.AlertChatID, e.cfg.Telegram.AlertThreadID = group, group, 77
	e.alertGroupReady()
	e.chTG.FailNext(1, 400, "Bad Request: message is too long")
	e.startWorker()
	failed := e.publish("topic-fail", "خبر فشل", "tg-a")
	e.waitState(failed.ID, "tg-a", queue.StateFailed, 1)
	a := e.publish("topic-1", "خبر في موضوع", "tg-b")
	e.waitState(a.ID, "tg-b", queue.StateSent, 1)
	e.startBot("p1")

	e.botTG.PushTopicText(group, 42, 777, "member", "/status@"+telegramfake.BotUsername+" "+a.ID)
	if m := e.waitReply(group, "tg-b — sent"); m.ThreadID != 42 {
		t.Fatalf("/status written in topic 42 answered in thread %d", m.ThreadID)
	}
	// A reply to someone in General carries the replied message's thread, not a topic.
	e.botTG.PushTopicText(group, 3, 777, "member", "/status no-such-article")
	if m := e.waitReply(group, "No article no-such-article"); m.ThreadID != 0 {
		t.Fatalf("a command in General answered in thread %d", m.ThreadID)
	}
	e.botTG.PushTopicText(group, 42, 777, "member", "/repost "+a.ID+" tg-b")
	ask := e.waitReply(group, "Each channel gets one new post")
	if ask.ThreadID != 42 {
		t.Fatalf("the repost question went to thread %d", ask.ThreadID)
	}
	e.botTG.PushCallback(group, 777, "member", ask.MessageID, button(t, ask, "Repost"))
	if m := e.waitReply(group, "Reposting to tg-b"); m.ThreadID != 42 {
		t.Fatalf("the repost's confirmation answered in thread %d", m.ThreadID)
	}
	e.waitState(a.ID, "tg-b", queue.StateSent, 2)
	if d := e.waitReply(group, "herald alerts"); d.ThreadID != 77 || !strings.Contains(d.Plain, "topic-fail") {
		t.Fatalf("digest in thread %d: %q", d.ThreadID, d.Plain)
	}
	for _, r := range e.botTG.Requests() {
		if r.Method == "sendMessage" && r.Status != 200 {
			t.Errorf("a reply was refused: %+v", r)
		}
	}
}

func TestAlertThreadIDNeedsAnAlertChat(t *testing.T) {
	for _, c := range []struct {
		chat   int64
		thread int
		want   string
	}{
		{0, 42, "alert_thread_id: set without alert_chat_id"},
		{-100123, -4, "alert_thread_id: a topic id is a positive number"},
		{-100123, 42, ""},
	} {
		cfg := Config{Telegram: TelegramConfig{Token: "1:x", AllowedUserIDs: []int64{1}, AlertChatID: c.chat, AlertThreadID: c.thread}}
		err := cfg.Resolve(func(string) string { return "" }, nil)
		if (c.want == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), c.want)) {
			t.Errorf("chat %d thread %d: %v, want %q", c.chat, c.thread, err, c.want)
		}
	}
}

// TestAGoneTopicFallsBackToGeneral: a digest for an alert topic since deleted (or an
// alert_thread_id mistyped), and the answer to an admin writing in a topic closed to the bot,
// go to the General topic with a warning in the log. Before, Telegram refused them ("message
// thread not found", TOPIC_CLOSED) and the alerts were lost for as long as the config stayed.
func TestAGoneTopicFallsBackToGeneral(t *testing.T) {
	e := newEnv(t)
	group := int64(-1007770000043)
	e.botTG.AddChat(telegramfake.Chat{ID: group, Type: "supergroup", Title: "newsroom admins"})
	e.botTG.AddTopic(group, 42)
	e.botTG.AddTopic(group, 77)
	e.botTG.CloseTopic(group, 42)
	e.botTG.DeleteTopic(group, 77)
	e.cfg.Telegram.AdminChatID, e.cfg.Telegram.AlertChatID, e.cfg.Telegram.AlertThreadID = group, group, 77
	e.alertGroupReady()
	e.chTG.FailNext(1, 400, "Bad Request: message is too long")
	e.startWorker()
	failed := e.publish("topic-gone", "خبر فشل", "tg-a")
	e.waitState(failed.ID, "tg-a", queue.StateFailed, 1)
	e.startBot("p1")
	if d := e.waitReply(group, "herald alerts"); d.ThreadID != 0 || !strings.Contains(d.Plain, "topic-gone") {
		t.Fatalf("digest in thread %d: %q", d.ThreadID, d.Plain)
	}
	e.botTG.PushTopicText(group, 42, 777, "member", "/status no-such-story")
	if m := e.waitReply(group, "No article no-such-story"); m.ThreadID != 0 {
		t.Fatalf("answer in thread %d", m.ThreadID)
	}
	if n := e.logs.FilterMessageSnippet("the topic is gone or closed").Len(); n != 2 {
		t.Fatalf("%d warnings, want one per fallback", n)
	}
}
