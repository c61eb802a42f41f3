package admin

// The admin bot driven through the fake Telegram's getUpdates and callback queries, against a
// real Redis and a real worker posting to a second fake Telegram.

import (
	"context"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"
	"github.com/redis/go-redis/v9"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"
	"gopkg.in/yaml.v3"

	"herald/article"
	"herald/channels"
	"herald/channels/telegram"
	"herald/channels/telegram/telegramfake"
	"herald/formatter"
	"herald/internal/redistest"
	"herald/queue"
)

const (
	adminToken = "987654321:AAF-admin-secret-token_xyz"
	adminID    = int64(1001)
	adminName  = "editor"
	strangerID = int64(666)
	alertChat  = int64(-1009000000001)
)

// secondChat is the chat of channel tg-b on the channel fake.
var secondChat = telegramfake.Chat{ID: -1001000000002, Type: "channel", Title: "Second", Username: "herald_second"}

type env struct {
	t       *testing.T
	rdb     *redis.Client
	redis   *redistest.Server
	broker  *queue.Broker
	botTG   *telegramfake.Server // the admin bot's Telegram
	chTG    *telegramfake.Server // the channels' Telegram
	routes  map[channels.Name]queue.Route
	chans   []queue.ChannelConfig
	cfg     Config
	logs    *observer.ObservedLogs
	log     *zap.Logger
	mu      sync.Mutex
	outcome []queue.Outcome
}

func newEnv(t *testing.T) *env {
	t.Helper()
	rdb, srv := redistest.Start(t)
	e := &env{t: t, rdb: rdb, redis: srv, broker: queue.NewBroker(rdb, queue.Options{})}
	e.botTG = telegramfake.New()
	t.Cleanup(e.botTG.Close)
	e.botTG.SetToken(adminToken)
	e.botTG.SetMaxPollWait(200 * time.Millisecond)
	e.botTG.AddChat(telegramfake.Chat{ID: alertChat, Type: "supergroup", Title: "herald alerts"})
	e.chTG = telegramfake.New()
	t.Cleanup(e.chTG.Close)
	e.chTG.AddChat(secondChat)
	e.routes = map[channels.Name]queue.Route{}
	for name, chat := range map[channels.Name]string{"tg-a": telegramfake.DefaultChat.Username, "tg-b": secondChat.Username} {
		var settings yaml.Node
		doc := fmt.Sprintf("token: %q\nchat_id: \"@%s\"\napi_endpoint: %q\ntimeout: 1s\n", telegramfake.DefaultToken, chat, e.chTG.Endpoint())
		if err := yaml.Unmarshal([]byte(doc), &settings); err != nil {
			t.Fatal(err)
		}
		ch, err := telegram.New(channels.Spec{Name: name, Kind: channels.KindTelegram, Settings: *settings.Content[0]}, channels.Env{})
		if err != nil {
			t.Fatal(err)
		}
		r, err := formatter.New(channels.KindTelegram, formatter.Options{})
		if err != nil {
			t.Fatal(err)
		}
		e.routes[name] = queue.Route{Channel: ch, Renderer: r, MaxAttempts: 2}
		e.chans = append(e.chans, queue.ChannelConfig{Name: name, Kind: channels.KindTelegram})
	}
	if e.chans[0].Name != "tg-a" {
		e.chans[0], e.chans[1] = e.chans[1], e.chans[0]
	}
	e.cfg = Config{
		Telegram: TelegramConfig{Token: adminToken, APIEndpoint: e.botTG.Endpoint(), AllowedUserIDs: []int64{adminID},
			AlertChatID: alertChat, Language: "en", PollTimeout: time.Second},
		Alerts: AlertsConfig{Delay: 300 * time.Millisecond, Interval: time.Hour},
	}
	if err := e.cfg.Resolve(os.Getenv, os.ReadFile); err != nil {
		t.Fatal(err)
	}
	core, logs := observer.New(zapcore.DebugLevel)
	e.log, e.logs = zap.New(core), logs
	return e
}

// startBot runs one admin bot process (owner names it) until the returned stop or the test's end.
func (e *env) startBot(owner string) (stop func()) {
	e.t.Helper()
	b, err := New(e.cfg, Deps{Broker: e.broker, Redis: e.rdb, Channels: e.chans, Logger: e.log, Owner: owner})
	if err != nil {
		e.t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- b.Run(ctx) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				e.t.Errorf("bot %s: %v", owner, err)
			}
		})
	}
	e.t.Cleanup(stop)
	return stop
}

func (e *env) startWorker() {
	w := queue.NewWorker(e.broker, e.routes, queue.WorkerOptions{
		Concurrency: 4, SendTimeout: 2 * time.Second, LeaseDuration: 3 * time.Second,
		BackoffBase: 50 * time.Millisecond, BackoffMax: 200 * time.Millisecond,
		PollInterval: 20 * time.Millisecond, DelayedInterval: 100 * time.Millisecond,
		SweepInterval: 200 * time.Millisecond, ShutdownTimeout: 3 * time.Second, Logger: e.log,
		OnOutcome: func(o queue.Outcome) { e.mu.Lock(); e.outcome = append(e.outcome, o); e.mu.Unlock() },
	})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx) }()
	e.t.Cleanup(func() { cancel(); <-done })
}

// alertGroupReady creates the alert consumer group now, as a running bot would have, so that
// log entries written before the bot starts are alerted.
func (e *env) alertGroupReady() {
	if _, err := e.broker.NewConsumer(context.Background(), alertGroup, "test"); err != nil {
		e.t.Fatal(err)
	}
}

func (e *env) publish(id, title string, chs ...string) *article.Article {
	e.t.Helper()
	a := &article.Article{ID: id, URL: "https://news.example.com/a/" + id, Title: title, Language: "ar", Channels: chs}
	a.Normalize()
	if err := a.Validate(); err != nil {
		e.t.Fatal(err)
	}
	var targets []queue.Target
	for _, c := range chs {
		targets = append(targets, queue.Target{Name: channels.Name(c), Kind: channels.KindTelegram})
	}
	if _, err := e.broker.Publish(context.Background(), a, targets); err != nil {
		e.t.Fatal(err)
	}
	return a
}

// say sends text to the bot from user id in their private chat.
func (e *env) say(from int64, text string) int {
	name := adminName
	if from != adminID {
		name = "stranger"
	}
	return e.botTG.PushText(from, from, name, text)
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t *testing.T, what string, d time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", d, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// replies are the bot's messages to chat whose text contains s.
func (e *env) replies(chat int64, s string) []telegramfake.Message {
	var out []telegramfake.Message
	for _, m := range e.botTG.Messages() {
		if m.Chat.ID == chat && strings.Contains(m.Plain, s) {
			out = append(out, m)
		}
	}
	return out
}

func (e *env) waitReply(chat int64, s string) telegramfake.Message {
	e.t.Helper()
	var got []telegramfake.Message
	waitFor(e.t, fmt.Sprintf("a reply containing %q in chat %d", s, chat), 15*time.Second, func() bool {
		got = e.replies(chat, s)
		return len(got) > 0
	})
	return got[len(got)-1]
}

func (e *env) waitState(id, ch string, st queue.State, rev int) queue.Delivery {
	e.t.Helper()
	var d queue.Delivery
	waitFor(e.t, fmt.Sprintf("%s on %s to be %s (revision %d)", id, ch, st, rev), 15*time.Second, func() bool {
		var err error
		d, err = e.broker.Delivery(context.Background(), id, channels.Name(ch))
		return err == nil && d.State == st && d.Revision >= rev
	})
	return d
}

func (e *env) chatMessages(chat int64) []telegramfake.Message {
	var out []telegramfake.Message
	for _, m := range e.chTG.Messages() {
		if m.Chat.ID == chat {
			out = append(out, m)
		}
	}
	return out
}

func (e *env) audit() []queue.AuditEntry {
	e.t.Helper()
	es, err := e.broker.Audit(context.Background(), 100)
	if err != nil {
		e.t.Fatal(err)
	}
	return es
}

// button finds the callback data of the button whose text contains label.
func button(t *testing.T, m telegramfake.Message, label string) string {
	t.Helper()
	for _, row := range m.Buttons() {
		for _, b := range row {
			if strings.Contains(b.Text, label) {
				return b.CallbackData
			}
		}
	}
	t.Fatalf("no button %q in %+v", label, m.Buttons())
	return ""
}

func TestStrangerIsRefusedAndAudited(t *testing.T) {
	e := newEnv(t)
	e.startBot("p1")
	e.say(strangerID, "/pause tg-a")
	e.waitReply(strangerID, "not allowed")
	e.say(strangerID, "/resume tg-a")
	e.say(adminID, "/help") // answered after the stranger's second command: the bot has seen it
	e.waitReply(adminID, "/status <id|url>")
	if ps, _ := e.broker.Paused(context.Background()); len(ps) != 0 {
		t.Fatalf("a stranger paused %+v", ps)
	}
	if n := len(e.replies(strangerID, "")); n != 1 {
		t.Fatalf("%d refusals sent, want 1 (every attempt audited, the refusal said once)", n)
	}
	var refused []queue.AuditEntry
	for _, a := range e.audit() {
		if a.UserID == strangerID {
			refused = append(refused, a)
		}
	}
	if len(refused) != 2 || refused[1].Action != "/pause" || refused[0].Action != "/resume" || refused[0].Allowed ||
		!strings.Contains(refused[0].Result, "refused") || refused[1].Args != "tg-a" {
		t.Fatalf("audit of the stranger: %+v", refused)
	}
	// A stranger's button press is refused too, and does not use the button up.
	_, q := e.botTG.PushCallback(strangerID, strangerID, "stranger", 1, callbackData("0123456789abcdef01234567", choiceYes))
	waitFor(t, "the stranger's button answered", 10*time.Second, func() bool { _, ok := e.botTG.CallbackAnswer(q); return ok })
	if a, _ := e.botTG.CallbackAnswer(q); !strings.Contains(a.Text, "not allowed") {
		t.Fatalf("answer to a stranger's button: %+v", a)
	}
}

// A stranger writing to the bot over and over cannot push the admins' own entries out of the
// capped audit log: the first refusedAudited attempts an hour are audited, the last of them
// saying so, and the refusal is said once. (Failed before: every attempt was audited.)
func TestStrangerCannotFloodTheAuditLog(t *testing.T) {
	e := newEnv(t)
	e.startBot("p1")
	e.say(adminID, "/help")
	e.waitReply(adminID, "/status <id|url>")
	for i := range refusedAudited + 15 {
		e.say(strangerID, fmt.Sprintf("/pause tg-a %d", i))
	}
	e.say(adminID, "/help") // answered after the stranger's commands: the bot has seen them
	waitFor(t, "the second help", 10*time.Second, func() bool { return len(e.replies(adminID, "/status <id|url>")) == 2 })
	var refused []queue.AuditEntry
	admins := 0
	for _, a := range e.audit() {
		switch a.UserID {
		case strangerID:
			refused = append(refused, a)
		case adminID:
			admins++
		}
	}
	if len(refused) != refusedAudited || !strings.Contains(refused[0].Result, "further attempts this hour are not audited") ||
		strings.Contains(refused[1].Result, "further") || refused[len(refused)-1].Args != "tg-a 0" {
		t.Fatalf("%d audit entries of the stranger (want %d, the newest saying the rest are not): %+v", len(refused), refusedAudited, refused[:min(2, len(refused))])
	}
	if admins != 2 {
		t.Fatalf("%d audit entries of the admin, want 2", admins)
	}
	if n := len(e.replies(strangerID, "")); n != 1 {
		t.Fatalf("%d refusals sent, want 1", n)
	}
}

// TestStrangerCannotFloodTheAuditLogWithButtons: the subscribers of an alert channel see the
// digest's buttons, and a stranger's presses are counted with their commands: only the first
// refusedAudited an hour are audited (before, every press was, and a stranger pressing over and
// over pushed the admins' own entries out of the capped audit log). None acts, and an admin's
// press still does.
func TestStrangerCannotFloodTheAuditLogWithButtons(t *testing.T) {
	e := newEnv(t)
	e.alertGroupReady()
	release := make(chan struct{})
	e.chTG.OnAccept(func(telegramfake.Message) { <-release }) // accepted, but the answer comes too late
	t.Cleanup(func() { close(release) })
	e.startWorker()
	a := e.publish("unk-flood", "خبر غير مؤكد", "tg-a")
	e.waitState(a.ID, "tg-a", queue.StateUnknown, 1)
	e.startBot("p1")
	m := e.waitReply(alertChat, "Unknown outcome")
	e.say(strangerID, "/pause tg-a") // a command and presses share the stranger's count
	var last string
	for i := range refusedAudited + 15 {
		_, last = e.botTG.PushCallback(alertChat, strangerID, "stranger", m.MessageID, button(t, m, []string{"drop", "mark sent", "retry"}[i%3]))
	}
	waitFor(t, "the stranger's last press answered", 10*time.Second, func() bool { _, ok := e.botTG.CallbackAnswer(last); return ok })
	if ans, _ := e.botTG.CallbackAnswer(last); !strings.Contains(ans.Text, "not allowed") {
		t.Fatalf("the stranger's press was answered %+v", ans)
	}
	if d, _ := e.broker.Delivery(context.Background(), a.ID, "tg-a"); d.State != queue.StateUnknown {
		t.Fatalf("a stranger's press decided the delivery: %+v", d)
	}
	_, q := e.botTG.PushCallback(alertChat, adminID, adminName, m.MessageID, button(t, m, "drop"))
	e.waitState(a.ID, "tg-a", queue.StateFailed, 1)
	waitFor(t, "the admin's press answered", 10*time.Second, func() bool { _, ok := e.botTG.CallbackAnswer(q); return ok })
	var refused []queue.AuditEntry
	admins := 0
	for _, en := range e.audit() {
		switch en.UserID {
		case strangerID:
			refused = append(refused, en)
		case adminID:
			admins++
		}
	}
	if len(refused) != refusedAudited || !strings.Contains(refused[0].Result, "further attempts this hour are not audited") ||
		refused[len(refused)-1].Action != "/pause" {
		t.Fatalf("%d audit entries of the stranger (want %d, the newest saying the rest are not, the oldest the command): %+v",
			len(refused), refusedAudited, refused[:min(2, len(refused))])
	}
	if admins != 1 {
		t.Fatalf("%d audit entries of the admin, want 1 (the drop)", admins)
	}
}

func TestStatusShowsEachChannelWithThePostLink(t *testing.T) {
	e := newEnv(t)
	e.startWorker()
	e.startBot("p1")
	// A title that would break unescaped HTML, right to left, with a Latin word inside.
	titleText := `عاجل: <تحديث> & "Reuters" يؤكد`
	a := e.publish("st-1", titleText, "tg-a", "tg-b")
	da := e.waitState(a.ID, "tg-a", queue.StateSent, 1)
	db := e.waitState(a.ID, "tg-b", queue.StateSent, 1)
	if da.PostURL == "" || db.PostURL == "" {
		t.Fatalf("no post URLs: %+v %+v", da, db)
	}
	e.say(adminID, "/status "+a.ID)
	m := e.waitReply(adminID, "tg-b")
	if !strings.Contains(m.Plain, titleText) {
		t.Fatalf("reply %q lacks the title as written", m.Plain)
	}
	if !strings.Contains(m.Plain, "\u2068"+titleText+"\u2069") {
		t.Fatalf("title not direction-isolated in %q", m.Plain)
	}
	links := map[string]bool{}
	for _, en := range m.Entities {
		if en.URL != "" {
			links[en.URL] = true
		}
	}
	if !links[da.PostURL] || !links[db.PostURL] || !strings.Contains(m.Plain, "tg-a") {
		t.Fatalf("reply %q links %v, want both posts %s %s", m.Plain, links, da.PostURL, db.PostURL)
	}
	// By URL (tracking parameters and all), the canonical URL's id.
	b := e.publish("", "by url", "tg-a")
	e.say(adminID, "/status "+b.URL+"?utm_source=x#top")
	e.waitReply(adminID, "by url")
	e.say(adminID, "/status")
	e.waitReply(adminID, "Usage: /status <id|url>")
	e.say(adminID, "/frobnicate")
	e.waitReply(adminID, "Unknown command /frobnicate")
	e.say(adminID, "/status no-such-article")
	e.waitReply(adminID, "No article no-such-article")
}

// TestStatusFindsAnArticleWithItsOwnIDByURL: an article published with an explicit id (a CMS's
// own) is found by its URL, written another way (host case, tracking parameters, fragment,
// trailing slash), through the URL index the publish wrote; /repost by URL finds it too.
func TestStatusFindsAnArticleWithItsOwnIDByURL(t *testing.T) {
	e := newEnv(t)
	e.startWorker()
	e.startBot("p1")
	a := e.publish("wp-news-4711", "خبر بمعرّف الناشر", "tg-a")
	e.waitState(a.ID, "tg-a", queue.StateSent, 1)
	e.say(adminID, "/status https://NEWS.example.com/a/wp-news-4711/?utm_source=tg&fbclid=x#comments")
	m := e.waitReply(adminID, "wp-news-4711")
	if !strings.Contains(m.Plain, "خبر بمعرّف الناشر") || !strings.Contains(m.Plain, "tg-a") {
		t.Fatalf("/status by URL answered %q, want the article %s", m.Plain, a.ID)
	}
	e.say(adminID, "/repost https://news.example.com/a/wp-news-4711 tg-a confirm")
	e.waitState(a.ID, "tg-a", queue.StateSent, 2)
	e.say(adminID, "/status https://news.example.com/a/never-published")
	e.waitReply(adminID, "No article https://news.example.com/a/never-published")
}

// cannotEdit hides a channel's Edit: a platform herald cannot edit posts on (X, Bluesky, …).
type cannotEdit struct{ channels.Channel }

// TestStatusShowsACorrectionInPlace: after a correction that edited tg-a's post and could not
// edit tg-b's, /status (by URL too) says so: a line for the correction (when, who, how many),
// tg-a edited in place by whom, tg-b cannot edit and keeps the old text; who corrected is
// escaped and direction-isolated. A repost of tg-b (the corrected text) clears its warning.
func TestStatusShowsACorrectionInPlace(t *testing.T) {
	e := newEnv(t)
	e.startWorker()
	e.startBot("p1")
	a := e.publish("cr-1", "خبر قبل التصحيح", "tg-a", "tg-b")
	e.waitState(a.ID, "tg-a", queue.StateSent, 1)
	e.waitState(a.ID, "tg-b", queue.StateSent, 1)
	routes := map[channels.Name]queue.Route{"tg-a": e.routes["tg-a"], "tg-b": e.routes["tg-b"]}
	rb := routes["tg-b"]
	rb.Channel = cannotEdit{rb.Channel}
	routes["tg-b"] = rb
	const by = "<i>مكتب التحرير</i>"
	fixed := &article.Article{ID: a.ID, URL: a.URL, Title: "خبر بعد التصحيح", Language: "ar"}
	if _, err := e.broker.Correct(context.Background(), fixed, "", by, routes); err != nil {
		t.Fatal(err)
	}
	e.say(adminID, "/status "+a.URL+"?utm_source=x")
	m := e.waitReply(adminID, "Corrected")
	isolated := "\u2068" + by + "\u2069"
	for _, want := range []string{
		"خبر بعد التصحيح",
		"by " + isolated + ": 1 edited in place, 1 cannot be edited",
		"✏️ edited in place ",
		"⚠️ cannot edit: the correction of ",
		"it keeps the old text. herald retract, then /repost, replaces it",
	} {
		if !strings.Contains(m.Plain, want) {
			t.Errorf("/status reply lacks %q:\n%s", want, m.Plain)
		}
	}
	lines := strings.Split(m.Plain, "\n")
	for i, l := range lines {
		switch {
		case strings.Contains(l, "tg-a —") && (i+1 >= len(lines) || !strings.Contains(lines[i+1], "edited in place "+"")):
			t.Errorf("tg-a's line is not followed by its edit: %q", lines[i:])
		case strings.Contains(l, "tg-b —") && (i+1 >= len(lines) || !strings.Contains(lines[i+1], "cannot edit")):
			t.Errorf("tg-b's line is not followed by cannot edit: %q", lines[i:])
		}
	}
	// The name is text, not markup: Telegram saw no italic entity.
	for _, en := range m.Entities {
		if en.Type == "italic" {
			t.Errorf("who corrected became markup: %+v", m.Entities)
		}
	}

	e.say(adminID, "/last 1")
	if l := e.waitReply(adminID, "Latest articles"); !strings.Contains(l.Plain, "tg-a ✏️") || !strings.Contains(l.Plain, "tg-b ⚠️") {
		t.Errorf("/last does not mark the corrected posts:\n%s", l.Plain)
	}
	e.say(adminID, "/repost "+a.ID+" tg-b confirm")
	e.waitState(a.ID, "tg-b", queue.StateSent, 2)
	e.say(adminID, "/status "+a.ID)
	m = e.waitReply(adminID, "0 cannot be edited")
	if strings.Contains(m.Plain, "cannot edit:") {
		t.Errorf("after the repost tg-b still cannot edit:\n%s", m.Plain)
	}
}

func TestRepostAsksAndTheConfirmationPostsExactlyOnce(t *testing.T) {
	e := newEnv(t)
	e.startWorker()
	e.startBot("p1")
	a := e.publish("rp-1", "خبر لإعادة النشر", "tg-a")
	e.waitState(a.ID, "tg-a", queue.StateSent, 1)
	chat := telegramfake.DefaultChat.ID

	e.say(adminID, "/repost "+a.ID+" tg-a")
	ask := e.waitReply(adminID, "Repost")
	if d, _ := e.broker.Delivery(context.Background(), a.ID, "tg-a"); d.Revision != 1 || len(e.chatMessages(chat)) != 1 {
		t.Fatalf("asking reposted already: %+v, %d posts", d, len(e.chatMessages(chat)))
	}
	data := button(t, ask, "Repost")
	// A stranger's press does nothing; the admin's first press reposts, the second is refused.
	_, qs := e.botTG.PushCallback(adminID, strangerID, "stranger", ask.MessageID, data)
	_, q1 := e.botTG.PushCallback(adminID, adminID, adminName, ask.MessageID, data)
	_, q2 := e.botTG.PushCallback(adminID, adminID, adminName, ask.MessageID, data)
	e.waitState(a.ID, "tg-a", queue.StateSent, 2)
	waitFor(t, "three answers", 10*time.Second, func() bool { return len(e.botTG.CallbackAnswers()) == 3 })
	as, _ := e.botTG.CallbackAnswer(qs)
	a1, _ := e.botTG.CallbackAnswer(q1)
	a2, _ := e.botTG.CallbackAnswer(q2)
	if !strings.Contains(as.Text, "not allowed") || a1.Text != "Done." || !strings.Contains(a2.Text, "Already done") {
		t.Fatalf("answers: stranger %+v, first %+v, second %+v", as, a1, a2)
	}
	if n := len(e.chatMessages(chat)); n != 2 {
		t.Fatalf("%d posts, want 2: the original and exactly one repost", n)
	}
	if d, _ := e.broker.Delivery(context.Background(), a.ID, "tg-a"); d.Revision != 2 {
		t.Fatalf("revision %d, want 2", d.Revision)
	}
	// The confirmed prompt lost its buttons.
	for _, m := range e.botTG.Messages() {
		if m.MessageID == ask.MessageID && m.Chat.ID == adminID && len(m.Buttons()) != 0 {
			t.Fatalf("prompt still has buttons: %s", m.ReplyMarkup)
		}
	}
	// The typed confirmation reposts without asking.
	e.say(adminID, "/repost "+a.ID+" confirm")
	e.waitState(a.ID, "tg-a", queue.StateSent, 3)
	if n := len(e.chatMessages(chat)); n != 3 {
		t.Fatalf("%d posts after the typed confirmation, want 3", n)
	}
	// A button nobody stored (expired) does nothing.
	_, qx := e.botTG.PushCallback(adminID, adminID, adminName, ask.MessageID, callbackData("ffffffffffffffffffffffff", choiceYes))
	waitFor(t, "the expired button's answer", 10*time.Second, func() bool { _, ok := e.botTG.CallbackAnswer(qx); return ok })
	if ax, _ := e.botTG.CallbackAnswer(qx); !strings.Contains(ax.Text, "expired") {
		t.Fatalf("expired button answered %+v", ax)
	}
	var actions []string
	for _, en := range e.audit() {
		actions = append(actions, en.Action+"="+en.Result)
	}
	joined := strings.Join(actions, "\n")
	for _, want := range []string{"button:repost:y=reposted rp-1 on tg-a", "button:repost:y=refused: already used", "button=refused: not an allowed user", "/repost=asked to confirm tg-a"} {
		if !strings.Contains(joined, want) {
			t.Errorf("audit lacks %q:\n%s", want, joined)
		}
	}
}

func TestRetryResendsAFailedDeliveryOnce(t *testing.T) {
	e := newEnv(t)
	e.chTG.FailNext(1, 400, "Bad Request: message is too long")
	e.startWorker()
	e.startBot("p1")
	a := e.publish("rt-1", "خبر فشل", "tg-a")
	e.waitState(a.ID, "tg-a", queue.StateFailed, 1)
	e.say(adminID, "/retry "+a.ID)
	e.waitReply(adminID, "Sending again")
	e.waitState(a.ID, "tg-a", queue.StateSent, 1)
	e.say(adminID, "/retry "+a.ID)
	e.waitReply(adminID, "Nothing to retry")
	if n := len(e.chatMessages(telegramfake.DefaultChat.ID)); n != 1 {
		t.Fatalf("%d posts, want 1", n)
	}
	sends := 0
	for _, r := range e.chTG.Requests() {
		if r.Method == "sendMessage" {
			sends++
		}
	}
	if sends != 2 {
		t.Fatalf("%d sendMessage requests, want 2 (the failure and one retry)", sends)
	}
}

func TestPauseStopsSendsAndResumeReleasesThem(t *testing.T) {
	e := newEnv(t)
	e.startWorker()
	e.startBot("p1")
	e.say(adminID, "/pause tg-a maintenance")
	e.waitReply(adminID, "paused")
	ps, err := e.broker.Paused(context.Background())
	if err != nil || len(ps) != 1 || ps[0].Channel != "tg-a" || ps[0].Reason != "maintenance" || ps[0].By != "@"+adminName+" via Telegram" {
		t.Fatalf("paused %+v %v", ps, err)
	}
	a := e.publish("pz-1", "خبر أثناء الإيقاف", "tg-a", "tg-b")
	e.waitState(a.ID, "tg-b", queue.StateSent, 1) // the worker runs…
	if n := len(e.chatMessages(telegramfake.DefaultChat.ID)); n != 0 {
		t.Fatalf("%d posts on the paused channel", n)
	}
	if d, _ := e.broker.Delivery(context.Background(), a.ID, "tg-a"); d.State != queue.StatePending {
		t.Fatalf("paused delivery %+v, want pending", d)
	}
	e.say(adminID, "/channels")
	e.waitReply(adminID, "maintenance")
	e.say(adminID, "/resume tg-a")
	e.waitReply(adminID, "resumed")
	e.waitState(a.ID, "tg-a", queue.StateSent, 1)
	if n := len(e.chatMessages(telegramfake.DefaultChat.ID)); n != 1 {
		t.Fatalf("%d posts after resume, want 1", n)
	}
	// A pause by the bot is not alerted back to the admins.
	e.say(adminID, "/stats")
	e.waitReply(adminID, "queue")
	if n := len(e.replies(alertChat, "")); n != 0 {
		t.Fatalf("%d alerts for the bot's own pause", n)
	}
}

func TestBurstOfFiftyFailuresSendsOneDigest(t *testing.T) {
	e := newEnv(t)
	// The burst arrives while the bot runs, over many reads of the log; the delay gathers it.
	e.cfg.Alerts.Delay = 5 * time.Second
	e.chTG.FailNext(50, 400, "Bad Request: message is too long")
	e.startBot("p1")
	waitFor(t, "the bot running", 10*time.Second, func() bool { return len(e.botTG.Commands()) > 0 })
	waitFor(t, "the alert group", 10*time.Second, func() bool {
		gs, _ := e.rdb.XInfoGroups(context.Background(), "herald:log").Result()
		return len(gs) > 0
	})
	var ids []string
	for i := range 50 {
		ids = append(ids, e.publish(fmt.Sprintf("burst-%02d", i), "خبر", "tg-a").ID)
	}
	e.startWorker()
	for _, id := range ids {
		e.waitState(id, "tg-a", queue.StateFailed, 1)
	}
	m := e.waitReply(alertChat, "herald alerts")
	if !strings.Contains(m.Plain, "Failed: 50") || !strings.Contains(m.Plain, "tg-a: 50") {
		t.Fatalf("digest %q does not count the 50 failures", m.Plain)
	}
	waitFor(t, "the digest list drained", 10*time.Second, func() bool { return e.rdb.LLen(context.Background(), digestKey).Val() == 0 })
	// More failures within the interval wait for the next digest: still one message.
	e.chTG.FailNext(1, 400, "Bad Request: message is too long")
	late := e.publish("burst-late", "خبر", "tg-a")
	e.waitState(late.ID, "tg-a", queue.StateFailed, 1)
	waitFor(t, "the late failure queued for the next digest", 10*time.Second, func() bool { return e.rdb.LLen(context.Background(), digestKey).Val() == 1 })
	// "No second digest within the interval" needs time to pass: past the delay, with many
	// ticks of the flusher, the item must still wait.
	first, _ := e.rdb.Get(context.Background(), digestFirstKey).Int64()
	waitFor(t, "the delay long past", 10*time.Second, func() bool {
		return time.Since(time.UnixMilli(first)) > e.cfg.Alerts.Delay+time.Second
	})
	if l := e.rdb.LLen(context.Background(), digestKey).Val(); l != 1 {
		t.Fatalf("the late failure left the queue (%d) within the interval", l)
	}
	if n := len(e.replies(alertChat, "")); n != 1 {
		t.Fatalf("%d messages in the alert chat, want one digest", n)
	}
}

func TestUnknownAlertMarkSentRecordsWithoutPosting(t *testing.T) {
	e := newEnv(t)
	e.alertGroupReady()
	release := make(chan struct{})
	e.chTG.OnAccept(func(telegramfake.Message) { <-release }) // accepted, but the answer comes too late
	t.Cleanup(func() { close(release) })
	e.startWorker()
	a := e.publish("unk-1", "خبر غير مؤكد", "tg-a")
	e.waitState(a.ID, "tg-a", queue.StateUnknown, 1)
	e.startBot("p1")
	m := e.waitReply(alertChat, "Unknown outcome")
	if !strings.Contains(m.Plain, a.ID) {
		t.Fatalf("digest %q lacks the article", m.Plain)
	}
	data := button(t, m, "mark sent")
	_, q := e.botTG.PushCallback(alertChat, adminID, adminName, m.MessageID, data)
	d := e.waitState(a.ID, "tg-a", queue.StateSent, 1)
	if d.Revision != 1 || d.RemoteID != "" {
		t.Fatalf("marked record %+v", d)
	}
	e.waitReply(alertChat, "marked sent by @"+adminName)
	if a, _ := e.botTG.CallbackAnswer(q); a.Text != "Done." {
		t.Fatalf("answer %+v", a)
	}
	// The drop button of the same alert is now used up.
	_, q2 := e.botTG.PushCallback(alertChat, adminID, adminName, m.MessageID, button(t, m, "drop"))
	waitFor(t, "the second button answered", 10*time.Second, func() bool { _, ok := e.botTG.CallbackAnswer(q2); return ok })
	if a, _ := e.botTG.CallbackAnswer(q2); !strings.Contains(a.Text, "Already done") {
		t.Fatalf("second decision answered %+v", a)
	}
	if n := len(e.chTG.Messages()); n != 1 {
		t.Fatalf("%d posts, want only the one Telegram accepted before the timeout", n)
	}
	found := false
	for _, en := range e.audit() {
		found = found || (en.Action == "button:unknown:s" && en.Result == "marked sent" && en.UserID == adminID && en.Args == a.ID+" tg-a")
	}
	if !found {
		t.Fatalf("no audit entry for the decision: %+v", e.audit())
	}
}

func TestARestartReplaysNoCommand(t *testing.T) {
	e := newEnv(t)
	stop := e.startBot("p1")
	id := e.say(adminID, "/status gone-1")
	e.waitReply(adminID, "No article gone-1")
	// The offset is kept, and forgotten after six quiet days (Telegram then numbers at random).
	if ttl := e.rdb.TTL(context.Background(), offsetKey(987654321)).Val(); ttl < 5*24*time.Hour || ttl > offsetTTL {
		t.Fatalf("offset TTL %s", ttl)
	}
	stop()
	// Telegram hands out an update until a poll's offset confirms it; the stopped process may
	// never have polled again. Queue it again, as Telegram would.
	e.botTG.PushUpdate(tgbotapi.Update{UpdateID: id, Message: &tgbotapi.Message{MessageID: 50,
		From: &tgbotapi.User{ID: adminID, UserName: adminName}, Chat: &tgbotapi.Chat{ID: adminID, Type: "private"},
		Text: "/status gone-1", Entities: []tgbotapi.MessageEntity{{Type: "bot_command", Length: 7}}}})
	e.startBot("p2")
	e.say(adminID, "/status gone-2")
	e.waitReply(adminID, "No article gone-2")
	if n := len(e.replies(adminID, "gone-1")); n != 1 {
		t.Fatalf("/status gone-1 answered %d times across a restart", n)
	}
}

func TestTwoProcessesNeverBothAnswer(t *testing.T) {
	e := newEnv(t)
	e.startBot("p1")
	e.startBot("p2")
	for i := range 6 {
		e.say(adminID, fmt.Sprintf("/status twice-%d", i))
	}
	e.say(adminID, "/help")
	e.waitReply(adminID, "/status <id|url>")
	for i := range 6 {
		e.waitReply(adminID, fmt.Sprintf("twice-%d", i))
		if n := len(e.replies(adminID, fmt.Sprintf("twice-%d", i))); n != 1 {
			t.Fatalf("command %d answered %d times", i, n)
		}
	}
}

func TestCommandsAreRegistered(t *testing.T) {
	e := newEnv(t)
	e.startBot("p1")
	waitFor(t, "setMyCommands", 10*time.Second, func() bool { return len(e.botTG.Commands()) == len(commandList) })
	var names []string
	for _, c := range e.botTG.Commands() {
		names = append(names, c.Command)
	}
	if got := strings.Join(names, " "); got != "help status repost retry failed last pause resume channels stats" {
		t.Fatalf("commands %s", got)
	}
}

func TestAdminTokenNeverInLogsOrErrors(t *testing.T) {
	e := newEnv(t)
	// An endpoint that refuses connections: tgbotapi's *url.Error carries /bot<token>/getMe.
	dead := telegramfake.New()
	ep := dead.Endpoint()
	dead.Close()
	e.cfg.Telegram.APIEndpoint = ep
	e.startBot("p1")
	waitFor(t, "a failed connection logged", 10*time.Second, func() bool {
		return e.logs.FilterMessage("admin bot: connecting to Telegram").Len() > 0
	})
	// And on a live fake, a refused reply.
	e.cfg.Telegram.APIEndpoint = e.botTG.Endpoint()
	e.startBot("p2")
	e.botTG.FailNext(1, 400, "Bad Request: weird echo of "+adminToken)
	e.say(adminID, "/help")
	waitFor(t, "the refused reply logged", 10*time.Second, func() bool { return e.logs.FilterMessage("admin bot: replying").Len() > 0 })
	for _, en := range e.logs.All() {
		line := en.Message + fmt.Sprint(en.ContextMap())
		if strings.Contains(line, adminToken) || strings.Contains(line, "AAF-admin") {
			t.Fatalf("token in log: %s", line)
		}
	}
	if !strings.Contains(fmt.Sprint(e.logs.FilterMessage("admin bot: connecting to Telegram").All()[0].ContextMap()), telegram.Redacted) {
		t.Fatalf("connection error not redacted but stripped? %v", e.logs.All()[0].ContextMap())
	}
	// A config error names the setting, not the token.
	bad := Config{Telegram: TelegramConfig{Token: "123:has space secretpart", AllowedUserIDs: []int64{1}}}
	err := bad.Resolve(os.Getenv, os.ReadFile)
	if err == nil || strings.Contains(err.Error(), "secretpart") || !strings.Contains(err.Error(), "telegram.token") {
		t.Fatalf("config error %v", err)
	}
}

func TestAdminGroupMembersMayCommand(t *testing.T) {
	e := newEnv(t)
	group := int64(-1007770000000)
	e.cfg.Telegram.AdminChatID = group
	e.botTG.AddChat(telegramfake.Chat{ID: group, Type: "supergroup", Title: "newsroom admins"})
	e.startBot("p1")
	e.botTG.PushText(group, 777, "member", "/status@"+telegramfake.BotUsername+" grp-1")
	e.botTG.PushText(group, 777, "member", "/status@some_other_bot grp-2") // not for us
	e.botTG.PushText(group, 777, "member", "just chatting")
	e.botTG.PushText(group, 777, "member", "/status grp-3")
	e.waitReply(group, "No article grp-3")
	if n := len(e.replies(group, "")); n != 2 || len(e.replies(group, "grp-1")) != 1 {
		t.Fatalf("%d replies in the group, want grp-1 and grp-3 only", n)
	}
	// The same user elsewhere is a stranger.
	e.say(777, "/status grp-4")
	e.waitReply(777, "not allowed")
}

// TestForwardedTextIsNoCommand: a message someone forwarded, and a channel post Telegram
// forwarded by itself into the channel's discussion group (the admin group here), are someone
// else's words, not a command: an article herald posted to the channel, titled like a command,
// would otherwise run as one in the admin group, where everyone may command. Before, both
// paused the channel.
func TestForwardedTextIsNoCommand(t *testing.T) {
	e := newEnv(t)
	group := int64(-1007770000000)
	e.cfg.Telegram.AdminChatID = group
	e.botTG.AddChat(telegramfake.Chat{ID: group, Type: "supergroup", Title: "newsroom admins"})
	e.startBot("p1")
	channel := &tgbotapi.Chat{ID: -1001000000009, Type: "channel", Title: "News", UserName: "my_news"}
	command := func(text string) []tgbotapi.MessageEntity {
		cmd, _, _ := strings.Cut(text, " ")
		return []tgbotapi.MessageEntity{{Type: "bot_command", Offset: 0, Length: len(cmd)}}
	}
	now := int(time.Now().Unix())
	// The channel's post, copied into its linked discussion group by Telegram (From 777000).
	post := "/pause tg-a مراجعة"
	e.botTG.PushUpdate(tgbotapi.Update{Message: &tgbotapi.Message{MessageID: 10, Date: now, Text: post, Entities: command(post),
		From: &tgbotapi.User{ID: 777000, FirstName: "Telegram"}, SenderChat: channel,
		Chat:               &tgbotapi.Chat{ID: group, Type: "supergroup", Title: "newsroom admins"},
		IsAutomaticForward: true, ForwardFromChat: channel, ForwardFromMessageID: 4711, ForwardDate: now}})
	// A stranger's message an admin forwarded to the bot (in the chat the admin opened with it).
	e.botTG.AddChat(telegramfake.Chat{ID: adminID, Type: "private", Username: adminName})
	fwd := "/pause tg-b"
	e.botTG.PushUpdate(tgbotapi.Update{Message: &tgbotapi.Message{MessageID: 11, Date: now, Text: fwd, Entities: command(fwd),
		From:        &tgbotapi.User{ID: adminID, FirstName: adminName, UserName: adminName},
		Chat:        &tgbotapi.Chat{ID: adminID, Type: "private", UserName: adminName},
		ForwardFrom: &tgbotapi.User{ID: strangerID, FirstName: "stranger"}, ForwardDate: now - 60}})
	e.botTG.PushText(group, 777, "member", "/channels") // answered after the two above: the bot has seen them
	e.waitReply(group, "tg-b")
	ps, err := e.broker.Paused(context.Background())
	if err != nil || len(ps) != 0 {
		t.Fatalf("paused %+v (%v): a forwarded text ran as a command", ps, err)
	}
	e.waitReply(adminID, "Send a command")
	for _, a := range e.audit() {
		if a.Action == "/pause" {
			t.Fatalf("a forwarded text was taken for a command: %+v", a)
		}
	}
}

// TestAChannelsSubscribersCannotPressItsButtons: with a channel as both the alert chat and
// the admin chat, its admins (who alone write there) may command, but every subscriber sees
// the digest's buttons: a subscriber's press is refused and decides nothing (before, the
// channel being the admin chat let it drop the delivery); an allowed user's press acts.
func TestAChannelsSubscribersCannotPressItsButtons(t *testing.T) {
	e := newEnv(t)
	channel := int64(-1009000000077)
	e.botTG.AddChat(telegramfake.Chat{ID: channel, Type: "channel", Title: "herald alerts"})
	e.cfg.Telegram.AlertChatID, e.cfg.Telegram.AdminChatID = channel, channel
	e.alertGroupReady()
	release := make(chan struct{})
	e.chTG.OnAccept(func(telegramfake.Message) { <-release }) // accepted, but the answer comes too late
	t.Cleanup(func() { close(release) })
	e.startWorker()
	a := e.publish("unk-sub", "خبر غير مؤكد", "tg-a")
	e.waitState(a.ID, "tg-a", queue.StateUnknown, 1)
	e.startBot("p1")
	m := e.waitReply(channel, "Unknown outcome")
	_, q := e.botTG.PushCallback(channel, strangerID, "subscriber", m.MessageID, button(t, m, "drop"))
	waitFor(t, "the subscriber's press answered", 10*time.Second, func() bool { _, ok := e.botTG.CallbackAnswer(q); return ok })
	if ans, _ := e.botTG.CallbackAnswer(q); !strings.Contains(ans.Text, "not allowed") {
		t.Fatalf("the subscriber's press was answered %+v", ans)
	}
	if d, _ := e.broker.Delivery(context.Background(), a.ID, "tg-a"); d.State != queue.StateUnknown {
		t.Fatalf("a subscriber's press decided the delivery: %+v", d)
	}
	e.botTG.PushCallback(channel, adminID, adminName, m.MessageID, button(t, m, "drop"))
	if d := e.waitState(a.ID, "tg-a", queue.StateFailed, 1); !strings.Contains(d.Error, adminName) {
		t.Fatalf("dropped %+v, want by @%s", d, adminName)
	}
}

func TestHeraldsOwnPausesAndRaisedAlertsReachTheDigest(t *testing.T) {
	e := newEnv(t)
	e.alertGroupReady()
	ctx := context.Background()
	e.startBot("p1")
	e.say(adminID, "/pause tg-a planned")
	e.waitReply(adminID, "paused")
	// What a worker does on an auth failure, and what the feed poller reports.
	if err := e.broker.PauseBy(ctx, "tg-b", "401 Unauthorized: the token was revoked", queue.PausedByHerald); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if err := e.broker.RaiseAlert(ctx, queue.Alert{Kind: "feed", Subject: "https://news.example.com/feed/", Text: "404 Not Found"}); err != nil {
			t.Fatal(err)
		}
	}
	m := e.waitReply(alertChat, "herald alerts")
	for _, want := range []string{"tg-b (herald): 401 Unauthorized: the token was revoked", "feed \u2068https://news.example.com/feed/\u2069: 404 Not Found (×3)"} {
		if !strings.Contains(m.Plain, want) {
			t.Errorf("digest %q lacks %q", m.Plain, want)
		}
	}
	if strings.Contains(m.Plain, "tg-a") {
		t.Errorf("the bot's own pause was alerted: %q", m.Plain)
	}
}

func TestRetryEveryUnknownOfAChannel(t *testing.T) {
	e := newEnv(t)
	release := make(chan struct{})
	e.chTG.OnAccept(func(telegramfake.Message) { <-release })
	t.Cleanup(func() { close(release) })
	e.startWorker()
	e.startBot("p1")
	a1 := e.publish("ru-1", "خبر", "tg-a")
	a2 := e.publish("ru-2", "خبر", "tg-a")
	e.waitState(a1.ID, "tg-a", queue.StateUnknown, 1)
	e.waitState(a2.ID, "tg-a", queue.StateUnknown, 1)
	e.chTG.OnAccept(nil)
	e.say(adminID, "/retry unknown tg-a")
	ask := e.waitReply(adminID, "Check the channel first")
	if d, _ := e.broker.Delivery(context.Background(), a1.ID, "tg-a"); d.State != queue.StateUnknown {
		t.Fatalf("asking retried already: %+v", d)
	}
	e.botTG.PushCallback(adminID, adminID, adminName, ask.MessageID, button(t, ask, "Retry them"))
	e.waitReply(adminID, "2 unknown deliveries of tg-a sent again")
	e.waitState(a1.ID, "tg-a", queue.StateSent, 1)
	e.waitState(a2.ID, "tg-a", queue.StateSent, 1)
}

func TestAFailingFeedIsAlertedOncePerStreak(t *testing.T) {
	e := newEnv(t)
	var mu sync.Mutex
	health := FeedHealth{Name: "site", URL: "https://news.example.com/feed/", Failures: 1, LastError: "404 Not Found"}
	calls := 0
	set := func(f func(*FeedHealth)) { mu.Lock(); f(&health); mu.Unlock() }
	callsNow := func() int { mu.Lock(); defer mu.Unlock(); return calls }
	b, err := New(e.cfg, Deps{Broker: e.broker, Redis: e.rdb, Channels: e.chans, Logger: e.log, Owner: "p1",
		Feeds: func(context.Context) ([]FeedHealth, error) {
			mu.Lock()
			defer mu.Unlock()
			calls++
			return []FeedHealth{health}, nil
		}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- b.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	waitFor(t, "the alerter watching feeds", 10*time.Second, func() bool { return callsNow() > 2 })
	set(func(h *FeedHealth) { h.Failures = 3 })
	m := e.waitReply(alertChat, "herald alerts")
	if !strings.Contains(m.Plain, "3 failed polls: 404 Not Found") || !strings.Contains(m.Plain, "site https://news.example.com/feed/") {
		t.Fatalf("digest %q", m.Plain)
	}
	waitFor(t, "the digest list drained", 10*time.Second, func() bool { return e.rdb.LLen(ctx, digestKey).Val() == 0 })
	// Still failing: the same streak, no new alert.
	set(func(h *FeedHealth) { h.Failures = 5 })
	n := callsNow()
	waitFor(t, "more feed checks", 10*time.Second, func() bool { return callsNow() > n+3 })
	if l := e.rdb.LLen(ctx, digestKey).Val(); l != 0 {
		t.Fatalf("%d new alerts for the same streak", l)
	}
	// It recovered, then failed again: a new streak.
	set(func(h *FeedHealth) { h.LastSuccess = time.Now(); h.Failures = 4 })
	waitFor(t, "the new streak queued", 10*time.Second, func() bool { return e.rdb.LLen(ctx, digestKey).Val() == 1 })
}

func TestFailedLastAndStats(t *testing.T) {
	e := newEnv(t)
	e.chTG.FailNext(1, 400, "Bad Request: message is too long")
	e.startWorker()
	e.startBot("p1")
	f := e.publish("ls-f", "الخبر الفاشل", "tg-a")
	e.waitState(f.ID, "tg-a", queue.StateFailed, 1)
	s := e.publish("ls-s", "الخبر المنشور", "tg-a", "tg-b")
	e.waitState(s.ID, "tg-a", queue.StateSent, 1)
	e.waitState(s.ID, "tg-b", queue.StateSent, 1)

	e.say(adminID, "/failed")
	m := e.waitReply(adminID, "Failed and unknown")
	if !strings.Contains(m.Plain, "ls-f") || !strings.Contains(m.Plain, "message is too long") || !strings.Contains(m.Plain, "الخبر الفاشل") || strings.Contains(m.Plain, "ls-s") {
		t.Fatalf("/failed: %q", m.Plain)
	}
	e.say(adminID, "/failed tg-b 5")
	e.waitReply(adminID, "No failed or unknown deliveries")
	e.say(adminID, "/failed nosuch")
	e.waitReply(adminID, "nosuch is not a configured channel")
	e.say(adminID, "/last 2")
	m = e.waitReply(adminID, "Latest articles")
	if i, j := strings.Index(m.Plain, "الخبر المنشور"), strings.Index(m.Plain, "الخبر الفاشل"); i < 0 || j < 0 || i > j {
		t.Fatalf("/last 2, newest first: %q", m.Plain)
	}
	e.say(adminID, "/last many")
	e.waitReply(adminID, "Usage: /last [n]")
	e.say(adminID, "/stats")
	m = e.waitReply(adminID, "sent / failed / unknown")
	for _, row := range []string{"tg-a           1/1/0       1/1/0      0", "tg-b           1/0/0       1/0/0      0"} {
		if !strings.Contains(m.Plain, row) {
			t.Errorf("/stats lacks %q:\n%s", row, m.Plain)
		}
	}
}

func TestArabicRepliesKeepTheirDirection(t *testing.T) {
	e := newEnv(t)
	e.cfg.Telegram.Language = "ar"
	e.startWorker()
	e.startBot("p1")
	a := e.publish("ar-1", "Reuters: خبر عاجل", "tg-a")
	e.waitState(a.ID, "tg-a", queue.StateSent, 1)
	e.say(adminID, "/status "+a.ID)
	m := e.waitReply(adminID, "نُشر")
	checked := 0
	for _, l := range strings.Split(m.Plain, "\n") {
		// The id line and the channel line start with Latin text.
		if strings.Contains(l, "ar-1") || strings.Contains(l, "tg-a") {
			checked++
			if !strings.HasPrefix(l, "\u200f") {
				t.Errorf("line %q starts left-to-right without an RLM", l)
			}
		}
	}
	if checked < 2 {
		t.Fatalf("reply %q lacks the id and channel lines", m.Plain)
	}
	if !strings.Contains(m.Plain, "\u2068Reuters: خبر عاجل\u2069") {
		t.Errorf("title not isolated: %q", m.Plain)
	}
	e.say(adminID, "/nope")
	e.waitReply(adminID, "أمر غير معروف")
}

func TestDigestRetriesEveryUnknownOfAChannelWithOneButton(t *testing.T) {
	e := newEnv(t)
	e.alertGroupReady()
	release := make(chan struct{})
	e.chTG.OnAccept(func(telegramfake.Message) { <-release })
	t.Cleanup(func() { close(release) })
	e.startWorker()
	a1 := e.publish("ra-1", "خبر", "tg-a")
	a2 := e.publish("ra-2", "خبر", "tg-a")
	e.waitState(a1.ID, "tg-a", queue.StateUnknown, 1)
	e.waitState(a2.ID, "tg-a", queue.StateUnknown, 1)
	e.chTG.OnAccept(nil)
	e.startBot("p1")
	m := e.waitReply(alertChat, "Unknown outcome")
	e.botTG.PushCallback(alertChat, adminID, adminName, m.MessageID, button(t, m, "retry every unknown of tg-a"))
	e.waitReply(alertChat, "2 unknown deliveries of tg-a sent again")
	e.waitState(a1.ID, "tg-a", queue.StateSent, 1)
	e.waitState(a2.ID, "tg-a", queue.StateSent, 1)
	for _, msg := range e.botTG.Messages() {
		if msg.MessageID == m.MessageID && msg.Chat.ID == alertChat && len(msg.Buttons()) == 0 {
			t.Fatal("a digest button took the whole digest's keyboard away")
		}
	}
}

// TestCommandsReadArabicInput: what an Arabic keyboard or a copy from the bot's own Arabic
// replies puts around a command — direction marks (RLM, LRM, ALM, isolates) before the slash,
// after an id, inside a line — and Arabic-Indic or Persian digits in a count are read as the
// plain command, id and number.
func TestCommandsReadArabicInput(t *testing.T) {
	e := newEnv(t)
	e.chTG.FailNext(2, 400, "Bad Request: message is too long")
	e.startWorker()
	e.startBot("p1")
	var ids []string
	for i := range 3 {
		a := e.publish(fmt.Sprintf("ar-in-%d", i), fmt.Sprintf("خبر رقم %d", i), "tg-a")
		ids = append(ids, a.ID)
		e.waitState(a.ID, "tg-a", []queue.State{queue.StateFailed, queue.StateFailed, queue.StateSent}[i], 1)
	}
	// An RLM before the slash (an RTL keyboard), the id copied with the RLM and isolate marks an
	// Arabic reply carries.
	e.say(adminID, "\u200f/status \u200f\u2068"+ids[2]+"\u2069\u200f")
	m := e.waitReply(adminID, "خبر رقم 2")
	if !strings.Contains(m.Plain, "tg-a — sent") {
		t.Fatalf("/status with direction marks answered %q", m.Plain)
	}
	// ٢ is 2 (Arabic-Indic), ۱ is 1 (Persian), both after an ALM.
	e.say(adminID, "/last \u061c٢")
	m = e.waitReply(adminID, "Latest articles")
	if strings.Count(m.Plain, "خبر رقم") != 2 {
		t.Fatalf("/last ٢ listed %q, want the 2 latest articles", m.Plain)
	}
	e.say(adminID, "/failed\u200e tg-a ۱")
	m = e.waitReply(adminID, "Failed and unknown")
	if !strings.Contains(m.Plain, "(1)") || !strings.Contains(m.Plain, ids[1]) {
		t.Fatalf("/failed tg-a ۱ answered %q, want the newest failed delivery only", m.Plain)
	}
	e.say(adminID, "/pause \u200ftg-b\u200f صيانة")
	e.waitReply(adminID, "tg-b paused")
	if ps, _ := e.broker.Paused(context.Background()); len(ps) != 1 || ps[0].Channel != "tg-b" || ps[0].Reason != "صيانة" {
		t.Fatalf("paused %+v", ps)
	}
}

// TestLongRepliesAreSplitNotCut: /last 20 of articles with long Arabic titles and links is more
// than one Telegram message holds. Every article is listed, across several messages each within
// Telegram's limit (the fake refuses longer ones), newest first; none is dropped. The limit is
// on the text Telegram shows: link targets and tags do not count.
func TestLongRepliesAreSplitNotCut(t *testing.T) {
	e := newEnv(t)
	e.startWorker()
	e.startBot("p1")
	long := strings.Repeat("عنوان طويل لخبر عاجل عن الأحداث ", 7) // 224 characters
	var ids []string
	for i := range 20 {
		a := e.publish(fmt.Sprintf("long-%02d", i), fmt.Sprintf("%s %d", long, i), "tg-a", "tg-b")
		ids = append(ids, a.ID)
	}
	for _, id := range ids {
		e.waitState(id, "tg-a", queue.StateSent, 1)
		e.waitState(id, "tg-b", queue.StateSent, 1)
	}
	e.say(adminID, "/last 20")
	// Newest first: in the order of their last delivery change (the worker sends in parallel).
	recent, err := e.broker.Recent(context.Background(), 20)
	if err != nil || len(recent) != 20 {
		t.Fatalf("recent: %d %v", len(recent), err)
	}
	ids = ids[:0]
	for i := len(recent) - 1; i >= 0; i-- {
		ids = append(ids, recent[i].ID)
	}
	e.waitReply(adminID, ids[0]) // the oldest comes last
	var all string
	for _, m := range e.replies(adminID, "") {
		if n := telegramfake.UTF16Len(m.Plain); n > telegramfake.MaxTextLen {
			t.Fatalf("a message of %d characters", n)
		}
		all += m.Plain + "\n"
	}
	if n := len(e.replies(adminID, "")); n < 2 {
		t.Fatalf("%d message(s) for %d characters of articles", n, telegramfake.UTF16Len(all))
	}
	last := len(all)
	for _, id := range ids { // oldest first, so each is before the previous one
		i := strings.Index(all, "\n"+id+"\n")
		if i < 0 || strings.Count(all, "\n"+id+"\n") != 1 {
			t.Fatalf("%s listed %d times in:\n%s", id, strings.Count(all, "\n"+id+"\n"), all)
		}
		if i > last {
			t.Fatalf("%s after a newer article", id)
		}
		last = i
	}
	// Links keep working in every part.
	for _, m := range e.replies(adminID, "") {
		links := 0
		for _, en := range m.Entities {
			if en.URL != "" {
				links++
			}
		}
		if links == 0 {
			t.Fatalf("a part without its post links: %q", m.Plain)
		}
	}
}

// TestFinishSplitsATableAndStops: a <pre> table longer than a message is cut between rows, each
// part closing the table and the next opening it again (Telegram refuses unbalanced HTML), in an
// Arabic reply too; past maxParts the rest is dropped and the last part says so.
func TestFinishSplitsATableAndStops(t *testing.T) {
	b := &Bot{cfg: Config{Telegram: TelegramConfig{Language: "ar"}}}
	var rows []string
	for i := range 300 {
		rows = append(rows, fmt.Sprintf("channel-%03d    1/0/0       5/1/0      %d", i, i))
	}
	parts := b.finish("<b>عمليات النشر</b>\n<pre>" + strings.Join(rows, "\n") + "</pre>")
	if len(parts) < 3 {
		t.Fatalf("%d parts", len(parts))
	}
	var shown string
	for _, p := range parts {
		n, err := formatter.CheckTelegramHTML(p)
		if err != nil || n > telegramfake.MaxTextLen {
			t.Fatalf("part of %d characters: %v\n%s", n, err, p)
		}
		if !strings.Contains(p, "<pre>") {
			t.Fatalf("a part outside the table: %q", p)
		}
		shown += p
	}
	for _, r := range rows {
		if !strings.Contains(shown, r+"\n") && !strings.Contains(shown, r+"</pre>") {
			t.Fatalf("row %q lost", r)
		}
	}

	huge := strings.Repeat("<b>سطر</b> <code>x</code>\n", 5000)
	parts = b.finish(huge)
	if len(parts) != maxParts || !strings.HasSuffix(parts[maxParts-1], "\n…") {
		t.Fatalf("%d parts, the last ending %q", len(parts), parts[len(parts)-1][max(0, len(parts[len(parts)-1])-20):])
	}
	for _, p := range parts {
		if n, err := formatter.CheckTelegramHTML(p); err != nil || n > telegramfake.MaxTextLen {
			t.Fatalf("part of %d characters: %v", n, err)
		}
	}
}

// TestRetryUnknownNamesAWrongChannel: "/retry unknown" with a channel name that is not
// configured (a typo) says so, and without a channel it shows the usage; neither looks for an
// article called "unknown".
func TestRetryUnknownNamesAWrongChannel(t *testing.T) {
	e := newEnv(t)
	e.startBot("p1")
	e.say(adminID, "/retry unknown tg-typo")
	m := e.waitReply(adminID, "tg-typo")
	if !strings.Contains(m.Plain, "tg-typo is not a configured channel") {
		t.Fatalf("/retry unknown tg-typo answered %q", m.Plain)
	}
	e.say(adminID, "/retry unknown")
	m = e.waitReply(adminID, "Usage")
	if !strings.Contains(m.Plain, "/retry unknown <channel>") {
		t.Fatalf("/retry unknown answered %q", m.Plain)
	}
	if n := len(e.replies(adminID, "No article")); n != 0 {
		t.Fatalf("%d replies looked for an article called unknown", n)
	}
}

// TestStartAnswersWithTheCommands: Telegram sends /start when someone first opens the chat
// with the bot (its Start button); an admin gets the command list, not "unknown command".
func TestStartAnswersWithTheCommands(t *testing.T) {
	e := newEnv(t)
	e.startBot("p1")
	e.say(adminID, "/start")
	e.say(adminID, "/help")
	waitFor(t, "two answers", 15*time.Second, func() bool { return len(e.replies(adminID, "")) == 2 })
	if ms := e.replies(adminID, "/status <id|url>"); len(ms) != 2 {
		t.Fatalf("/start answered %q", e.replies(adminID, "")[0].Plain)
	}
	if n := len(e.replies(adminID, "Unknown command")); n != 0 {
		t.Fatal("/start is an unknown command")
	}
}

// TestStaleUnknownButtonDoesNotUndoARetry: an alert's buttons decide an unknown delivery and
// work for a day. When the delivery has left unknown since (an admin retried it: it waits to be
// sent again), a press of drop or mark sent on the old alert does nothing and says why: it
// would cancel the retry, or record a post that does not exist.
func TestStaleUnknownButtonDoesNotUndoARetry(t *testing.T) {
	e := newEnv(t)
	e.alertGroupReady()
	release := make(chan struct{})
	e.chTG.OnAccept(func(telegramfake.Message) { <-release })
	t.Cleanup(func() { close(release) })
	e.startWorker()
	a := e.publish("stale-1", "خبر غير مؤكد", "tg-a")
	e.waitState(a.ID, "tg-a", queue.StateUnknown, 1)
	e.startBot("p1")
	m := e.waitReply(alertChat, "Unknown outcome")
	e.chTG.OnAccept(nil)
	// The channel is paused (the admin checks it), and the delivery retried: it waits, pending.
	if err := e.broker.Pause(context.Background(), "tg-a", "checking"); err != nil {
		t.Fatal(err)
	}
	e.say(adminID, "/retry "+a.ID+" tg-a")
	e.waitReply(adminID, "Sending again")
	e.waitState(a.ID, "tg-a", queue.StatePending, 1)
	_, q := e.botTG.PushCallback(alertChat, adminID, adminName, m.MessageID, button(t, m, "drop"))
	r := e.waitReply(alertChat, "no longer unknown")
	if !strings.Contains(r.Plain, "now pending") {
		t.Fatalf("reply to the stale drop: %q", r.Plain)
	}
	if d, _ := e.broker.Delivery(context.Background(), a.ID, "tg-a"); d.State != queue.StatePending {
		t.Fatalf("the stale drop changed the retried delivery: %+v", d)
	}
	waitFor(t, "the press answered", 10*time.Second, func() bool { _, ok := e.botTG.CallbackAnswer(q); return ok })
	// Resumed, the retry goes out.
	if err := e.broker.Resume(context.Background(), "tg-a"); err != nil {
		t.Fatal(err)
	}
	e.waitState(a.ID, "tg-a", queue.StateSent, 1)
	found := false
	for _, en := range e.audit() {
		found = found || (en.Action == "button:unknown:d" && strings.Contains(en.Result, "no longer unknown"))
	}
	if !found {
		t.Fatalf("no audit entry for the refused press: %+v", e.audit())
	}
}

// TestLongInputIsEchoedShort: a reply that quotes what the admin typed (an unknown command, an
// id nobody published, a channel) quotes at most 200 characters of it, so a pasted wall of
// text still gets its answer instead of a reply Telegram refuses as too long.
func TestLongInputIsEchoedShort(t *testing.T) {
	e := newEnv(t)
	e.startBot("p1")
	// Each message is as long as Telegram lets an admin send (4,096).
	e.say(adminID, "/"+strings.Repeat("x", 4095))
	m := e.waitReply(adminID, "Unknown command")
	if n := telegramfake.UTF16Len(m.Plain); n > 300 {
		t.Fatalf("a reply of %d characters", n)
	}
	e.say(adminID, "/status "+strings.Repeat("ب", 4088))
	e.waitReply(adminID, "No article")
	e.say(adminID, "/pause "+strings.Repeat("c", 4089))
	e.waitReply(adminID, "is not a configured channel")
}

// TestDigestLeavesOutUnknownsDecidedMeanwhile: a digest waits (alerts.delay, alerts.interval)
// and an unknown delivery may be decided before it goes out (the dashboard's retry, herald
// mark-sent). The digest asks only about those still unknown, and sends nothing when none is
// left and nothing else happened.
func TestDigestLeavesOutUnknownsDecidedMeanwhile(t *testing.T) {
	ctx := context.Background()
	// unknowns starts a worker whose posts all time out, publishes one article per channel
	// and waits until each delivery is unknown.
	unknowns := func(e *env, ids ...string) {
		e.alertGroupReady()
		release := make(chan struct{})
		e.chTG.OnAccept(func(telegramfake.Message) { <-release })
		t.Cleanup(func() { close(release) })
		e.startWorker()
		for i, id := range ids {
			ch := []string{"tg-a", "tg-b"}[i]
			e.publish(id, "خبر "+id, ch)
			e.waitState(id, ch, queue.StateUnknown, 1)
		}
	}

	e := newEnv(t)
	unknowns(e, "dm-1", "dm-2")
	if _, err := e.broker.MarkSent(ctx, "dm-1", "tg-a", "ops", "", ""); err != nil {
		t.Fatal(err)
	}
	e.startBot("p1")
	m := e.waitReply(alertChat, "Unknown outcome")
	if strings.Contains(m.Plain, "dm-1") || !strings.Contains(m.Plain, "dm-2") || !strings.Contains(m.Plain, "decide): 1") {
		t.Fatalf("digest %q: want only dm-2", m.Plain)
	}
	if !strings.Contains(m.Plain, "herald alerts: 1 since") {
		t.Fatalf("digest %q does not count what it shows", m.Plain)
	}

	// Every unknown decided before the digest, and nothing else: no digest at all.
	e = newEnv(t)
	unknowns(e, "dm-3")
	if _, err := e.broker.Drop(ctx, "dm-3", "tg-a", "ops"); err != nil {
		t.Fatal(err)
	}
	e.startBot("p1")
	waitFor(t, "the digest list flushed", 15*time.Second, func() bool {
		return e.rdb.Exists(ctx, digestLastKey).Val() == 1 && e.rdb.LLen(ctx, digestKey).Val() == 0
	})
	if ms := e.replies(alertChat, ""); len(ms) != 0 {
		t.Fatalf("a digest with nothing to decide: %q", ms[0].Plain)
	}
}

// TestDigestLeavesOutPausesEndedMeanwhile: a pause made outside the bot is alerted in the next
// digest, which may go out minutes later; if the channel was resumed by then the digest does
// not report it paused (it would send the admins to a channel that is working). A pause still
// in force is listed.
func TestDigestLeavesOutPausesEndedMeanwhile(t *testing.T) {
	e := newEnv(t)
	e.cfg.Alerts.Delay = 3 * time.Second
	e.alertGroupReady()
	ctx := context.Background()
	e.startBot("p1")
	waitFor(t, "the bot running", 10*time.Second, func() bool { return len(e.botTG.Commands()) > 0 })
	if err := e.broker.PauseBy(ctx, "tg-b", "maintenance window", "admin via dashboard"); err != nil {
		t.Fatal(err)
	}
	if err := e.broker.PauseBy(ctx, "tg-a", "401 Unauthorized", queue.PausedByHerald); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "both pauses queued for the digest", 10*time.Second, func() bool { return e.rdb.LLen(ctx, digestKey).Val() == 2 })
	if err := e.broker.Resume(ctx, "tg-b"); err != nil {
		t.Fatal(err)
	}
	m := e.waitReply(alertChat, "herald alerts")
	if strings.Contains(m.Plain, "tg-b") || strings.Contains(m.Plain, "maintenance window") {
		t.Fatalf("digest %q reports tg-b paused after it was resumed", m.Plain)
	}
	if !strings.Contains(m.Plain, "tg-a (herald): 401 Unauthorized") {
		t.Fatalf("digest %q lacks the pause still in force", m.Plain)
	}
}

// TestTitlesShowAsThePostsShowThem: a title with HTML entities and tags (what a CMS posting
// rendered titles sends: &amp;, &#8220;…&#8221;, <b>) reads in the bot's replies as the
// channels' posts show it, not as "&amp;" or "<b>".
func TestTitlesShowAsThePostsShowThem(t *testing.T) {
	e := newEnv(t)
	e.startWorker()
	e.startBot("p1")
	a := e.publish("ent-1", "<b>عاجل</b>: ترامب &amp; بايدن &#8220;قمة&#8221;", "tg-a")
	e.waitState(a.ID, "tg-a", queue.StateSent, 1)
	const want = "عاجل: ترامب & بايدن “قمة”"
	if p := e.chatMessages(telegramfake.DefaultChat.ID)[0].Plain; !strings.Contains(p, want) {
		t.Fatalf("the post shows %q, want %q in it", p, want)
	}
	for i, cmd := range []string{"/status " + a.ID, "/last 1", "/repost " + a.ID} {
		e.say(adminID, cmd)
		waitFor(t, "the reply to "+cmd, 15*time.Second, func() bool { return len(e.replies(adminID, "")) == i+1 })
		m := e.replies(adminID, "")[i]
		if !strings.Contains(m.Plain, "\u2068"+want+"\u2069") || strings.Contains(m.Plain, "&amp;") || strings.Contains(m.Plain, "<b>") {
			t.Fatalf("%s shows the title as %q, want %q", cmd, m.Plain, want)
		}
	}
}

// TestPauseOfAPausedChannelSaysWhoPausedIt: /pause of a channel already paused (herald paused
// it on a revoked token) keeps the first pause, as every pause does; the reply says so, with
// who and why, instead of "paused" as if the admin's reason had been recorded.
func TestPauseOfAPausedChannelSaysWhoPausedIt(t *testing.T) {
	e := newEnv(t)
	e.startBot("p1")
	if err := e.broker.PauseBy(context.Background(), "tg-a", "401 Unauthorized", queue.PausedByHerald); err != nil {
		t.Fatal(err)
	}
	e.say(adminID, "/pause tg-a rotating the token")
	m := e.waitReply(adminID, "tg-a")
	if !strings.Contains(m.Plain, "already paused") || !strings.Contains(m.Plain, "herald") || !strings.Contains(m.Plain, "401 Unauthorized") {
		t.Fatalf("/pause of a paused channel answered %q", m.Plain)
	}
	if ps, _ := e.broker.Paused(context.Background()); len(ps) != 1 || ps[0].By != queue.PausedByHerald {
		t.Fatalf("paused %+v", ps)
	}
}

// TestAuditKeepsCommandsShort: the audit log is a capped stream that strangers write to on every
// attempt; a command of 4,096 characters is recorded with its name and the first 200 characters
// of its arguments, not whole (10,000 such entries would hold 40 MB of Redis).
func TestAuditKeepsCommandsShort(t *testing.T) {
	e := newEnv(t)
	e.startBot("p1")
	e.say(strangerID, "/"+strings.Repeat("p", 10)+" "+strings.Repeat("ب", 4000))
	e.say(adminID, "/status "+strings.Repeat("x", 4000))
	e.waitReply(adminID, "No article")
	for _, a := range e.audit() {
		if n := len([]rune(a.Args)); n > 200 || len(a.Action) > 200 {
			t.Fatalf("audit entry of %s with %d characters of arguments", a.Action, n)
		}
	}
	if n := len(e.audit()); n != 2 {
		t.Fatalf("%d audit entries, want 2", n)
	}
}
