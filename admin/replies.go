package admin

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"strings"
	"time"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"
	"github.com/rivo/uniseg"
	"go.uber.org/zap"

	"herald/formatter"
	"herald/queue"
)

// Replies are Telegram HTML. Everything that comes from outside herald's own strings (titles,
// ids, errors, reasons, channel names) goes through esc, so an Arabic title with "<" or "&"
// cannot break a reply, and titles are direction-isolated so they read correctly inside a line
// of the other direction.

// texts are the bot's strings in one language; keys are looked up with f.
type texts map[string]string

func textsFor(lang string) texts {
	if lang == "en" {
		return textsEN
	}
	return textsAR
}

// f formats the string key (English when the language lacks it).
func (t texts) f(key string, args ...any) string {
	s, ok := t[key]
	if !ok {
		s = textsEN[key]
	}
	if len(args) == 0 {
		return s
	}
	return fmt.Sprintf(s, args...)
}

func (t texts) describe(cmd string) string { return t.f("cmd." + cmd) }

func esc(s string) string { return formatter.TelegramEscape(s) }

// title escapes and isolates an article title (or any free text of unknown direction).
func title(s string) string { return esc(formatter.Isolate(s)) }

// headline is an article title as the posts show it (formatter.PlainTitle), cut to n
// characters, escaped and isolated.
func headline(s string, n int) string { return title(cut(formatter.PlainTitle(s), n)) }

func code(s string) string { return "<code>" + esc(s) + "</code>" }

// echo quotes what an admin typed (an unknown command, id or channel) in a reply, at most 200
// characters of it: a message of up to 4,096 quoted whole would make a reply Telegram refuses,
// and the admin would get no answer at all.
func echo(s string) string { return code(cut(s, 200)) }

func link(url, text string) string { return `<a href="` + esc(url) + `">` + esc(text) + "</a>" }

// cut shortens s to n grapheme clusters (a letter keeps its harakat), adding "…".
func cut(s string, n int) string {
	if uniseg.GraphemeClusterCount(s) <= n {
		return s
	}
	var b strings.Builder
	g := uniseg.NewGraphemes(s)
	for i := 0; i < n-1 && g.Next(); i++ {
		b.WriteString(g.Str())
	}
	return strings.TrimSpace(b.String()) + "…"
}

// maxReply is how much text one message of a reply shows: Telegram's limit is 4,096 UTF-16
// units of the text after entity parsing (tags and link targets do not count), less room for
// marks. maxParts bounds how many messages one reply becomes.
const (
	maxReply = 3800
	maxParts = 5
)

// finish directs the text for the language and splits it into messages Telegram takes: at
// line ends, each part at most maxReply shown characters, a tag open across a cut (a <pre>
// table) closed at the end of one part and opened again in the next. Beyond maxParts the rest
// is dropped, whole lines, and the last part ends with "…".
func (b *Bot) finish(text string) []string {
	if b.cfg.Telegram.Language == "ar" {
		// A <pre> table keeps its left-to-right columns.
		head, pre, _ := strings.Cut(text, "<pre>")
		// Ids, channels and URLs quoted in <code> are isolated: in a right-to-left line an id
		// such as 20241013-1234-story shows as "story-20241013-1234" (UAX #9: the "-" between
		// its number and its letters takes the line's direction). Outside the tag, so that a
		// tap on it (Telegram copies a code span) copies the id alone.
		head = strings.ReplaceAll(strings.ReplaceAll(head, "<code>", "\u2068<code>"), "</code>", "</code>\u2069")
		text = formatter.RTLLines(head)
		if pre != "" {
			text += "<pre>" + pre
		}
	}
	if shownLen(text) <= maxReply {
		return []string{text}
	}
	var parts []string
	var cur []string
	reopen, size := "", 0 // start tags carried into the current part; its shown length
	flush := func() {
		body := reopen + strings.Join(cur, "\n")
		open := openTags(body)
		parts = append(parts, body+closeTags(open))
		reopen, cur, size = strings.Join(open, ""), nil, 0
	}
	for _, l := range strings.Split(text, "\n") {
		n := shownLen(l) + 1
		if len(cur) > 0 && size+n > maxReply-2 {
			flush()
			if len(parts) == maxParts {
				last := parts[maxParts-1]
				open := openTags(reopen) // the tags the cut left open, closed already
				parts[maxParts-1] = strings.TrimSuffix(last, closeTags(open)) + "\n…" + closeTags(open)
				return parts
			}
		}
		cur, size = append(cur, l), size+n
	}
	flush()
	return parts
}

// shownLen is the length Telegram counts for HTML text: tags removed, entities decoded, in
// UTF-16 units.
func shownLen(s string) int {
	var b strings.Builder
	for {
		i := strings.IndexByte(s, '<')
		if i < 0 {
			b.WriteString(s)
			break
		}
		b.WriteString(s[:i])
		j := strings.IndexByte(s[i:], '>')
		if j < 0 {
			break
		}
		s = s[i+j+1:]
	}
	return formatter.CountUTF16(html.UnescapeString(b.String()))
}

// openTags returns the start tags, as written, left open at the end of s (text in replies is
// escaped, so every '<' starts a tag).
func openTags(s string) []string {
	var stack []string
	for {
		i := strings.IndexByte(s, '<')
		if i < 0 {
			return stack
		}
		j := strings.IndexByte(s[i:], '>')
		if j < 0 {
			return stack
		}
		tag := s[i : i+j+1]
		s = s[i+j+1:]
		switch {
		case strings.HasPrefix(tag, "</"):
			if len(stack) > 0 {
				stack = stack[:len(stack)-1]
			}
		default:
			stack = append(stack, tag)
		}
	}
}

// closeTags closes the start tags open, innermost first.
func closeTags(open []string) string {
	var b strings.Builder
	for i := len(open) - 1; i >= 0; i-- {
		name, _, _ := strings.Cut(strings.Trim(open[i], "<>"), " ")
		b.WriteString("</" + name + ">")
	}
	return b.String()
}

// reply is one message to send.
type reply struct {
	text    string
	buttons *tgbotapi.InlineKeyboardMarkup
}

// send posts a reply in HTML parse mode, as several messages when it is long (finish); the
// buttons go under the last one. It returns the last message sent. tgbotapi's MessageConfig
// has no message_thread_id, so the parameters are built here and sent with MakeRequest.
// A 429 is waited out (retry_after) and the part sent again, up to maxReplyWait in all: a
// group takes about 20 messages a minute, and a long reply or a digest would otherwise lose
// its later parts (a digest sent again whole, its first parts twice).
// Specs: https://core.telegram.org/bots/api#sendmessage
func (b *Bot) send(ctx context.Context, to dest, r reply) (tgbotapi.Message, error) {
	parts := b.finish(r.text)
	var sent tgbotapi.Message
	waited := time.Duration(0)
	to.chat = b.chatNow(ctx, to.chat) // the alert group, upgraded to a supergroup since
	for i, p := range parts {
		params := tgbotapi.Params{"text": p, "parse_mode": tgbotapi.ModeHTML, "disable_web_page_preview": "true"}
		params.AddNonZero64("chat_id", to.chat)
		params.AddNonZero("message_thread_id", to.thread)
		if r.buttons != nil && i == len(parts)-1 {
			if err := params.AddInterface("reply_markup", *r.buttons); err != nil {
				return sent, fmt.Errorf("admin: encoding buttons: %w", err)
			}
		}
		resp, err := b.sendPart(ctx, params, &waited)
		if moved := migratedTo(err); moved != 0 {
			b.noteMigration(ctx, to.chat, moved)
			to.chat = moved
			params.AddNonZero64("chat_id", to.chat)
			resp, err = b.sendPart(ctx, params, &waited)
		}
		if to.thread != 0 && topicGone(err) {
			// Deleted, closed or mistyped (alert_thread_id): General is better than no reply.
			b.log.Warn("admin bot: the topic is gone or closed; sending to the General topic", zap.Int64("chat_id", to.chat),
				zap.Int("thread_id", to.thread), zap.Error(b.redact(err)))
			to.thread = 0
			delete(params, "message_thread_id")
			resp, err = b.sendPart(ctx, params, &waited)
		}
		if err != nil {
			return sent, fmt.Errorf("admin: sending reply: %w", b.redact(err))
		}
		sent = tgbotapi.Message{}
		if err := json.Unmarshal(resp.Result, &sent); err != nil {
			return sent, fmt.Errorf("admin: reading the sent reply: %w", err)
		}
	}
	return sent, nil
}

// sendPart sends one message, waiting out 429s while the reply's waits (waited) stay within
// maxReplyWait.
func (b *Bot) sendPart(ctx context.Context, params tgbotapi.Params, waited *time.Duration) (*tgbotapi.APIResponse, error) {
	resp, err := b.api.MakeRequest("sendMessage", params)
	for wait := retryAfter(err); wait > 0 && *waited+wait <= maxReplyWait; wait = retryAfter(err) {
		b.log.Info("admin bot: Telegram asks to wait before the next reply", zap.String("chat_id", params["chat_id"]), zap.Duration("retry_after", wait))
		if !sleep(ctx, wait) {
			break
		}
		*waited += wait
		resp, err = b.api.MakeRequest("sendMessage", params)
	}
	return resp, err
}

// topicGone reports whether a send was refused for its message_thread_id: a topic deleted (or
// never one: "message thread not found") or closed to the bot.
func topicGone(err error) bool {
	var te *tgbotapi.Error
	if !errors.As(err, &te) || te.Code != 400 {
		return false
	}
	d := strings.ToLower(te.Message)
	return strings.Contains(d, "message thread not found") || strings.Contains(d, "topic_closed") || strings.Contains(d, "topic_deleted")
}

// maxReplyWait bounds the 429 waits of one reply: the poller handles one update at a time,
// and a digest is sent under a lease of 30 seconds (flushDigest) that must outlast it.
const maxReplyWait = 20 * time.Second

// retryAfter is the wait a 429 asks for (parameters.retry_after, at least a second), 0 for
// any other answer.
// Specs: https://core.telegram.org/bots/api#responseparameters
func retryAfter(err error) time.Duration {
	var te *tgbotapi.Error
	if !errors.As(err, &te) || te.Code != 429 {
		return 0
	}
	return time.Duration(max(te.RetryAfter, 1)) * time.Second
}

var stateIcons = map[queue.State]string{
	queue.StateSent: "✅", queue.StateFailed: "❌", queue.StateUnknown: "❓", queue.StatePending: "⏳", queue.StateSending: "📤",
	queue.StateRetracting: "🗑", queue.StateRetracted: "🗑",
}

// stateName is a state in the reply's language (its own name for a state added later).
func (b *Bot) stateName(st queue.State) string {
	if s := b.tx.f("state." + string(st)); s != "" {
		return s
	}
	return string(st)
}

// deliveryLine is one channel of an article: state, attempts, error, link to the post.
func (b *Bot) deliveryLine(d queue.Delivery) string {
	tx := b.tx
	s := fmt.Sprintf("%s %s — %s · %s", stateIcons[d.State], code(string(d.Channel)), b.stateName(d.State), tx.f("attempts", d.Attempt))
	if d.Revision > 1 {
		s += " · " + tx.f("revision", d.Revision)
	}
	if d.PostURL != "" {
		s += " · " + link(d.PostURL, tx.f("post"))
	} else if d.RemoteID != "" {
		s += " · id " + code(d.RemoteID)
	}
	if !d.EditedAt.IsZero() && d.NotEditedAt.IsZero() {
		s += "\n    " + tx.f("edited", when(d.EditedAt), byName(d.EditedBy))
	}
	if !d.NotEditedAt.IsZero() {
		s += "\n    " + tx.f("not.edited", when(d.NotEditedAt), byName(d.NotEditedBy))
	}
	if d.Error != "" {
		s += "\n    " + esc(cut(d.Error, 160))
	}
	return s
}

// when is a time in replies: UTC, to the minute.
func when(t time.Time) string { return t.UTC().Format("2006-01-02 15:04 UTC") }

// byName is a name someone gave (a correction's by), escaped and direction-isolated.
func byName(by string) string {
	if by == "" {
		by = "?"
	}
	return "<b>" + title(cut(by, 60)) + "</b>"
}

// correctionLine sums up an article's corrections in place (the newest: when and who; how many
// posts were edited, how many could not be), or "" for an article never corrected.
func (b *Bot) correctionLine(ds []queue.Delivery) string {
	var at time.Time
	var by string
	var edited, cannot int
	for _, d := range ds {
		if !d.NotEditedAt.IsZero() {
			cannot++
			if d.NotEditedAt.After(at) {
				at, by = d.NotEditedAt, d.NotEditedBy
			}
		} else if !d.EditedAt.IsZero() {
			edited++
		}
		if !d.EditedAt.IsZero() && d.EditedAt.After(at) {
			at, by = d.EditedAt, d.EditedBy
		}
	}
	if at.IsZero() {
		return ""
	}
	return b.tx.f("corrected", when(at), byName(by), edited, cannot)
}

// articleHeader is the title line and the id of an article.
func (b *Bot) articleHeader(st *queue.ArticleStatus) string {
	t := st.Title
	if t == "" {
		t = st.ID
	}
	return "<b>" + headline(t, 200) + "</b>\n" + code(st.ID)
}

var textsEN = texts{
	"cmd.help":     "What I can do",
	"cmd.status":   "Delivery state of an article: /status <id|url>",
	"cmd.repost":   "Post again as a new revision: /repost <id|url> [channel…]",
	"cmd.retry":    "Re-send failed or unknown deliveries: /retry <id|url> [channel]; all unknown of a channel: /retry unknown <channel>",
	"cmd.failed":   "Failed and unknown deliveries: /failed [channel] [n]",
	"cmd.last":     "The latest articles: /last [n]",
	"cmd.pause":    "Stop sending to a channel: /pause <channel> [reason]",
	"cmd.resume":   "Send to a paused channel again: /resume <channel>",
	"cmd.channels": "Channels: state, rate, queue",
	"cmd.stats":    "Sent, failed and unknown in the last hour and day",

	"help.title":       "<b>herald admin</b>",
	"usage":            "Usage: %s",
	"unknown.cmd":      "Unknown command %s. /help lists what I can do.",
	"not.command":      "Send a command; /help lists them.",
	"refused":          "Sorry, you are not allowed to command this bot. This attempt was logged.",
	"refused.anon":     "You are writing on behalf of a group or channel (\"Remain anonymous\"), so I cannot tell who you are. Turn it off to command me, or ask for this group to be made the admin group. This attempt was logged.",
	"error":            "Something went wrong: %s",
	"not.found":        "No article %s.",
	"no.channel":       "%s is not a configured channel. /channels lists them.",
	"not.routed":       "Article %s has no delivery on %s.",
	"not.configured":   "%s on %s: the channel is not in the config any more, so nothing would send it (add it back to the config, or give the delivery up with herald drop).",
	"state.sent":       "sent",
	"state.failed":     "failed",
	"state.unknown":    "unknown",
	"state.pending":    "pending",
	"state.sending":    "sending",
	"state.retracting": "being deleted",
	"state.retracted":  "deleted",
	"attempts":         "attempt %d",
	"revision":         "revision %d",
	"post":             "post",
	"edited":           "✏️ edited in place %s by %s",
	"not.edited":       "⚠️ cannot edit: the correction of %s by %s did not change this post (its platform cannot edit posts); it keeps the old text. herald retract, then /repost, replaces it",
	"corrected":        "✏️ Corrected %s by %s: %d edited in place, %d cannot be edited",

	"repost.ask":           "Repost %s to %s? Each channel gets one new post.",
	"repost.confirm":       "✅ Repost",
	"repost.cancel":        "Cancel",
	"repost.done":          "🔁 Reposting to %s.",
	"repost.cancelled":     "Repost cancelled.",
	"repost.refused":       "%s: %s",
	"retry.done":           "🔁 Sending again: %s.",
	"retryunknown.ask":     "Send every unknown delivery of %s again? Check the channel first: a post that exists will be posted twice.",
	"retryunknown.confirm": "🔁 Retry them",
	"retryunknown.done":    "🔁 %d unknown deliveries of %s sent again.",
	"retryunknown.partial": "⚠️ %d unknown deliveries of %s sent again, then it stopped: %s\nThe rest are still unknown: run it again to send them.",
	"retry.nothing":        "Nothing to retry: no failed or unknown delivery of %s.",
	"failed.none":          "No failed or unknown deliveries.",
	"failed.title":         "<b>Failed and unknown</b> (%d)",
	"failed.hint":          "/retry <id> <channel> sends again; the buttons of an alert decide an unknown.",
	"last.none":            "No articles yet.",
	"last.title":           "<b>Latest articles</b>",
	"paused":               "⏸ %s paused.",
	"paused.already":       "⏸ %s was already paused, by %s since %s%s. That pause stays; /resume first to pause it with your reason.",
	"resumed":              "▶️ %s resumed; queued deliveries go out.",
	"channels.title":       "<b>Channels</b>",
	"channel.active":       "active",
	"channel.paused":       "⏸ paused",
	"channel.queue":        "queue %d (urgent %d) · scheduled %d · retrying %d · sending %d",
	"channel.nb":           "waiting until %s (platform rate limit)",
	"channel.spend":        "spend %s: $%.2f",
	"channel.budget":       "of $%.2f",
	"stats.title":          "<b>Deliveries</b> sent / failed / unknown",
	"stats.head":           "channel        1h          24h        queue",

	"cb.expired":   "This button has expired.",
	"cb.used":      "Already done: someone pressed this before.",
	"cb.refused":   "You are not allowed to do this.",
	"cb.ok":        "Done.",
	"marked.sent":  "✅ %s on %s marked sent by %s (nothing posted).",
	"dropped":      "🗑 %s on %s dropped by %s.",
	"retry.one":    "🔁 %s on %s: sending again (%s).",
	"action.error": "%s on %s: %s",
	"unknown.gone": "%s on %s is no longer unknown (now %s): nothing done.",

	"digest.title":    "⚠️ <b>herald alerts</b>: %d since %s UTC",
	"digest.failed":   "<b>Failed</b>: %d",
	"digest.unknown":  "<b>Unknown outcome</b> (may be posted; decide): %d",
	"digest.paused":   "<b>Paused</b> (not through this bot)",
	"digest.other":    "<b>Other</b>",
	"digest.more":     "… and %d more (/failed)",
	"digest.retry":    "🔁 %d retry",
	"digest.marksent": "✅ %d mark sent",
	"digest.drop":     "🗑 %d drop",
	"digest.retryall": "🔁 retry every unknown of %s (checked by hand)",
}

var textsAR = texts{
	"cmd.help":     "ما يمكنني فعله",
	"cmd.status":   "حالة نشر خبر: /status <id|url>",
	"cmd.repost":   "إعادة النشر كنسخة جديدة: /repost <id|url> [channel…]",
	"cmd.retry":    "إعادة إرسال ما فشل أو لم تُعرف نتيجته: /retry <id|url> [channel]؛ كل غير المعروف في قناة: /retry unknown <channel>",
	"cmd.failed":   "عمليات النشر الفاشلة وغير المعروفة: /failed [channel] [n]",
	"cmd.last":     "آخر الأخبار: /last [n]",
	"cmd.pause":    "إيقاف النشر في قناة: /pause <channel> [reason]",
	"cmd.resume":   "استئناف النشر في قناة: /resume <channel>",
	"cmd.channels": "القنوات: الحالة والمعدل والطابور",
	"cmd.stats":    "المنشور والفاشل وغير المعروف خلال الساعة واليوم",

	"help.title":       "<b>إدارة herald</b>",
	"usage":            "الاستخدام: %s",
	"unknown.cmd":      "أمر غير معروف %s. أرسل /help لقائمة الأوامر.",
	"not.command":      "أرسل أمرًا؛ /help يعرض الأوامر.",
	"refused":          "عذرًا، لا يحق لك استخدام هذا البوت. سُجّلت هذه المحاولة.",
	"refused.anon":     "أنت تكتب باسم مجموعة أو قناة (\"البقاء مجهولًا\")، فلا أعرف من أنت. أوقف ذلك لتستخدمني، أو اطلب جعل هذه المجموعة مجموعة الإدارة. سُجّلت هذه المحاولة.",
	"error":            "حدث خطأ: %s",
	"not.found":        "لا يوجد خبر %s.",
	"no.channel":       "%s ليست قناة معرّفة. /channels يعرض القنوات.",
	"not.routed":       "الخبر %s لا يُنشر في %s.",
	"not.configured":   "%s في %s: القناة لم تعد في الإعدادات، فلن يرسله شيء (أعدها إلى الإعدادات، أو تخلَّ عن النشر بالأمر herald drop).",
	"state.sent":       "نُشر",
	"state.failed":     "فشل",
	"state.unknown":    "غير معروف",
	"state.pending":    "في الانتظار",
	"state.sending":    "قيد الإرسال",
	"state.retracting": "قيد الحذف",
	"state.retracted":  "حُذف",
	"attempts":         "المحاولة %d",
	"revision":         "النسخة %d",
	"post":             "المنشور",
	"edited":           "✏️ عُدّل في مكانه %s بواسطة %s",
	"not.edited":       "⚠️ تعذّر التعديل: تصحيح %s بواسطة %s لم يغيّر هذا المنشور (منصته لا تسمح بتعديل المنشورات)، فبقي بنصه القديم. herald retract ثم /repost يستبدله",
	"corrected":        "✏️ صُحّح %s بواسطة %s: عُدّل %d في مكانه، وتعذّر تعديل %d",

	"repost.ask":           "إعادة نشر %s في %s؟ ستحصل كل قناة على منشور جديد واحد.",
	"repost.confirm":       "✅ أعد النشر",
	"repost.cancel":        "إلغاء",
	"repost.done":          "🔁 جارٍ إعادة النشر في %s.",
	"repost.cancelled":     "أُلغيت إعادة النشر.",
	"retry.done":           "🔁 جارٍ الإرسال من جديد: %s.",
	"retryunknown.ask":     "إعادة إرسال كل ما لم تُعرف نتيجته في %s؟ تحقّق من القناة أولًا: ما نُشر فعلًا سيُنشر مرتين.",
	"retryunknown.confirm": "🔁 أعد إرسالها",
	"retryunknown.done":    "🔁 أُعيد إرسال %d من غير المعروف في %s.",
	"retryunknown.partial": "⚠️ أُعيد إرسال %d من غير المعروف في %s، ثم توقّف: %s\nالباقي ما زال غير معروف: أعد الأمر لإرساله.",
	"retry.nothing":        "لا شيء لإعادته: لا نشر فاشل أو غير معروف للخبر %s.",
	"failed.none":          "لا توجد عمليات نشر فاشلة أو غير معروفة.",
	"failed.title":         "<b>الفاشل وغير المعروف</b> (%d)",
	"failed.hint":          "/retry <id> <channel> يعيد الإرسال؛ وأزرار التنبيه تحسم غير المعروف.",
	"last.none":            "لا أخبار بعد.",
	"last.title":           "<b>آخر الأخبار</b>",
	"paused":               "⏸ أُوقفت %s.",
	"paused.already":       "⏸ %s موقوفة من قبل، بواسطة %s منذ %s%s. يبقى ذلك الإيقاف؛ أرسل /resume أولًا لإيقافها بسببك.",
	"resumed":              "▶️ استؤنفت %s؛ ستُرسل المنشورات المنتظرة.",
	"channels.title":       "<b>القنوات</b>",
	"channel.active":       "تعمل",
	"channel.paused":       "⏸ موقوفة",
	"channel.queue":        "الطابور %d (عاجل %d) · مجدول %d · إعادة %d · قيد الإرسال %d",
	"channel.nb":           "انتظار حتى %s (حد المنصة)",
	"channel.spend":        "الإنفاق %s: $%.2f",
	"channel.budget":       "من $%.2f",
	"stats.title":          "<b>عمليات النشر</b> نُشر / فشل / غير معروف",

	"cb.expired":   "انتهت صلاحية هذا الزر.",
	"cb.used":      "تم ذلك من قبل: ضغط أحدهم هذا الزر.",
	"cb.refused":   "لا يحق لك فعل هذا.",
	"cb.ok":        "تم.",
	"marked.sent":  "✅ سُجّل %s في %s منشورًا بقرار %s (لم يُنشر شيء).",
	"dropped":      "🗑 أُسقط %s في %s بقرار %s.",
	"retry.one":    "🔁 %s في %s: إعادة الإرسال (%s).",
	"action.error": "%s في %s: %s",
	"unknown.gone": "%s في %s لم تعد نتيجته مجهولة (الآن: %s)؛ لم يُفعل شيء.",

	"digest.title":    "⚠️ <b>تنبيهات herald</b>: %d منذ %s UTC",
	"digest.failed":   "<b>فشل</b>: %d",
	"digest.unknown":  "<b>نتيجة غير معروفة</b> (ربما نُشر؛ قرّر): %d",
	"digest.paused":   "<b>قنوات موقوفة</b> (ليس عبر هذا البوت)",
	"digest.other":    "<b>أخرى</b>",
	"digest.more":     "… و%d غيرها (/failed)",
	"digest.retry":    "🔁 %d أعد",
	"digest.marksent": "✅ %d منشور",
	"digest.drop":     "🗑 %d أسقط",
	"digest.retryall": "🔁 أعد كل غير المعروف في %s (بعد التحقق يدويًا)",
}
