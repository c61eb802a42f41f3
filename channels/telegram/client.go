package telegram

import (
	"context"
	"io"
	"net/http"
	"net/http/httptrace"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"
	"go.uber.org/zap"
)

// newBot builds the library client without calling the network: NewBotAPIWithClient would call
// getMe, which makes a wrong token or an unreachable API a start-up crash instead of a clear
// error on Send. The struct is a template: every request runs on a shallow copy whose Client is
// a roundTrip bound to that request's context.
func newBot(cfg Config) *tgbotapi.BotAPI {
	bot := &tgbotapi.BotAPI{Token: cfg.Token, Buffer: 100}
	bot.SetAPIEndpoint(cfg.APIEndpoint)
	return bot
}

// roundTrip is the tgbotapi.HTTPClient for one request. tgbotapi builds requests without a
// context; roundTrip attaches the caller's, plus an httptrace that records how far the request
// got, so a failure can be told apart: not sent (safe to retry) or possibly delivered.
type roundTrip struct {
	ctx    context.Context
	client *http.Client

	called atomic.Bool // Do was reached: the request was built
	// conn is set when a connection was obtained for an attempt, from which point the request
	// may reach Telegram; writeFailed when writing that attempt failed, so it cannot have.
	conn        atomic.Bool
	writeFailed atomic.Bool
	status      atomic.Int32 // HTTP status of the answer, 0 when none arrived
	retryAfter  atomic.Value // the answer's Retry-After header, if any
	location    atomic.Value // the answer's Location header (a redirect, handed back unfollowed)
	// head keeps the start of the answer's body, for an error that quotes what the platform
	// said when it was not a Bot API answer.
	head *bodyHead
}

// bodyHead is a response body that remembers its first bytes as they are read.
type bodyHead struct {
	io.ReadCloser
	mu  sync.Mutex
	buf []byte
}

const bodyHeadMax = 512

func (b *bodyHead) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	b.mu.Lock()
	if room := bodyHeadMax - len(b.buf); room > 0 && n > 0 {
		b.buf = append(b.buf, p[:min(n, room)]...)
	}
	b.mu.Unlock()
	return n, err
}

func (b *bodyHead) bytes() []byte {
	if b == nil {
		return nil
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]byte(nil), b.buf...)
}

// Do implements tgbotapi.HTTPClient.
func (rt *roundTrip) Do(req *http.Request) (*http.Response, error) {
	rt.called.Store(true)
	trace := &httptrace.ClientTrace{
		// GotConn runs in the caller's goroutine before the request is written; a transport
		// retry of an unwritten request starts a new attempt here.
		GotConn: func(httptrace.GotConnInfo) {
			rt.writeFailed.Store(false)
			rt.conn.Store(true)
		},
		WroteRequest: func(info httptrace.WroteRequestInfo) {
			if info.Err != nil {
				rt.writeFailed.Store(true)
			}
		},
	}
	req = req.WithContext(httptrace.WithClientTrace(rt.ctx, trace))
	resp, err := rt.client.Do(req)
	if resp != nil {
		rt.status.Store(int32(resp.StatusCode))
		rt.retryAfter.Store(resp.Header.Get("Retry-After"))
		rt.location.Store(resp.Header.Get("Location"))
		rt.head = &bodyHead{ReadCloser: resp.Body}
		resp.Body = rt.head
	}
	return resp, err
}

// retryAfterHeader is the answer's Retry-After in seconds, 0 when absent or not a number.
func (rt *roundTrip) retryAfterHeader() int {
	ra, _ := rt.retryAfter.Load().(string)
	secs, _ := strconv.Atoi(strings.TrimSpace(ra))
	return secs
}

// mayHaveArrived reports whether the request may have reached Telegram whole: a connection was
// obtained and the write was not seen to fail. Erring towards "may have" is deliberate: a
// visible duplicate post is worse than an admin prompt.
func (rt *roundTrip) mayHaveArrived() bool {
	return rt.conn.Load() && !rt.writeFailed.Load()
}

// call runs one Bot API request with ctx and the configured timeout, and turns a failure into
// an error that says the action, never contains the token, and carries its kind (see errors.go).
func (c *Channel) call(ctx context.Context, action string, do func(bot *tgbotapi.BotAPI) error) error {
	if err := ctx.Err(); err != nil {
		return errorf("%s: not sent: %w", action, err)
	}
	ctx, cancel := context.WithTimeout(ctx, c.cfg.Timeout)
	defer cancel()
	rt := &roundTrip{ctx: ctx, client: c.http}
	bot := *c.bot
	bot.Client = rt
	start := time.Now()
	err := do(&bot)
	if err != nil {
		err = c.classify(action, err, rt)
	}
	// Checked first: the fields are not built for every send when debug is off.
	if ce := c.log.Check(zap.DebugLevel, "telegram request"); ce != nil {
		ce.Write(zap.String("action", action),
			zap.Int("status", int(rt.status.Load())),
			zap.Duration("took", time.Since(start)),
			zap.Error(err))
	}
	return err
}

// getMe asks Telegram who the bot is: a cheap test of the token and the endpoint for start-up
// diagnostics (see check.go). Errors are classified like Send's.
func (c *Channel) getMe(ctx context.Context) (username string, err error) {
	var me tgbotapi.User
	// Specs: https://core.telegram.org/bots/api#getme
	err = c.call(ctx, "checking the bot token", func(bot *tgbotapi.BotAPI) (err error) {
		me, err = bot.GetMe()
		return err
	})
	return me.UserName, err
}

// redact and redactString apply RedactError and RedactString (redact.go) with this channel's
// token.
func (c *Channel) redact(err error) error { return RedactError(c.cfg.Token, err) }

func (c *Channel) redactString(s string) string { return RedactString(c.cfg.Token, s) }
