// Package telegramfake is a fake Telegram Bot API server on loopback, for tests and for the
// sandbox (herald demo). It answers like the real API: paths /bot<token>/<method>; form,
// multipart and JSON bodies; the same error bodies and codes; HTML parse-mode checking and
// length limits in UTF-16 code units (see ParseHTML). Failures can be injected (FailNext,
// RateLimitNext, RejectPhotoURL, RejectPhotoURLAs, MigrateChat, Hold, OnAccept) and everything
// it accepted read back (Messages, Requests). All methods are safe for concurrent use.
//
//	fake := telegramfake.New()
//	defer fake.Close()
//	// settings: api_endpoint: fake.Endpoint(), token: telegramfake.DefaultToken,
//	//           chat_id: telegramfake.DefaultChat.ID (or "@" + DefaultChat.Username)
package telegramfake

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"time"
)

// Defaults a new Server starts with.
const (
	// DefaultToken is the token a new Server accepts (change it with SetToken).
	DefaultToken = "123456789:AAH-herald-fake-token_for-tests"
	// BotUsername is what getMe answers.
	BotUsername = "herald_fake_bot"
	// DefaultMaxPollWait bounds getUpdates' long-poll timeout (change it with SetMaxPollWait).
	DefaultMaxPollWait = time.Second
)

// DefaultChat is the chat a new Server knows (add more with AddChat).
var DefaultChat = Chat{ID: -1001000000001, Type: "channel", Title: "Herald fake channel", Username: "herald_fake"}

// Chat is a chat the server knows, as the Bot API describes it. Username has no "@".
type Chat struct {
	ID       int64  `json:"id"`
	Type     string `json:"type"` // "channel", "supergroup", "group" or "private"
	Title    string `json:"title,omitempty"`
	Username string `json:"username,omitempty"`
	// IsForum: a supergroup with topics enabled (AddTopic makes one).
	IsForum bool `json:"is_forum,omitempty"`
}

// Message is one accepted sendMessage or sendPhoto.
type Message struct {
	MessageID int
	Method    string // "sendMessage" or "sendPhoto"
	Chat      Chat
	// ThreadID is the forum topic it was sent to (message_thread_id), 0 for none (General).
	ThreadID int
	Text     string // text as sent (sendMessage)
	Caption  string // caption as sent (sendPhoto)
	// Plain is the text or caption after entity parsing; Entities its formatting.
	Plain                 string
	Entities              []Entity
	PhotoURL              string // the photo parameter: a URL or file id
	PhotoUpload           int    // bytes of a photo uploaded as multipart, 0 otherwise
	ParseMode             string
	DisableWebPagePreview bool
	// LinkPreviewOptions is the link_preview_options parameter as sent (a JSON object), "" if none.
	LinkPreviewOptions string
	// ReplyMarkup is the reply_markup parameter as sent (JSON), e.g. an inline keyboard; see
	// Buttons. editMessageReplyMarkup replaces it.
	ReplyMarkup string
	Time        time.Time
	// Edits counts the accepted editMessageText / editMessageCaption requests (edit.go).
	Edits int
}

// Request is one request the server received (getUpdates polls are not recorded).
type Request struct {
	Method string // as in the path: "sendMessage"
	ChatID string // the chat_id parameter, if any
	Time   time.Time
	Status int // HTTP status of the answer; 0 while it is being handled
}

// answer is an injected failure.
type answer struct {
	code        int
	description string
	retryAfter  int
	// raw, when set, is sent as the body instead of a Bot API answer (a front end's page).
	raw string
	// migrateTo, when set, is parameters.migrate_to_chat_id (a group that became a supergroup).
	migrateTo int64
}

// Server is the fake. Create it with New; Close it when done.
type Server struct {
	srv  *httptest.Server
	done chan struct{}

	mu        sync.Mutex
	token     string
	chats     map[int64]Chat
	usernames map[string]int64       // lower-case username → id
	topics    map[int64]map[int]bool // forum chat id → its topics' message_thread_ids (AddTopic) → closed
	migrated  map[int64]int64        // group id → the supergroup it became (MigrateChat)
	nextID    map[int64]int
	msgs      []Message
	reqs      []Request
	inject    []answer
	// injectDelete and deleted serve deleteMessage (delete.go).
	injectDelete []answer
	deleted      []Deleted
	// injectEdit serves editMessageText and editMessageCaption (edit.go).
	injectEdit  []answer
	badPhotos   map[string]string
	onAccept    func(Message)
	hold        chan struct{} // non-nil while held; closed by Release
	updates     []update
	nextUpdate  int
	commands    json.RawMessage
	webhookURL  string // set by setWebhook, reported by getWebhookInfo
	maxPollWait time.Duration
	callbacks   map[string]*callbackQuery // callback query id → state (callbacks.go)
	changed     chan struct{}             // closed and replaced on every change
	closeOnce   sync.Once
}

// New starts a fake on 127.0.0.1 that accepts DefaultToken and knows DefaultChat.
func New() *Server {
	s := &Server{done: make(chan struct{}), changed: make(chan struct{})}
	s.resetLocked()
	s.token = DefaultToken
	s.chats = map[int64]Chat{}
	s.usernames = map[string]int64{}
	s.topics = map[int64]map[int]bool{}
	s.migrated = map[int64]int64{}
	s.maxPollWait = DefaultMaxPollWait
	s.addChatLocked(DefaultChat)
	s.srv = httptest.NewServer(s)
	return s
}

// URL is the server's base URL, "http://127.0.0.1:port".
func (s *Server) URL() string { return s.srv.URL }

// Endpoint is the api_endpoint format string for tgbotapi: URL + "/bot%s/%s".
func (s *Server) Endpoint() string { return s.srv.URL + "/bot%s/%s" }

// Client is an HTTP client for the server.
func (s *Server) Client() *http.Client { return s.srv.Client() }

// Close releases held requests, ends long polls and stops the server.
func (s *Server) Close() {
	s.closeOnce.Do(func() {
		s.Release()
		close(s.done)
		s.srv.Close()
	})
}

// SetToken changes the accepted token; any other gets 401 Unauthorized.
func (s *Server) SetToken(token string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.token = token
}

// AddChat makes a chat known (by id, and by "@username" when it has one).
func (s *Server) AddChat(c Chat) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.addChatLocked(c)
}

func (s *Server) addChatLocked(c Chat) {
	c.Username = strings.TrimPrefix(c.Username, "@")
	if c.Type == "" {
		c.Type = "channel"
	}
	s.chats[c.ID] = c
	if c.Username != "" {
		s.usernames[strings.ToLower(c.Username)] = c.ID
	}
}

// AddTopic makes threadID a forum topic of the chat chatID, as an admin creating a topic in a
// supergroup with topics enabled does (the chat becomes a forum; add it with AddChat first).
// Sends with message_thread_id = threadID then go to that topic; any other message_thread_id is
// answered 400 "Bad Request: message thread not found", as Telegram answers one that is not a
// topic of the chat (the General topic's included: a send to General carries none).
// Specs: https://core.telegram.org/bots/api#sendmessage (message_thread_id)
func (s *Server) AddTopic(chatID int64, threadID int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.chats[chatID]
	c.ID, c.IsForum = chatID, true
	if c.Type == "" {
		c.Type = "supergroup"
	}
	s.addChatLocked(c)
	if s.topics[chatID] == nil {
		s.topics[chatID] = map[int]bool{}
	}
	s.topics[chatID][threadID] = false
}

// CloseTopic closes a topic of chatID, as a group admin can: the bot, not an admin there, is
// answered 400 "Bad Request: TOPIC_CLOSED" when it sends to it.
// Specs: https://core.telegram.org/bots/api#closeforumtopic
func (s *Server) CloseTopic(chatID int64, threadID int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.topics[chatID][threadID]; ok {
		s.topics[chatID][threadID] = true
	}
}

// DeleteTopic deletes a topic of chatID: a send to it is "message thread not found".
// Specs: https://core.telegram.org/bots/api#deleteforumtopic
func (s *Server) DeleteTopic(chatID int64, threadID int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.topics[chatID], threadID)
}

// isTopicLocked reports whether threadID is a topic of the forum chatID (open or closed).
func (s *Server) isTopicLocked(chatID int64, threadID int) bool {
	_, ok := s.topics[chatID][threadID]
	return ok
}

// MigrateChat makes the group from a supergroup, as Telegram does when a group is upgraded: the
// supergroup to is added (it has a new id), and every send to from answers 400 "Bad Request:
// group chat was upgraded to a supergroup chat" with parameters.migrate_to_chat_id = to.ID.
func (s *Server) MigrateChat(from int64, to Chat) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if to.Type == "" {
		to.Type = "supergroup"
	}
	s.addChatLocked(to)
	s.migrated[from] = to.ID
}

// FailNext makes the next n send requests (sendMessage, sendPhoto) fail with code and
// description, e.g. FailNext(1, 403, "Forbidden: bot is not a member of the channel chat").
// Injected failures are answered in order, after the token check and before any other.
func (s *Server) FailNext(n, code int, description string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for range n {
		s.inject = append(s.inject, answer{code: code, description: description})
	}
}

// GatewayFailNext makes the next n send requests answer as Telegram's front end does when the
// Bot API behind it is unreachable: status (502 or 503) with a body that is not a Bot API
// answer, e.g. GatewayFailNext(1, 502, "<html><center><h1>502 Bad Gateway</h1></center></html>").
// The request never reaches the Bot API, so nothing is posted.
func (s *Server) GatewayFailNext(n, status int, body string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for range n {
		s.inject = append(s.inject, answer{code: status, raw: body})
	}
}

// RateLimitNext makes the next n send requests answer 429 with parameters.retry_after.
func (s *Server) RateLimitNext(n, retryAfter int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for range n {
		s.inject = append(s.inject, answer{code: 429, retryAfter: retryAfter})
	}
}

// RejectPhotoURL makes sendPhoto with this photo answer 400 "Bad Request: wrong file
// identifier/HTTP URL specified", as Telegram does when it cannot fetch the URL.
func (s *Server) RejectPhotoURL(url string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.badPhotos[url] = "Bad Request: wrong file identifier/HTTP URL specified"
}

// RejectPhotoURLAs makes sendPhoto with this photo answer 400 "Bad Request: " + description, as
// Telegram does when it fetched the URL but cannot use the image: "PHOTO_INVALID_DIMENSIONS" (a
// very long or wide picture), "IMAGE_PROCESS_FAILED".
func (s *Server) RejectPhotoURLAs(url, description string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.badPhotos[url] = "Bad Request: " + description
}

// OnAccept sets a hook called with each accepted message after it is recorded and before the
// answer is written (nil removes it). It runs on the request's goroutine: blocking in it delays
// the answer, which is how a test makes a client time out after Telegram accepted a post.
func (s *Server) OnAccept(f func(Message)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.onAccept = f
}

// Hold makes accepted messages wait, recorded but unanswered, until Release (or until the
// client goes away, or Close).
func (s *Server) Hold() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.hold == nil {
		s.hold = make(chan struct{})
	}
}

// Release answers the held messages and stops holding.
func (s *Server) Release() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.hold != nil {
		close(s.hold)
		s.hold = nil
	}
}

// Messages returns every accepted message, oldest first.
func (s *Server) Messages() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Message(nil), s.msgs...)
}

// Requests returns every request received (but getUpdates), oldest first.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.reqs...)
}

// Reset forgets messages, requests, injected failures, rejected photos, pending updates,
// commands and the OnAccept hook, and releases held requests. Token, chats and the poll
// bound stay.
func (s *Server) Reset() {
	s.Release()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.resetLocked()
	s.notifyLocked()
}

func (s *Server) resetLocked() {
	s.nextID = map[int64]int{}
	s.msgs, s.reqs, s.inject, s.updates = nil, nil, nil, nil
	s.injectDelete, s.deleted = nil, nil
	s.injectEdit = nil
	s.badPhotos = map[string]string{}
	s.onAccept = nil
	s.commands = nil
	s.callbacks = map[string]*callbackQuery{}
}

// notifyLocked wakes everyone waiting for a change.
func (s *Server) notifyLocked() {
	close(s.changed)
	s.changed = make(chan struct{})
}

// ServeHTTP implements http.Handler: /bot<token>/<method>.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rest, ok := strings.CutPrefix(r.URL.Path, "/bot")
	token, method, ok2 := strings.Cut(rest, "/")
	if !ok || !ok2 || method == "" || strings.Contains(method, "/") {
		writeError(w, answer{code: 404, description: "Not Found"})
		return
	}
	p, files, perr := readParams(r)
	idx := -1
	if !strings.EqualFold(method, "getUpdates") {
		idx = s.record(Request{Method: method, ChatID: p["chat_id"], Time: time.Now()})
	}
	sw := &statusWriter{ResponseWriter: w}
	s.serve(sw, r, token, method, p, files, perr)
	if idx >= 0 {
		s.mu.Lock()
		s.reqs[idx].Status = sw.status
		s.notifyLocked()
		s.mu.Unlock()
	}
}

func (s *Server) record(req Request) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.reqs = append(s.reqs, req)
	s.notifyLocked()
	return len(s.reqs) - 1
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request, token, method string, p params, files map[string]upload, err error) {
	s.mu.Lock()
	want := s.token
	s.mu.Unlock()
	if token != want {
		writeError(w, answer{code: 401, description: "Unauthorized"})
		return
	}
	if err != nil {
		writeError(w, answer{code: 400, description: "Bad Request: " + err.Error()})
		return
	}
	switch strings.ToLower(method) {
	case "getme":
		writeResult(w, map[string]any{"id": botID(token), "is_bot": true, "first_name": "Herald Fake",
			"username": BotUsername, "can_join_groups": true, "can_read_all_group_messages": false,
			"supports_inline_queries": false})
	case "getchat":
		s.getChat(w, p)
	case "sendmessage":
		s.send(w, r, "sendMessage", p, files)
	case "sendphoto":
		s.send(w, r, "sendPhoto", p, files)
	case "getupdates":
		s.getUpdates(w, r, p)
	case "setmycommands":
		s.setMyCommands(w, p)
	case "getmycommands":
		s.mu.Lock()
		cmds := s.commands
		s.mu.Unlock()
		if cmds == nil {
			cmds = json.RawMessage("[]")
		}
		writeResult(w, cmds)
	case "deletemycommands":
		s.mu.Lock()
		s.commands = nil
		s.mu.Unlock()
		writeResult(w, true)
	case "deletemessage":
		s.deleteMessage(w, p)
	case "editmessagetext":
		s.editMessage(w, p, false)
	case "editmessagecaption":
		s.editMessage(w, p, true)
	case "answercallbackquery":
		s.answerCallbackQuery(w, p)
	case "editmessagereplymarkup":
		s.editMessageReplyMarkup(w, p)
	case "setwebhook":
		s.setWebhook(w, p)
	case "deletewebhook":
		s.mu.Lock()
		s.webhookURL = ""
		s.mu.Unlock()
		writeResult(w, true)
	case "getwebhookinfo":
		s.mu.Lock()
		u := s.webhookURL
		s.mu.Unlock()
		writeResult(w, map[string]any{"url": u, "has_custom_certificate": false, "pending_update_count": 0})
	default:
		writeError(w, answer{code: 404, description: "Not Found"})
	}
}

// botID is the numeric part of the token, as Telegram's bot ids are.
func botID(token string) int64 {
	var id int64
	for _, r := range token {
		if r < '0' || r > '9' {
			break
		}
		id = id*10 + int64(r-'0')
	}
	return id
}

type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func writeResult(w http.ResponseWriter, result any) {
	writeJSON(w, http.StatusOK, map[string]any{"ok": true, "result": result})
}

func writeError(w http.ResponseWriter, a answer) {
	if a.raw != "" {
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(a.code)
		_, _ = w.Write([]byte(a.raw))
		return
	}
	body := map[string]any{"ok": false, "error_code": a.code, "description": a.description}
	if a.code == 429 {
		if a.description == "" {
			body["description"] = "Too Many Requests: retry after " + itoa(a.retryAfter)
		}
		body["parameters"] = map[string]any{"retry_after": a.retryAfter}
	}
	if a.migrateTo != 0 {
		body["parameters"] = map[string]any{"migrate_to_chat_id": a.migrateTo}
	}
	writeJSON(w, a.code, body)
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}
