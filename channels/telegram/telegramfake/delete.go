package telegramfake

import (
	"net/http"
	"strconv"
	"time"
)

// DeleteLimit is how old a message may be for deleteMessage: "A message can only be deleted if
// it was sent less than 48 hours ago" (https://core.telegram.org/bots/api#deletemessage). The
// Bot API lists no exception for a bot's own posts in a channel, so the fake enforces it on
// every chat.
const DeleteLimit = 48 * time.Hour

// Deleted is one message deleteMessage removed.
type Deleted struct {
	Chat      Chat
	MessageID int
	Time      time.Time
}

// FailDeleteNext makes the next n deleteMessage requests fail with code and description (429
// answers carry parameters.retry_after = retryAfter), before any other check but the token's.
func (s *Server) FailDeleteNext(n, code int, description string, retryAfter int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for range n {
		s.injectDelete = append(s.injectDelete, answer{code: code, description: description, retryAfter: retryAfter})
	}
}

// Age makes an accepted message look older by d (to exercise the 48-hour limit).
func (s *Server) Age(chatID int64, messageID int, d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := range s.msgs {
		if s.msgs[i].Chat.ID == chatID && s.msgs[i].MessageID == messageID {
			s.msgs[i].Time = s.msgs[i].Time.Add(-d)
		}
	}
}

// DeletedMessages returns every message deleteMessage removed, oldest first.
func (s *Server) DeletedMessages() []Deleted {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Deleted(nil), s.deleted...)
}

// deleteMessage removes an accepted message: Messages no longer returns it. A message the chat
// does not hold (never sent, or deleted already) is 400 "message to delete not found"; one older
// than DeleteLimit is 400 "message can't be deleted".
// Specs: https://core.telegram.org/bots/api#deletemessage
func (s *Server) deleteMessage(w http.ResponseWriter, p params) {
	s.mu.Lock()
	if len(s.injectDelete) > 0 {
		a := s.injectDelete[0]
		s.injectDelete = s.injectDelete[1:]
		s.mu.Unlock()
		writeError(w, a)
		return
	}
	s.mu.Unlock()
	chat, fail := s.lookupChat(p["chat_id"])
	if fail != "" {
		writeError(w, answer{code: 400, description: "Bad Request: " + fail})
		return
	}
	if p["message_id"] == "" {
		writeError(w, answer{code: 400, description: "Bad Request: message identifier is not specified"})
		return
	}
	id, err := strconv.Atoi(p["message_id"])
	if err != nil {
		writeError(w, answer{code: 400, description: "Bad Request: invalid message identifier specified"})
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, m := range s.msgs {
		if m.Chat.ID != chat.ID || m.MessageID != id {
			continue
		}
		if time.Since(m.Time) >= DeleteLimit {
			writeError(w, answer{code: 400, description: "Bad Request: message can't be deleted"})
			return
		}
		s.msgs = append(s.msgs[:i:i], s.msgs[i+1:]...)
		s.deleted = append(s.deleted, Deleted{Chat: chat, MessageID: id, Time: time.Now()})
		s.notifyLocked()
		writeResult(w, true)
		return
	}
	writeError(w, answer{code: 400, description: "Bad Request: message to delete not found"})
}
