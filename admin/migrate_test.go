package admin

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"

	"herald/channels/telegram/telegramfake"
	"herald/queue"
)

// TestAnUpgradedAdminGroupIsFollowed: a basic group made the admin and alert chat becomes a
// supergroup with a new id when an admin turns topics on. Its members still command (the bot
// follows the service message Telegram sends), and the digests reach it (the send to the old
// id is answered with migrate_to_chat_id); the log names the new id to put in the config.
// Before, the members were refused as strangers and every digest failed for ever.
func TestAnUpgradedAdminGroupIsFollowed(t *testing.T) {
	e := newEnv(t)
	group := int64(-4001234567)
	super := telegramfake.Chat{ID: -1004001234567, Type: "supergroup", Title: "newsroom admins"}
	e.botTG.AddChat(telegramfake.Chat{ID: group, Type: "group", Title: "newsroom admins"})
	e.cfg.Telegram.AdminChatID, e.cfg.Telegram.AlertChatID = group, group
	e.alertGroupReady()
	e.startBot("p1")
	waitFor(t, "the bot running", 10*time.Second, func() bool { return len(e.botTG.Commands()) > 0 })

	e.botTG.MigrateChat(group, super)
	// What Telegram sends in the new supergroup: who upgraded it, and from which group.
	e.botTG.PushUpdate(tgbotapi.Update{Message: &tgbotapi.Message{MessageID: 1, Date: int(time.Now().Unix()),
		From: &tgbotapi.User{ID: 777, FirstName: "member", UserName: "member"},
		Chat: &tgbotapi.Chat{ID: super.ID, Type: "supergroup", Title: super.Title}, MigrateFromChatID: group}})
	e.botTG.PushText(super.ID, 777, "member", "/status no-such-story")
	e.waitReply(super.ID, "No article no-such-story")

	// The send to the old id says it too, where no service message was seen.
	if err := e.rdb.Del(context.Background(), chatMovedKey(group)).Err(); err != nil {
		t.Fatal(err)
	}
	e.chTG.FailNext(1, 400, "Bad Request: message is too long")
	e.startWorker()
	a := e.publish("upg-1", "خبر", "tg-a")
	e.waitState(a.ID, "tg-a", queue.StateFailed, 1)
	if d := e.waitReply(super.ID, "herald alerts"); !strings.Contains(d.Plain, "upg-1") {
		t.Fatalf("digest %q", d.Plain)
	}
	named := false
	for _, l := range e.logs.FilterMessageSnippet("became a supergroup").All() {
		c := l.ContextMap()
		named = named || (c["new_chat_id"] == super.ID && strings.Contains(fmt.Sprint(c["settings"]), "admin.telegram.alert_chat_id"))
	}
	if !named {
		t.Fatalf("no log line names the new id and the setting: %+v", e.logs.FilterMessageSnippet("supergroup").All())
	}
	if got, _ := e.rdb.Get(context.Background(), chatMovedKey(group)).Int64(); got != super.ID {
		t.Fatalf("the new id is not kept: %d", got)
	}
	if n := len(e.replies(super.ID, "not allowed")); n != 0 {
		t.Fatalf("a member of the upgraded admin group was refused")
	}
}
