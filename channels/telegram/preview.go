package telegram

import (
	"context"
	"encoding/json"
	"fmt"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"

	"herald/channels"
)

// linkPreviewOptions is the Bot API's LinkPreviewOptions (Bot API 7.0), which tgbotapi v5.5.1
// predates.
// Specs: https://core.telegram.org/bots/api#linkpreviewoptions
type linkPreviewOptions struct {
	URL              string `json:"url,omitempty"`
	PreferLargeMedia bool   `json:"prefer_large_media,omitempty"`
	ShowAboveText    bool   `json:"show_above_text,omitempty"`
}

// sendTextWithPreview sends a text message whose link preview the post chooses (the formatter
// asks for the article image, large and above the text, when a photo caption could not hold
// the post). tgbotapi has no field for link_preview_options, so the request goes through
// MakeRequest with the raw parameter; answers and errors are the same as bot.Send's.
// Specs: https://core.telegram.org/bots/api#sendmessage
func (c *Channel) sendTextWithPreview(ctx context.Context, post channels.Post) (tgbotapi.Message, error) {
	opts, err := json.Marshal(linkPreviewOptions(*post.LinkPreview))
	if err != nil {
		return tgbotapi.Message{}, channels.Permanent(fmt.Errorf("telegram: encoding link_preview_options: %w", err))
	}
	params := tgbotapi.Params{"text": post.Text, "link_preview_options": string(opts)}
	if err := params.AddFirstValid("chat_id", c.chatID, c.username); err != nil {
		return tgbotapi.Message{}, channels.Permanent(fmt.Errorf("telegram: chat_id: %w", err))
	}
	params.AddNonEmpty("parse_mode", string(post.ParseMode))
	var m tgbotapi.Message
	err = c.call(ctx, "sending message", func(bot *tgbotapi.BotAPI) error {
		resp, err := bot.MakeRequest("sendMessage", params)
		if err != nil {
			return err
		}
		m, err = sentMessage(resp.Result)
		return err
	})
	return m, err
}
