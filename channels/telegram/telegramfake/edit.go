package telegramfake

import (
	"net/http"
	"reflect"
	"strconv"
	"time"
)

// FailEditNext makes the next n editMessageText / editMessageCaption requests fail with code
// and description (429 answers carry parameters.retry_after = retryAfter), before any other
// check but the token's.
func (s *Server) FailEditNext(n, code int, description string, retryAfter int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for range n {
		s.injectEdit = append(s.injectEdit, answer{code: code, description: description, retryAfter: retryAfter})
	}
}

// editMessage changes an accepted message's text (editMessageText) or a photo's caption
// (editMessageCaption, caption true), checked as sendMessage / sendPhoto check them (entities,
// empty text, length after parsing). Telegram's answers: "message to edit not found" for a
// message the chat does not hold (never sent, or deleted); "there is no text in the message to
// edit" for a text edit of a photo, "there is no caption in the message to edit" for a caption
// edit of a text message; "message is not modified" when the new text and entities (and link
// preview options) are those the message has. The fake's chats hold only the bot's own
// messages, which a bot may edit at any age.
// Specs: https://core.telegram.org/bots/api#editmessagetext,
// https://core.telegram.org/bots/api#editmessagecaption
func (s *Server) editMessage(w http.ResponseWriter, p params, caption bool) {
	s.mu.Lock()
	if len(s.injectEdit) > 0 {
		a := s.injectEdit[0]
		s.injectEdit = s.injectEdit[1:]
		s.mu.Unlock()
		writeError(w, a)
		return
	}
	s.mu.Unlock()
	bad := func(d string) { writeError(w, answer{code: 400, description: "Bad Request: " + d}) }
	chat, fail := s.lookupChat(p["chat_id"])
	if fail != "" {
		bad(fail)
		return
	}
	if p["message_id"] == "" {
		bad("message identifier is not specified")
		return
	}
	id, err := strconv.Atoi(p["message_id"])
	if err != nil {
		bad("invalid message identifier specified")
		return
	}
	if _, fail := checkReplyMarkup(p["reply_markup"]); fail != "" {
		bad(fail)
		return
	}
	edit := Message{ParseMode: p["parse_mode"], LinkPreviewOptions: p["link_preview_options"],
		DisableWebPagePreview: boolParam(p["disable_web_page_preview"])}
	raw := p["text"]
	if caption {
		raw = p["caption"]
	}
	if fail := checkContent(&edit, raw, caption); fail != "" {
		bad(fail)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := range s.msgs {
		m := &s.msgs[i]
		if m.Chat.ID != chat.ID || m.MessageID != id {
			continue
		}
		isPhoto := m.Method == "sendPhoto"
		switch {
		case caption && !isPhoto:
			bad("there is no caption in the message to edit")
			return
		case !caption && isPhoto:
			bad("there is no text in the message to edit")
			return
		}
		if m.Plain == edit.Plain && sameEntities(m.Entities, edit.Entities) && (caption || m.LinkPreviewOptions == edit.LinkPreviewOptions) {
			bad("message is not modified: specified new message content and reply markup are exactly the same as a current content and reply markup of the message")
			return
		}
		if caption {
			m.Caption = raw
		} else {
			m.Text = raw
			m.LinkPreviewOptions, m.DisableWebPagePreview = edit.LinkPreviewOptions, edit.DisableWebPagePreview
		}
		m.Plain, m.Entities, m.ParseMode = edit.Plain, edit.Entities, edit.ParseMode
		m.Edits++
		s.notifyLocked()
		res := resultMessage(*m)
		res["edit_date"] = time.Now().Unix()
		writeResult(w, res)
		return
	}
	bad("message to edit not found")
}

// sameEntities compares formatting, no entities and an empty list being the same.
func sameEntities(a, b []Entity) bool {
	if len(a) == 0 && len(b) == 0 {
		return true
	}
	return reflect.DeepEqual(a, b)
}
