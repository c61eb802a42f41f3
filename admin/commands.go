package admin

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"
	"go.uber.org/zap"

	"herald/channels"
	"herald/queue"
)

// request is one command from an allowed user.
type request struct {
	chatID int64
	user   *tgbotapi.User
	args   []string
}

// command is one bot command: its name (as registered with setMyCommands), its usage line and
// what it does. run returns the reply and a short English result for the audit log.
type command struct {
	name  string
	usage string
	run   func(b *Bot, ctx context.Context, r request) (reply, string)
}

// commandList is the bot's menu, in order (built in init: the commands refer to it).
var commandList []command

func init() {
	commandList = []command{
		{"help", "/help", (*Bot).cmdHelp},
		{"status", "/status <id|url>", (*Bot).cmdStatus},
		{"repost", "/repost <id|url> [channel…] [confirm]", (*Bot).cmdRepost},
		{"retry", "/retry <id|url> [channel] | /retry unknown <channel>", (*Bot).cmdRetry},
		{"failed", "/failed [channel] [n]", (*Bot).cmdFailed},
		{"last", "/last [n]", (*Bot).cmdLast},
		{"pause", "/pause <channel> [reason]", (*Bot).cmdPause},
		{"resume", "/resume <channel>", (*Bot).cmdResume},
		{"channels", "/channels", (*Bot).cmdChannels},
		{"stats", "/stats", (*Bot).cmdStats},
	}
}

func findCommand(name string) (command, bool) {
	if name == "start" {
		// What Telegram sends when someone first opens the chat (the Start button); not in
		// the menu.
		name = "help"
	}
	for _, c := range commandList {
		if c.name == name {
			return c, true
		}
	}
	return command{}, false
}

// handle answers one update.
func (b *Bot) handle(ctx context.Context, u update) {
	switch {
	case u.Message != nil:
		b.handleMessage(ctx, u.Message, u.thread)
	case u.CallbackQuery != nil:
		b.handleCallback(ctx, u.CallbackQuery, u.thread)
	}
}

// allowed reports whether a user may command: listed in allowed_user_ids, or writing in the
// admin group (under its new id once it became a supergroup).
func (b *Bot) allowed(ctx context.Context, userID, chatID int64) bool {
	t := b.cfg.Telegram
	if slices.Contains(t.AllowedUserIDs, userID) {
		return true
	}
	return t.AdminChatID != 0 && chatID != 0 && (chatID == t.AdminChatID || chatID == b.chatNow(ctx, t.AdminChatID))
}

func who(u *tgbotapi.User) string {
	if u == nil {
		return "?"
	}
	if u.UserName != "" {
		return "@" + u.UserName
	}
	return "id " + itoa(u.ID)
}

// parseCommand splits "/status@herald_bot abc" into "status" and its arguments; ok is false
// for text that is not a command or is addressed to another bot. Direction marks are dropped
// first (see withoutMarks).
func parseCommand(text, botUsername string) (name string, args []string, ok bool) {
	fields := strings.Fields(withoutMarks(text))
	if len(fields) == 0 || !strings.HasPrefix(fields[0], "/") {
		return "", nil, false
	}
	name, to, addressed := strings.Cut(strings.TrimPrefix(fields[0], "/"), "@")
	if addressed && !strings.EqualFold(to, botUsername) {
		return "", nil, false
	}
	return strings.ToLower(name), fields[1:], true
}

// withoutMarks drops the invisible direction marks Arabic text carries: an RTL keyboard may
// put an RLM before the slash, and an id or URL copied from the bot's own Arabic replies (lines
// started with an RLM, titles in FSI…PDI) brings them along. No command, id, channel name, URL
// or number contains one (article ids refuse format characters), so "\u200f/status id\u200f"
// is "/status id".
func withoutMarks(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r == '\u200e', r == '\u200f', r == '\u061c', // LRM, RLM, ALM
			r >= '\u202a' && r <= '\u202e', // embeddings and overrides
			r >= '\u2066' && r <= '\u2069', // isolates
			r == '\u200b', r == '\ufeff':   // zero-width space, BOM
			return -1
		}
		return r
	}, s)
}

// handleMessage answers a message; thread is its forum topic, where the answer goes too.
func (b *Bot) handleMessage(ctx context.Context, m *tgbotapi.Message, thread int) {
	if m.Chat != nil && (m.MigrateFromChatID != 0 || m.MigrateToChatID != 0) {
		// Telegram's word that a group became a supergroup, said in both.
		if m.MigrateFromChatID != 0 {
			b.noteMigration(ctx, m.MigrateFromChatID, m.Chat.ID)
		} else {
			b.noteMigration(ctx, m.Chat.ID, m.MigrateToChatID)
		}
		return
	}
	if m.From == nil || m.Chat == nil {
		return
	}
	to := dest{m.Chat.ID, thread}
	text := strings.TrimSpace(m.Text)
	name, args, isCmd := parseCommand(text, b.api.Self.UserName)
	if forwarded(m) {
		// Someone else's words, not a command of whoever forwarded them: a channel post that
		// Telegram copies into its linked discussion group (the admin group, perhaps) is an
		// article herald posted, whose title could read "/retry unknown tg-main confirm".
		isCmd = false
	}
	// The audit log is a capped stream anyone writing to the bot adds to: a command is kept
	// short there (a message may hold 4,096 characters).
	entry := queue.AuditEntry{Source: "telegram", UserID: m.From.ID, Username: m.From.UserName, ChatID: m.Chat.ID,
		Action: "/" + cut(name, 64), Args: cut(strings.Join(args, " "), 200)}
	if !b.allowed(ctx, m.From.ID, m.Chat.ID) {
		if !isCmd && !m.Chat.IsPrivate() {
			return // chatter in a group the bot is in, not addressed to it
		}
		if !isCmd {
			entry.Action, entry.Args = "message", cut(text, 100)
		}
		if b.refuse(ctx, entry) {
			text := b.tx.f("refused")
			if m.SenderChat != nil {
				// An admin writing anonymously (or as a channel): Telegram does not say who.
				text = b.tx.f("refused.anon")
			}
			b.reply(ctx, to, reply{text: text})
		}
		return
	}
	if !isCmd {
		if m.Chat.IsPrivate() {
			b.reply(ctx, to, reply{text: b.tx.f("not.command")})
		}
		return
	}
	c, ok := findCommand(name)
	if !ok {
		entry.Result = "unknown command"
		b.audit(ctx, entry)
		b.reply(ctx, to, reply{text: b.tx.f("unknown.cmd", echo("/"+name))})
		return
	}
	r, result := c.run(b, ctx, request{chatID: m.Chat.ID, user: m.From, args: args})
	entry.Result, entry.Allowed = result, true
	b.audit(ctx, entry)
	b.reply(ctx, to, r)
}

// forwarded reports whether m is a forwarded message or a channel post Telegram forwarded
// into the channel's discussion group by itself (is_automatic_forward, from the service
// account 777000).
// Specs: https://core.telegram.org/bots/api#message (is_automatic_forward, forward_origin)
func forwarded(m *tgbotapi.Message) bool {
	return m.IsAutomaticForward || m.ForwardDate != 0 || m.ForwardFrom != nil || m.ForwardFromChat != nil ||
		m.ForwardSenderName != "" || (m.From != nil && m.From.ID == telegramServiceUserID)
}

// telegramServiceUserID is the account Telegram's own messages come from, the automatic
// forwards of a channel's posts into its discussion group among them.
const telegramServiceUserID = 777000

// refusedAudited is how many of one stranger's attempts an hour are audited.
const refusedAudited = 20

// refuse counts a stranger's attempt (a command, a message or a button press: one count per
// user) and audits it while it is among the first refusedAudited this hour, so a stranger
// cannot push the admins' own entries out of the capped audit log. It reports whether this is
// the stranger's first attempt this hour, the one a refusal is said to, so a stranger cannot
// make the bot spam either.
func (b *Bot) refuse(ctx context.Context, entry queue.AuditEntry) (first bool) {
	n, err := queue.CountInWindow(ctx, b.d.Redis, refusedKey(entry.UserID), time.Hour)
	if err != nil {
		n = 1 // not knowing: audit it (the audit, on the same Redis, will likely fail too)
	}
	if n <= refusedAudited {
		entry.Result = "refused: not an allowed user"
		if n == refusedAudited {
			entry.Result += " (its further attempts this hour are not audited)"
		}
		b.audit(ctx, entry)
	}
	return n == 1 && err == nil
}

// reply sends r, logging (redacted) when Telegram refuses it.
func (b *Bot) reply(ctx context.Context, to dest, r reply) {
	if _, err := b.send(ctx, to, r); err != nil {
		b.log.Warn("admin bot: replying", zap.Int64("chat_id", to.chat), zap.Int("thread_id", to.thread), zap.Error(err))
	}
}

func (b *Bot) audit(ctx context.Context, e queue.AuditEntry) {
	if err := b.d.Broker.AppendAudit(ctx, e); err != nil {
		b.log.Error("admin bot: writing the audit log", zap.String("action", e.Action), zap.Error(err))
	}
}

func (b *Bot) usage(c string) (reply, string) {
	cmd, _ := findCommand(c)
	return reply{text: b.tx.f("usage", esc(cmd.usage))}, "usage"
}

func (b *Bot) failure(err error) (reply, string) {
	b.log.Warn("admin bot: command failed", zap.Error(err))
	return reply{text: b.tx.f("error", esc(cut(err.Error(), 300)))}, "error: " + err.Error()
}

func (b *Bot) configured(name string) bool {
	return slices.ContainsFunc(b.d.Channels, func(c queue.ChannelConfig) bool { return string(c.Name) == name })
}

// findArticle looks an article up by id, or by URL (queue.Broker.ArticleID: the URL index of
// articles with an id of their own, else the canonical URL's id).
func (b *Bot) findArticle(ctx context.Context, ref string) (*queue.ArticleStatus, error) {
	id, err := b.d.Broker.ArticleID(ctx, ref)
	if err != nil {
		if errors.Is(err, queue.ErrInvalidURL) {
			// Not a URL at all: as unknown as an id nobody published.
			return nil, fmt.Errorf("%s: %w", ref, queue.ErrNotFound)
		}
		return nil, err
	}
	return b.d.Broker.Status(ctx, id)
}

// lookup is findArticle with the reply for an unknown article.
func (b *Bot) lookup(ctx context.Context, ref string) (*queue.ArticleStatus, *reply, string) {
	st, err := b.findArticle(ctx, ref)
	if errors.Is(err, queue.ErrNotFound) {
		return nil, &reply{text: b.tx.f("not.found", echo(ref))}, "not found"
	}
	if err != nil {
		r, res := b.failure(err)
		return nil, &r, res
	}
	return st, nil, ""
}

// pick selects the article's deliveries on the named channels (all when none are named).
func (b *Bot) pick(st *queue.ArticleStatus, names []string) ([]queue.Delivery, *reply, string) {
	if len(names) == 0 {
		return st.Deliveries, nil, ""
	}
	var out []queue.Delivery
	for _, n := range names {
		i := slices.IndexFunc(st.Deliveries, func(d queue.Delivery) bool { return string(d.Channel) == n })
		if i < 0 {
			if !b.configured(n) {
				return nil, &reply{text: b.tx.f("no.channel", echo(n))}, "unknown channel"
			}
			return nil, &reply{text: b.tx.f("not.routed", code(st.ID), echo(n))}, "not routed"
		}
		if !slices.ContainsFunc(out, func(d queue.Delivery) bool { return d.Channel == st.Deliveries[i].Channel }) {
			out = append(out, st.Deliveries[i])
		}
	}
	return out, nil, ""
}

func (b *Bot) cmdHelp(_ context.Context, _ request) (reply, string) {
	lines := []string{b.tx.f("help.title"), ""}
	for _, c := range commandList {
		lines = append(lines, code(c.usage)+"\n    "+esc(b.tx.describe(c.name)))
	}
	return reply{text: strings.Join(lines, "\n")}, "ok"
}

func (b *Bot) cmdStatus(ctx context.Context, r request) (reply, string) {
	if len(r.args) != 1 {
		return b.usage("status")
	}
	st, fail, res := b.lookup(ctx, r.args[0])
	if fail != nil {
		return *fail, res
	}
	lines := []string{b.articleHeader(st)}
	if c := b.correctionLine(st.Deliveries); c != "" {
		lines = append(lines, c)
	}
	lines = append(lines, "")
	for _, d := range st.Deliveries {
		lines = append(lines, b.deliveryLine(d))
	}
	return reply{text: strings.Join(lines, "\n")}, "ok"
}

func (b *Bot) cmdRepost(ctx context.Context, r request) (reply, string) {
	args := r.args
	confirm := len(args) > 1 && strings.EqualFold(args[len(args)-1], "confirm")
	if confirm {
		args = args[:len(args)-1]
	}
	if len(args) < 1 {
		return b.usage("repost")
	}
	st, fail, res := b.lookup(ctx, args[0])
	if fail != nil {
		return *fail, res
	}
	ds, fail, res := b.pick(st, args[1:])
	if fail != nil {
		return *fail, res
	}
	names, skipped := b.configuredOnly(st.ID, ds)
	if confirm || len(names) == 0 {
		text, res := b.repost(ctx, st.ID, channelNames(ds), who(r.user))
		return reply{text: text}, res
	}
	token, err := b.newCallback(ctx, callbackRecord{Action: actionRepost, Article: st.ID, Channels: names, By: r.user.ID, Prompt: true}, repostConfirmTTL)
	if err != nil {
		return b.failure(err)
	}
	kb := tgbotapi.NewInlineKeyboardMarkup(tgbotapi.NewInlineKeyboardRow(
		tgbotapi.NewInlineKeyboardButtonData(b.tx.f("repost.confirm"), callbackData(token, choiceYes)),
		tgbotapi.NewInlineKeyboardButtonData(b.tx.f("repost.cancel"), callbackData(token, choiceNo)),
	))
	t := st.Title
	if t == "" {
		t = st.ID
	}
	ask := strings.Join(append([]string{b.tx.f("repost.ask", "<b>"+headline(t, 200)+"</b>", codes(names))}, skipped...), "\n")
	return reply{text: ask, buttons: &kb}, "asked to confirm " + strings.Join(names, ",")
}

// configuredOnly splits an article's deliveries into the names of the channels in the config
// and a line for each of the others (removed or renamed since: a retry or repost there would
// wait in a queue no worker serves, for ever).
func (b *Bot) configuredOnly(id string, ds []queue.Delivery) (names, skipped []string) {
	for _, d := range ds {
		if b.configured(string(d.Channel)) {
			names = append(names, string(d.Channel))
			continue
		}
		skipped = append(skipped, b.tx.f("not.configured", code(id), code(string(d.Channel))))
	}
	return names, skipped
}

// repostConfirmTTL is how long a repost confirmation button stays usable.
const repostConfirmTTL = 10 * time.Minute

// repost posts the article again on each channel, as a new revision; by names the admin.
func (b *Bot) repost(ctx context.Context, id string, names []string, by string) (string, string) {
	var done, lines []string
	for _, n := range names {
		if !b.configured(n) {
			// Removed from the config since (a confirmation lives 10 minutes): no worker would
			// send it.
			lines = append(lines, b.tx.f("not.configured", code(id), code(n)))
			continue
		}
		if _, err := b.d.Broker.Requeue(ctx, id, channels.Name(n), "repost", by); err != nil {
			lines = append(lines, b.tx.f("action.error", code(id), code(n), esc(err.Error())))
			continue
		}
		done = append(done, n)
	}
	if len(done) > 0 {
		lines = append([]string{b.tx.f("repost.done", codes(done))}, lines...)
	}
	return strings.Join(lines, "\n"), fmt.Sprintf("reposted %s on %s", id, strings.Join(done, ","))
}

func (b *Bot) cmdRetry(ctx context.Context, r request) (reply, string) {
	if len(r.args) >= 1 && r.args[0] == "unknown" {
		// "/retry unknown <channel>"; a misspelt channel is said so, not looked up as an
		// article called "unknown".
		switch {
		case len(r.args) < 2:
			return b.usage("retry")
		case !b.configured(r.args[1]):
			return reply{text: b.tx.f("no.channel", echo(r.args[1]))}, "unknown channel"
		}
		return b.cmdRetryUnknown(ctx, r)
	}
	if len(r.args) < 1 || len(r.args) > 2 {
		return b.usage("retry")
	}
	st, fail, res := b.lookup(ctx, r.args[0])
	if fail != nil {
		return *fail, res
	}
	ds, fail, res := b.pick(st, r.args[1:])
	if fail != nil {
		return *fail, res
	}
	var done, lines []string
	for _, d := range ds {
		if d.State != queue.StateFailed && d.State != queue.StateUnknown {
			if len(r.args) == 2 {
				lines = append(lines, b.tx.f("action.error", code(st.ID), code(string(d.Channel)), b.stateName(d.State)))
			}
			continue
		}
		if !b.configured(string(d.Channel)) {
			lines = append(lines, b.tx.f("not.configured", code(st.ID), code(string(d.Channel))))
			continue
		}
		if _, err := b.d.Broker.Requeue(ctx, st.ID, d.Channel, "retry", who(r.user)); err != nil {
			lines = append(lines, b.tx.f("action.error", code(st.ID), code(string(d.Channel)), esc(err.Error())))
			continue
		}
		done = append(done, string(d.Channel))
	}
	if len(done) == 0 && len(lines) == 0 {
		return reply{text: b.tx.f("retry.nothing", code(st.ID))}, "nothing to retry"
	}
	if len(done) > 0 {
		lines = append([]string{b.tx.f("retry.done", codes(done))}, lines...)
	}
	return reply{text: strings.Join(lines, "\n")}, fmt.Sprintf("retried %s on %s", st.ID, strings.Join(done, ","))
}

// cmdRetryUnknown is "/retry unknown <channel> [confirm]": every unknown delivery of the
// channel is sent again (after an outage an admin has checked by hand what is missing). It asks
// first, like repost: an unknown post may exist.
func (b *Bot) cmdRetryUnknown(ctx context.Context, r request) (reply, string) {
	ch := r.args[1]
	switch {
	case len(r.args) == 3 && strings.EqualFold(r.args[2], "confirm"):
		text, res := b.retryUnknown(ctx, ch, who(r.user))
		return reply{text: text}, res
	case len(r.args) != 2:
		return b.usage("retry")
	}
	token, err := b.newCallback(ctx, callbackRecord{Action: actionRetryUnknown, Channel: ch, By: r.user.ID, Prompt: true}, repostConfirmTTL)
	if err != nil {
		return b.failure(err)
	}
	kb := tgbotapi.NewInlineKeyboardMarkup(tgbotapi.NewInlineKeyboardRow(
		tgbotapi.NewInlineKeyboardButtonData(b.tx.f("retryunknown.confirm"), callbackData(token, choiceYes)),
		tgbotapi.NewInlineKeyboardButtonData(b.tx.f("repost.cancel"), callbackData(token, choiceNo)),
	))
	return reply{text: b.tx.f("retryunknown.ask", code(ch)), buttons: &kb}, "asked to confirm retrying unknown on " + ch
}

// retryUnknown requeues every unknown delivery of a channel (queue.Broker.RetryUnknown).
func (b *Bot) retryUnknown(ctx context.Context, ch, by string) (string, string) {
	n, err := b.d.Broker.RetryUnknown(ctx, channels.Name(ch), by)
	if err != nil {
		// Redis failed part way: those requeued before are sending, and the admin must know
		// how many, or "run it again" reads as "none went".
		b.log.Warn("admin bot: retrying unknown deliveries", zap.String("channel", ch), zap.Int("requeued", n), zap.Error(err))
		return b.tx.f("retryunknown.partial", n, code(ch), esc(cut(err.Error(), 300))),
			fmt.Sprintf("retried %d unknown on %s, then error: %s", n, ch, err)
	}
	return b.tx.f("retryunknown.done", n, code(ch)), fmt.Sprintf("retried %d unknown on %s", n, ch)
}

// numberOr reads a count argument within 1..hi, or def. Arabic-Indic (٣) and Persian (۳)
// digits count too: they are what an Arabic keyboard types.
func numberOr(s string, def, hi int) (int, bool) {
	n, err := strconv.Atoi(strings.Map(func(r rune) rune {
		switch {
		case r >= '٠' && r <= '٩':
			return '0' + r - '٠'
		case r >= '۰' && r <= '۹':
			return '0' + r - '۰'
		}
		return r
	}, s))
	if err != nil {
		return def, false
	}
	return min(max(n, 1), hi), true
}

func (b *Bot) cmdFailed(ctx context.Context, r request) (reply, string) {
	n, ch := 10, ""
	for _, a := range r.args {
		if v, ok := numberOr(a, 10, 30); ok {
			n = v
			continue
		}
		if ch != "" || !b.configured(a) {
			if !b.configured(a) {
				return reply{text: b.tx.f("no.channel", echo(a))}, "unknown channel"
			}
			return b.usage("failed")
		}
		ch = a
	}
	ds, err := b.d.Broker.Failed(ctx, channels.Name(ch), n)
	if err != nil {
		return b.failure(err)
	}
	if len(ds) == 0 {
		return reply{text: b.tx.f("failed.none")}, "ok"
	}
	lines := []string{b.tx.f("failed.title", len(ds)), ""}
	for _, d := range ds {
		head := fmt.Sprintf("%s %s · %s", stateIcons[d.State], code(d.ArticleID), code(string(d.Channel)))
		if a, err := b.d.Broker.Article(ctx, d.ArticleID); err == nil && a.Title != "" {
			head += " · " + headline(a.Title, 60)
		}
		if d.Error != "" {
			head += "\n    " + esc(cut(d.Error, 100))
		}
		lines = append(lines, head)
	}
	lines = append(lines, "", esc(b.tx.f("failed.hint")))
	return reply{text: strings.Join(lines, "\n")}, "ok"
}

func (b *Bot) cmdLast(ctx context.Context, r request) (reply, string) {
	n := 5
	if len(r.args) > 1 {
		return b.usage("last")
	}
	if len(r.args) == 1 {
		v, ok := numberOr(r.args[0], 5, 20)
		if !ok {
			return b.usage("last")
		}
		n = v
	}
	sts, err := b.d.Broker.Recent(ctx, n)
	if err != nil {
		return b.failure(err)
	}
	if len(sts) == 0 {
		return reply{text: b.tx.f("last.none")}, "ok"
	}
	lines := []string{b.tx.f("last.title")}
	for _, st := range sts {
		var chs []string
		for _, d := range st.Deliveries {
			c := stateIcons[d.State] + " " + esc(string(d.Channel))
			if d.PostURL != "" {
				c = stateIcons[d.State] + " " + link(d.PostURL, string(d.Channel))
			}
			// A corrected post: edited in place, or not (its platform cannot edit; /status says more).
			if !d.NotEditedAt.IsZero() {
				c += " ⚠️"
			} else if !d.EditedAt.IsZero() {
				c += " ✏️"
			}
			chs = append(chs, c)
		}
		lines = append(lines, "", b.articleHeader(&st), strings.Join(chs, "  "))
	}
	return reply{text: strings.Join(lines, "\n")}, "ok"
}

// pausedBy is PauseInfo.By for a pause made through the bot; the alerter does not alert these.
func pausedBy(u *tgbotapi.User) string { return who(u) + " via Telegram" }

func isBotPause(by string) bool { return strings.HasSuffix(by, " via Telegram") }

func (b *Bot) cmdPause(ctx context.Context, r request) (reply, string) {
	if len(r.args) < 1 {
		return b.usage("pause")
	}
	if !b.configured(r.args[0]) {
		return reply{text: b.tx.f("no.channel", echo(r.args[0]))}, "unknown channel"
	}
	ps, err := b.d.Broker.Paused(ctx)
	if err != nil {
		return b.failure(err)
	}
	// A pause of a paused channel keeps the first pause (who, why, since): say so rather than
	// "paused", as if this one's reason had been recorded.
	i := slices.IndexFunc(ps, func(p queue.PauseInfo) bool { return string(p.Channel) == r.args[0] })
	if err := b.d.Broker.PauseBy(ctx, channels.Name(r.args[0]), strings.Join(r.args[1:], " "), pausedBy(r.user)); err != nil {
		return b.failure(err)
	}
	if i >= 0 {
		p := ps[i]
		by := p.By
		if by == "" {
			by = "?"
		}
		why := ""
		if p.Reason != "" {
			why = ": " + esc(cut(p.Reason, 100))
		}
		return reply{text: b.tx.f("paused.already", code(r.args[0]), esc(by), when(p.Since), why)}, "already paused"
	}
	return reply{text: b.tx.f("paused", code(r.args[0]))}, "paused"
}

func (b *Bot) cmdResume(ctx context.Context, r request) (reply, string) {
	if len(r.args) != 1 {
		return b.usage("resume")
	}
	if !b.configured(r.args[0]) {
		return reply{text: b.tx.f("no.channel", echo(r.args[0]))}, "unknown channel"
	}
	if err := b.d.Broker.Resume(ctx, channels.Name(r.args[0])); err != nil {
		return b.failure(err)
	}
	return reply{text: b.tx.f("resumed", code(r.args[0]))}, "resumed"
}

func (b *Bot) cmdChannels(ctx context.Context, r request) (reply, string) {
	if len(r.args) != 0 {
		return b.usage("channels")
	}
	infos, err := queue.ChannelInfos(ctx, b.d.Broker, b.d.Channels)
	if err != nil {
		return b.failure(err)
	}
	lines := []string{b.tx.f("channels.title")}
	for _, c := range infos {
		state := b.tx.f("channel.active")
		if c.Paused {
			state = b.tx.f("channel.paused")
			if c.PausedBy != "" {
				state += " (" + esc(c.PausedBy) + ")"
			}
			if c.PauseReason != "" {
				state += ": " + esc(cut(c.PauseReason, 100))
			}
		}
		lines = append(lines, "", fmt.Sprintf("<b>%s</b> (%s) · %s · %s", esc(string(c.Channel)), esc(string(c.Kind)), esc(c.Rate), state),
			"    "+b.tx.f("channel.queue", c.Pending, c.Urgent, c.Scheduled, c.Retry, c.Active))
		if !c.NotBefore.IsZero() {
			lines = append(lines, "    "+b.tx.f("channel.nb", c.NotBefore.UTC().Format("15:04:05 UTC")))
		}
		if sp := c.Spend; sp != nil {
			s := b.tx.f("channel.spend", esc(sp.Month), sp.USD)
			if sp.Budget > 0 {
				s += " " + b.tx.f("channel.budget", sp.Budget)
			}
			lines = append(lines, "    "+s)
		}
	}
	return reply{text: strings.Join(lines, "\n")}, "ok"
}

func (b *Bot) cmdStats(ctx context.Context, r request) (reply, string) {
	if len(r.args) != 0 {
		return b.usage("stats")
	}
	now := b.d.Now()
	hour, err := b.d.Broker.Outcomes(ctx, now.Add(-time.Hour))
	if err != nil {
		return b.failure(err)
	}
	day, err := b.d.Broker.Outcomes(ctx, now.Add(-24*time.Hour))
	if err != nil {
		return b.failure(err)
	}
	rows := []string{b.tx.f("stats.head")}
	for _, c := range b.d.Channels {
		st, err := b.d.Broker.Stats(c.Name)
		if err != nil {
			return b.failure(err)
		}
		h, d := hour[c.Name], day[c.Name]
		rows = append(rows, fmt.Sprintf("%-14s %-11s %-10s %d", cut(string(c.Name), 14),
			fmt.Sprintf("%d/%d/%d", h.Sent, h.Failed, h.Unknown), fmt.Sprintf("%d/%d/%d", d.Sent, d.Failed, d.Unknown),
			st.Pending+st.Scheduled+st.Retry+st.Active))
	}
	// <pre> keeps the columns; it is left-to-right whatever the reply's language.
	return reply{text: b.tx.f("stats.title") + "\n<pre>" + esc(strings.Join(rows, "\n")) + "</pre>"}, "ok"
}

func channelNames(ds []queue.Delivery) []string {
	out := make([]string, 0, len(ds))
	for _, d := range ds {
		out = append(out, string(d.Channel))
	}
	return out
}

func codes(names []string) string {
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = code(n)
	}
	return strings.Join(out, ", ")
}
