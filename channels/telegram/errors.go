package telegram

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"

	"herald/channels"
)

// APIError is an answer of the Bot API with "ok": false, read with errors.As.
type APIError struct {
	Code        int    // error_code, or the HTTP status when the body had none
	Description string // "Bad Request: chat not found"
	RetryAfter  int    // parameters.retry_after, seconds (429)
	// MigrateToChatID is set when a group became a supergroup: chat_id must change to it.
	MigrateToChatID int64
}

func (e *APIError) Error() string {
	s := fmt.Sprintf("%d %s", e.Code, e.Description)
	if e.MigrateToChatID != 0 {
		s += fmt.Sprintf(" (set chat_id to %d)", e.MigrateToChatID)
	}
	return s
}

// DefaultRetryAfter is used for a 429 that says neither parameters.retry_after, "retry after N"
// nor Retry-After.
const DefaultRetryAfter = 5 * time.Second

// photoFetchFailures are the descriptions Telegram answers sendPhoto with when it cannot fetch
// the photo URL (lower case, matched as substrings): TDLib's own, and the Bot API's rewrites of
// WEBPAGE_CURL_FAILED, WEBPAGE_MEDIA_EMPTY, EXTERNAL_URL_INVALID / WC_CONVERT_URL_INVALID and
// "File generation failed".
// Specs: https://github.com/tdlib/telegram-bot-api/blob/master/telegram-bot-api/Client.cpp (fail_query_with_error)
var photoFetchFailures = []string{
	"wrong file identifier/http url specified",
	"failed to get http url content",
	"wrong type of the web page content",
	"wrong http url specified",
	"can't upload file by url",
}

// photoRejections are the descriptions of a photo Telegram cannot use, by URL or uploaded; the
// last is a group where the bot may send text but not photos.
var photoRejections = []string{"image_process_failed", "photo_invalid_dimensions", "photo_ext_invalid", "photo_save_file_invalid",
	"not enough rights to send photos"}

// isPhotoFetchFailure reports whether err says Telegram could not fetch the photo by its URL.
func isPhotoFetchFailure(err error) bool { return badRequestAbout(err, photoFetchFailures) }

// isPhotoRejected reports whether err says Telegram could not use an uploaded photo.
func isPhotoRejected(err error) bool { return badRequestAbout(err, photoRejections) }

// badRequestAbout reports whether err is a 400 whose description contains one of needles.
func badRequestAbout(err error, needles []string) bool {
	var ae *APIError
	if !errors.As(err, &ae) || ae.Code != 400 {
		return false
	}
	d := strings.ToLower(ae.Description)
	for _, f := range needles {
		if strings.Contains(d, f) {
			return true
		}
	}
	return false
}

func containsAny(s string, needles []string) bool {
	for _, n := range needles {
		if strings.Contains(s, n) {
			return true
		}
	}
	return false
}

// errorf builds an error that says the action: "telegram: sending photo: …".
func errorf(format string, args ...any) error {
	return fmt.Errorf("telegram: "+format, args...)
}

// classify turns a failed request into an error of the right kind (see channels/errors.go and
// docs/telegram.md, "Errors"):
//
//	429                                     → channels.RateLimited until now + retry_after
//	                                          (parameters, else Retry-After, else the description)
//	401; 403 from the Bot API (not a member, kicked, blocked, group deleted, …)
//	                                        → channels.Auth: the worker pauses the channel
//	400/403 no right to post (need administrator rights in the channel chat,
//	CHAT_WRITE_FORBIDDEN, not enough rights to send text messages, have no write access to
//	the chat, CHAT_ADMIN_REQUIRED, CHANNEL_PRIVATE)
//	                                        → channels.Auth
//	400 group upgraded to a supergroup      → channels.Pause, naming migrate_to_chat_id
//	400 chat not found                      → channels.Pause: chat_id names no chat the bot sees
//	3xx (a redirect, not followed)          → channels.Pause: api_endpoint must be fixed
//	400, 404, other 4xx, a 403 page that is not a Bot API answer → channels.Permanent
//	409                                     → retryable
//	502, 503 not a Bot API answer           → retryable: Telegram's front end answered, the Bot
//	                                          API never saw the request
//	500 or other 5xx from the Bot API, or   → the channel's bot_api_5xx setting: unknown
//	500 not a Bot API answer                  (default, channels.UnknownOutcome) or retry
//	504, or a 2xx whose body was unreadable → channels.UnknownOutcome
//	transport error, request not sent       → retryable (dial, DNS, refused, ctx before send)
//	transport error, request maybe sent     → channels.UnknownOutcome (timeout, reset, ctx after)
//	request could not be built              → channels.Permanent
//
// Telegram has no idempotency key, so a request that may have arrived is never retried blindly.
// An answer that is not a Bot API answer keeps a short, redacted excerpt of its body.
func (c *Channel) classify(action string, err error, rt *roundTrip) error {
	status := int(rt.status.Load())
	var tg *tgbotapi.Error
	if errors.As(err, &tg) {
		ae := &APIError{
			Code:            tg.Code,
			Description:     c.redactString(tg.Message),
			RetryAfter:      tg.RetryAfter,
			MigrateToChatID: tg.MigrateToChatID,
		}
		if ae.Code == 0 { // tgbotapi's UploadFiles leaves Code out
			ae.Code = status
		}
		if migrated(ae) {
			// Every send to the old group fails alike until chat_id names the supergroup.
			reason := "telegram: the group became a supergroup: set chat_id to its new id"
			if ae.MigrateToChatID != 0 {
				reason = fmt.Sprintf("telegram: the group became supergroup %d: set chat_id to it", ae.MigrateToChatID)
			}
			return channels.Pause(reason, errorf("%s: %w", action, ae))
		}
		wait := ae.RetryAfter
		if wait <= 0 {
			wait = rt.retryAfterHeader()
		}
		return c.kindOf(ae.Code, wait, ae.Description, true, errorf("%s: %w", action, ae))
	}
	wrapped := c.redact(errorf("%s: %w", action, c.redact(err)))
	switch {
	case !rt.called.Load():
		return channels.Permanent(wrapped)
	case status != 0:
		// An answer came but was not a Bot API answer (a proxy's HTML page, a cut body).
		if status >= 200 && status < 300 {
			return channels.UnknownOutcome(wrapped)
		}
		ae := &APIError{Code: status, Description: "not a Bot API answer"}
		if ex := c.excerpt(rt.head.bytes()); ex != "" {
			ae.Description += ": " + ex
		}
		if status >= 300 && status < 400 {
			// api_endpoint names an address that redirects (http:// for https://, a moved
			// local Bot API server): every send would be answered alike until it is fixed.
			loc, _ := rt.location.Load().(string)
			ae.Description = "not a Bot API answer: a redirect to " + c.redactString(loc)
			return channels.Pause(fmt.Sprintf("telegram: api_endpoint redirects (HTTP %d) to %s: set it to that address", status, c.redactString(loc)),
				errorf("%s: %w", action, ae))
		}
		return c.kindOf(status, rt.retryAfterHeader(), "", false, errorf("%s: %w", action, ae))
	case rt.mayHaveArrived():
		return channels.UnknownOutcome(wrapped)
	default:
		return wrapped
	}
}

// migrated reports the answer Telegram gives every send to a group that was upgraded to a
// supergroup: 400 with parameters.migrate_to_chat_id, the supergroup's new id.
func migrated(ae *APIError) bool {
	return ae.Code == 400 && (ae.MigrateToChatID != 0 || strings.Contains(strings.ToLower(ae.Description), "upgraded to a supergroup"))
}

// rightsFailures are descriptions, 400 or 403, saying the bot is in the chat but may not post
// there (its administrator rights in a channel were taken away, or a group restricts it): every
// send fails the same way until an operator gives them back (lower case, matched as
// substrings). Since Bot API 6.5 (granular permissions) the last is worded "not enough rights
// to send text messages to the chat"; "have no rights to send a message" is the older wording.
var rightsFailures = []string{"need administrator rights in the channel chat", "chat_write_forbidden", "have no rights to send a message",
	"not enough rights to send text messages",
	// TDLib's own refusals of any send to the chat: no write access to it (can_send_message),
	// administrator rights required, the bot's access to a private channel gone.
	"have no write access to the chat", "chat_admin_required", "channel_private"}

var tagRE = regexp.MustCompile(`<[^>]*>`)

// excerpt is what an answer's body said, short and safe to store: tags and runs of white
// space collapsed, the token removed, at most 160 bytes on a rune boundary.
func (c *Channel) excerpt(body []byte) string {
	s := strings.Join(strings.Fields(tagRE.ReplaceAllString(string(body), " ")), " ")
	s = c.redactString(strings.ToValidUTF8(s, ""))
	if len(s) > 160 {
		cut := 160
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = s[:cut] + "…"
	}
	return s
}

var retryAfterRE = regexp.MustCompile(`(?i)retry after (\d+)`)

// kindOf wraps err by status code; botAPI tells a Bot API answer from a front end's page.
func (c *Channel) kindOf(code, retryAfter int, description string, botAPI bool, err error) error {
	switch {
	case code == 401:
		return channels.Auth(err)
	case code == 403 && botAPI:
		// Every 403 the Bot API answers is about the chat, not the message: the bot is not a
		// member, was kicked or blocked, the group was deleted, the user deactivated, the chat
		// is a bot (telegram-bot-api turns TDLib's own upper-case 403 codes into 400). Every
		// send to it fails alike until an operator acts.
		// Specs: https://github.com/tdlib/telegram-bot-api/blob/master/telegram-bot-api/Client.cpp (check_chat_access)
		return channels.Auth(err)
	case (code == 400 || code == 403) && containsAny(strings.ToLower(description), rightsFailures):
		return channels.Auth(err)
	case code == 400 && botAPI && strings.Contains(strings.ToLower(description), "chat not found"):
		// A chat_id that names no chat the bot can see (a typo, a channel deleted, or the bot
		// removed from a private channel): every send fails alike until an operator acts.
		return channels.Pause("telegram: chat not found: check chat_id and that the bot is in the chat", err)
	case code == 429:
		if retryAfter <= 0 {
			if m := retryAfterRE.FindStringSubmatch(description); m != nil {
				retryAfter, _ = strconv.Atoi(m[1])
			}
		}
		wait := time.Duration(retryAfter) * time.Second
		if wait <= 0 {
			wait = DefaultRetryAfter
		}
		return channels.RateLimited(err, c.now().Add(wait))
	case code == 504:
		return channels.UnknownOutcome(err)
	case code >= 500 && !botAPI && code != 500:
		return err // the front end answered for a Bot API it could not reach
	case code >= 500:
		if c.cfg.BotAPI5xx == BotAPI5xxRetry {
			return err
		}
		return channels.UnknownOutcome(err)
	case code == 409:
		return err
	case code >= 400:
		return channels.Permanent(err)
	default:
		return err
	}
}
