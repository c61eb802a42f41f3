package admin

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"
	"github.com/redis/go-redis/v9"
	"go.uber.org/zap"

	"herald/channels"
	"herald/queue"
)

// Alerts come from the delivery log, read with a Redis consumer group (every process reads,
// each entry reaches one of them): failed deliveries, and deliveries parked unknown. Other
// parts of herald raise alerts with queue.Broker.RaiseAlert (a feed failing), and a watcher
// notices channels paused by anything but this bot (herald pausing a channel on an auth
// failure, a spent budget, a webhook gone). Each becomes an item in a Redis list; one process
// at a time (a lease) turns the list into a digest: the first item waits Delay for company, and
// digests are at least Interval apart, so a bad hour sends a few messages, not hundreds.
// Nothing is kept in process memory, so a restart loses no alert.

// digestItem is one thing to tell the admins.
type digestItem struct {
	Kind    string `json:"k"` // failed, unknown, paused, or an Alert's kind (feed, …)
	Article string `json:"a,omitempty"`
	Channel string `json:"c,omitempty"`
	Text    string `json:"t,omitempty"`
	By      string `json:"by,omitempty"` // who paused (paused items)
	At      int64  `json:"at"`
}

// maxDigestItems bounds what one digest reads; the rest waits for the next one.
const maxDigestItems = 5000

// maxPendingDigestItems bounds the digest list: while digests cannot be sent (the alert chat
// gone, the bot removed from it, Telegram down) every failed delivery still adds an item, and
// the list grew without end. The newest are kept.
const maxPendingDigestItems = 4 * maxDigestItems

// maxUnknownButtons is how many unknown deliveries get their own buttons in one digest.
const maxUnknownButtons = 8

func (b *Bot) alertTick() time.Duration {
	return min(max(b.cfg.Alerts.Delay/4, 50*time.Millisecond), 5*time.Second)
}

// runAlerts collects and sends alerts until ctx ends.
func (b *Bot) runAlerts(ctx context.Context) {
	var cons *queue.Consumer
	for ctx.Err() == nil {
		var err error
		if cons, err = b.d.Broker.NewConsumer(ctx, alertGroup, b.d.Owner); err == nil {
			break
		}
		b.log.Warn("admin alerts: joining the delivery log", zap.Error(err))
		sleep(ctx, 5*time.Second)
	}
	if cons == nil {
		return
	}
	done := make(chan struct{})
	go func() { defer close(done); b.collect(ctx, cons) }()
	t := time.NewTicker(b.alertTick())
	defer t.Stop()
	defer b.releaseLease(digestLeaseKey)
	var retryAt time.Time
	for {
		select {
		case <-ctx.Done():
			<-done
			return
		case <-t.C:
		}
		if err := b.watchPauses(ctx); err != nil && ctx.Err() == nil {
			b.log.Warn("admin alerts: watching pauses", zap.Error(err))
		}
		if err := b.watchFeeds(ctx); err != nil && ctx.Err() == nil {
			b.log.Warn("admin alerts: watching feeds", zap.Error(err))
		}
		if time.Now().Before(retryAt) {
			continue
		}
		if err := b.flushDigest(ctx); err != nil && ctx.Err() == nil {
			b.log.Warn("admin alerts: sending the digest", zap.Error(err))
			// Telegram's flood control (a 429 longer than send waits) says when to come back:
			// asking sooner only meets another 429.
			retryAt = time.Now().Add(max(min(time.Minute, b.cfg.Alerts.Interval), retryAfter(err)))
		}
	}
}

// collect moves delivery log entries and raised alerts into the digest list.
func (b *Bot) collect(ctx context.Context, cons *queue.Consumer) {
	for ctx.Err() == nil {
		batch, err := cons.Read(ctx, 200, 2*time.Second)
		if err != nil {
			if ctx.Err() == nil {
				b.log.Warn("admin alerts: reading the delivery log", zap.Error(err))
				sleep(ctx, 2*time.Second)
			}
			continue
		}
		var items []digestItem
		for _, e := range batch.Log {
			if e.By != "" {
				continue // an admin's own decision
			}
			switch queue.State(e.Status) {
			case queue.StateFailed, queue.StateUnknown:
				items = append(items, digestItem{Kind: e.Status, Article: e.ArticleID, Channel: e.Channel, Text: e.Error, At: e.Time.UnixMilli()})
			}
		}
		for _, a := range batch.Alerts {
			items = append(items, digestItem{Kind: a.Kind, Channel: a.Subject, Text: a.Text, At: a.Time.UnixMilli()})
		}
		if err := b.pushItems(ctx, items); err != nil {
			b.log.Warn("admin alerts: queueing alerts", zap.Error(err))
			continue // not acknowledged: read again after the claim idle time
		}
		if err := cons.Ack(ctx, batch); err != nil {
			b.log.Warn("admin alerts: acknowledging", zap.Error(err))
		}
	}
}

func (b *Bot) pushItems(ctx context.Context, items []digestItem) error {
	if len(items) == 0 {
		return nil
	}
	vals := make([]any, len(items))
	for i, it := range items {
		vals[i], _ = json.Marshal(it)
	}
	_, err := b.d.Redis.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.RPush(ctx, digestKey, vals...)
		p.LTrim(ctx, digestKey, -maxPendingDigestItems, -1)
		p.SetNX(ctx, digestFirstKey, b.d.Now().UnixMilli(), 0)
		return nil
	})
	return err
}

// watchPauses queues one item per pause this bot did not make.
func (b *Bot) watchPauses(ctx context.Context) error {
	ps, err := b.d.Broker.Paused(ctx)
	if err != nil {
		return err
	}
	for _, p := range ps {
		if isBotPause(p.By) {
			continue
		}
		first, err := b.d.Redis.SetNX(ctx, pauseAlertKey(string(p.Channel), p.Since.UnixMilli()), 1, 30*24*time.Hour).Result()
		if err != nil {
			return err
		}
		if first {
			item := digestItem{Kind: "paused", Channel: string(p.Channel), Text: p.Reason, By: p.By, At: p.Since.UnixMilli()}
			if err := b.pushItems(ctx, []digestItem{item}); err != nil {
				return err
			}
		}
	}
	return nil
}

// FeedHealth is what the alerter needs to know about a feed.
type FeedHealth struct {
	Name        string
	URL         string // for the alert; credentials already removed
	Failures    int    // failed polls in a row
	LastError   string
	LastSuccess time.Time // zero if never
}

// watchFeeds queues one item per streak of failures of a feed (a streak ends with a success).
func (b *Bot) watchFeeds(ctx context.Context) error {
	if b.d.Feeds == nil {
		return nil
	}
	fs, err := b.d.Feeds(ctx)
	if err != nil {
		return err
	}
	for _, f := range fs {
		if f.Failures < b.cfg.Alerts.FeedFailures {
			continue
		}
		first, err := b.d.Redis.SetNX(ctx, feedAlertKey(f.Name, f.LastSuccess.UnixMilli()), 1, 30*24*time.Hour).Result()
		if err != nil {
			return err
		}
		if first {
			text := fmt.Sprintf("%d failed polls: %s", f.Failures, f.LastError)
			if err := b.pushItems(ctx, []digestItem{{Kind: "feed", Channel: f.Name + " " + f.URL, Text: text, At: b.d.Now().UnixMilli()}}); err != nil {
				return err
			}
		}
	}
	return nil
}

// flushDigest sends the pending items as one digest when it is time, holding the digest lease.
func (b *Bot) flushDigest(ctx context.Context) error {
	ttl := digestLease + b.alertTick()
	held, err := b.holdLease(ctx, digestLeaseKey, ttl)
	if err != nil || !held {
		return err
	}
	// Sending can outlast the lease (a slow Telegram: each request may take the client's
	// timeout, 40 s by default, and 429s are waited out): renewed meanwhile, or another process
	// would send the same digest, and both would trim the list, the second dropping items
	// never sent.
	defer b.keepLease(ctx, digestLeaseKey, ttl)()
	now := b.d.Now().UnixMilli()
	first, err := b.d.Redis.Get(ctx, digestFirstKey).Int64()
	if errors.Is(err, redis.Nil) {
		return nil
	}
	if err != nil {
		return err
	}
	if now-first < b.cfg.Alerts.Delay.Milliseconds() {
		return nil
	}
	last, err := b.d.Redis.Get(ctx, digestLastKey).Int64()
	if err != nil && !errors.Is(err, redis.Nil) {
		return err
	}
	if now-last < b.cfg.Alerts.Interval.Milliseconds() {
		return nil
	}
	raws, err := b.d.Redis.LRange(ctx, digestKey, 0, maxDigestItems-1).Result()
	if err != nil {
		return err
	}
	items := make([]digestItem, 0, len(raws))
	for _, r := range raws {
		var it digestItem
		if json.Unmarshal([]byte(r), &it) == nil {
			items = append(items, it)
		}
	}
	if len(items) > 0 {
		r, err := b.digest(ctx, items, time.UnixMilli(first))
		if err != nil {
			return err
		}
		if r.text != "" {
			if _, err := b.send(ctx, dest{b.cfg.Telegram.AlertChatID, b.cfg.Telegram.AlertThreadID}, r); err != nil {
				return err
			}
		}
	}
	return digestSentScript.Run(ctx, b.d.Redis, []string{digestKey, digestFirstKey, digestLastKey}, len(raws), now).Err()
}

// digestLease is how long the digest sender's lease lasts between renewals.
var digestLease = 30 * time.Second

// keepLease renews a held lease every third of ttl until the returned stop is called.
func (b *Bot) keepLease(ctx context.Context, key string, ttl time.Duration) (stop func()) {
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		t := time.NewTicker(ttl / 3)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-ctx.Done():
				return
			case <-t.C:
			}
			if held, err := b.holdLease(ctx, key, ttl); err != nil || !held {
				b.log.Warn("admin: renewing a lease", zap.String("key", key), zap.Bool("held", held), zap.Error(err))
			}
		}
	}()
	return func() { close(done); <-finished }
}

// digestSentScript drops the items just sent and restarts the clocks.
//
//	KEYS[1] digest list, KEYS[2] first-item time, KEYS[3] last-digest time
//	ARGV[1] items sent, ARGV[2] now ms
var digestSentScript = redis.NewScript(`
redis.call("LTRIM", KEYS[1], ARGV[1], -1)
if redis.call("LLEN", KEYS[1]) == 0 then redis.call("DEL", KEYS[2]) else redis.call("SET", KEYS[2], ARGV[2]) end
redis.call("SET", KEYS[3], ARGV[2])
return 1
`)

// digest renders items as one message, with buttons for the unknown deliveries; an empty
// text when nothing is left to tell.
func (b *Bot) digest(ctx context.Context, items []digestItem, since time.Time) (reply, error) {
	var failed, unknown, paused, other []digestItem
	seenUnknown := map[string]bool{}
	var pausedNow map[string]int64 // read once, at the first paused item
	for _, it := range items {
		switch it.Kind {
		case "failed":
			failed = append(failed, it)
		case "unknown":
			if k := it.Article + "\x00" + it.Channel; !seenUnknown[k] {
				seenUnknown[k] = true
				// Decided since it was queued (a retry, mark sent, drop from the dashboard, the
				// API or the CLI): nothing left to ask.
				d, err := b.d.Broker.Delivery(ctx, it.Article, channels.Name(it.Channel))
				if errors.Is(err, queue.ErrNotFound) || (err == nil && d.State != queue.StateUnknown) {
					continue
				}
				if err != nil {
					return reply{}, err
				}
				unknown = append(unknown, it)
			}
		case "paused":
			// Resumed since (or paused again later: that pause is an item of its own): the
			// channel is not paused as this item says.
			if pausedNow == nil {
				var err error
				if pausedNow, err = b.pausedSince(ctx); err != nil {
					return reply{}, err
				}
			}
			if since, ok := pausedNow[it.Channel]; ok && since == it.At {
				paused = append(paused, it)
			}
		default:
			other = append(other, it)
		}
	}
	shown := len(failed) + len(unknown) + len(paused) + len(other)
	if shown == 0 {
		return reply{}, nil
	}
	lines := []string{b.tx.f("digest.title", shown, since.UTC().Format("15:04"))}
	lines = append(lines, b.digestFailed(failed)...)
	unknownLines, rows, err := b.digestUnknown(ctx, unknown)
	if err != nil {
		return reply{}, err
	}
	lines = append(lines, unknownLines...)
	lines = append(lines, b.digestPaused(paused)...)
	lines = append(lines, b.digestOther(other)...)
	r := reply{text: strings.Join(lines, "\n")}
	if len(rows) > 0 {
		kb := tgbotapi.NewInlineKeyboardMarkup(rows...)
		r.buttons = &kb
	}
	return r, nil
}

// pausedSince maps each channel paused now to the start of its pause (Unix ms).
func (b *Bot) pausedSince(ctx context.Context) (map[string]int64, error) {
	ps, err := b.d.Broker.Paused(ctx)
	if err != nil {
		return nil, err
	}
	out := make(map[string]int64, len(ps))
	for _, p := range ps {
		out[string(p.Channel)] = p.Since.UnixMilli()
	}
	return out, nil
}

// digestFailed counts failures per channel and shows the first few.
func (b *Bot) digestFailed(failed []digestItem) []string {
	if len(failed) == 0 {
		return nil
	}
	lines := []string{"", b.tx.f("digest.failed", len(failed))}
	perChannel := map[string]int{}
	for _, it := range failed {
		perChannel[it.Channel]++
	}
	for _, n := range sortedKeys(perChannel) {
		lines = append(lines, fmt.Sprintf("  %s: %d", code(n), perChannel[n]))
	}
	for i, it := range failed {
		if i == 5 {
			lines = append(lines, "  "+b.tx.f("digest.more", len(failed)-5))
			break
		}
		lines = append(lines, fmt.Sprintf("  ❌ %s · %s · %s", code(it.Article), code(it.Channel), esc(cut(it.Text, 80))))
	}
	return lines
}

// digestUnknown lists unknown deliveries with retry / mark sent / drop buttons each, and one
// "retry every unknown" button per channel that has several.
func (b *Bot) digestUnknown(ctx context.Context, unknown []digestItem) ([]string, [][]tgbotapi.InlineKeyboardButton, error) {
	if len(unknown) == 0 {
		return nil, nil, nil
	}
	tx := b.tx
	lines := []string{"", tx.f("digest.unknown", len(unknown))}
	var rows [][]tgbotapi.InlineKeyboardButton
	for i, it := range unknown {
		if i == maxUnknownButtons {
			lines = append(lines, "  "+tx.f("digest.more", len(unknown)-maxUnknownButtons))
			break
		}
		line := fmt.Sprintf("  %d. ❓ %s · %s", i+1, code(it.Article), code(it.Channel))
		if a, err := b.d.Broker.Article(ctx, it.Article); err == nil && a.Title != "" {
			line += " · " + headline(a.Title, 60)
		}
		lines = append(lines, line)
		token, err := b.newCallback(ctx, callbackRecord{Action: actionUnknown, Article: it.Article, Channel: it.Channel}, b.cfg.Alerts.ButtonTTL)
		if err != nil {
			return nil, nil, err
		}
		rows = append(rows, tgbotapi.NewInlineKeyboardRow(
			tgbotapi.NewInlineKeyboardButtonData(tx.f("digest.retry", i+1), callbackData(token, choiceRetry)),
			tgbotapi.NewInlineKeyboardButtonData(tx.f("digest.marksent", i+1), callbackData(token, choiceSent)),
			tgbotapi.NewInlineKeyboardButtonData(tx.f("digest.drop", i+1), callbackData(token, choiceDrop)),
		))
	}
	// After an outage one channel may have many: one button retries them all, once the admin
	// has checked the channel.
	perChannel := map[string]int{}
	for _, it := range unknown {
		perChannel[it.Channel]++
	}
	for _, ch := range sortedKeys(perChannel) {
		if perChannel[ch] < 2 {
			continue
		}
		token, err := b.newCallback(ctx, callbackRecord{Action: actionRetryUnknown, Channel: ch}, b.cfg.Alerts.ButtonTTL)
		if err != nil {
			return nil, nil, err
		}
		rows = append(rows, tgbotapi.NewInlineKeyboardRow(
			tgbotapi.NewInlineKeyboardButtonData(tx.f("digest.retryall", ch), callbackData(token, choiceYes))))
	}
	return lines, rows, nil
}

// digestPaused lists pauses made other than through the bot, with who and why.
func (b *Bot) digestPaused(paused []digestItem) []string {
	if len(paused) == 0 {
		return nil
	}
	lines := []string{"", b.tx.f("digest.paused")}
	for _, it := range paused {
		line := "  ⏸ " + code(it.Channel)
		if it.By != "" {
			line += " (" + esc(it.By) + ")"
		}
		if it.Text != "" {
			line += ": " + esc(cut(it.Text, 120))
		}
		lines = append(lines, line)
	}
	return lines
}

// digestOther lists feed and raised alerts, one line per kind and subject with a count.
func (b *Bot) digestOther(other []digestItem) []string {
	if len(other) == 0 {
		return nil
	}
	lines := []string{"", b.tx.f("digest.other")}
	type key struct{ kind, subject string }
	count := map[key]int{}
	var order []digestItem
	for _, it := range other {
		k := key{it.Kind, it.Channel}
		if count[k] == 0 {
			order = append(order, it)
		}
		count[k]++
	}
	for i, it := range order {
		if i == 10 {
			lines = append(lines, "  "+b.tx.f("digest.more", len(order)-10))
			break
		}
		s := fmt.Sprintf("  %s %s: %s", esc(it.Kind), title(cut(it.Channel, 80)), esc(cut(it.Text, 120)))
		if n := count[key{it.Kind, it.Channel}]; n > 1 {
			s += fmt.Sprintf(" (×%d)", n)
		}
		lines = append(lines, s)
	}
	return lines
}

func sortedKeys(m map[string]int) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
