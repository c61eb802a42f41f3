package telegram

import (
	"context"
	"strconv"
	"strings"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"

	"herald/channels"
)

var _ channels.Deleter = (*Channel)(nil)

// messageGone are the deleteMessage answers that mean the message is no longer there: deleting
// it again is done, not an error (lower case, matched as substrings).
var messageGone = []string{"message to delete not found"}

// Delete takes back the messages of a receipt (comma-joined message ids, in the configured
// chat), for corrections. A message that is already gone counts as deleted. Telegram refuses
// messages older than 48 hours ("message can't be deleted"): that is permanent.
func (c *Channel) Delete(ctx context.Context, remoteID string) error {
	for _, id := range strings.Split(remoteID, ",") {
		id = strings.TrimSpace(id)
		if id == "" {
			continue
		}
		n, err := strconv.Atoi(id)
		if err != nil || n <= 0 {
			return channels.Permanent(errorf("deleting message %q: not a message id", id))
		}
		cfg := tgbotapi.NewDeleteMessage(c.chatID, n)
		cfg.ChannelUsername = c.username
		// Specs: https://core.telegram.org/bots/api#deletemessage
		err = c.call(ctx, "deleting message "+id, func(bot *tgbotapi.BotAPI) error {
			_, err := bot.Request(cfg)
			return err
		})
		if badRequestAbout(err, messageGone) {
			continue
		}
		if err != nil {
			return err
		}
	}
	return nil
}
