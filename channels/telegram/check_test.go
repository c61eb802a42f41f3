package telegram

import (
	"strings"
	"testing"

	"herald/channels/telegram/telegramfake"
)

// Check answers nil for a good token and a chat the bot sees, by id or @username; a wrong token
// or an unknown chat is a clear error without the token in it.
func TestCheckTokenAndChat(t *testing.T) {
	h := newHarness(t)
	if err := h.ch.Check(testCtx(t)); err != nil {
		t.Fatalf("Check: %v", err)
	}
	byName := newHarness(t, "chat_id: \"@"+telegramfake.DefaultChat.Username+"\"")
	if err := byName.ch.Check(testCtx(t)); err != nil {
		t.Fatalf("Check by @username: %v", err)
	}
	unknown := newHarness(t, "chat_id: -100999")
	err := unknown.ch.Check(testCtx(t))
	if err == nil || !strings.Contains(err.Error(), "checking chat -100999") || !strings.Contains(err.Error(), "chat not found") {
		t.Fatalf("Check of an unknown chat: %v", err)
	}
	h.fake.SetToken("1:other")
	err = h.ch.Check(testCtx(t))
	if err == nil || !strings.Contains(err.Error(), "401 Unauthorized") || strings.Contains(err.Error(), token) {
		t.Fatalf("Check with a wrong token: %v", err)
	}
	var methods []string
	for _, r := range unknown.fake.Requests() {
		methods = append(methods, r.Method)
	}
	if strings.Join(methods, ",") != "getMe,getChat" {
		t.Fatalf("requests %v, want getMe then getChat and no post", methods)
	}
}
