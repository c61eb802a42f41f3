package telegramfake

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Limits in UTF-16 code units after entity parsing.
const (
	MaxTextLen    = 4096
	MaxCaptionLen = 1024
)

// send handles sendMessage and sendPhoto.
// Specs: https://core.telegram.org/bots/api#sendmessage, https://core.telegram.org/bots/api#sendphoto
func (s *Server) send(w http.ResponseWriter, r *http.Request, method string, p params, files map[string]upload) {
	s.mu.Lock()
	if len(s.inject) > 0 {
		a := s.inject[0]
		s.inject = s.inject[1:]
		s.mu.Unlock()
		writeError(w, a)
		return
	}
	s.mu.Unlock()

	if to := s.migratedTo(p["chat_id"]); to != 0 {
		writeError(w, answer{code: 400, description: "Bad Request: group chat was upgraded to a supergroup chat", migrateTo: to})
		return
	}
	msg, fail := s.check(method, p, files)
	if fail != "" {
		writeError(w, answer{code: 400, description: "Bad Request: " + fail})
		return
	}

	s.mu.Lock()
	s.nextID[msg.Chat.ID]++
	msg.MessageID = s.nextID[msg.Chat.ID]
	msg.Time = time.Now()
	s.msgs = append(s.msgs, msg)
	hook, hold := s.onAccept, s.hold
	s.notifyLocked()
	s.mu.Unlock()

	if hook != nil {
		hook(msg)
	}
	if hold != nil {
		select {
		case <-hold:
		case <-r.Context().Done():
			return // the client went away: it will never know the message was posted
		case <-s.done:
		}
	}
	writeResult(w, resultMessage(msg))
}

// check validates a send request the way Telegram does and returns the message to record, or
// the text after "Bad Request: ".
func (s *Server) check(method string, p params, files map[string]upload) (Message, string) {
	msg := Message{Method: method, ParseMode: p["parse_mode"], DisableWebPagePreview: boolParam(p["disable_web_page_preview"]),
		LinkPreviewOptions: p["link_preview_options"]}
	if lp := msg.LinkPreviewOptions; lp != "" {
		// Specs: https://core.telegram.org/bots/api#linkpreviewoptions
		var obj map[string]any
		if json.Unmarshal([]byte(lp), &obj) != nil {
			return msg, "can't parse link preview options JSON object"
		}
	}
	chat, fail := s.lookupChat(p["chat_id"])
	if fail != "" {
		return msg, fail
	}
	msg.Chat = chat
	if msg.ThreadID, fail = s.checkThread(chat, p["message_thread_id"]); fail != "" {
		return msg, fail
	}
	if msg.ReplyMarkup, fail = checkReplyMarkup(p["reply_markup"]); fail != "" {
		return msg, fail
	}
	raw := p["text"]
	if method == "sendPhoto" {
		raw = p["caption"]
		msg.Caption = raw
	} else {
		msg.Text = raw
	}
	if fail := checkContent(&msg, raw, method == "sendPhoto"); fail != "" || method == "sendMessage" {
		return msg, fail
	}
	return s.checkPhoto(msg, p, files)
}

// checkContent parses a text or caption (raw) with msg.ParseMode into msg.Plain and
// msg.Entities and checks it as Telegram does (sendMessage, sendPhoto and the edits): UTF-8,
// entities, empty text, length after entity parsing. It returns the text after "Bad Request: ".
func checkContent(msg *Message, raw string, caption bool) string {
	if !utf8.ValidString(raw) {
		return "strings must be encoded in UTF-8"
	}
	plain := raw
	msg.Entities = nil
	switch strings.ToLower(msg.ParseMode) {
	case "":
	case "html":
		var err error
		plain, msg.Entities, err = ParseHTML(raw)
		if err != nil {
			return "can't parse entities: " + err.Error()
		}
	case "markdown", "markdownv2":
		// Not checked by the fake; counted as written.
	default:
		return "unsupported parse_mode"
	}
	msg.Plain = plain
	n := UTF16Len(plain)
	if !caption {
		switch {
		case strings.TrimSpace(plain) == "":
			return "message text is empty"
		case n > MaxTextLen:
			return "message is too long"
		}
		return ""
	}
	if n > MaxCaptionLen {
		return "message caption is too long"
	}
	return ""
}

func (s *Server) checkPhoto(msg Message, p params, files map[string]upload) (Message, string) {
	if f, ok := files["photo"]; ok {
		msg.PhotoUpload = f.size
		switch {
		case f.size == 0:
			return msg, "file must be non-empty"
		case !f.image:
			return msg, "IMAGE_PROCESS_FAILED"
		}
		return msg, ""
	}
	msg.PhotoURL = strings.TrimSpace(p["photo"])
	if msg.PhotoURL == "" {
		return msg, "there is no photo in the request"
	}
	s.mu.Lock()
	bad, rejected := s.badPhotos[msg.PhotoURL]
	s.mu.Unlock()
	if rejected {
		return msg, strings.TrimPrefix(bad, "Bad Request: ")
	}
	if strings.Contains(msg.PhotoURL, "://") {
		u, err := url.Parse(msg.PhotoURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return msg, "wrong file identifier/HTTP URL specified"
		}
	}
	return msg, ""
}

// checkThread reads message_thread_id: empty, or an open topic of the forum chat (AddTopic,
// CloseTopic, DeleteTopic).
// Specs: https://core.telegram.org/bots/api#sendmessage (message_thread_id)
func (s *Server) checkThread(chat Chat, raw string) (int, string) {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return 0, ""
	}
	id, err := strconv.Atoi(raw)
	if err != nil {
		return 0, "message thread not found"
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	switch closed, ok := s.topics[chat.ID][id]; {
	case !ok:
		return 0, "message thread not found"
	case closed:
		return 0, "TOPIC_CLOSED"
	}
	return id, ""
}

// migratedTo is the supergroup a numeric chat_id's group became (MigrateChat), 0 if none.
func (s *Server) migratedTo(id string) int64 {
	n, err := strconv.ParseInt(strings.TrimSpace(id), 10, 64)
	if err != nil {
		return 0
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.migrated[n]
}

// lookupChat finds the chat a chat_id names: a number or "@username".
func (s *Server) lookupChat(id string) (Chat, string) {
	id = strings.TrimSpace(id)
	if id == "" {
		return Chat{}, "chat_id is empty"
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if name, ok := strings.CutPrefix(id, "@"); ok {
		if n, ok := s.usernames[strings.ToLower(name)]; ok {
			return s.chats[n], ""
		}
		return Chat{}, "chat not found"
	}
	n, err := strconv.ParseInt(id, 10, 64)
	if err != nil {
		return Chat{}, "chat not found"
	}
	if c, ok := s.chats[n]; ok {
		return c, ""
	}
	return Chat{}, "chat not found"
}

// resultMessage is the Message object the Bot API answers with.
func resultMessage(m Message) map[string]any {
	out := map[string]any{
		"message_id": m.MessageID,
		"chat":       m.Chat,
		"date":       m.Time.Unix(),
	}
	if m.Chat.Type == "channel" {
		out["sender_chat"] = m.Chat
	}
	if m.ThreadID != 0 {
		out["message_thread_id"], out["is_topic_message"] = m.ThreadID, true
	}
	if m.Method == "sendMessage" {
		out["text"] = m.Plain
		if len(m.Entities) > 0 {
			out["entities"] = m.Entities
		}
		return out
	}
	id := fmt.Sprintf("AgACAgfake%d_%d", -m.Chat.ID, m.MessageID)
	out["photo"] = []map[string]any{
		{"file_id": id + "_s", "file_unique_id": "AQADs" + strconv.Itoa(m.MessageID), "width": 90, "height": 60, "file_size": 1200},
		{"file_id": id + "_m", "file_unique_id": "AQADm" + strconv.Itoa(m.MessageID), "width": 320, "height": 213, "file_size": 14000},
		{"file_id": id + "_x", "file_unique_id": "AQADx" + strconv.Itoa(m.MessageID), "width": 1280, "height": 853, "file_size": 98000},
	}
	if m.Plain != "" {
		out["caption"] = m.Plain
		if len(m.Entities) > 0 {
			out["caption_entities"] = m.Entities
		}
	}
	return out
}
