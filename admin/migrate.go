package admin

import (
	"context"
	"errors"
	"strconv"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"
	"github.com/redis/go-redis/v9"
	"go.uber.org/zap"
)

// A basic group that gets topics (or a public link, or many members) becomes a supergroup with
// a new id: admin_chat_id and alert_chat_id then name a chat that is gone. Telegram says so
// twice: a service message in each group (migrate_to_chat_id in the old, migrate_from_chat_id
// in the new), and 400 "group chat was upgraded to a supergroup chat" with
// parameters.migrate_to_chat_id to every send to the old id. The bot follows the group to its
// new id (kept in Redis for every process) and logs the id to put in the config.
// Specs: https://core.telegram.org/bots/api#message (migrate_to_chat_id, migrate_from_chat_id),
// https://core.telegram.org/bots/api#responseparameters

// noteMigration records that the configured chat from is now the supergroup to. A group the
// config does not name is no concern of the bot.
func (b *Bot) noteMigration(ctx context.Context, from, to int64) {
	t := b.cfg.Telegram
	if from == 0 || to == 0 || (from != t.AdminChatID && from != t.AlertChatID) {
		return
	}
	if err := b.d.Redis.Set(ctx, chatMovedKey(from), to, 0).Err(); err != nil {
		b.log.Warn("admin bot: recording a group's new id", zap.Int64("chat_id", from), zap.Int64("new_chat_id", to), zap.Error(err))
	}
	var settings []string
	if from == t.AdminChatID {
		settings = append(settings, "admin.telegram.admin_chat_id")
	}
	if from == t.AlertChatID {
		settings = append(settings, "admin.telegram.alert_chat_id")
	}
	b.log.Warn("admin bot: the group became a supergroup with a new id; following it, set the config to the new id",
		zap.Int64("chat_id", from), zap.Int64("new_chat_id", to), zap.Strings("settings", settings))
}

// chatNow is the id a configured chat has now: its supergroup's after an upgrade, else id.
func (b *Bot) chatNow(ctx context.Context, id int64) int64 {
	if id == 0 {
		return 0
	}
	to, err := b.d.Redis.Get(ctx, chatMovedKey(id)).Int64()
	if err != nil {
		if !errors.Is(err, redis.Nil) {
			b.log.Warn("admin bot: reading a group's new id", zap.Int64("chat_id", id), zap.Error(err))
		}
		return id
	}
	return to
}

// migratedTo is the supergroup a send's error says the group became, 0 for any other error.
func migratedTo(err error) int64 {
	var te *tgbotapi.Error
	if !errors.As(err, &te) || te.Code != 400 {
		return 0
	}
	return te.MigrateToChatID
}

func chatMovedKey(id int64) string { return keyPrefix + "chat-moved:" + strconv.FormatInt(id, 10) }
