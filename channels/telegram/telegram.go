// Package telegram posts to a Telegram channel, group or chat through the Bot API
// (github.com/go-telegram-bot-api/telegram-bot-api/v5). See config.go for the settings,
// errors.go for how answers map to retry decisions, and docs/telegram.md.
package telegram

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"
	"go.uber.org/zap"

	"herald/channels"
	"herald/channels/httpsend"
)

// Channel posts to one Telegram chat. It is safe for concurrent use.
type Channel struct {
	name     channels.Name
	cfg      Config
	chatID   int64
	username string // "@name" when chat_id is a username
	bot      *tgbotapi.BotAPI
	http     *http.Client
	// photoHTTP downloads photos Telegram could not fetch (see photo.go).
	photoHTTP *http.Client
	log       *zap.Logger
	now       func() time.Time
}

var _ channels.Channel = (*Channel)(nil)

// New builds a Telegram channel from its spec. It does not call the network: a wrong token or
// chat shows up as a permanent error on the first Send.
func New(spec channels.Spec, env channels.Env) (channels.Channel, error) {
	cfg, err := LoadConfig(spec)
	if err != nil {
		return nil, err
	}
	return newChannel(spec.Name, cfg, env), nil
}

func newChannel(name channels.Name, cfg Config, env channels.Env) *Channel {
	env = env.WithDefaults()
	id, username, _ := cfg.ChatID.Parse() // validated by LoadConfig
	return &Channel{
		name:     name,
		cfg:      cfg,
		chatID:   id,
		username: username,
		bot:      newBot(cfg),
		// A redirect is handed back, not followed: Go would turn the POST into a GET without
		// its body (301, 302), or send it, token and all, wherever the answer points (307, 308).
		http:      httpsend.NoRedirects(env.HTTPClient),
		photoHTTP: newPhotoClient(cfg),
		log:       env.Logger,
		now:       time.Now,
	}
}

// Name implements channels.Channel.
func (c *Channel) Name() channels.Name { return c.name }

// Kind implements channels.Channel.
func (c *Channel) Kind() channels.Kind { return channels.KindTelegram }

// Send posts each of msg.Posts in order: a post with media becomes a photo with the text as its
// caption, any other a text message. The receipt holds the message id (several, comma-joined,
// for several posts) and the public link to the first message when the chat has one.
//
// When a later post fails after an earlier one was accepted, the error is UnknownOutcome:
// retrying would post the accepted ones again.
func (c *Channel) Send(ctx context.Context, msg channels.Message) (channels.Receipt, error) {
	send := func(ctx context.Context, post channels.Post) (string, error) {
		m, err := c.sendPost(ctx, post)
		return strconv.Itoa(m.MessageID), err
	}
	return channels.SendEach(ctx, "telegram", "message", msg.Posts, send, func(id string) string {
		n, _ := strconv.Atoi(id)
		return c.cfg.ChatID.PostURL(n)
	})
}

// sendPost sends one post. A photo whose URL Telegram cannot fetch is downloaded and uploaded
// (photo_upload, on by default); when that is off or fails too, the text goes out alone (a
// caption fits a message: 1024 < 4096). So does the text of a photo Telegram fetched but cannot
// use (PHOTO_INVALID_DIMENSIONS, IMAGE_PROCESS_FAILED): its bytes uploaded would be refused alike.
func (c *Channel) sendPost(ctx context.Context, post channels.Post) (tgbotapi.Message, error) {
	photo := photoURL(post)
	if photo == "" {
		return c.sendText(ctx, post)
	}
	m, err := c.sendPhoto(ctx, tgbotapi.FileURL(photo), post)
	if err == nil || !isPhotoFetchFailure(err) && !isPhotoRejected(err) {
		return m, err
	}
	if !isPhotoRejected(err) && (c.cfg.PhotoUpload == nil || *c.cfg.PhotoUpload) {
		file, derr := c.downloadPhoto(ctx, photo)
		if derr == nil {
			m, err = c.sendPhoto(ctx, file, post)
			if err == nil || !isPhotoRejected(err) {
				return m, err
			}
			// Telegram cannot use the bytes either (not an image it can process): text alone.
		} else {
			err = fmt.Errorf("%w; downloading it: %v", err, derr)
		}
	}
	c.log.Warn("telegram: photo could not be sent; sending the text alone",
		zap.String("photo_url", photo), zap.Error(err))
	return c.sendText(ctx, post)
}

// photoURL is the first media URL of the post, "" when there is none.
func photoURL(post channels.Post) string {
	for _, m := range post.Media {
		if u := strings.TrimSpace(m.URL); u != "" {
			return u
		}
	}
	return ""
}

func (c *Channel) sendText(ctx context.Context, post channels.Post) (tgbotapi.Message, error) {
	if post.LinkPreview != nil && !c.cfg.DisableWebPagePreview {
		return c.sendTextWithPreview(ctx, post) // preview.go
	}
	cfg := tgbotapi.NewMessage(c.chatID, post.Text)
	cfg.ChannelUsername = c.username
	cfg.ParseMode = string(post.ParseMode)
	cfg.DisableWebPagePreview = c.cfg.DisableWebPagePreview
	// Specs: https://core.telegram.org/bots/api#sendmessage
	var m tgbotapi.Message
	err := c.call(ctx, "sending message", func(bot *tgbotapi.BotAPI) (err error) {
		m, err = send(bot, cfg)
		return err
	})
	return m, err
}

func (c *Channel) sendPhoto(ctx context.Context, photo tgbotapi.RequestFileData, post channels.Post) (tgbotapi.Message, error) {
	cfg := tgbotapi.NewPhoto(c.chatID, photo)
	cfg.ChannelUsername = c.username
	cfg.Caption = post.Text
	cfg.ParseMode = string(post.ParseMode)
	// Specs: https://core.telegram.org/bots/api#sendphoto
	var m tgbotapi.Message
	err := c.call(ctx, "sending photo", func(bot *tgbotapi.BotAPI) (err error) {
		m, err = send(bot, cfg)
		return err
	})
	return m, err
}

// send is tgbotapi's BotAPI.Send reading only what herald keeps of the sent message: its id.
// Decoding the whole Message (the text and entities echoed back, the chat, the sender) cost
// about as much CPU as the rest of the request's handling in herald.
func send(bot *tgbotapi.BotAPI, c tgbotapi.Chattable) (tgbotapi.Message, error) {
	resp, err := bot.Request(c)
	if err != nil {
		return tgbotapi.Message{}, err
	}
	return sentMessage(resp.Result)
}

// sentMessage reads the message id of a send's result.
func sentMessage(result json.RawMessage) (tgbotapi.Message, error) {
	var m struct {
		MessageID int `json:"message_id"`
	}
	if err := json.Unmarshal(result, &m); err != nil {
		return tgbotapi.Message{}, err
	}
	return tgbotapi.Message{MessageID: m.MessageID}, nil
}

// RateGroup puts every channel of one bot in one rate group: Telegram allows a bot about 30
// messages a second in all (https://core.telegram.org/bots/faq#my-bot-is-hitting-limits-how-do-i-avoid-this),
// or what bot_rate says (count 0: no shared limit). The key is a hash of the token, never the token.
func (c *Channel) RateGroup() (key string, count int, period time.Duration) {
	sum := sha256.Sum256([]byte(c.cfg.Token))
	return "telegram:" + hex.EncodeToString(sum[:8]), c.cfg.botCount, c.cfg.botPeriod
}
