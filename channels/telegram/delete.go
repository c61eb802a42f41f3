package telegram

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"

	"herald/channels"
)

var _ channels.Deleter = (*Channel)(nil)

// messageGone are the deleteMessage answers that mean the message is no longer there: deleting
// it again is done, not an error (lower case, matched as substrings).
var messageGone = []string{"message to delete not found"}

// messageKept is deleteMessage's answer for a message it will not delete: sent 48 hours ago or
// more, or one the bot has no right to delete. Running the retract again cannot change that.
var messageKept = []string{"message can't be deleted"}

// Delete takes back the messages of a receipt (comma-joined message ids, in the configured
// chat), for corrections. A message that is already gone counts as deleted. Telegram refuses
// messages older than 48 hours ("message can't be deleted"): that is permanent, and the error
// says what to do instead (the chat's admins can delete it by hand; a retract after that finds
// it gone and records the retraction).
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
		if badRequestAbout(err, messageKept) {
			var pe *channels.PermanentError
			if errors.As(err, &pe) {
				err = pe.Err // one "permanent:" in the message, not two
			}
			return channels.Permanent(fmt.Errorf("%w (Telegram lets a bot delete only messages sent less than 48 hours ago, "+
				"and only those it may delete: delete it in the chat by hand, then retract again to record it)", err))
		}
		if err != nil {
			return err
		}
	}
	return nil
}
