package telegramfake

import (
	"encoding/json"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"
)

// Inline keyboards and callback queries: what the admin bot's buttons need.

// Button is one inline keyboard button of a message.
type Button struct {
	Text         string `json:"text"`
	CallbackData string `json:"callback_data,omitempty"`
	URL          string `json:"url,omitempty"`
}

// Buttons returns the message's inline keyboard, row by row (nil when it has none).
func (m Message) Buttons() [][]Button {
	var mk struct {
		InlineKeyboard [][]Button `json:"inline_keyboard"`
	}
	if m.ReplyMarkup == "" || json.Unmarshal([]byte(m.ReplyMarkup), &mk) != nil {
		return nil
	}
	return mk.InlineKeyboard
}

// checkReplyMarkup validates an inline keyboard as Telegram does: callback_data is 1-64 bytes.
// It returns the markup to record, or the text after "Bad Request: ".
// Specs: https://core.telegram.org/bots/api#inlinekeyboardbutton
func checkReplyMarkup(raw string) (string, string) {
	if strings.TrimSpace(raw) == "" {
		return "", ""
	}
	var mk struct {
		InlineKeyboard [][]map[string]any `json:"inline_keyboard"`
	}
	if err := json.Unmarshal([]byte(raw), &mk); err != nil {
		return "", "can't parse reply keyboard markup JSON object"
	}
	for _, row := range mk.InlineKeyboard {
		for _, b := range row {
			if t, _ := b["text"].(string); t == "" {
				return "", "text buttons are unallowed in the inline keyboard"
			}
			if d, ok := b["callback_data"].(string); ok && (len(d) == 0 || len(d) > 64) {
				return "", "BUTTON_DATA_INVALID"
			}
		}
	}
	return raw, ""
}

// callbackQuery is a pushed callback query and the bot's answer to it.
type callbackQuery struct {
	pushed   time.Time
	answered time.Time // zero until answered
	answer   CallbackAnswer
}

// CallbackAnswer is what the bot answered a callback query with (answerCallbackQuery).
type CallbackAnswer struct {
	QueryID   string
	Text      string
	ShowAlert bool
}

// PushCallback queues a callback query update: user fromID (@fromUsername) pressed the button
// carrying data under message messageID of chatID. It returns the update_id and the query id
// the bot must answer with answerCallbackQuery.
func (s *Server) PushCallback(chatID, fromID int64, fromUsername string, messageID int, data string) (updateID int, queryID string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	queryID = strconv.FormatInt(fromID, 10) + "-" + strconv.Itoa(len(s.callbacks)+1)
	s.callbacks[queryID] = &callbackQuery{pushed: time.Now()}
	chat := &tgbotapi.Chat{ID: chatID, Type: "private"}
	if c, ok := s.chats[chatID]; ok {
		chat = &tgbotapi.Chat{ID: c.ID, Type: c.Type, Title: c.Title, UserName: c.Username}
	}
	var text string
	var thread int // the button's message is in a forum topic: so is the callback's message
	for _, m := range s.msgs {
		if m.Chat.ID == chatID && m.MessageID == messageID {
			text, thread = m.Plain, m.ThreadID
		}
	}
	u := tgbotapi.Update{CallbackQuery: &tgbotapi.CallbackQuery{
		ID:           queryID,
		From:         &tgbotapi.User{ID: fromID, FirstName: fromUsername, UserName: fromUsername},
		Message:      &tgbotapi.Message{MessageID: messageID, Chat: chat, Text: text, Date: int(time.Now().Unix())},
		ChatInstance: strconv.FormatInt(chatID, 10),
		Data:         data,
	}}
	return s.pushThreadLocked(u, thread, thread != 0), queryID
}

// CallbackAnswers returns the answers given to callback queries, in the order given.
func (s *Server) CallbackAnswers() []CallbackAnswer {
	s.mu.Lock()
	defer s.mu.Unlock()
	var qs []*callbackQuery
	for _, q := range s.callbacks {
		if !q.answered.IsZero() {
			qs = append(qs, q)
		}
	}
	sort.Slice(qs, func(i, j int) bool { return qs[i].answered.Before(qs[j].answered) })
	out := make([]CallbackAnswer, 0, len(qs))
	for _, q := range qs {
		out = append(out, q.answer)
	}
	return out
}

// CallbackAnswer returns the answer to one query, and whether it was answered.
func (s *Server) CallbackAnswer(queryID string) (CallbackAnswer, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	q, ok := s.callbacks[queryID]
	if !ok || q.answered.IsZero() {
		return CallbackAnswer{}, false
	}
	return q.answer, true
}

// callbackTimeout is how long Telegram waits for an answer to a callback query.
const callbackTimeout = 15 * time.Second

// answerCallbackQuery: a query can be answered once, within its timeout.
// Specs: https://core.telegram.org/bots/api#answercallbackquery
func (s *Server) answerCallbackQuery(w http.ResponseWriter, p params) {
	s.mu.Lock()
	defer s.mu.Unlock()
	q, ok := s.callbacks[p["callback_query_id"]]
	if !ok || !q.answered.IsZero() || time.Since(q.pushed) > callbackTimeout {
		writeError(w, answer{code: 400, description: "Bad Request: query is too old and response timeout expired or query ID is invalid"})
		return
	}
	q.answered = time.Now()
	q.answer = CallbackAnswer{QueryID: p["callback_query_id"], Text: p["text"], ShowAlert: boolParam(p["show_alert"])}
	s.notifyLocked()
	writeResult(w, true)
}

// editMessageReplyMarkup replaces the inline keyboard of a message the bot sent.
// Specs: https://core.telegram.org/bots/api#editmessagereplymarkup
func (s *Server) editMessageReplyMarkup(w http.ResponseWriter, p params) {
	chat, fail := s.lookupChat(p["chat_id"])
	if fail != "" {
		writeError(w, answer{code: 400, description: "Bad Request: " + fail})
		return
	}
	markup, fail := checkReplyMarkup(p["reply_markup"])
	if fail != "" {
		writeError(w, answer{code: 400, description: "Bad Request: " + fail})
		return
	}
	id, _ := strconv.Atoi(p["message_id"])
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := range s.msgs {
		m := &s.msgs[i]
		if m.Chat.ID != chat.ID || m.MessageID != id {
			continue
		}
		if sameMarkup(m.ReplyMarkup, markup) {
			writeError(w, answer{code: 400, description: "Bad Request: message is not modified: specified new message content and reply markup are exactly the same as a current content and reply markup of the message"})
			return
		}
		m.ReplyMarkup = markup
		s.notifyLocked()
		writeResult(w, resultMessage(*m))
		return
	}
	writeError(w, answer{code: 400, description: "Bad Request: message to edit not found"})
}

// sameMarkup compares two keyboards, an empty one and none being the same.
func sameMarkup(a, b string) bool {
	empty := func(s string) bool {
		var mk struct {
			InlineKeyboard [][]json.RawMessage `json:"inline_keyboard"`
		}
		return strings.TrimSpace(s) == "" || (json.Unmarshal([]byte(s), &mk) == nil && len(mk.InlineKeyboard) == 0)
	}
	if empty(a) && empty(b) {
		return true
	}
	return a == b
}
