package telegramfake

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"
)

type update struct {
	id  int
	raw json.RawMessage
}

// PushUpdate queues an update for getUpdates and returns its update_id (u.UpdateID is set
// when zero).
func (s *Server) PushUpdate(u tgbotapi.Update) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.pushLocked(u)
}

func (s *Server) pushLocked(u tgbotapi.Update) int { return s.pushThreadLocked(u, 0, false) }

// pushThreadLocked queues u with the forum fields tgbotapi.Update (Bot API 5.5) cannot carry:
// message_thread_id = thread and is_topic_message = topic on its message, or on the message a
// callback query's button is under. thread 0 adds neither.
// Specs: https://core.telegram.org/bots/api#message (message_thread_id, is_topic_message)
func (s *Server) pushThreadLocked(u tgbotapi.Update, thread int, topic bool) int {
	if u.UpdateID == 0 {
		s.nextUpdate++
		u.UpdateID = s.nextUpdate
	} else if u.UpdateID > s.nextUpdate {
		s.nextUpdate = u.UpdateID
	}
	raw, err := json.Marshal(u)
	if err != nil {
		panic("telegramfake: encoding update: " + err.Error()) // tgbotapi.Update always encodes
	}
	if thread != 0 {
		raw = withThread(raw, thread, topic)
	}
	s.updates = append(s.updates, update{id: u.UpdateID, raw: raw})
	s.notifyLocked()
	return u.UpdateID
}

// PushText queues a message update: text sent to chatID by user fromID (@fromUsername). A
// leading /command gets its bot_command entity, as Telegram adds it. A positive chatID is a
// private chat, a negative one a supergroup.
func (s *Server) PushText(chatID, fromID int64, fromUsername, text string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	chat := &tgbotapi.Chat{ID: chatID, Type: "private", UserName: fromUsername}
	if c, ok := s.chats[chatID]; ok {
		chat = &tgbotapi.Chat{ID: c.ID, Type: c.Type, Title: c.Title, UserName: c.Username}
	} else if chatID < 0 {
		chat = &tgbotapi.Chat{ID: chatID, Type: "supergroup", Title: "group " + strconv.FormatInt(chatID, 10)}
	}
	// Once someone writes to the bot, Telegram lets the bot write back to that chat.
	if _, ok := s.chats[chatID]; !ok {
		s.addChatLocked(Chat{ID: chat.ID, Type: chat.Type, Title: chat.Title, Username: chat.UserName})
	}
	s.nextID[chatID]++
	m := &tgbotapi.Message{
		MessageID: s.nextID[chatID],
		From:      &tgbotapi.User{ID: fromID, FirstName: fromUsername, UserName: fromUsername},
		Chat:      chat,
		Date:      int(time.Now().Unix()),
		Text:      text,
	}
	if strings.HasPrefix(text, "/") {
		cmd, _, _ := strings.Cut(text, " ")
		m.Entities = []tgbotapi.MessageEntity{{Type: "bot_command", Offset: 0, Length: UTF16Len(cmd)}}
	}
	return s.pushLocked(tgbotapi.Update{Message: m})
}

// PushTopicText is PushText in a thread of the supergroup chatID: in the forum topic threadID
// (AddTopic) Telegram marks the message is_topic_message; any other threadID is the thread of a
// reply outside the topics (in the General topic, or a group without topics), where the
// message carries message_thread_id (the id of the message replied to) without
// is_topic_message, and a send with that id is refused.
func (s *Server) PushTopicText(chatID int64, threadID int, fromID int64, fromUsername, text string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.chats[chatID]; !ok {
		s.addChatLocked(Chat{ID: chatID, Type: "supergroup", Title: "group " + strconv.FormatInt(chatID, 10)})
	}
	chat := s.chats[chatID]
	s.nextID[chatID]++
	m := &tgbotapi.Message{
		MessageID: s.nextID[chatID],
		From:      &tgbotapi.User{ID: fromID, FirstName: fromUsername, UserName: fromUsername},
		Chat:      &tgbotapi.Chat{ID: chat.ID, Type: chat.Type, Title: chat.Title, UserName: chat.Username},
		Date:      int(time.Now().Unix()),
		Text:      text,
	}
	if strings.HasPrefix(text, "/") {
		cmd, _, _ := strings.Cut(text, " ")
		m.Entities = []tgbotapi.MessageEntity{{Type: "bot_command", Offset: 0, Length: UTF16Len(cmd)}}
	}
	return s.pushThreadLocked(tgbotapi.Update{Message: m}, threadID, s.isTopicLocked(chatID, threadID))
}

// withThread adds message_thread_id and is_topic_message to the update's message (or its
// callback query's message).
func withThread(raw json.RawMessage, thread int, topic bool) json.RawMessage {
	var u map[string]any
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber() // ids stay as written
	if err := dec.Decode(&u); err != nil {
		panic("telegramfake: decoding an update: " + err.Error())
	}
	m, _ := u["message"].(map[string]any)
	if cq, ok := u["callback_query"].(map[string]any); ok {
		m, _ = cq["message"].(map[string]any)
	}
	if m == nil {
		return raw
	}
	m["message_thread_id"] = thread
	if topic {
		m["is_topic_message"] = true
	}
	out, err := json.Marshal(u)
	if err != nil {
		panic("telegramfake: encoding an update: " + err.Error())
	}
	return out
}

// SetMaxPollWait bounds getUpdates' timeout parameter (default DefaultMaxPollWait), so long
// polls stay short in tests.
func (s *Server) SetMaxPollWait(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.maxPollWait = d
}

// getUpdates answers queued updates with update_id ≥ offset, forgetting older ones, waiting up
// to timeout seconds (bounded by the max poll wait) when there are none.
// Specs: https://core.telegram.org/bots/api#getupdates
func (s *Server) getUpdates(w http.ResponseWriter, r *http.Request, p params) {
	offset, _ := strconv.Atoi(p["offset"])
	limit, err := strconv.Atoi(p["limit"])
	if err != nil || limit <= 0 || limit > 100 {
		limit = 100
	}
	timeout, _ := strconv.Atoi(p["timeout"])
	s.mu.Lock()
	wait := min(time.Duration(max(timeout, 0))*time.Second, s.maxPollWait)
	s.mu.Unlock()
	deadline := time.NewTimer(wait)
	defer deadline.Stop()
	for {
		s.mu.Lock()
		out := s.pendingLocked(offset, limit)
		changed := s.changed
		s.mu.Unlock()
		if len(out) > 0 || wait <= 0 {
			writeResult(w, out)
			return
		}
		select {
		case <-changed:
		case <-deadline.C:
			wait = 0
		case <-r.Context().Done():
			return
		case <-s.done:
			wait = 0
		}
	}
}

func (s *Server) pendingLocked(offset, limit int) []json.RawMessage {
	if offset < 0 { // the last -offset updates
		if n := len(s.updates) + offset; n > 0 {
			s.updates = s.updates[n:]
		}
	} else if offset > 0 {
		i := 0
		for i < len(s.updates) && s.updates[i].id < offset {
			i++
		}
		s.updates = s.updates[i:]
	}
	out := []json.RawMessage{}
	for _, u := range s.updates {
		if len(out) == limit {
			break
		}
		out = append(out, u.raw)
	}
	return out
}

// BotCommand is one entry of setMyCommands.
type BotCommand struct {
	Command     string `json:"command"`
	Description string `json:"description"`
}

var commandRE = regexp.MustCompile(`^[a-z0-9_]{1,32}$`)

// setMyCommands checks and stores the command list.
// Specs: https://core.telegram.org/bots/api#setmycommands
// webhookSecretRE is what Telegram takes as setWebhook's secret_token.
var webhookSecretRE = regexp.MustCompile(`^[A-Za-z0-9_-]*$`)

// setWebhook checks the URL and secret token as Telegram does (an HTTPS URL on port 443, 80, 88
// or 8443; a secret of at most 256 characters A-Z a-z 0-9 _ -) and remembers the URL for
// getWebhookInfo; an empty url removes the webhook.
// Specs: https://core.telegram.org/bots/api#setwebhook
func (s *Server) setWebhook(w http.ResponseWriter, p params) {
	bad := func(d string) { writeError(w, answer{code: 400, description: "Bad Request: " + d}) }
	raw := strings.TrimSpace(p["url"])
	if raw != "" {
		u, err := url.Parse(raw)
		switch {
		case err != nil || u.Host == "":
			bad("bad webhook: Failed to resolve host: Name or service not known")
			return
		case u.Scheme != "https":
			bad("bad webhook: An HTTPS URL must be provided for webhook")
			return
		case u.Port() != "" && u.Port() != "443" && u.Port() != "80" && u.Port() != "88" && u.Port() != "8443":
			bad("bad webhook: Webhook can be set up only on ports 80, 88, 443 or 8443")
			return
		}
	}
	switch secret := p["secret_token"]; {
	case len(secret) > 256:
		bad("secret token is too long")
		return
	case !webhookSecretRE.MatchString(secret):
		bad("secret token contains unallowed characters")
		return
	}
	s.mu.Lock()
	s.webhookURL = raw
	s.mu.Unlock()
	writeResult(w, true)
}

func (s *Server) setMyCommands(w http.ResponseWriter, p params) {
	var cmds []BotCommand
	if err := json.Unmarshal([]byte(p["commands"]), &cmds); err != nil {
		writeError(w, answer{code: 400, description: "Bad Request: can't parse commands JSON object"})
		return
	}
	for _, c := range cmds {
		if !commandRE.MatchString(c.Command) {
			writeError(w, answer{code: 400, description: "Bad Request: BOT_COMMAND_INVALID"})
			return
		}
		if n := UTF16Len(c.Description); n < 1 || n > 256 {
			writeError(w, answer{code: 400, description: "Bad Request: command description is empty or too long"})
			return
		}
	}
	raw, _ := json.Marshal(cmds)
	s.mu.Lock()
	s.commands = raw
	s.notifyLocked()
	s.mu.Unlock()
	writeResult(w, true)
}

// Commands returns the list last set with setMyCommands.
func (s *Server) Commands() []BotCommand {
	s.mu.Lock()
	defer s.mu.Unlock()
	var cmds []BotCommand
	_ = json.Unmarshal(s.commands, &cmds)
	return cmds
}

// WaitMessages waits until at least n messages were accepted, or ctx ends.
func (s *Server) WaitMessages(ctx context.Context, n int) ([]Message, error) {
	return waitFor(ctx, s, func() ([]Message, bool) { return s.msgs, len(s.msgs) >= n })
}

// WaitRequests waits until at least n requests were received, or ctx ends.
func (s *Server) WaitRequests(ctx context.Context, n int) ([]Request, error) {
	return waitFor(ctx, s, func() ([]Request, bool) { return s.reqs, len(s.reqs) >= n })
}

func waitFor[T any](ctx context.Context, s *Server, cond func() ([]T, bool)) ([]T, error) {
	for {
		s.mu.Lock()
		v, ok := cond()
		v = append([]T(nil), v...)
		changed := s.changed
		s.mu.Unlock()
		if ok {
			return v, nil
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return v, ctx.Err()
		}
	}
}
