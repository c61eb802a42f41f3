package telegramfake

import (
	"net/url"
	"strings"
	"testing"
)

// editMessageText and editMessageCaption answer like Telegram: the message must be in the chat,
// of the right kind, the new text valid HTML within the length limit and different from what it
// says now; an accepted edit changes the recorded message.
func TestEditMessageAnswersLikeTelegram(t *testing.T) {
	s := New()
	defer s.Close()
	if code, r := postForm(t, s, DefaultToken, "sendMessage", url.Values{"chat_id": {chatID()}, "text": {"<b>old</b>"}, "parse_mode": {"HTML"}}); code != 200 {
		t.Fatalf("send: %d %+v", code, r)
	}
	if code, r := postForm(t, s, DefaultToken, "sendPhoto", url.Values{"chat_id": {chatID()}, "photo": {"https://cdn.example.com/p.jpg"}, "caption": {"cap"}}); code != 200 {
		t.Fatalf("send photo: %d %+v", code, r)
	}
	edit := func(method, id, text, parseMode string) (int, string) {
		t.Helper()
		v := url.Values{"chat_id": {chatID()}, "message_id": {id}, "parse_mode": {parseMode}}
		if method == "editMessageCaption" {
			v.Set("caption", text)
		} else {
			v.Set("text", text)
		}
		code, r := postForm(t, s, DefaultToken, method, v)
		return code, r.Description
	}
	for _, c := range []struct {
		method, id, text, want string
	}{
		{"editMessageText", "1", "<b>old</b>", "Bad Request: message is not modified"},
		{"editMessageText", "1", "<b>unclosed", "Bad Request: can't parse entities"},
		{"editMessageText", "1", "  ", "Bad Request: message text is empty"},
		{"editMessageText", "1", strings.Repeat("ب", MaxTextLen+1), "Bad Request: message is too long"},
		{"editMessageText", "2", "text", "Bad Request: there is no text in the message to edit"},
		{"editMessageCaption", "1", "text", "Bad Request: there is no caption in the message to edit"},
		{"editMessageCaption", "2", strings.Repeat("x", MaxCaptionLen+1), "Bad Request: message caption is too long"},
		{"editMessageText", "9", "text", "Bad Request: message to edit not found"},
		{"editMessageText", "", "text", "Bad Request: message identifier is not specified"},
	} {
		if code, d := edit(c.method, c.id, c.text, "HTML"); code != 400 || !strings.HasPrefix(d, c.want) {
			t.Errorf("%s %s %.20q: %d %q, want 400 %q", c.method, c.id, c.text, code, d, c.want)
		}
	}
	if m := s.Messages(); m[0].Edits != 0 || m[1].Edits != 0 || m[0].Plain != "old" {
		t.Fatalf("refused edits changed the messages: %+v", m)
	}
	// The same words without the bold are a change (the entities differ).
	if code, d := edit("editMessageText", "1", "old", ""); code != 200 {
		t.Fatalf("edit: %d %s", code, d)
	}
	if code, d := edit("editMessageCaption", "2", "<i>new</i> caption", "HTML"); code != 200 {
		t.Fatalf("edit caption: %d %s", code, d)
	}
	m := s.Messages()
	if m[0].Text != "old" || len(m[0].Entities) != 0 || m[0].Edits != 1 || m[1].Plain != "new caption" || m[1].Caption != "<i>new</i> caption" || m[1].Edits != 1 {
		t.Fatalf("messages after the edits: %+v", m)
	}
	if code, d := edit("editMessageText", "1", "x", "HTML"); code != 200 {
		t.Fatalf("second edit: %d %s", code, d)
	}
	s.FailEditNext(1, 429, "", 5)
	if code, r := postForm(t, s, DefaultToken, "editMessageText", url.Values{"chat_id": {chatID()}, "message_id": {"1"}, "text": {"y"}}); code != 429 || r.Parameters == nil || r.Parameters.RetryAfter != 5 {
		t.Fatalf("injected 429: %d %+v", code, r)
	}
	if code, _ := postForm(t, s, "1:wrong", "editMessageText", url.Values{"chat_id": {chatID()}, "message_id": {"1"}, "text": {"y"}}); code != 401 {
		t.Fatalf("wrong token: %d", code)
	}
	if m := s.Messages(); m[0].Text != "x" || m[0].Edits != 2 {
		t.Fatalf("message 1 %+v", m[0])
	}
}
