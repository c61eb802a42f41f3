package admin

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"
	"github.com/redis/go-redis/v9"
	"go.uber.org/zap"

	"herald/channels/telegram"
	"herald/queue"
)

// Deps are what the bot works with.
type Deps struct {
	Broker   *queue.Broker
	Redis    redis.UniversalClient
	Channels []queue.ChannelConfig
	Logger   *zap.Logger
	// HTTPClient carries the Bot API requests (default: a client whose timeout covers a long
	// poll).
	HTTPClient *http.Client
	// Feeds reports the health of the configured feeds (cmd/herald passes the feed poller's
	// state); feeds failing alerts.feed_failures times in a row are alerted once per streak.
	// nil: no feed alerts (other than those raised with queue.Broker.RaiseAlert).
	Feeds func(ctx context.Context) ([]FeedHealth, error)
	// Owner names this process in leases and consumer groups (default host:pid:random).
	Owner string
	Now   func() time.Time
}

// Bot is the admin bot. Build it with New, run it with Run.
type Bot struct {
	cfg   Config
	d     Deps
	log   *zap.Logger
	tx    texts
	api   *tgbotapi.BotAPI // set by Run once getMe answered
	ready chan struct{}    // closed when api is set
}

// New checks the configuration; nothing is contacted until Run.
func New(cfg Config, d Deps) (*Bot, error) {
	if d.Broker == nil || d.Redis == nil {
		return nil, errors.New("admin: a broker and a redis client are required")
	}
	if cfg.Telegram.Token == "" {
		return nil, errors.New("admin: no bot token (config not resolved)")
	}
	if d.Logger == nil {
		d.Logger = zap.NewNop()
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.Owner == "" {
		host, _ := os.Hostname()
		d.Owner = fmt.Sprintf("%s:%d:%08x", host, os.Getpid(), rand.Uint32())
	}
	if d.HTTPClient == nil {
		d.HTTPClient = &http.Client{Timeout: cfg.Telegram.PollTimeout + 15*time.Second}
	}
	return &Bot{cfg: cfg, d: d, log: d.Logger.Named("admin"), tx: textsFor(cfg.Telegram.Language), ready: make(chan struct{})}, nil
}

// ctxClient is the tgbotapi.HTTPClient: tgbotapi builds requests without a context, so every
// request is bound to the bot's run context (a shutdown ends a long poll at once).
type ctxClient struct {
	ctx context.Context
	c   *http.Client
}

func (c ctxClient) Do(req *http.Request) (*http.Response, error) {
	return c.c.Do(req.WithContext(c.ctx))
}

// redact removes the admin token from err (the channels' redaction, one implementation).
func (b *Bot) redact(err error) error { return telegram.RedactError(b.cfg.Telegram.Token, err) }

// Run connects (retrying while Telegram is unreachable), registers the commands, then answers
// updates (polling mode) and sends alert digests until ctx ends.
func (b *Bot) Run(ctx context.Context) error {
	if err := b.connect(ctx); err != nil || ctx.Err() != nil {
		return err
	}
	if err := b.registerCommands(); err != nil {
		b.log.Warn("registering bot commands", zap.Error(err))
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		if b.cfg.Telegram.AlertChatID != 0 {
			b.runAlerts(ctx)
		}
	}()
	var err error
	if b.cfg.Telegram.Mode == "webhook" {
		err = b.setWebhook()
		if err != nil {
			b.log.Error("setting the admin webhook", zap.Error(err))
		}
		<-ctx.Done()
	} else {
		b.poll(ctx)
	}
	<-done
	return err
}

// connect builds the client with NewBotAPIWithClient (getMe), retrying with backoff.
func (b *Bot) connect(ctx context.Context) error {
	wait := time.Second
	for {
		// Specs: https://core.telegram.org/bots/api#getme
		api, err := tgbotapi.NewBotAPIWithClient(b.cfg.Telegram.Token, b.cfg.Telegram.APIEndpoint, ctxClient{ctx, b.d.HTTPClient})
		if err == nil {
			b.api = api
			close(b.ready)
			b.log.Info("admin bot connected", zap.String("username", api.Self.UserName))
			return nil
		}
		if ctx.Err() != nil {
			return nil
		}
		b.log.Warn("admin bot: connecting to Telegram", zap.Error(b.redact(err)), zap.Duration("retry_in", wait))
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(wait):
		}
		wait = min(2*wait, time.Minute)
	}
}

// registerCommands publishes the command list shown in Telegram's menu.
// Specs: https://core.telegram.org/bots/api#setmycommands
func (b *Bot) registerCommands() error {
	var cmds []tgbotapi.BotCommand
	for _, c := range commandList {
		cmds = append(cmds, tgbotapi.BotCommand{Command: c.name, Description: b.tx.describe(c.name)})
	}
	if _, err := b.api.Request(tgbotapi.NewSetMyCommands(cmds...)); err != nil {
		return fmt.Errorf("admin: setMyCommands: %w", b.redact(err))
	}
	return nil
}

// setWebhook points Telegram at webhook_url with the secret token it will send back.
// Specs: https://core.telegram.org/bots/api#setwebhook
func (b *Bot) setWebhook() error {
	_, err := b.api.MakeRequest("setWebhook", tgbotapi.Params{
		"url": b.cfg.Telegram.WebhookURL, "secret_token": b.cfg.Telegram.WebhookSecret,
		"allowed_updates": `["message","callback_query"]`,
	})
	if err != nil {
		return fmt.Errorf("admin: setWebhook: %w", b.redact(err))
	}
	return nil
}

// poll long-polls getUpdates while this process holds the poller lease. The offset is kept in
// Redis, and each update is claimed (SET NX on its update_id) and the offset moved past it
// before it is handled: a restart neither replays a command nor skips one it never saw, and two
// processes never both answer one update. An update whose handler crashed is not retried: an
// admin asking again is better than a repeated repost.
// Specs: https://core.telegram.org/bots/api#getupdates
func (b *Bot) poll(ctx context.Context) {
	// A webhook left from webhook mode makes getUpdates answer 409.
	// Specs: https://core.telegram.org/bots/api#deletewebhook
	if _, err := b.api.MakeRequest("deleteWebhook", nil); err != nil {
		b.log.Warn("admin bot: deleting webhook", zap.Error(b.redact(err)))
	}
	backoff := time.Second
	defer b.releaseLease(pollerLeaseKey(b.api.Self.ID))
	for ctx.Err() == nil {
		held, err := b.holdLease(ctx, pollerLeaseKey(b.api.Self.ID), pollerLease(b.cfg))
		if err != nil || !held {
			if err != nil {
				b.log.Warn("admin bot: poller lease", zap.Error(err))
			}
			sleep(ctx, time.Second)
			continue
		}
		offset, err := b.d.Redis.Get(ctx, offsetKey(b.api.Self.ID)).Int()
		if err != nil && !errors.Is(err, redis.Nil) {
			b.log.Warn("admin bot: reading the update offset", zap.Error(err))
			sleep(ctx, backoff)
			continue
		}
		uc := tgbotapi.NewUpdate(offset)
		uc.Timeout = int(b.cfg.Telegram.PollTimeout / time.Second)
		uc.AllowedUpdates = []string{"message", "callback_query"}
		updates, err := b.getUpdates(uc)
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			b.log.Warn("admin bot: getUpdates", zap.Error(b.redact(err)), zap.Duration("retry_in", backoff))
			sleep(ctx, backoff)
			backoff = min(2*backoff, time.Minute)
			continue
		}
		backoff = time.Second
		for _, u := range updates {
			if b.dispatch(ctx, u) != nil {
				break // the rest waits with it for the next poll
			}
		}
	}
}

// dispatch claims one update, commits the offset past it, and handles it. An error means the
// update could not be claimed (Redis unreachable) and is to be delivered again: a poll fetches
// it again from the offset still stored, a webhook answers 503.
func (b *Bot) dispatch(ctx context.Context, u update) error {
	claimed, err := b.claimUpdate(ctx, u.UpdateID)
	if err != nil {
		b.log.Warn("admin bot: claiming update", zap.Int("update_id", u.UpdateID), zap.Error(err))
		return err
	}
	if claimed {
		b.handle(ctx, u)
	}
	return nil
}

// claimUpdate marks update_id as taken (once, for every process) and moves the stored offset
// past it.
func (b *Bot) claimUpdate(ctx context.Context, updateID int) (bool, error) {
	res, err := claimUpdateScript.Run(ctx, b.d.Redis, []string{updateKey(b.api.Self.ID, updateID), offsetKey(b.api.Self.ID)},
		b.d.Owner, int64(updateClaimTTL/time.Second), updateID+1, int64(offsetTTL/time.Second)).Int()
	if err != nil {
		return false, fmt.Errorf("admin: claiming update %d: %w", updateID, err)
	}
	return res == 1, nil
}

// claimUpdateScript: KEYS[1] update claim, KEYS[2] offset; ARGV[1] owner, ARGV[2] claim TTL s,
// ARGV[3] next offset, ARGV[4] offset TTL s. Returns 1 if claimed now, 0 if taken before.
var claimUpdateScript = redis.NewScript(`
local cur = tonumber(redis.call("GET", KEYS[2]) or "0")
if tonumber(ARGV[3]) > cur then redis.call("SET", KEYS[2], ARGV[3], "EX", ARGV[4]) end
if redis.call("SET", KEYS[1], ARGV[1], "NX", "EX", ARGV[2]) then return 1 end
return 0
`)

// holdLease takes or renews a lease for this process.
func (b *Bot) holdLease(ctx context.Context, key string, ttl time.Duration) (bool, error) {
	n, err := leaseScript.Run(ctx, b.d.Redis, []string{key}, b.d.Owner, ttl.Milliseconds()).Int()
	if err != nil {
		return false, fmt.Errorf("admin: lease %s: %w", key, err)
	}
	return n == 1, nil
}

// releaseLease gives a lease up on shutdown so another process takes over at once.
func (b *Bot) releaseLease(key string) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := releaseScript.Run(ctx, b.d.Redis, []string{key}, b.d.Owner).Err(); err != nil {
		b.log.Warn("admin: releasing lease", zap.String("key", key), zap.Error(err))
	}
}

var releaseScript = redis.NewScript(`
if redis.call("GET", KEYS[1]) == ARGV[1] then redis.call("DEL", KEYS[1]) end
return 1
`)

// leaseScript: KEYS[1] lease; ARGV[1] owner, ARGV[2] ttl ms. Returns 1 when the caller holds it.
var leaseScript = redis.NewScript(`
local cur = redis.call("GET", KEYS[1])
if cur == ARGV[1] then redis.call("PEXPIRE", KEYS[1], ARGV[2]) return 1 end
if cur then return 0 end
redis.call("SET", KEYS[1], ARGV[1], "PX", ARGV[2])
return 1
`)

// pollerLease outlives one long poll with room to spare.
func pollerLease(cfg Config) time.Duration { return cfg.Telegram.PollTimeout + 30*time.Second }

// updateClaimTTL is how long a handled update_id is remembered (Telegram keeps updates 24h).
const updateClaimTTL = 48 * time.Hour

// offsetTTL forgets the stored offset after six quiet days: after a week without updates
// Telegram picks the next update_id at random, possibly below the old offset, and a poll with
// that offset would never see it. With no offset the poll starts from whatever is pending, and
// the per-update claims still keep anything from being answered twice.
// Specs: https://core.telegram.org/bots/api#update (update_id)
const offsetTTL = 6 * 24 * time.Hour

// WebhookPath is the path of webhook_url, where WebhookHandler is to be mounted ("" in
// polling mode).
func (b *Bot) WebhookPath() string {
	if b.cfg.Telegram.Mode != "webhook" {
		return ""
	}
	u, err := parseURL(b.cfg.Telegram.WebhookURL)
	if err != nil || u.Path == "" {
		return "/"
	}
	return u.Path
}

// WebhookPattern is the http.ServeMux pattern to mount WebhookHandler with beside the API
// ("" in polling mode): POST to webhook_url's path, exactly. A path ending in "/" (the root of
// a host kept for the bot) gets "{$}": as a pattern "POST /" matches every POST, and would take
// publishing, the dashboard's login and its buttons away from the API.
func (b *Bot) WebhookPattern() string {
	p := b.WebhookPath()
	if p == "" {
		return ""
	}
	if strings.HasSuffix(p, "/") {
		p += "{$}"
	}
	return "POST " + p
}

// WebhookHandler receives updates in webhook mode. The secret token header is compared in
// constant time; a wrong one gets 401 and nothing else happens.
// Specs: https://core.telegram.org/bots/api#setwebhook (secret_token)
func (b *Bot) WebhookHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got := r.Header.Get("X-Telegram-Bot-Api-Secret-Token")
		if r.Method != http.MethodPost || subtle.ConstantTimeCompare([]byte(got), []byte(b.cfg.Telegram.WebhookSecret)) != 1 {
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		var u update
		if err := json.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(&u); err != nil {
			http.Error(w, "bad update", http.StatusBadRequest)
			return
		}
		select {
		case <-b.ready:
		default:
			// Not connected yet: Telegram retries the update later.
			http.Error(w, "starting", http.StatusServiceUnavailable)
			return
		}
		// Once claimed, the update is handled to the end even if Telegram hangs up.
		if err := b.dispatch(context.WithoutCancel(r.Context()), u); err != nil {
			// Not claimed (Redis unreachable): Telegram delivers it again later.
			http.Error(w, "try again later", http.StatusServiceUnavailable)
			return
		}
		w.WriteHeader(http.StatusOK)
	})
}

// sleep waits d, or until ctx ends; it reports whether d passed.
func sleep(ctx context.Context, d time.Duration) bool {
	select {
	case <-ctx.Done():
		return false
	case <-time.After(d):
		return true
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
