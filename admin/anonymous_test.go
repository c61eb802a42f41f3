package admin

import (
	"strings"
	"testing"
	"time"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"

	"herald/channels/telegram/telegramfake"
)

// TestAnonymousAdminsAreNoUserToAllow: a group admin writing anonymously reaches the bot as
// @GroupAnonymousBot (1087968824), the same account for every anonymous admin of every group.
// The README sends the operator to read a refused attempt's from.id in herald audit; put in
// allowed_user_ids, that id let anyone who adds the bot to a group of their own and writes
// there anonymously command it. The config now refuses the stand-in accounts, and the refusal
// tells an anonymous admin why; in the admin group an anonymous admin still commands.
func TestAnonymousAdminsAreNoUserToAllow(t *testing.T) {
	for _, id := range []int64{1087968824, 136817688, 777000} {
		cfg := Config{Telegram: TelegramConfig{Token: "1:x", AllowedUserIDs: []int64{adminID, id}}}
		if err := cfg.Resolve(func(string) string { return "" }, nil); err == nil || !strings.Contains(err.Error(), "not a person") {
			t.Errorf("allowed_user_ids with %d: %v", id, err)
		}
	}

	e := newEnv(t)
	admins := int64(-1007770000099)
	e.cfg.Telegram.AdminChatID = admins
	e.botTG.AddChat(telegramfake.Chat{ID: admins, Type: "supergroup", Title: "newsroom admins"})
	other := int64(-1005550000099)
	e.botTG.AddChat(telegramfake.Chat{ID: other, Type: "supergroup", Title: "someone's group"})
	e.startBot("p1")
	anonymous := func(chat int64, title, text string) {
		c := &tgbotapi.Chat{ID: chat, Type: "supergroup", Title: title}
		e.botTG.PushUpdate(tgbotapi.Update{Message: &tgbotapi.Message{MessageID: 5, Date: int(time.Now().Unix()), Text: text,
			Entities: []tgbotapi.MessageEntity{{Type: "bot_command", Offset: 0, Length: len(strings.Fields(text)[0])}},
			From:     &tgbotapi.User{ID: 1087968824, IsBot: true, FirstName: "Group", UserName: "GroupAnonymousBot"},
			Chat:     c, SenderChat: c}})
	}
	anonymous(other, "someone's group", "/status@"+telegramfake.BotUsername+" x-1")
	if m := e.waitReply(other, "Remain anonymous"); !strings.Contains(m.Plain, "cannot tell who you are") {
		t.Fatalf("refusal %q", m.Plain)
	}
	anonymous(admins, "newsroom admins", "/status@"+telegramfake.BotUsername+" x-2")
	e.waitReply(admins, "No article x-2")
}
