package telegramfake

import (
	"net/http"
	"strconv"
	"strings"
)

// getChat answers like the Bot API: the chat by numeric id or "@username", or 400 "Bad
// Request: chat not found" (also what Telegram says when the bot cannot see the chat).
// Specs: https://core.telegram.org/bots/api#getchat
func (s *Server) getChat(w http.ResponseWriter, p params) {
	s.mu.Lock()
	defer s.mu.Unlock()
	id := strings.TrimSpace(p["chat_id"])
	var c Chat
	var ok bool
	if name, isName := strings.CutPrefix(id, "@"); isName {
		var n int64
		if n, ok = s.usernames[strings.ToLower(name)]; ok {
			c = s.chats[n]
		}
	} else {
		for _, ch := range s.chats {
			if strconv.FormatInt(ch.ID, 10) == id {
				c, ok = ch, true
			}
		}
	}
	if !ok {
		writeError(w, answer{code: 400, description: "Bad Request: chat not found"})
		return
	}
	res := map[string]any{"id": c.ID, "type": c.Type, "accent_color_id": 0, "max_reaction_count": 11}
	if c.Title != "" {
		res["title"] = c.Title
	}
	if c.Username != "" {
		res["username"] = c.Username
	}
	writeResult(w, res)
}
