package telegram

import (
	"context"
	"fmt"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"

	"herald/channels"
)

var _ channels.Checker = (*Channel)(nil)

// Check verifies, without posting, that the token works (getMe) and that the bot can see the
// configured chat (getChat): a wrong token, a dead endpoint or a chat the bot was never added
// to shows up at start instead of after max_attempts failed deliveries. The error never
// contains the token.
func (c *Channel) Check(ctx context.Context) error {
	bot, err := c.getMe(ctx)
	if err != nil {
		return err
	}
	// Specs: https://core.telegram.org/bots/api#getchat
	err = c.call(ctx, "checking chat "+string(c.cfg.ChatID), func(b *tgbotapi.BotAPI) error {
		_, err := b.GetChat(tgbotapi.ChatInfoConfig{ChatConfig: tgbotapi.ChatConfig{ChatID: c.chatID, SuperGroupUsername: c.username}})
		return err
	})
	if err != nil {
		return fmt.Errorf("bot @%s: %w", bot, err)
	}
	return nil
}
