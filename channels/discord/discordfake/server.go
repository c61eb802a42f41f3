// Package discordfake is a fake Discord webhook API on loopback, for tests and the sandbox. It
// checks what Discord checks and answers what Discord answers:
//
//   - POST /api[/vN]/webhooks/{id}/{token}[?wait=true][&thread_id=…] executes the webhook: the
//     body must be JSON with content ≤ 2000 characters and/or ≤ 10 embeds (title ≤ 256,
//     description ≤ 4096, footer ≤ 2048, all embeds together ≤ 6000, http(s) URLs), else 400
//     {"code":50035,"message":"Invalid Form Body","errors":{…}}; an empty message is 400 code
//     50006. With wait=true the answer is the message object (200), else 204.
//   - GET /api[/vN]/webhooks/{id}/{token} returns the webhook object.
//   - DELETE /api[/vN]/webhooks/{id}/{token}/messages/{message} deletes a message this webhook
//     posted (204), else 404 code 10008.
//   - PATCH /api[/vN]/webhooks/{id}/{token}/messages/{message}[?thread_id=…] edits a message this
//     webhook posted (content and/or embeds; a field left out stays), checked as a new message
//     (400 50035 / 50006), and answers the message with edited_timestamp; a deleted message, one
//     it did not post, or one in a thread not named by thread_id is 404 code 10008. Edits count
//     against the same bucket as posts.
//   - An unknown webhook id is 404 code 10015; a known id with another token 401 code 50027.
//   - Posts share one bucket (default 5 per 2 s, like Discord's webhooks): every answer carries
//     X-RateLimit-Limit, -Remaining, -Reset, -Reset-After and -Bucket; a post over it gets 429
//     {"message","retry_after","global":false} with Retry-After and X-RateLimit-Scope.
//
// Every accepted message is recorded, with whether it would have pinged anyone (mentions in the
// content that allowed_mentions did not switch off). Failures can be injected (FailNext,
// RateLimitNext, DropNextPost, DeleteWebhook, FailEditNext, RateLimitEditNext). All methods are safe for concurrent use.
package discordfake

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"
)

// Defaults a new Server starts with.
const (
	DefaultID      = "1300000000000000001"
	DefaultToken   = "hRd-fake_webhook-token_0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJ"
	DefaultGuild   = "1100000000000000001"
	DefaultChannel = "1200000000000000001"
	// DefaultThread is a thread of DefaultChannel that thread_id may name.
	DefaultThread = "1200000000000000002"
	WebhookName   = "Herald News"
)

// Discord's limits.
// Specs: https://discord.com/developers/docs/resources/message#embed-object-embed-limits
const (
	MaxContent     = 2000
	MaxEmbeds      = 10
	MaxTitle       = 256
	MaxDescription = 4096
	MaxFooter      = 2048
	MaxAuthor      = 256
	MaxEmbedTotal  = 6000
)

// Message is one accepted message.
type Message struct {
	ID        string
	ThreadID  string
	Content   string
	Embeds    []map[string]any
	Username  string
	AvatarURL string
	// AllowedMentions is the raw allowed_mentions object; nil when the request had none.
	AllowedMentions json.RawMessage
	// Pinged says whether Discord would have notified anyone: the content mentions
	// @everyone, @here, a role or a user, and allowed_mentions did not turn that off.
	Pinged  bool
	Deleted bool
	Time    time.Time
	// Edits counts the accepted edits (PATCH …/messages/{id}).
	Edits int
}

// Edit is one accepted edit, with the message as it stands after it.
type Edit struct {
	MessageID       string
	Content         string
	Embeds          []map[string]any
	AllowedMentions json.RawMessage
	// Pinged says whether the edit would have notified anyone (as Message.Pinged).
	Pinged bool
}

// Request is one request received.
type Request struct {
	Method, Path, Query string
	Status              int
}

type injected struct {
	status    int
	body      any
	header    http.Header
	closeConn bool // drop the connection without answering, after recording the post
}

// Server is the fake. Create it with New; Close it when done.
type Server struct {
	srv *httptest.Server

	mu       sync.Mutex
	id       string
	token    string
	gone     bool
	msgs     []Message
	requests []Request
	fail     []injected
	failEdit []injected
	edits    []Edit
	next     int64
	// the post bucket: limit posts per window, the window starting with its first post.
	limit       int
	window      time.Duration
	windowStart time.Time
	used        int
}

// New starts a fake with one webhook (DefaultID, DefaultToken) on a loopback port.
func New() *Server {
	s := &Server{id: DefaultID, token: DefaultToken, limit: 5, window: 2 * time.Second}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	return s
}

// Close stops the server.
func (s *Server) Close() { s.srv.Close() }

// WebhookURL is the value for the channel's webhook_url setting, as Discord shows it.
func (s *Server) WebhookURL() string {
	return s.srv.URL + "/api/webhooks/" + DefaultID + "/" + DefaultToken
}

// URL is the server's origin.
func (s *Server) URL() string { return s.srv.URL }

// SetBucket sets how many posts are allowed per window (default 5 per 2 s) and starts a new
// window.
func (s *Server) SetBucket(limit int, window time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.limit, s.window, s.used, s.windowStart = limit, window, 0, time.Time{}
}

// DeleteWebhook makes the webhook unknown from now on (404, code 10015), as when someone
// deletes it in the channel's settings.
func (s *Server) DeleteWebhook() { s.mu.Lock(); s.gone = true; s.mu.Unlock() }

// FailNext makes the next post answer status with Discord's error body {"message","code"}.
func (s *Server) FailNext(status, code int, message string) {
	s.inject(injected{status: status, body: map[string]any{"message": message, "code": code}})
}

// RateLimitNext makes the next post answer 429 with retry_after seconds (fractional), global
// or not, and a Retry-After header (whole seconds, rounded up).
func (s *Server) RateLimitNext(retryAfter float64, global bool) {
	h := http.Header{}
	h.Set("Retry-After", strconv.Itoa(int(math.Ceil(retryAfter))))
	if global {
		h.Set("X-RateLimit-Global", "true")
		h.Set("X-RateLimit-Scope", "global")
	} else {
		h.Set("X-RateLimit-Scope", "shared")
	}
	s.inject(injected{status: 429, header: h,
		body: map[string]any{"message": "You are being rate limited.", "retry_after": retryAfter, "global": global}})
}

// FailEditNext makes the next edit (PATCH …/messages/{id}) answer status with Discord's error
// body; nothing changes.
func (s *Server) FailEditNext(status, code int, message string) {
	s.mu.Lock()
	s.failEdit = append(s.failEdit, injected{status: status, body: map[string]any{"message": message, "code": code}})
	s.mu.Unlock()
}

// RateLimitEditNext makes the next edit answer 429 with retry_after seconds, as RateLimitNext.
func (s *Server) RateLimitEditNext(retryAfter float64) {
	h := http.Header{}
	h.Set("Retry-After", strconv.Itoa(int(math.Ceil(retryAfter))))
	h.Set("X-RateLimit-Scope", "shared")
	s.mu.Lock()
	s.failEdit = append(s.failEdit, injected{status: 429, header: h,
		body: map[string]any{"message": "You are being rate limited.", "retry_after": retryAfter, "global": false}})
	s.mu.Unlock()
}

// Edits returns the accepted edits in order.
func (s *Server) Edits() []Edit {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Edit(nil), s.edits...)
}

// FailNextRaw makes the next post answer status with body as it is (a Cloudflare page).
func (s *Server) FailNextRaw(status int, body string) {
	s.inject(injected{status: status, body: body})
}

// DropNextPost makes the next post be made but its answer lost (the connection closes).
func (s *Server) DropNextPost() { s.inject(injected{closeConn: true}) }

func (s *Server) inject(f injected) { s.mu.Lock(); s.fail = append(s.fail, f); s.mu.Unlock() }

// Messages returns the accepted messages in order (deleted ones included).
func (s *Server) Messages() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Message(nil), s.msgs...)
}

// Requests returns every request received, in order.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.requests...)
}

var pathRE = regexp.MustCompile(`^/api(?:/v[0-9]{1,2})?/webhooks/([^/]+)/([^/]+)(?:/messages/([^/]+))?/?$`)

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	m := pathRE.FindStringSubmatch(r.URL.Path)
	if m == nil {
		s.answer(w, r, 404, map[string]any{"message": "404: Not Found", "code": 0}, nil)
		return
	}
	s.mu.Lock()
	known, tokenOK := !s.gone && m[1] == s.id, m[2] == s.token
	s.mu.Unlock()
	switch {
	case !known:
		s.answer(w, r, 404, map[string]any{"message": "Unknown Webhook", "code": 10015}, nil)
	case !tokenOK:
		s.answer(w, r, 401, map[string]any{"message": "Invalid Webhook Token", "code": 50027}, nil)
	case m[3] == "" && r.Method == http.MethodGet:
		s.answer(w, r, 200, map[string]any{"type": 1, "id": s.id, "name": WebhookName, "avatar": nil,
			"channel_id": DefaultChannel, "guild_id": DefaultGuild, "application_id": nil, "token": s.token}, nil)
	case m[3] == "" && r.Method == http.MethodPost:
		s.execute(w, r)
	case m[3] != "" && r.Method == http.MethodDelete:
		s.delete(w, r, m[3])
	case m[3] != "" && r.Method == http.MethodPatch:
		s.edit(w, r, m[3])
	default:
		s.answer(w, r, 405, map[string]any{"message": "405: Method Not Allowed", "code": 0}, nil)
	}
}

// formError is Discord's Invalid Form Body answer for one field path.
func formError(path []string, code, msg string) map[string]any {
	var node any = map[string]any{"_errors": []any{map[string]any{"code": code, "message": msg}}}
	for i := len(path) - 1; i >= 0; i-- {
		node = map[string]any{path[i]: node}
	}
	return map[string]any{"code": 50035, "message": "Invalid Form Body", "errors": node}
}

type body struct {
	Content         *string          `json:"content"`
	Embeds          []map[string]any `json:"embeds"`
	Username        string           `json:"username"`
	AvatarURL       string           `json:"avatar_url"`
	AllowedMentions json.RawMessage  `json:"allowed_mentions"`
}

func (s *Server) execute(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	raw, err := io.ReadAll(io.LimitReader(r.Body, 8<<20))
	if err != nil {
		s.answer(w, r, 400, map[string]any{"message": "unreadable body", "code": 0}, nil)
		return
	}
	if f, ok := s.takeFailure(); ok {
		if f.closeConn {
			s.record(w, r, raw, q) // made, but the answer is lost
			s.mu.Lock()
			s.requests = append(s.requests, Request{Method: r.Method, Path: r.URL.Path, Query: r.URL.RawQuery})
			s.mu.Unlock()
			hijackClose(w)
			return
		}
		s.answer(w, r, f.status, f.body, f.header)
		return
	}
	var b body
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		s.answer(w, r, 400, map[string]any{"message": "Cannot send an empty message", "code": 50006}, nil)
		return
	}
	if err := json.Unmarshal(raw, &b); err != nil {
		s.answer(w, r, 400, map[string]any{"message": "The request body contains invalid JSON.", "code": 50109}, nil)
		return
	}
	if t := q.Get("thread_id"); t != "" && t != DefaultThread {
		s.answer(w, r, 404, map[string]any{"message": "Unknown Channel", "code": 10003}, nil)
		return
	}
	if e := validate(b); e != nil {
		s.answer(w, r, 400, e, nil)
		return
	}
	hdr, retry := s.takeSlot()
	if retry > 0 {
		hdr.Set("Retry-After", strconv.Itoa(int(math.Ceil(retry.Seconds()))))
		hdr.Set("X-RateLimit-Scope", "user")
		s.answer(w, r, 429, map[string]any{"message": "You are being rate limited.",
			"retry_after": math.Ceil(retry.Seconds()*1000) / 1000, "global": false}, hdr)
		return
	}
	msg := s.record(w, r, raw, q)
	if q.Get("wait") != "true" {
		s.answer(w, r, 204, nil, hdr)
		return
	}
	channel := DefaultChannel
	if msg.ThreadID != "" {
		channel = msg.ThreadID
	}
	embeds := msg.Embeds
	if embeds == nil {
		embeds = []map[string]any{}
	}
	s.answer(w, r, 200, map[string]any{"id": msg.ID, "type": 0, "content": msg.Content, "channel_id": channel,
		"author":      map[string]any{"id": DefaultID, "username": WebhookName, "bot": true, "discriminator": "0000", "avatar": nil},
		"attachments": []any{}, "embeds": embeds, "mentions": []any{}, "mention_roles": []any{},
		"mention_everyone": false, "pinned": false, "tts": false, "webhook_id": DefaultID,
		"timestamp": msg.Time.UTC().Format("2006-01-02T15:04:05.000000+00:00"), "edited_timestamp": nil, "flags": 0}, hdr)
}

// validate applies Discord's message checks, answering as Discord does.
func validate(b body) map[string]any {
	content := ""
	if b.Content != nil {
		content = *b.Content
	}
	if strings.TrimSpace(content) == "" && len(b.Embeds) == 0 {
		return map[string]any{"message": "Cannot send an empty message", "code": 50006}
	}
	if n := utf8.RuneCountInString(content); n > MaxContent {
		return formError([]string{"content"}, "BASE_TYPE_MAX_LENGTH", fmt.Sprintf("Must be %d or fewer in length.", MaxContent))
	}
	if len(b.Embeds) > MaxEmbeds {
		return formError([]string{"embeds"}, "BASE_TYPE_MAX_LENGTH", fmt.Sprintf("Must be %d or fewer in length.", MaxEmbeds))
	}
	total := 0
	for i, e := range b.Embeds {
		at := func(f ...string) []string { return append([]string{"embeds", strconv.Itoa(i)}, f...) }
		for _, f := range []struct {
			path []string
			max  int
		}{{[]string{"title"}, MaxTitle}, {[]string{"description"}, MaxDescription},
			{[]string{"footer", "text"}, MaxFooter}, {[]string{"author", "name"}, MaxAuthor}} {
			v := str(e, f.path...)
			n := utf8.RuneCountInString(v)
			if n > f.max {
				return formError(at(f.path...), "BASE_TYPE_MAX_LENGTH", fmt.Sprintf("Must be %d or fewer in length.", f.max))
			}
			total += n
		}
		for _, f := range [][]string{{"url"}, {"image", "url"}, {"thumbnail", "url"}} {
			if v := str(e, f...); v != "" && !httpURL(v) {
				return formError(at(f...), "URL_TYPE_INVALID_URL", "Not a well formed URL.")
			}
		}
	}
	if total > MaxEmbedTotal {
		return formError([]string{"embeds"}, "MAX_EMBED_SIZE_EXCEEDED", fmt.Sprintf("Embed size exceeds maximum size of %d", MaxEmbedTotal))
	}
	if b.Username != "" && (utf8.RuneCountInString(b.Username) > 80 || strings.Contains(strings.ToLower(b.Username), "discord")) {
		return formError([]string{"username"}, "USERNAME_INVALID_CONTAINS", "Username cannot contain \"discord\"")
	}
	if b.AvatarURL != "" && !httpURL(b.AvatarURL) {
		return formError([]string{"avatar_url"}, "URL_TYPE_INVALID_URL", "Not a well formed URL.")
	}
	return nil
}

func str(m map[string]any, path ...string) string {
	var v any = m
	for _, p := range path {
		mm, ok := v.(map[string]any)
		if !ok {
			return ""
		}
		v = mm[p]
	}
	s, _ := v.(string)
	return s
}

func httpURL(s string) bool {
	return strings.HasPrefix(s, "https://") || strings.HasPrefix(s, "http://")
}

var mentionRE = regexp.MustCompile(`@everyone|@here|<@&?[0-9]+>`)

// pinged says whether Discord would notify anyone for content under allowed_mentions: without
// it every mention in the content pings; with it only the kinds in parse (or the listed ids).
// Specs: https://discord.com/developers/docs/resources/message#allowed-mentions-object
func pinged(content string, allowed json.RawMessage) bool {
	found := mentionRE.FindAllString(content, -1)
	if len(found) == 0 {
		return false
	}
	if len(allowed) == 0 || string(allowed) == "null" {
		return true
	}
	var am struct {
		Parse []string `json:"parse"`
		Roles []string `json:"roles"`
		Users []string `json:"users"`
	}
	if json.Unmarshal(allowed, &am) != nil {
		return true
	}
	kinds := map[string]bool{}
	for _, p := range am.Parse {
		kinds[p] = true
	}
	for _, m := range found {
		switch {
		case m == "@everyone" || m == "@here":
			if kinds["everyone"] {
				return true
			}
		case strings.HasPrefix(m, "<@&"):
			if kinds["roles"] || len(am.Roles) > 0 {
				return true
			}
		default:
			if kinds["users"] || len(am.Users) > 0 {
				return true
			}
		}
	}
	return false
}

func (s *Server) record(w http.ResponseWriter, r *http.Request, raw []byte, q map[string][]string) Message {
	var b body
	_ = json.Unmarshal(raw, &b)
	content := ""
	if b.Content != nil {
		content = *b.Content
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.next++
	msg := Message{ID: strconv.FormatInt(1310000000000000000+s.next, 10), Content: content, Embeds: b.Embeds,
		Username: b.Username, AvatarURL: b.AvatarURL, AllowedMentions: b.AllowedMentions,
		Pinged: pinged(content, b.AllowedMentions), Time: time.Now()}
	if t := q["thread_id"]; len(t) > 0 {
		msg.ThreadID = t[0]
	}
	s.msgs = append(s.msgs, msg)
	return msg
}

func (s *Server) takeFailure() (injected, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.fail) == 0 {
		return injected{}, false
	}
	f := s.fail[0]
	s.fail = s.fail[1:]
	return f, true
}

// takeSlot counts a post against the bucket: the headers to send, and how long to wait when
// the bucket is empty (0 when the post may go).
func (s *Server) takeSlot() (http.Header, time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := time.Now()
	if s.windowStart.IsZero() || now.Sub(s.windowStart) >= s.window {
		s.windowStart, s.used = now, 0
	}
	reset := s.windowStart.Add(s.window)
	h := http.Header{}
	h.Set("X-RateLimit-Limit", strconv.Itoa(s.limit))
	h.Set("X-RateLimit-Bucket", "fake-webhook-bucket")
	h.Set("X-RateLimit-Reset", strconv.FormatFloat(float64(reset.UnixMilli())/1000, 'f', 3, 64))
	h.Set("X-RateLimit-Reset-After", strconv.FormatFloat(math.Ceil(reset.Sub(now).Seconds()*1000)/1000, 'f', 3, 64))
	if s.used >= s.limit {
		h.Set("X-RateLimit-Remaining", "0")
		return h, reset.Sub(now)
	}
	s.used++
	h.Set("X-RateLimit-Remaining", strconv.Itoa(s.limit-s.used))
	return h, 0
}

func (s *Server) delete(w http.ResponseWriter, r *http.Request, id string) {
	s.mu.Lock()
	found := false
	for i := range s.msgs {
		if s.msgs[i].ID == id && !s.msgs[i].Deleted {
			s.msgs[i].Deleted, found = true, true
		}
	}
	s.mu.Unlock()
	if !found {
		s.answer(w, r, 404, map[string]any{"message": "Unknown Message", "code": 10008}, nil)
		return
	}
	s.answer(w, r, 204, nil, nil)
}

func (s *Server) answer(w http.ResponseWriter, r *http.Request, status int, body any, h http.Header) {
	s.mu.Lock()
	s.requests = append(s.requests, Request{Method: r.Method, Path: r.URL.Path, Query: r.URL.RawQuery, Status: status})
	s.mu.Unlock()
	for k, vs := range h {
		for _, v := range vs {
			w.Header().Add(k, v)
		}
	}
	switch b := body.(type) {
	case nil:
		w.WriteHeader(status)
	case string:
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(status)
		_, _ = io.WriteString(w, b)
	default:
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_ = json.NewEncoder(w).Encode(b)
	}
}

func hijackClose(w http.ResponseWriter) {
	if hj, ok := w.(http.Hijacker); ok {
		if conn, _, err := hj.Hijack(); err == nil {
			if tc, ok := conn.(*net.TCPConn); ok {
				_ = tc.SetLinger(0)
			}
			_ = conn.Close()
		}
	}
}

// edit is PATCH …/messages/{id}: Edit Webhook Message.
// Specs: https://discord.com/developers/docs/resources/webhook#edit-webhook-message
func (s *Server) edit(w http.ResponseWriter, r *http.Request, id string) {
	q := r.URL.Query()
	raw, err := io.ReadAll(io.LimitReader(r.Body, 8<<20))
	if err != nil {
		s.answer(w, r, 400, map[string]any{"message": "unreadable body", "code": 0}, nil)
		return
	}
	s.mu.Lock()
	if len(s.failEdit) > 0 {
		f := s.failEdit[0]
		s.failEdit = s.failEdit[1:]
		s.mu.Unlock()
		s.answer(w, r, f.status, f.body, f.header)
		return
	}
	s.mu.Unlock()
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		s.answer(w, r, 400, map[string]any{"message": "Cannot send an empty message", "code": 50006}, nil)
		return
	}
	var b struct {
		body
		Embeds *[]map[string]any `json:"embeds"`
	}
	if err := json.Unmarshal(raw, &b); err != nil {
		s.answer(w, r, 400, map[string]any{"message": "The request body contains invalid JSON.", "code": 50109}, nil)
		return
	}
	thread := q.Get("thread_id")
	if thread != "" && thread != DefaultThread {
		s.answer(w, r, 404, map[string]any{"message": "Unknown Channel", "code": 10003}, nil)
		return
	}
	s.mu.Lock()
	idx := -1
	for i := range s.msgs {
		if s.msgs[i].ID == id && !s.msgs[i].Deleted && s.msgs[i].ThreadID == thread {
			idx = i
		}
	}
	if idx < 0 {
		s.mu.Unlock()
		s.answer(w, r, 404, map[string]any{"message": "Unknown Message", "code": 10008}, nil)
		return
	}
	msg := s.msgs[idx]
	s.mu.Unlock()
	// The message as it would stand: fields left out keep their value.
	after := body{Content: &msg.Content, Embeds: msg.Embeds}
	if b.Content != nil {
		after.Content = b.Content
	}
	if b.Embeds != nil {
		after.Embeds = *b.Embeds
	}
	if e := validate(after); e != nil {
		s.answer(w, r, 400, e, nil)
		return
	}
	hdr, retry := s.takeSlot()
	if retry > 0 {
		hdr.Set("Retry-After", strconv.Itoa(int(math.Ceil(retry.Seconds()))))
		hdr.Set("X-RateLimit-Scope", "user")
		s.answer(w, r, 429, map[string]any{"message": "You are being rate limited.",
			"retry_after": math.Ceil(retry.Seconds()*1000) / 1000, "global": false}, hdr)
		return
	}
	s.mu.Lock()
	m := &s.msgs[idx]
	m.Content, m.Embeds, m.Edits = *after.Content, after.Embeds, m.Edits+1
	if b.AllowedMentions != nil {
		m.AllowedMentions = b.AllowedMentions
	}
	e := Edit{MessageID: id, Content: m.Content, Embeds: m.Embeds, AllowedMentions: b.AllowedMentions,
		Pinged: pinged(m.Content, b.AllowedMentions)}
	s.edits = append(s.edits, e)
	channel := DefaultChannel
	if m.ThreadID != "" {
		channel = m.ThreadID
	}
	embeds := m.Embeds
	if embeds == nil {
		embeds = []map[string]any{}
	}
	ans := map[string]any{"id": m.ID, "type": 0, "content": m.Content, "channel_id": channel, "embeds": embeds,
		"webhook_id": DefaultID, "timestamp": m.Time.UTC().Format("2006-01-02T15:04:05.000000+00:00"),
		"edited_timestamp": time.Now().UTC().Format("2006-01-02T15:04:05.000000+00:00"), "flags": 0}
	s.mu.Unlock()
	s.answer(w, r, 200, ans, hdr)
}
