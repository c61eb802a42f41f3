package admin

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"
	"github.com/redis/go-redis/v9"
	"go.uber.org/zap"

	"herald/channels"
	"herald/queue"
)

// Buttons carry only "h1:<token>:<choice>" (callback_data is at most 64 bytes); what a button
// does is kept in Redis under the token, with a TTL. A press is checked like a command (allowed
// user), must come before the record expires, and acts once: the first press sets the token's
// "used" key with SET NX, every later press (a double tap, another admin, a replayed update) is
// told it was already done.

// Button actions.
const (
	actionRepost  = "repost"  // choices: yes, no
	actionUnknown = "unknown" // an unknown delivery in an alert; choices: retry, sent, drop
	// actionRetryUnknown retries every unknown delivery of a channel; choices: yes, no.
	actionRetryUnknown = "retry-unknown"
)

// Button choices.
const (
	choiceYes   = "y"
	choiceNo    = "n"
	choiceRetry = "r"
	choiceSent  = "s"
	choiceDrop  = "d"
)

// callbackRecord is what a button's token stands for.
type callbackRecord struct {
	Action   string   `json:"action"`
	Article  string   `json:"article"`
	Channel  string   `json:"channel,omitempty"`
	Channels []string `json:"channels,omitempty"`
	By       int64    `json:"by,omitempty"` // who asked (repost)
	// Prompt: the button belongs to a question of its own; once answered its keyboard goes.
	Prompt  bool  `json:"prompt,omitempty"`
	Expires int64 `json:"expires"` // unix ms
}

func callbackData(token, choice string) string { return "h1:" + token + ":" + choice }

func parseCallbackData(data string) (token, choice string, ok bool) {
	parts := strings.Split(data, ":")
	if len(parts) != 3 || parts[0] != "h1" || parts[1] == "" {
		return "", "", false
	}
	return parts[1], parts[2], true
}

// newCallback stores a record for ttl and returns its token.
func (b *Bot) newCallback(ctx context.Context, rec callbackRecord, ttl time.Duration) (string, error) {
	var raw [12]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return "", fmt.Errorf("admin: making a button token: %w", err)
	}
	token := hex.EncodeToString(raw[:])
	rec.Expires = b.d.Now().Add(ttl).UnixMilli()
	data, _ := json.Marshal(rec)
	if err := b.d.Redis.Set(ctx, callbackKey(token), data, ttl).Err(); err != nil {
		return "", fmt.Errorf("admin: storing a button: %w", err)
	}
	return token, nil
}

// errExpired and errUsed are the two reasons a valid-looking press does nothing.
var (
	errExpired = errors.New("button expired")
	errUsed    = errors.New("button already used")
)

// useCallback loads a token's record and marks it used; only the first caller gets it.
func (b *Bot) useCallback(ctx context.Context, token string, by string) (callbackRecord, error) {
	var rec callbackRecord
	data, err := b.d.Redis.Get(ctx, callbackKey(token)).Bytes()
	if errors.Is(err, redis.Nil) {
		return rec, errExpired
	}
	if err != nil {
		return rec, fmt.Errorf("admin: reading a button: %w", err)
	}
	if json.Unmarshal(data, &rec) != nil || b.d.Now().UnixMilli() > rec.Expires {
		return rec, errExpired
	}
	ttl := time.Until(time.UnixMilli(rec.Expires)) + time.Hour
	first, err := b.d.Redis.SetNX(ctx, callbackUsedKey(token), by, ttl).Result()
	if err != nil {
		return rec, fmt.Errorf("admin: using a button: %w", err)
	}
	if !first {
		return rec, errUsed
	}
	return rec, nil
}

// handleCallback acts on a button press; thread is the forum topic of the button's message,
// where the follow-up goes too.
func (b *Bot) handleCallback(ctx context.Context, q *tgbotapi.CallbackQuery, thread int) {
	if q.From == nil {
		return
	}
	var chatID, writers int64
	var msgID int
	if q.Message != nil && q.Message.Chat != nil {
		chatID, msgID = q.Message.Chat.ID, q.Message.MessageID
		// The admin chat lets whoever can write in it command. In a channel only its admins
		// write, but every subscriber sees the buttons and may press them: a press in a
		// channel counts only from an allowed user.
		if !q.Message.Chat.IsChannel() {
			writers = chatID
		}
	}
	entry := queue.AuditEntry{Source: "telegram", UserID: q.From.ID, Username: q.From.UserName, ChatID: chatID, Action: "button", Args: q.Data}
	if !b.allowed(ctx, q.From.ID, writers) {
		// Counted and audited as a stranger's command is: the subscribers of an alert channel
		// see its buttons, and a press costs nothing to repeat. The answer shows only to the
		// one who pressed.
		b.refuse(ctx, entry)
		b.answer(q.ID, b.tx.f("cb.refused"))
		return
	}
	entry.Allowed = true
	token, choice, ok := parseCallbackData(q.Data)
	if !ok {
		entry.Result = "refused: unknown button"
		b.audit(ctx, entry)
		b.answer(q.ID, b.tx.f("cb.expired"))
		return
	}
	rec, err := b.useCallback(ctx, token, who(q.From))
	entry.Action = "button:" + rec.Action + ":" + choice
	entry.Args = strings.TrimSpace(rec.Article + " " + rec.Channel + " " + strings.Join(rec.Channels, ","))
	switch {
	case errors.Is(err, errExpired):
		entry.Result = "refused: expired"
		b.audit(ctx, entry)
		b.answer(q.ID, b.tx.f("cb.expired"))
		return
	case errors.Is(err, errUsed):
		entry.Result = "refused: already used"
		b.audit(ctx, entry)
		b.answer(q.ID, b.tx.f("cb.used"))
		return
	case err != nil:
		r, res := b.failure(err)
		entry.Result = res
		b.audit(ctx, entry)
		b.answer(q.ID, cut(r.text, 150))
		return
	}
	text, result := b.act(ctx, rec, choice, q.From)
	entry.Result = result
	b.audit(ctx, entry)
	b.answer(q.ID, b.tx.f("cb.ok"))
	if rec.Prompt && msgID != 0 {
		b.removeButtons(chatID, msgID)
	}
	if text != "" && chatID != 0 {
		b.reply(ctx, dest{chatID, thread}, reply{text: text})
	}
}

// act does what a used button stands for; it returns the reply and the audit result.
func (b *Bot) act(ctx context.Context, rec callbackRecord, choice string, u *tgbotapi.User) (string, string) {
	ch := channels.Name(rec.Channel)
	switch {
	case rec.Action == actionRepost && choice == choiceYes:
		return b.repost(ctx, rec.Article, rec.Channels, who(u))
	case rec.Action == actionRetryUnknown && choice == choiceYes:
		if !b.configured(rec.Channel) {
			return b.tx.f("no.channel", echo(rec.Channel)), "refused: channel not configured"
		}
		return b.retryUnknown(ctx, rec.Channel, who(u))
	case rec.Action == actionRepost || rec.Action == actionRetryUnknown:
		return b.tx.f("repost.cancelled"), "cancelled"
	case rec.Action == actionUnknown:
		if text, result, ok := b.stillUnknown(ctx, rec); !ok {
			return text, result
		}
	}
	switch {
	case rec.Action == actionUnknown && choice == choiceRetry:
		if !b.configured(rec.Channel) {
			return b.tx.f("not.configured", code(rec.Article), code(rec.Channel)), "refused: channel not configured"
		}
		d, err := b.d.Broker.Requeue(ctx, rec.Article, ch, "retry", who(u))
		if err != nil {
			return b.tx.f("action.error", code(rec.Article), code(rec.Channel), esc(err.Error())), "error: " + err.Error()
		}
		return b.tx.f("retry.one", code(rec.Article), code(rec.Channel), b.tx.f("attempts", d.Attempt+1)), "retried"
	case rec.Action == actionUnknown && choice == choiceSent:
		if _, err := b.d.Broker.MarkSent(ctx, rec.Article, ch, who(u), "", ""); err != nil {
			return b.tx.f("action.error", code(rec.Article), code(rec.Channel), esc(err.Error())), "error: " + err.Error()
		}
		return b.tx.f("marked.sent", code(rec.Article), code(rec.Channel), esc(who(u))), "marked sent"
	case rec.Action == actionUnknown && choice == choiceDrop:
		if _, err := b.d.Broker.Drop(ctx, rec.Article, ch, who(u)); err != nil {
			return b.tx.f("action.error", code(rec.Article), code(rec.Channel), esc(err.Error())), "error: " + err.Error()
		}
		return b.tx.f("dropped", code(rec.Article), code(rec.Channel), esc(who(u))), "dropped"
	}
	return "", "refused: unknown choice"
}

// stillUnknown checks that the delivery an alert's buttons decide is still unknown: they live
// for button_ttl, and by the press it may have been retried (pending: a drop would cancel the
// retry) or have ended otherwise (failed: mark sent would record a post that does not exist).
// If not, it returns the reply and the audit result.
func (b *Bot) stillUnknown(ctx context.Context, rec callbackRecord) (string, string, bool) {
	d, err := b.d.Broker.Delivery(ctx, rec.Article, channels.Name(rec.Channel))
	if err != nil {
		return b.tx.f("action.error", code(rec.Article), code(rec.Channel), esc(err.Error())), "error: " + err.Error(), false
	}
	if d.State != queue.StateUnknown {
		return b.tx.f("unknown.gone", code(rec.Article), code(rec.Channel), b.stateName(d.State)),
			"refused: no longer unknown (" + string(d.State) + ")", false
	}
	return "", "", true
}

// answer acknowledges a button press (Telegram shows the text briefly).
// Specs: https://core.telegram.org/bots/api#answercallbackquery
func (b *Bot) answer(queryID, text string) {
	if _, err := b.api.Request(tgbotapi.NewCallback(queryID, text)); err != nil {
		b.log.Warn("admin bot: answering a button", zap.Error(b.redact(err)))
	}
}

// removeButtons takes the keyboard off a message whose decision is made.
// Specs: https://core.telegram.org/bots/api#editmessagereplymarkup
func (b *Bot) removeButtons(chatID int64, msgID int) {
	empty := tgbotapi.InlineKeyboardMarkup{InlineKeyboard: [][]tgbotapi.InlineKeyboardButton{}}
	if _, err := b.api.Request(tgbotapi.NewEditMessageReplyMarkup(chatID, msgID, empty)); err != nil {
		b.log.Warn("admin bot: removing buttons", zap.Error(b.redact(err)))
	}
}
