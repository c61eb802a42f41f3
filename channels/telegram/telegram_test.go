package telegram

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"herald/channels"
	"herald/channels/telegram/telegramfake"
)

// token is what every test channel uses; it must never show in an error or a log line.
const token = "987654321:AAE-secret_TOKEN-value"

type harness struct {
	fake *telegramfake.Server
	ch   *Channel
	logs *observer.ObservedLogs
}

// newHarness builds a channel against a fresh fake. settings are extra YAML lines.
func newHarness(t *testing.T, settings ...string) *harness {
	t.Helper()
	fake := telegramfake.New()
	t.Cleanup(fake.Close)
	fake.SetToken(token)
	return newHarnessAt(t, fake, fake.Endpoint(), http.DefaultClient, settings...)
}

func newHarnessAt(t *testing.T, fake *telegramfake.Server, endpoint string, client *http.Client, settings ...string) *harness {
	t.Helper()
	lines := map[string]string{
		"chat_id":      fmt.Sprint(telegramfake.DefaultChat.ID),
		"token":        fmt.Sprintf("%q", token),
		"api_endpoint": fmt.Sprintf("%q", endpoint),
		"timeout":      "5s",
	}
	for _, extra := range settings { // "key: value" lines replace the defaults
		k, v, _ := strings.Cut(extra, ":")
		lines[k] = strings.TrimSpace(v)
	}
	var s string
	for k, v := range lines {
		s += k + ": " + v + "\n"
	}
	core, logs := observer.New(zapcore.DebugLevel)
	ch, err := New(specFrom(t, s), channels.Env{Logger: zap.New(core), HTTPClient: client})
	if err != nil {
		t.Fatal(err)
	}
	h := &harness{fake: fake, ch: ch.(*Channel), logs: logs}
	t.Cleanup(func() { h.assertNoToken(t, nil) })
	return h
}

// assertNoToken fails if the token shows in err or in any log line or field.
func (h *harness) assertNoToken(t *testing.T, err error) {
	t.Helper()
	if err != nil && strings.Contains(fmt.Sprintf("%v %+v %#v", err, err, err), token) {
		t.Errorf("token leaked in error: %v", err)
	}
	for _, e := range h.logs.All() {
		line := fmt.Sprintf("%s %v", e.Message, e.ContextMap())
		if strings.Contains(line, token) || strings.Contains(line, "AAE-secret") {
			t.Errorf("token leaked in log: %s", line)
		}
	}
}

func htmlPost(text string, media ...string) channels.Post {
	p := channels.Post{Text: text, ParseMode: channels.ParseHTML}
	for _, m := range media {
		p.Media = append(p.Media, channels.Media{URL: m})
	}
	return p
}

func msgOf(posts ...channels.Post) channels.Message {
	return channels.Message{ArticleID: "a1", Key: "a1:tg-main:1", Attempt: 1, Posts: posts}
}

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func TestSendMessage(t *testing.T) {
	h := newHarness(t, "disable_web_page_preview: true")
	text := "<b>عاجل:</b> مَرْحَبًا بِكُمْ 🇸🇦 &amp; <a href=\"https://example.com/a?x=1&amp;y=2\">المزيد</a>"
	rcpt, err := h.ch.Send(testCtx(t), msgOf(htmlPost(text)))
	if err != nil {
		t.Fatal(err)
	}
	if rcpt.RemoteID != "1" || rcpt.PostURL != "https://t.me/c/1000000001/1" {
		t.Fatalf("receipt = %+v", rcpt)
	}
	msgs := h.fake.Messages()
	if len(msgs) != 1 {
		t.Fatalf("messages = %+v", msgs)
	}
	m := msgs[0]
	if m.Method != "sendMessage" || m.Text != text || m.ParseMode != "HTML" || !m.DisableWebPagePreview || m.Chat.ID != telegramfake.DefaultChat.ID {
		t.Fatalf("message = %+v", m)
	}
}

func TestSendToUsername(t *testing.T) {
	fake := telegramfake.New()
	t.Cleanup(fake.Close)
	fake.SetToken(token)
	h := newHarnessAt(t, fake, fake.Endpoint(), http.DefaultClient, `chat_id: "@herald_fake"`)
	rcpt, err := h.ch.Send(testCtx(t), msgOf(channels.Post{Text: "plain text, no parse mode"}))
	if err != nil {
		t.Fatal(err)
	}
	if rcpt.PostURL != "https://t.me/herald_fake/1" {
		t.Fatalf("receipt = %+v", rcpt)
	}
	if m := fake.Messages()[0]; m.ParseMode != "" || m.Text != "plain text, no parse mode" {
		t.Fatalf("message = %+v", m)
	}
}

func TestSendPhoto(t *testing.T) {
	h := newHarness(t)
	rcpt, err := h.ch.Send(testCtx(t), msgOf(htmlPost("<b>caption</b>", "", "https://cdn.example.com/a.jpg")))
	if err != nil {
		t.Fatal(err)
	}
	msgs := h.fake.Messages()
	if rcpt.RemoteID != "1" || len(msgs) != 1 || msgs[0].Method != "sendPhoto" || msgs[0].PhotoURL != "https://cdn.example.com/a.jpg" ||
		msgs[0].Caption != "<b>caption</b>" || msgs[0].Plain != "caption" {
		t.Fatalf("receipt %+v, messages %+v", rcpt, msgs)
	}
}

func TestSendPhotoFallsBackToTextWhenTelegramCannotFetchIt(t *testing.T) {
	for _, desc := range []string{"", "Bad Request: failed to get HTTP URL content"} {
		t.Run(desc, func(t *testing.T) {
			// No upload: this is the text fallback, and the test must not reach cdn.example.com.
			h := newHarness(t, "photo_upload: false")
			const photo = "https://cdn.example.com/missing.jpg"
			if desc == "" {
				h.fake.RejectPhotoURL(photo)
			} else {
				h.fake.FailNext(1, 400, desc)
			}
			rcpt, err := h.ch.Send(testCtx(t), msgOf(htmlPost("<i>text</i> survives", photo)))
			if err != nil {
				t.Fatal(err)
			}
			msgs, reqs := h.fake.Messages(), h.fake.Requests()
			if len(reqs) != 2 || reqs[0].Method != "sendPhoto" || reqs[1].Method != "sendMessage" {
				t.Fatalf("requests = %+v", reqs)
			}
			if len(msgs) != 1 || msgs[0].Method != "sendMessage" || msgs[0].Text != "<i>text</i> survives" || rcpt.RemoteID != "1" {
				t.Fatalf("receipt %+v, messages %+v", rcpt, msgs)
			}
			if h.logs.FilterMessageSnippet("photo could not be sent").Len() != 1 {
				t.Error("fallback not logged")
			}
		})
	}
}

func TestSendPhotoOtherErrorsDoNotFallBack(t *testing.T) {
	h := newHarness(t)
	h.fake.FailNext(1, 400, "Bad Request: message caption is too long")
	_, err := h.ch.Send(testCtx(t), msgOf(htmlPost("x", "https://cdn.example.com/a.jpg")))
	if !channels.IsPermanent(err) || len(h.fake.Requests()) != 1 {
		t.Fatalf("err = %v, requests = %+v", err, h.fake.Requests())
	}
	if !strings.HasPrefix(err.Error(), "permanent: telegram: sending photo: 400 Bad Request: message caption is too long") {
		t.Errorf("error = %q", err)
	}
}

type class int

const (
	retryable class = iota
	permanent
	rateLimited
	unknownOutcome
	pause
)

func (c class) String() string {
	return [...]string{"retryable", "permanent", "rate limited", "unknown outcome", "pause"}[c]
}

func classOf(err error) class {
	n := 0
	c := retryable
	if channels.IsPermanent(err) {
		n, c = n+1, permanent
	}
	if _, ok := channels.AsRateLimited(err); ok {
		n, c = n+1, rateLimited
	}
	if channels.IsUnknownOutcome(err) {
		n, c = n+1, unknownOutcome
	}
	if _, ok := channels.AsPause(err); ok {
		n, c = n+1, pause
	}
	if n > 1 {
		return -1 // ambiguous: a test failure
	}
	return c
}

func TestAnswerClassification(t *testing.T) {
	tests := []struct {
		name   string
		setup  func(h *harness)
		post   channels.Post
		class  class
		errSub string
	}{
		// A chat_id that names no chat the bot sees: every send fails alike, so the channel
		// pauses instead of failing its backlog one delivery at a time. (Was permanent.)
		{name: "chat not found", setup: func(h *harness) { h.fake.FailNext(1, 400, "Bad Request: chat not found") }, class: pause, errSub: "sending message: 400 Bad Request: chat not found"},
		{name: "bad markup", post: htmlPost("a<br>b"), class: permanent, errSub: "can't parse entities"},
		{name: "bare less-than", post: htmlPost("x<y ok"), class: permanent, errSub: "can't parse entities"},
		{name: "too long", post: htmlPost(strings.Repeat("ب", 4097)), class: permanent, errSub: "message is too long"},
		{name: "empty", post: htmlPost(" "), class: permanent, errSub: "message text is empty"},
		{name: "unauthorized", setup: func(h *harness) { h.fake.SetToken("1:another") }, class: pause, errSub: "401 Unauthorized"},
		{name: "blocked", setup: func(h *harness) { h.fake.FailNext(1, 403, "Forbidden: bot was blocked by the user") }, class: pause, errSub: "403 Forbidden"},
		{name: "not a member", setup: func(h *harness) { h.fake.FailNext(1, 403, "Forbidden: bot is not a member of the channel chat") }, class: pause},
		{name: "kicked", setup: func(h *harness) { h.fake.FailNext(1, 403, "Forbidden: bot was kicked from the channel chat") }, class: pause},
		// The bot is still in the channel but its right to post was taken away: every send fails
		// alike until an admin gives it back.
		{name: "no right to post", setup: func(h *harness) {
			h.fake.FailNext(1, 400, "Bad Request: need administrator rights in the channel chat")
		}, class: pause, errSub: "400 Bad Request: need administrator rights"},
		{name: "write forbidden", setup: func(h *harness) { h.fake.FailNext(1, 403, "Forbidden: CHAT_WRITE_FORBIDDEN") }, class: pause},
		// TDLib's MessagesManager::can_send_message, for a chat the bot may not write to.
		{name: "no write access", setup: func(h *harness) {
			h.fake.FailNext(1, 400, "Bad Request: have no write access to the chat")
		}, class: pause, errSub: "400 Bad Request: have no write access to the chat"},
		{name: "admin required", setup: func(h *harness) { h.fake.FailNext(1, 400, "Bad Request: CHAT_ADMIN_REQUIRED") }, class: pause},
		{name: "channel private", setup: func(h *harness) { h.fake.FailNext(1, 400, "Bad Request: CHANNEL_PRIVATE") }, class: pause},
		// Bot API 6.5+ words it so (granular permissions; "have no rights to send a message"
		// before): a group that restricts the bot, or a channel that took its right to post.
		{name: "not enough rights to send text", setup: func(h *harness) {
			h.fake.FailNext(1, 400, "Bad Request: not enough rights to send text messages to the chat")
		}, class: pause, errSub: "400 Bad Request: not enough rights to send text messages"},
		// Every 403 the Bot API answers is about the chat, never the message (telegram-bot-api
		// turns TDLib's own 403 codes into 400): every send to it fails alike.
		{name: "group deleted", setup: func(h *harness) { h.fake.FailNext(1, 403, "Forbidden: the group chat was deleted") }, class: pause, errSub: "403 Forbidden: the group chat was deleted"},
		{name: "user deactivated", setup: func(h *harness) { h.fake.FailNext(1, 403, "Forbidden: user is deactivated") }, class: pause},
		{name: "chat is a bot", setup: func(h *harness) {
			h.fake.FailNext(1, 403, "Forbidden: bot can't send messages to bots")
		}, class: pause},
		{name: "front end 403 page: permanent", setup: func(h *harness) {
			h.fake.GatewayFailNext(1, 403, "<html><body><h1>403 Forbidden</h1></body></html>")
		}, class: permanent, errSub: "403 not a Bot API answer"},
		// Every send to the old group id fails alike until chat_id changes: pause (see
		// TestMigratedGroupPauses for the whole answer, with migrate_to_chat_id).
		{name: "migrated", setup: func(h *harness) {
			h.fake.FailNext(1, 400, "Bad Request: group chat was upgraded to a supergroup chat")
		}, class: pause},
		{name: "rate limited", setup: func(h *harness) { h.fake.RateLimitNext(1, 35) }, class: rateLimited, errSub: "429 Too Many Requests: retry after 35"},
		{name: "Bot API 500: unknown by default", setup: func(h *harness) { h.fake.FailNext(1, 500, "Internal Server Error") }, class: unknownOutcome, errSub: "500 Internal Server Error"},
		{name: "Bot API 502 answer: unknown by default", setup: func(h *harness) { h.fake.FailNext(1, 502, "Bad Gateway") }, class: unknownOutcome},
		{name: "front end 502 page: retryable", setup: func(h *harness) {
			h.fake.GatewayFailNext(1, 502, "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body><center><h1>502 Bad Gateway</h1></center><hr><center>nginx/1.18.0</center></body></html>")
		}, class: retryable, errSub: "502 not a Bot API answer: 502 Bad Gateway 502 Bad Gateway nginx/1.18.0"},
		{name: "front end 503 page: retryable", setup: func(h *harness) { h.fake.GatewayFailNext(1, 503, "Service Unavailable") }, class: retryable, errSub: "503 not a Bot API answer: Service Unavailable"},
		{name: "conflict", setup: func(h *harness) { h.fake.FailNext(1, 409, "Conflict: terminated by other getUpdates request") }, class: retryable},
		{name: "gateway timeout", setup: func(h *harness) { h.fake.FailNext(1, 504, "Gateway Timeout") }, class: unknownOutcome},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			if tc.setup != nil {
				tc.setup(h)
			}
			post := tc.post
			if post.Text == "" {
				post = htmlPost("hello")
			}
			_, err := h.ch.Send(testCtx(t), msgOf(post))
			if err == nil {
				t.Fatal("no error")
			}
			if got := classOf(err); got != tc.class {
				t.Fatalf("class = %v, want %v (err %v)", got, tc.class, err)
			}
			if !strings.Contains(err.Error(), "telegram: sending message: ") || !strings.Contains(err.Error(), tc.errSub) {
				t.Errorf("error = %q, want the action and %q", err, tc.errSub)
			}
			var ae *APIError
			if !errors.As(err, &ae) || ae.Code == 0 {
				t.Errorf("no APIError in %v", err)
			}
			if len(h.fake.Messages()) != 0 {
				t.Errorf("messages accepted: %+v", h.fake.Messages())
			}
			h.assertNoToken(t, err)
		})
	}
}

func TestRateLimitRetryTime(t *testing.T) {
	h := newHarness(t)
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	h.ch.now = func() time.Time { return now }
	h.fake.RateLimitNext(1, 35)
	_, err := h.ch.Send(testCtx(t), msgOf(htmlPost("x")))
	rl, ok := channels.AsRateLimited(err)
	if !ok || !rl.RetryAt.Equal(now.Add(35*time.Second)) {
		t.Fatalf("err = %v, want rate limited until %s", err, now.Add(35*time.Second))
	}
	var ae *APIError
	if !errors.As(err, &ae) || ae.RetryAfter != 35 {
		t.Fatalf("APIError = %+v", ae)
	}
	// Without parameters.retry_after, the description's "retry after N" counts.
	h.fake.FailNext(1, 429, "Too Many Requests: retry after 7")
	_, err = h.ch.Send(testCtx(t), msgOf(htmlPost("x")))
	if rl, ok := channels.AsRateLimited(err); !ok || !rl.RetryAt.Equal(now.Add(7*time.Second)) {
		t.Fatalf("err = %v", err)
	}
}

// failingTransport fails every request before anything is sent.
type failingTransport struct{}

func (failingTransport) RoundTrip(*http.Request) (*http.Response, error) {
	return nil, errors.New("dial tcp: lookup api.telegram.org: no such host")
}

func TestTransportErrorBeforeSendingIsRetryable(t *testing.T) {
	fake := telegramfake.New()
	t.Cleanup(fake.Close)
	h := newHarnessAt(t, fake, fake.Endpoint(), &http.Client{Transport: failingTransport{}})
	_, err := h.ch.Send(testCtx(t), msgOf(htmlPost("x")))
	if err == nil || classOf(err) != retryable {
		t.Fatalf("err = %v, want retryable", err)
	}
	if !strings.Contains(err.Error(), "telegram: sending message: Post \"http://127.0.0.1:") || !strings.Contains(err.Error(), "<redacted>") {
		t.Errorf("error = %q, want the action and the redacted URL", err)
	}
	h.assertNoToken(t, err)
}

func TestConnectionRefusedIsRetryable(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	h := newHarnessAt(t, nil, "http://"+addr+"/bot%s/%s", http.DefaultClient)
	_, err = h.ch.Send(testCtx(t), msgOf(htmlPost("x")))
	if err == nil || classOf(err) != retryable {
		t.Fatalf("err = %v, want retryable", err)
	}
	h.assertNoToken(t, err)
}

// TestConnectionClosedAfterRequestIsUnknown: the server read the whole request and hung up
// without answering. Telegram may have posted: the outcome is unknown.
func TestConnectionClosedAfterRequestIsUnknown(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		conn, _, err := w.(http.Hijacker).Hijack()
		if err == nil {
			conn.Close()
		}
	}))
	t.Cleanup(srv.Close)
	h := newHarnessAt(t, nil, srv.URL+"/bot%s/%s", http.DefaultClient)
	_, err := h.ch.Send(testCtx(t), msgOf(htmlPost("x")))
	if err == nil || classOf(err) != unknownOutcome {
		t.Fatalf("err = %v, want unknown outcome", err)
	}
	h.assertNoToken(t, err)
}

// TestReadTimeoutAfterAcceptIsUnknown: Telegram accepted the post but the answer did not come
// back within the timeout.
func TestReadTimeoutAfterAcceptIsUnknown(t *testing.T) {
	h := newHarness(t, "timeout: 200ms")
	h.fake.Hold()
	_, err := h.ch.Send(testCtx(t), msgOf(htmlPost("posted but unanswered")))
	if err == nil || classOf(err) != unknownOutcome {
		t.Fatalf("err = %v, want unknown outcome", err)
	}
	if msgs := h.fake.Messages(); len(msgs) != 1 {
		t.Fatalf("messages = %+v, want the accepted one", msgs)
	}
	h.assertNoToken(t, err)
}

func TestContextCancelledAfterSendIsUnknown(t *testing.T) {
	h := newHarness(t)
	ctx, cancel := context.WithCancel(testCtx(t))
	h.fake.OnAccept(func(telegramfake.Message) { cancel() })
	h.fake.Hold()
	_, err := h.ch.Send(ctx, msgOf(htmlPost("x")))
	if err == nil || classOf(err) != unknownOutcome || !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want unknown outcome wrapping context.Canceled", err)
	}
	h.assertNoToken(t, err)
}

func TestContextDoneBeforeSendIsRetryable(t *testing.T) {
	h := newHarness(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := h.ch.Send(ctx, msgOf(htmlPost("x")))
	if err == nil || classOf(err) != retryable || !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want retryable context.Canceled", err)
	}
	if n := len(h.fake.Requests()); n != 0 {
		t.Fatalf("%d requests sent", n)
	}
}

// TestContextDeadlineWhileConnectingIsRetryable: the deadline passes while the connection is
// still being made (the listener never accepts), so nothing was sent.
func TestContextDeadlineWhileConnectingIsRetryable(t *testing.T) {
	h := newHarness(t)
	blocked := make(chan struct{})
	client := &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
		close(blocked)
		<-ctx.Done()
		return nil, ctx.Err()
	}}}
	h2 := newHarnessAt(t, h.fake, h.fake.Endpoint(), client)
	ctx, cancel := context.WithCancel(testCtx(t))
	go func() { <-blocked; cancel() }()
	_, err := h2.ch.Send(ctx, msgOf(htmlPost("x")))
	if err == nil || classOf(err) != retryable {
		t.Fatalf("err = %v, want retryable", err)
	}
	h2.assertNoToken(t, err)
}

func TestSeveralPosts(t *testing.T) {
	h := newHarness(t)
	rcpt, err := h.ch.Send(testCtx(t), msgOf(htmlPost("one"), htmlPost("two")))
	if err != nil || rcpt.RemoteID != "1,2" || rcpt.PostURL != "https://t.me/c/1000000001/1" {
		t.Fatalf("receipt %+v, err %v", rcpt, err)
	}
	// A failure after an accepted post is not retryable as a whole.
	rcpt, err = h.ch.Send(testCtx(t), msgOf(htmlPost("three"), htmlPost("bad<br>")))
	if classOf(err) != unknownOutcome || rcpt.RemoteID != "3" || !strings.Contains(err.Error(), "post 2 of 2 failed after message(s) 3 were sent") {
		t.Fatalf("receipt %+v, err %v", rcpt, err)
	}
	if _, err := h.ch.Send(testCtx(t), msgOf()); !channels.IsPermanent(err) {
		t.Fatalf("no posts: %v", err)
	}
}

func TestCheck(t *testing.T) {
	h := newHarness(t)
	name, err := h.ch.getMe(testCtx(t))
	if err != nil || name != telegramfake.BotUsername {
		t.Fatalf("Check = %q, %v", name, err)
	}
	h.fake.SetToken("1:other")
	if _, err := h.ch.getMe(testCtx(t)); err == nil || classOf(err) != pause || !strings.Contains(err.Error(), "checking the bot token: 401 Unauthorized") {
		t.Fatalf("Check with a wrong token: %v", err)
	}
}

func TestRedactNestedURLError(t *testing.T) {
	h := newHarness(t)
	// A description that echoes the token is redacted too.
	h.fake.FailNext(1, 400, "Bad Request: weird echo of "+token)
	_, err := h.ch.Send(testCtx(t), msgOf(htmlPost("x")))
	if err == nil || !strings.Contains(err.Error(), "weird echo of <redacted>") {
		t.Fatalf("err = %v", err)
	}
	h.assertNoToken(t, err)
}

// TestAnswersThatAreNotBotAPIAnswers: a proxy's page, or a body cut short, classified by the
// HTTP status.
func TestAnswersThatAreNotBotAPIAnswers(t *testing.T) {
	tests := []struct {
		name   string
		status int
		body   string
		header map[string]string
		class  class
	}{
		{"accepted but body cut", 200, `{"ok":true,"result":{"message_id":`, nil, unknownOutcome},
		{"accepted, result not a message", 200, `{"ok":true,"result":"what"}`, nil, unknownOutcome},
		{"proxy 502 page", 502, "<html>Bad Gateway</html>", nil, retryable},
		{"proxy 503 page", 503, "", nil, retryable},
		{"proxy 500 page: ambiguous, unknown by default", 500, "<html>Internal Server Error</html>", nil, unknownOutcome},
		{"proxy 504 page", 504, "<html>Gateway Timeout</html>", nil, unknownOutcome},
		{"wrong endpoint 404 page", 404, "<html>Not Found</html>", nil, permanent},
		{"proxy 429 with Retry-After", 429, "slow down", map[string]string{"Retry-After": "12"}, rateLimited},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				for k, v := range tc.header {
					w.Header().Set(k, v)
				}
				w.WriteHeader(tc.status)
				_, _ = w.Write([]byte(tc.body))
			}))
			t.Cleanup(srv.Close)
			h := newHarnessAt(t, nil, srv.URL+"/bot%s/%s", http.DefaultClient)
			now := time.Now()
			h.ch.now = func() time.Time { return now }
			_, err := h.ch.Send(testCtx(t), msgOf(htmlPost("x")))
			if err == nil || classOf(err) != tc.class {
				t.Fatalf("err = %v, want %v", err, tc.class)
			}
			if rl, ok := channels.AsRateLimited(err); ok && !rl.RetryAt.Equal(now.Add(12*time.Second)) {
				t.Errorf("retry at %s, want now+12s", rl.RetryAt)
			}
			h.assertNoToken(t, err)
		})
	}
}

// TestClientTimeoutAfterAcceptIsUnknown: the HTTP client's own timeout (not the context) fires
// after the request was sent.
func TestClientTimeoutAfterAcceptIsUnknown(t *testing.T) {
	fake := telegramfake.New()
	t.Cleanup(fake.Close)
	fake.SetToken(token)
	fake.Hold()
	h := newHarnessAt(t, fake, fake.Endpoint(), &http.Client{Timeout: 100 * time.Millisecond})
	_, err := h.ch.Send(testCtx(t), msgOf(htmlPost("x")))
	if err == nil || classOf(err) != unknownOutcome {
		t.Fatalf("err = %v, want unknown outcome", err)
	}
	h.assertNoToken(t, err)
}

// bot_api_5xx: retry turns an ambiguous Bot API 500 into a retry; a 504 stays unknown whatever
// the setting.
func TestBotAPI5xxSetting(t *testing.T) {
	h := newHarness(t, "bot_api_5xx: retry")
	h.fake.FailNext(1, 500, "Internal Server Error")
	if _, err := h.ch.Send(testCtx(t), msgOf(htmlPost("x"))); classOf(err) != retryable {
		t.Fatalf("500 with retry: %v is %v", err, classOf(err))
	}
	h.fake.FailNext(1, 504, "Gateway Timeout")
	if _, err := h.ch.Send(testCtx(t), msgOf(htmlPost("x"))); classOf(err) != unknownOutcome {
		t.Fatalf("504 with retry: %v is %v", err, classOf(err))
	}
	if _, err := LoadConfig(specFrom(t, "chat_id: 1\ntoken: \"1:x\"\nbot_api_5xx: maybe\n")); err == nil || !strings.Contains(err.Error(), "bot_api_5xx") {
		t.Fatalf("bad value: %v", err)
	}
}

// A front end's page is quoted in the error, short and without the token, so an operator sees
// what the platform said.
func TestNonBotAPIAnswerExcerptIsShortAndRedacted(t *testing.T) {
	body := "<html><body><h1>502 Bad Gateway</h1><p>upstream /bot" + token + "/sendMessage failed</p>" + strings.Repeat("<p>padding padding</p>", 40) + "</body></html>"
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(502)
		_, _ = w.Write([]byte(body))
	}))
	t.Cleanup(srv.Close)
	h := newHarnessAt(t, nil, srv.URL+"/bot%s/%s", http.DefaultClient)
	_, err := h.ch.Send(testCtx(t), msgOf(htmlPost("x")))
	var ae *APIError
	if !errors.As(err, &ae) || ae.Code != 502 {
		t.Fatalf("err %v", err)
	}
	if !strings.HasPrefix(ae.Description, "not a Bot API answer: 502 Bad Gateway upstream /bot<redacted>/sendMessage failed") || len(ae.Description) > 220 {
		t.Fatalf("description %q (%d bytes)", ae.Description, len(ae.Description))
	}
	h.assertNoToken(t, err)
}

// Channels on one bot token share a rate group; another token is another group; the token
// itself is not in the key.
func TestRateGroupPerBotToken(t *testing.T) {
	a, b := newHarness(t), newHarness(t, "chat_id: \"@other_news\"")
	c := newHarness(t, "token: \"1:another\"")
	ka, n, per := a.ch.RateGroup()
	kb, _, _ := b.ch.RateGroup()
	kc, _, _ := c.ch.RateGroup()
	if ka != kb || ka == kc || n != 30 || per != time.Second || strings.Contains(ka, "AAE") {
		t.Fatalf("groups %q %q %q, %d per %s", ka, kb, kc, n, per)
	}
	if _, n, per := newHarness(t, "bot_rate: 600/min").ch.RateGroup(); n != 600 || per != time.Minute {
		t.Fatalf("bot_rate 600/min: %d per %s", n, per)
	}
	if _, n, _ := newHarness(t, "bot_rate: unlimited").ch.RateGroup(); n != 0 {
		t.Fatalf("bot_rate unlimited: %d", n)
	}
	if _, err := LoadConfig(specFrom(t, "chat_id: 1\ntoken: \"1:x\"\nbot_rate: fast\n")); err == nil || !strings.Contains(err.Error(), "bot_rate") {
		t.Fatalf("bad bot_rate: %v", err)
	}
}

// TestMigratedGroupPauses: a group upgraded to a supergroup gets a new id; Telegram answers every
// send to the old one 400 with parameters.migrate_to_chat_id. Nothing can be sent until chat_id
// is changed, so the channel pauses, and the reason names the new id.
func TestMigratedGroupPauses(t *testing.T) {
	fake := telegramfake.New()
	t.Cleanup(fake.Close)
	fake.SetToken(token)
	const oldID, newID = -4000000001, -1004000000001
	fake.AddChat(telegramfake.Chat{ID: oldID, Type: "group", Title: "أخبار"})
	fake.MigrateChat(oldID, telegramfake.Chat{ID: newID, Title: "أخبار"})
	h := newHarnessAt(t, fake, fake.Endpoint(), http.DefaultClient, fmt.Sprintf("chat_id: %d", oldID))
	_, err := h.ch.Send(testCtx(t), msgOf(htmlPost("خبر")))
	p, ok := channels.AsPause(err)
	var ae *APIError
	if !ok || !strings.Contains(p.Reason, fmt.Sprint(newID)) || !errors.As(err, &ae) || ae.MigrateToChatID != newID {
		t.Fatalf("send to the old group: %v, want a pause naming chat %d", err, newID)
	}
	if n := len(fake.Messages()); n != 0 {
		t.Fatalf("%d messages accepted", n)
	}
	moved := newHarnessAt(t, fake, fake.Endpoint(), http.DefaultClient, fmt.Sprintf("chat_id: %d", newID))
	if _, err := moved.ch.Send(testCtx(t), msgOf(htmlPost("خبر"))); err != nil {
		t.Fatalf("send to the supergroup: %v", err)
	}
}
