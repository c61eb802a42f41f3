package telegramfake

import (
	"bytes"
	"context"
	"encoding/json"
	"mime/multipart"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"
)

// reply is the Bot API answer envelope.
type reply struct {
	OK          bool            `json:"ok"`
	Result      json.RawMessage `json:"result"`
	ErrorCode   int             `json:"error_code"`
	Description string          `json:"description"`
	Parameters  *struct {
		RetryAfter int `json:"retry_after"`
	} `json:"parameters"`
}

func do(t *testing.T, req *http.Request) (int, reply) {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var r reply
	if err := json.NewDecoder(resp.Body).Decode(&r); err != nil {
		t.Fatalf("decoding answer: %v", err)
	}
	if r.OK != (resp.StatusCode == 200) || (!r.OK && r.ErrorCode != resp.StatusCode) {
		t.Fatalf("status %d does not match body %+v", resp.StatusCode, r)
	}
	return resp.StatusCode, r
}

func postForm(t *testing.T, s *Server, token, method string, v url.Values) (int, reply) {
	t.Helper()
	req, err := http.NewRequest("POST", s.URL()+"/bot"+token+"/"+method, strings.NewReader(v.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return do(t, req)
}

func postJSON(t *testing.T, s *Server, method string, body any) (int, reply) {
	t.Helper()
	b, _ := json.Marshal(body)
	req, err := http.NewRequest("POST", s.URL()+"/bot"+DefaultToken+"/"+method, bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	return do(t, req)
}

func chatID() string { return "-1001000000001" }

func TestSendMessageAnswersLikeTelegram(t *testing.T) {
	s := New()
	defer s.Close()
	code, r := postForm(t, s, DefaultToken, "sendMessage", url.Values{
		"chat_id": {chatID()}, "text": {"<b>عاجل</b> &amp; more"}, "parse_mode": {"HTML"}, "disable_web_page_preview": {"true"},
	})
	if code != 200 {
		t.Fatalf("code %d: %+v", code, r)
	}
	var m tgbotapi.Message
	if err := json.Unmarshal(r.Result, &m); err != nil {
		t.Fatal(err)
	}
	if m.MessageID != 1 || m.Chat.ID != DefaultChat.ID || m.Text != "عاجل & more" || len(m.Entities) != 1 || m.Entities[0].Type != "bold" {
		t.Fatalf("result = %s", r.Result)
	}
	msgs := s.Messages()
	if len(msgs) != 1 || msgs[0].Text != "<b>عاجل</b> &amp; more" || msgs[0].Plain != "عاجل & more" ||
		!msgs[0].DisableWebPagePreview || msgs[0].ParseMode != "HTML" || msgs[0].Method != "sendMessage" {
		t.Fatalf("messages = %+v", msgs)
	}
	// Message ids count per chat.
	_, r = postForm(t, s, DefaultToken, "sendMessage", url.Values{"chat_id": {"@herald_fake"}, "text": {"two"}})
	if err := json.Unmarshal(r.Result, &m); err != nil || m.MessageID != 2 {
		t.Fatalf("second message: %s", r.Result)
	}
}

func TestSendPhotoJSONAndMultipart(t *testing.T) {
	s := New()
	defer s.Close()
	code, r := postJSON(t, s, "sendPhoto", map[string]any{
		"chat_id": DefaultChat.ID, "photo": "https://example.com/a.jpg", "caption": "<i>cap</i>", "parse_mode": "HTML",
	})
	if code != 200 {
		t.Fatalf("code %d: %+v", code, r)
	}
	var m tgbotapi.Message
	if err := json.Unmarshal(r.Result, &m); err != nil || len(m.Photo) == 0 || m.Caption != "cap" {
		t.Fatalf("result = %s (%v)", r.Result, err)
	}

	upload := func(data []byte) (int, reply) {
		var body bytes.Buffer
		mw := multipart.NewWriter(&body)
		_ = mw.WriteField("chat_id", chatID())
		_ = mw.WriteField("caption", "uploaded")
		fw, _ := mw.CreateFormFile("photo", "a.jpg")
		_, _ = fw.Write(data)
		_ = mw.Close()
		req, _ := http.NewRequest("POST", s.URL()+"/bot"+DefaultToken+"/sendPhoto", &body)
		req.Header.Set("Content-Type", mw.FormDataContentType())
		return do(t, req)
	}
	// Telegram decodes an uploaded photo: bytes that are no image are refused.
	if code, r := upload([]byte("not really a jpeg")); code != 400 || r.Description != "Bad Request: IMAGE_PROCESS_FAILED" {
		t.Fatalf("multipart, not an image: code %d: %+v", code, r)
	}
	jpeg := append([]byte{0xff, 0xd8, 0xff, 0xe0}, bytes.Repeat([]byte{7}, 13)...)
	if code, r := upload(jpeg); code != 200 {
		t.Fatalf("multipart: code %d: %+v", code, r)
	}
	msgs := s.Messages()
	if len(msgs) != 2 || msgs[0].PhotoURL != "https://example.com/a.jpg" || msgs[1].PhotoUpload != 17 || msgs[1].Caption != "uploaded" {
		t.Fatalf("messages = %+v", msgs)
	}
}

func TestErrors(t *testing.T) {
	s := New()
	defer s.Close()
	long := strings.Repeat("ب", MaxTextLen+1)
	tests := []struct {
		name   string
		token  string
		method string
		v      url.Values
		code   int
		desc   string
	}{
		{"wrong token", "1:nope", "sendMessage", url.Values{"chat_id": {chatID()}, "text": {"x"}}, 401, "Unauthorized"},
		{"unknown method", DefaultToken, "sendTelegram", nil, 404, "Not Found"},
		{"chat not found", DefaultToken, "sendMessage", url.Values{"chat_id": {"-100999"}, "text": {"x"}}, 400, "Bad Request: chat not found"},
		{"unknown username", DefaultToken, "sendMessage", url.Values{"chat_id": {"@nobody_here"}, "text": {"x"}}, 400, "Bad Request: chat not found"},
		{"no chat", DefaultToken, "sendMessage", url.Values{"text": {"x"}}, 400, "Bad Request: chat_id is empty"},
		{"empty text", DefaultToken, "sendMessage", url.Values{"chat_id": {chatID()}, "text": {"  "}}, 400, "Bad Request: message text is empty"},
		{"empty after parsing", DefaultToken, "sendMessage", url.Values{"chat_id": {chatID()}, "text": {"<b></b>"}, "parse_mode": {"HTML"}}, 400, "Bad Request: message text is empty"},
		{"too long", DefaultToken, "sendMessage", url.Values{"chat_id": {chatID()}, "text": {long}}, 400, "Bad Request: message is too long"},
		{"bad html", DefaultToken, "sendMessage", url.Values{"chat_id": {chatID()}, "text": {"a<br>b"}, "parse_mode": {"HTML"}}, 400,
			`Bad Request: can't parse entities: Unsupported start tag "br" at byte offset 1`},
		{"caption too long", DefaultToken, "sendPhoto", url.Values{"chat_id": {chatID()}, "photo": {"https://e.com/a.jpg"}, "caption": {long[:2*(MaxCaptionLen+1)]}}, 400,
			"Bad Request: message caption is too long"},
		{"no photo", DefaultToken, "sendPhoto", url.Values{"chat_id": {chatID()}}, 400, "Bad Request: there is no photo in the request"},
		{"bad photo url", DefaultToken, "sendPhoto", url.Values{"chat_id": {chatID()}, "photo": {"ftp://e.com/a.jpg"}}, 400,
			"Bad Request: wrong file identifier/HTTP URL specified"},
		{"bad parse mode", DefaultToken, "sendMessage", url.Values{"chat_id": {chatID()}, "text": {"x"}, "parse_mode": {"XML"}}, 400, "Bad Request: unsupported parse_mode"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, r := postForm(t, s, tc.token, tc.method, tc.v)
			if code != tc.code || r.Description != tc.desc {
				t.Fatalf("got %d %q, want %d %q", code, r.Description, tc.code, tc.desc)
			}
		})
	}
	if n := len(s.Messages()); n != 0 {
		t.Fatalf("%d messages accepted, want none", n)
	}
	if n := len(s.Requests()); n != len(tests) {
		t.Fatalf("%d requests recorded, want %d", n, len(tests))
	}
}

// TestLengthIsUTF16 checks the limits count UTF-16 code units after entity parsing: Arabic
// letters and harakat are one unit each, an emoji two.
func TestLengthIsUTF16(t *testing.T) {
	s := New()
	defer s.Close()
	word := "كَتَبَ "                       // 7 units: 3 letters, 3 harakat, a space
	base := strings.Repeat(word, 584) + "ب" // 4089 units
	tests := []struct {
		name    string
		text    string
		caption bool
		ok      bool
	}{
		{"4096 with emoji at the end", base + "ببببب😀", false, true},      // 4089+5+2
		{"4097: emoji crosses the limit", base + "بببببب😀", false, false}, // 4089+6+2
		{"tags and entities are not counted", "<b>" + base + "&amp;&lt;ببببب" + "</b>", false, true},
		{"caption 1024", strings.Repeat("ـً", 511) + "😀", true, true}, // 1022+2
		{"caption 1025", strings.Repeat("ـً", 511) + "ب😀", true, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			v := url.Values{"chat_id": {chatID()}, "parse_mode": {"HTML"}}
			method := "sendMessage"
			if tc.caption {
				method = "sendPhoto"
				v.Set("photo", "https://e.com/a.jpg")
				v.Set("caption", tc.text)
			} else {
				v.Set("text", tc.text)
			}
			code, r := postForm(t, s, DefaultToken, method, v)
			if (code == 200) != tc.ok {
				t.Fatalf("got %d %q, want ok=%v (text %d UTF-16 units)", code, r.Description, tc.ok, UTF16Len(tc.text))
			}
		})
	}
}

func TestInjectedFailures(t *testing.T) {
	s := New()
	defer s.Close()
	v := url.Values{"chat_id": {chatID()}, "text": {"x"}}
	s.RateLimitNext(1, 35)
	s.FailNext(2, 403, "Forbidden: bot is not a member of the channel chat")
	code, r := postForm(t, s, DefaultToken, "sendMessage", v)
	if code != 429 || r.Description != "Too Many Requests: retry after 35" || r.Parameters == nil || r.Parameters.RetryAfter != 35 {
		t.Fatalf("got %d %+v", code, r)
	}
	for range 2 {
		if code, r := postForm(t, s, DefaultToken, "sendMessage", v); code != 403 || r.Description != "Forbidden: bot is not a member of the channel chat" {
			t.Fatalf("got %d %+v", code, r)
		}
	}
	if code, _ := postForm(t, s, DefaultToken, "sendMessage", v); code != 200 {
		t.Fatalf("after injected failures: %d", code)
	}
	s.RejectPhotoURL("https://e.com/gone.jpg")
	code, r = postForm(t, s, DefaultToken, "sendPhoto", url.Values{"chat_id": {chatID()}, "photo": {"https://e.com/gone.jpg"}})
	if code != 400 || r.Description != "Bad Request: wrong file identifier/HTTP URL specified" {
		t.Fatalf("rejected photo: %d %+v", code, r)
	}
	reqs := s.Requests()
	if len(reqs) != 5 || reqs[0].Status != 429 || reqs[3].Status != 200 || reqs[0].Method != "sendMessage" || reqs[0].ChatID != chatID() {
		t.Fatalf("requests = %+v", reqs)
	}
	s.Reset()
	if len(s.Requests()) != 0 || len(s.Messages()) != 0 {
		t.Fatal("Reset kept records")
	}
}

func TestHoldAndOnAccept(t *testing.T) {
	s := New()
	defer s.Close()
	accepted := make(chan Message, 1)
	s.OnAccept(func(m Message) { accepted <- m })
	s.Hold()
	answered := make(chan int, 1)
	go func() {
		resp, err := http.PostForm(s.URL()+"/bot"+DefaultToken+"/sendMessage", url.Values{"chat_id": {chatID()}, "text": {"held"}})
		if err != nil {
			answered <- 0
			return
		}
		resp.Body.Close()
		answered <- resp.StatusCode
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	select {
	case m := <-accepted:
		if m.Text != "held" {
			t.Fatalf("accepted %+v", m)
		}
	case <-ctx.Done():
		t.Fatal("no message accepted")
	}
	if msgs, err := s.WaitMessages(ctx, 1); err != nil || len(msgs) != 1 {
		t.Fatalf("WaitMessages: %v %v", msgs, err)
	}
	select {
	case code := <-answered:
		t.Fatalf("answered (%d) while held", code)
	default:
	}
	s.Release()
	select {
	case code := <-answered:
		if code != 200 {
			t.Fatalf("answer %d", code)
		}
	case <-ctx.Done():
		t.Fatal("no answer after Release")
	}
}

func TestGetUpdates(t *testing.T) {
	s := New()
	defer s.Close()
	s.SetMaxPollWait(5 * time.Second)
	id1 := s.PushText(42, 42, "editor", "/status now")
	id2 := s.PushText(42, 42, "editor", "hello")

	updates := func(v url.Values) []tgbotapi.Update {
		t.Helper()
		code, r := postForm(t, s, DefaultToken, "getUpdates", v)
		if code != 200 {
			t.Fatalf("getUpdates: %d %+v", code, r)
		}
		var us []tgbotapi.Update
		if err := json.Unmarshal(r.Result, &us); err != nil {
			t.Fatal(err)
		}
		return us
	}
	us := updates(nil)
	if len(us) != 2 || us[0].UpdateID != id1 || !us[0].Message.IsCommand() || us[0].Message.Command() != "status" || us[1].Message.Text != "hello" {
		t.Fatalf("updates = %+v", us)
	}
	if us := updates(url.Values{"offset": {itoa(id2)}}); len(us) != 1 || us[0].UpdateID != id2 {
		t.Fatalf("offset %d: %+v", id2, us)
	}
	// Confirmed updates are gone; a long poll wakes up on a new one.
	go s.PushText(42, 42, "editor", "/help")
	if us := updates(url.Values{"offset": {itoa(id2 + 1)}, "timeout": {"30"}}); len(us) != 1 || us[0].Message.Text != "/help" {
		t.Fatalf("long poll: %+v", us)
	}
	// An empty long poll ends at the bound.
	s.SetMaxPollWait(50 * time.Millisecond)
	start := time.Now()
	if us := updates(url.Values{"offset": {itoa(id2 + 2)}, "timeout": {"30"}}); len(us) != 0 {
		t.Fatalf("empty poll: %+v", us)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Fatalf("empty poll took %s", d)
	}
	if len(s.Requests()) != 0 {
		t.Fatal("getUpdates polls were recorded")
	}
}

func TestGetMeAndCommands(t *testing.T) {
	s := New()
	defer s.Close()
	bot, err := tgbotapi.NewBotAPIWithClient(DefaultToken, s.Endpoint(), s.Client())
	if err != nil {
		t.Fatal(err)
	}
	if bot.Self.UserName != BotUsername || bot.Self.ID != 123456789 {
		t.Fatalf("getMe: %+v", bot.Self)
	}
	if _, err := bot.Request(tgbotapi.NewSetMyCommands(tgbotapi.BotCommand{Command: "status", Description: "Queue status"})); err != nil {
		t.Fatal(err)
	}
	if cmds := s.Commands(); len(cmds) != 1 || cmds[0].Command != "status" {
		t.Fatalf("commands = %+v", cmds)
	}
	_, err = bot.Request(tgbotapi.NewSetMyCommands(tgbotapi.BotCommand{Command: "Bad-Name", Description: "x"}))
	if err == nil || !strings.Contains(err.Error(), "BOT_COMMAND_INVALID") {
		t.Fatalf("invalid command: %v", err)
	}
	s.SetToken("1:other")
	if _, err := bot.GetMe(); err == nil || err.Error() != "Unauthorized" {
		t.Fatalf("wrong token: %v", err)
	}
}

// TestSetWebhookChecks: setWebhook takes only what Telegram takes — an HTTPS URL on port 443, 80,
// 88 or 8443, a secret token of A-Z a-z 0-9 _ - — and getWebhookInfo reports the URL set.
func TestSetWebhookChecks(t *testing.T) {
	s := New()
	defer s.Close()
	tests := []struct {
		name, url, secret string
		desc              string
	}{
		{"http", "http://herald.example.com/hook", "abc", "Bad Request: bad webhook: An HTTPS URL must be provided for webhook"},
		{"port", "https://herald.example.com:9000/hook", "abc", "Bad Request: bad webhook: Webhook can be set up only on ports 80, 88, 443 or 8443"},
		{"base64 secret", "https://herald.example.com/hook", "c2VjcmV0+/w==", "Bad Request: secret token contains unallowed characters"},
		{"long secret", "https://herald.example.com/hook", strings.Repeat("a", 257), "Bad Request: secret token is too long"},
		{"ok", "https://herald.example.com:8443/hook", "s3cret_hook-token", ""},
	}
	for _, tc := range tests {
		code, r := postForm(t, s, DefaultToken, "setWebhook", url.Values{"url": {tc.url}, "secret_token": {tc.secret}})
		if tc.desc == "" && code != 200 || tc.desc != "" && (code != 400 || r.Description != tc.desc) {
			t.Errorf("%s: got %d %q, want %q", tc.name, code, r.Description, tc.desc)
		}
	}
	_, r := postForm(t, s, DefaultToken, "getWebhookInfo", nil)
	var info struct {
		URL string `json:"url"`
	}
	if err := json.Unmarshal(r.Result, &info); err != nil || info.URL != "https://herald.example.com:8443/hook" {
		t.Fatalf("getWebhookInfo: %s (%v)", r.Result, err)
	}
}

// TestForumTopics: a send into a topic of a forum supergroup is answered with the topic's
// message_thread_id; a thread that is not a topic of the chat is refused as Telegram refuses
// it; messages written in a topic, and buttons under a message sent to one, carry it.
func TestForumTopics(t *testing.T) {
	s := New()
	defer s.Close()
	const group = int64(-1005550000001)
	s.AddChat(Chat{ID: group, Type: "supergroup", Title: "newsroom"})
	s.AddTopic(group, 42)
	send := func(thread string) (int, reply) {
		return postForm(t, s, DefaultToken, "sendMessage", url.Values{"chat_id": {"-1005550000001"}, "text": {"hi"}, "message_thread_id": {thread}})
	}
	code, r := send("42")
	var got struct {
		ThreadID int  `json:"message_thread_id"`
		IsTopic  bool `json:"is_topic_message"`
	}
	if err := json.Unmarshal(r.Result, &got); code != 200 || err != nil || got.ThreadID != 42 || !got.IsTopic {
		t.Fatalf("send to topic 42: %d %+v %s", code, got, r.Result)
	}
	if ms := s.Messages(); len(ms) != 1 || ms[0].ThreadID != 42 || !ms[0].Chat.IsForum {
		t.Fatalf("recorded %+v", ms)
	}
	for _, bad := range []string{"43", "1", "x"} {
		if code, r := send(bad); code != 400 || r.Description != "Bad Request: message thread not found" {
			t.Fatalf("thread %s: %d %+v", bad, code, r)
		}
	}
	s.AddTopic(group, 43)
	s.CloseTopic(group, 43)
	if code, r := send("43"); code != 400 || r.Description != "Bad Request: TOPIC_CLOSED" {
		t.Fatalf("closed topic: %d %+v", code, r)
	}
	s.DeleteTopic(group, 43)
	if code, r := send("43"); code != 400 || r.Description != "Bad Request: message thread not found" {
		t.Fatalf("deleted topic: %d %+v", code, r)
	}
	// A chat without topics has none.
	if code, r := postForm(t, s, DefaultToken, "sendMessage", url.Values{"chat_id": {chatID()}, "text": {"hi"}, "message_thread_id": {"42"}}); code != 400 ||
		r.Description != "Bad Request: message thread not found" {
		t.Fatalf("thread in a channel: %d %+v", code, r)
	}

	fields := func(raw json.RawMessage, path ...string) (int, bool) {
		t.Helper()
		var m map[string]any
		if err := json.Unmarshal(raw, &m); err != nil {
			t.Fatal(err)
		}
		for _, k := range path {
			m, _ = m[k].(map[string]any)
		}
		n, _ := m["message_thread_id"].(float64)
		topic, _ := m["is_topic_message"].(bool)
		return int(n), topic
	}
	s.PushTopicText(group, 42, 7, "editor", "/status x")
	s.PushTopicText(group, 9, 7, "editor", "/status y") // a reply in General: a thread, not a topic
	s.PushCallback(group, 7, "editor", 1, "h1:tok:y")   // under the message sent to topic 42
	s.PushText(group, 7, "editor", "/status z")
	code, r = postForm(t, s, DefaultToken, "getUpdates", nil)
	var us []json.RawMessage
	if err := json.Unmarshal(r.Result, &us); code != 200 || err != nil || len(us) != 4 {
		t.Fatalf("getUpdates: %d %v %s", code, err, r.Result)
	}
	if n, topic := fields(us[0], "message"); n != 42 || !topic {
		t.Fatalf("message in topic 42: %d %v", n, topic)
	}
	if n, topic := fields(us[1], "message"); n != 9 || topic {
		t.Fatalf("reply in General: %d %v", n, topic)
	}
	if n, topic := fields(us[2], "callback_query", "message"); n != 42 || !topic {
		t.Fatalf("button under a topic's message: %d %v", n, topic)
	}
	if n, topic := fields(us[3], "message"); n != 0 || topic {
		t.Fatalf("message outside topics: %d %v", n, topic)
	}
	var u tgbotapi.Update
	if err := json.Unmarshal(us[0], &u); err != nil || u.Message.Text != "/status x" || u.Message.Chat.ID != group {
		t.Fatalf("update %+v: %v", u, err)
	}
}
