// Package xfake is a fake X API v2 on loopback, for tests and for the sandbox (herald demo). It
// checks what X checks and answers what X answers: every request must carry a valid OAuth 1.0a
// HMAC-SHA1 signature (verified by oauth.go, written independently of the client's library) for
// the one account it knows, else 401; POST /2/tweets takes {"text","media":{"media_ids"}} with
// text within 280 weighted characters and without twitter-text's invalid characters (U+FFFE,
// U+FEFF, U+FFFF), refuses a text the account already posted (403 duplicate content) and paces
// posts (100 per 15 minutes by default, then 429 with x-rate-limit-reset; 10,000 per 24 hours
// per app, then 429 with x-app-limit-24hour-reset while the 15-minute window may still have
// room); POST /2/media/upload takes a base64 image; DELETE /2/tweets/:id and GET /2/users/me.
// Errors are RFC 7807 problem documents. Failures can be injected (FailNext, RateLimitNext,
// DropNextPost, SetAccessLevel, SetDailyLimit) and everything accepted read back (Posts, Media,
// Deleted, Requests). All methods are safe for concurrent use.
package xfake

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"time"

	"herald/formatter"
)

// Credentials are the four OAuth 1.0a values of one app and user.
type Credentials struct {
	ConsumerKey, ConsumerSecret, AccessToken, AccessSecret string
}

// DefaultCredentials are what a new Server accepts.
var DefaultCredentials = Credentials{
	ConsumerKey:    "herald-fake-consumer-key",
	ConsumerSecret: "herald-fake-consumer-secret-0123456789",
	AccessToken:    "1000000001-herald-fake-access-token",
	AccessSecret:   "herald-fake-access-secret-9876543210",
}

// Account is the user the credentials belong to.
const (
	UserID   = "1000000001"
	Username = "herald_fake"
)

// Post is one accepted POST /2/tweets.
type Post struct {
	ID       string
	Text     string
	MediaIDs []string
	Time     time.Time
}

// Media is one accepted upload.
type Media struct {
	ID, Type, Category string
	Size               int
}

// Request is one request received.
type Request struct {
	Method, Path string
	Status       int
	Time         time.Time
}

type injected struct {
	status int
	body   string
	header http.Header
}

// Server is the fake. Create it with New; Close it when done.
type Server struct {
	srv *httptest.Server

	mu        sync.Mutex
	creds     Credentials
	access    string // "write" (default), "read": posting answers 403 oauth1-permissions
	posts     []Post
	deleted   []string
	media     map[string]Media
	requests  []Request
	nonces    map[string]bool
	nextID    int64
	fail      []injected
	failDel   []injected // FailDeleteNext
	dropPosts int
	// failAfter: answers for the next posts, given after the post was made (FailAfterPostNext).
	failAfter []injected
	limit     int
	window    time.Duration
	sent      []time.Time
	daily     int         // posts per 24 hours for the app (x-app-limit-24hour-*)
	sentDay   []time.Time // posts of the last 24 hours
	now       func() time.Time
}

// New starts a fake on a loopback port.
func New() *Server {
	s := &Server{
		creds: DefaultCredentials, access: "write", media: map[string]Media{}, nonces: map[string]bool{},
		nextID: 1860000000000000000, limit: 100, window: 15 * time.Minute, daily: 10000, now: time.Now,
	}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	return s
}

// APIBase is the value for the channel's api_base setting.
func (s *Server) APIBase() string { return s.srv.URL }

// Close stops the server.
func (s *Server) Close() { s.srv.Close() }

// SetCredentials replaces the accepted credentials (a revoked token: the old ones get 401).
func (s *Server) SetCredentials(c Credentials) { s.mu.Lock(); s.creds = c; s.mu.Unlock() }

// SetAccessLevel "read" makes the app read-only: posting answers 403 oauth1-permissions.
func (s *Server) SetAccessLevel(level string) { s.mu.Lock(); s.access = level; s.mu.Unlock() }

// SetRateLimit sets how many posts a window allows (default 100 per 15 minutes).
func (s *Server) SetRateLimit(n int, window time.Duration) {
	s.mu.Lock()
	s.limit, s.window = n, window
	s.mu.Unlock()
}

// SetDailyLimit sets how many posts the app may make in 24 hours (default 10,000). Past it,
// POST /2/tweets answers 429 with x-app-limit-24hour-remaining 0 and the day's end in
// x-app-limit-24hour-reset, while x-rate-limit-* describe the 15-minute window, which may still
// have room: as X does, the 15-minute headers alone do not say when posting works again.
func (s *Server) SetDailyLimit(n int) {
	s.mu.Lock()
	s.daily = n
	s.mu.Unlock()
}

// FailNext makes the next POST /2/tweets answer status with body (a problem document) and
// extra headers, once per call.
func (s *Server) FailNext(status int, body string, header http.Header) {
	s.mu.Lock()
	s.fail = append(s.fail, injected{status, body, header})
	s.mu.Unlock()
}

// FailDeleteNext makes the next DELETE /2/tweets/:id answer status with body (a problem
// document) and extra headers, once per call; nothing is deleted.
func (s *Server) FailDeleteNext(status int, body string, header http.Header) {
	s.mu.Lock()
	s.failDel = append(s.failDel, injected{status, body, header})
	s.mu.Unlock()
}

// RateLimitNext makes the next POST /2/tweets answer 429 with x-rate-limit-reset = reset.
func (s *Server) RateLimitNext(reset time.Time) {
	h := http.Header{}
	h.Set("x-rate-limit-limit", "100")
	h.Set("x-rate-limit-remaining", "0")
	h.Set("x-rate-limit-reset", strconv.FormatInt(reset.Unix(), 10))
	s.FailNext(429, problem(429, "Too Many Requests", "about:blank", "Too Many Requests"), h)
}

// DropNextPost makes the next POST /2/tweets be accepted (the post exists) but the connection
// close before any answer: the client cannot know it went out.
func (s *Server) DropNextPost() { s.mu.Lock(); s.dropPosts++; s.mu.Unlock() }

// FailAfterPostNext makes the next POST /2/tweets be accepted (the post exists) and then
// answered with status and body, as X's front end sometimes answers a 500 or 503 for a post it
// made: the client cannot tell it from a post that was not made.
func (s *Server) FailAfterPostNext(status int, body string) {
	s.mu.Lock()
	s.failAfter = append(s.failAfter, injected{status: status, body: body})
	s.mu.Unlock()
}

// Posts returns the accepted posts in order (deleted ones included).
func (s *Server) Posts() []Post {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Post(nil), s.posts...)
}

// Deleted returns the ids deleted, in order.
func (s *Server) Deleted() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.deleted...)
}

// MediaByID returns an accepted upload.
func (s *Server) MediaByID(id string) (Media, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	m, ok := s.media[id]
	return m, ok
}

// Requests returns every request received, in order.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.requests...)
}

func problem(status int, title, typ, detail string) string {
	b, _ := json.Marshal(map[string]any{"title": title, "type": typ, "detail": detail, "status": status})
	return string(b)
}

func (s *Server) answer(w http.ResponseWriter, r *http.Request, status int, body any) {
	s.mu.Lock()
	s.requests = append(s.requests, Request{Method: r.Method, Path: r.URL.Path, Status: status, Time: s.now()})
	s.mu.Unlock()
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	switch b := body.(type) {
	case string:
		_, _ = w.Write([]byte(b))
	default:
		_ = json.NewEncoder(w).Encode(b)
	}
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	if !s.authorized(w, r) {
		return
	}
	switch {
	case r.Method == http.MethodPost && r.URL.Path == "/2/tweets":
		s.createPost(w, r)
	case r.Method == http.MethodPost && r.URL.Path == "/2/media/upload":
		s.upload(w, r)
	case r.Method == http.MethodDelete && strings.HasPrefix(r.URL.Path, "/2/tweets/"):
		s.deletePost(w, r, strings.TrimPrefix(r.URL.Path, "/2/tweets/"))
	case r.Method == http.MethodGet && r.URL.Path == "/2/users/me":
		s.answer(w, r, 200, map[string]any{"data": map[string]string{"id": UserID, "name": "Herald Fake", "username": Username}})
	default:
		s.answer(w, r, 404, problem(404, "Not Found Error", "https://api.twitter.com/2/problems/resource-not-found", "no such endpoint"))
	}
}

// authorized verifies the OAuth 1.0a signature, the key and token, the timestamp (±5 min) and
// that the nonce is new; otherwise it answers 401 as X does.
func (s *Server) authorized(w http.ResponseWriter, r *http.Request) bool {
	s.mu.Lock()
	creds, now := s.creds, s.now()
	s.mu.Unlock()
	auth, err := Verify(r, creds.ConsumerSecret, creds.AccessSecret)
	if err == nil && (auth["oauth_consumer_key"] != creds.ConsumerKey || auth["oauth_token"] != creds.AccessToken) {
		err = fmt.Errorf("unknown consumer key or token")
	}
	if err == nil {
		ts, perr := strconv.ParseInt(auth["oauth_timestamp"], 10, 64)
		if d := now.Sub(time.Unix(ts, 0)); perr != nil || d > 5*time.Minute || d < -5*time.Minute {
			err = fmt.Errorf("timestamp out of bounds")
		}
	}
	if err == nil {
		s.mu.Lock()
		if s.nonces[auth["oauth_nonce"]] {
			err = fmt.Errorf("nonce used before")
		}
		s.nonces[auth["oauth_nonce"]] = true
		s.mu.Unlock()
	}
	if err != nil {
		s.answer(w, r, 401, problem(401, "Unauthorized", "about:blank", "Unauthorized"))
		return false
	}
	return true
}

func (s *Server) createPost(w http.ResponseWriter, r *http.Request) {
	if !strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
		s.answer(w, r, 415, problem(415, "Unsupported Media Type", "about:blank", "Content-Type must be application/json"))
		return
	}
	var req struct {
		Text  *string `json:"text"`
		Media *struct {
			MediaIDs []string `json:"media_ids"`
		} `json:"media"`
	}
	dec := json.NewDecoder(r.Body)
	if err := dec.Decode(&req); err != nil {
		s.answer(w, r, 400, invalid("body", err.Error()))
		return
	}
	s.mu.Lock()
	if len(s.fail) > 0 {
		f := s.fail[0]
		s.fail = s.fail[1:]
		s.mu.Unlock()
		for k, vs := range f.header {
			for _, v := range vs {
				w.Header().Add(k, v)
			}
		}
		s.answer(w, r, f.status, f.body)
		return
	}
	access := s.access
	s.mu.Unlock()
	if access != "write" {
		s.answer(w, r, 403, problem(403, "Forbidden", "https://api.twitter.com/2/problems/oauth1-permissions",
			"Your client app is not configured with the appropriate oauth1 app permissions for this endpoint."))
		return
	}
	var ids []string
	if req.Media != nil {
		ids = req.Media.MediaIDs
	}
	text := ""
	if req.Text != nil {
		text = *req.Text
	}
	if text == "" && len(ids) == 0 {
		s.answer(w, r, 400, invalid("text", "text or media is required"))
		return
	}
	if n := formatter.CountX(text); n > 280 {
		s.answer(w, r, 400, invalid("text", fmt.Sprintf("text is %d weighted characters, over 280", n)))
		return
	}
	if strings.ContainsAny(text, "\uFFFE\uFEFF\uFFFF") {
		// twitter-text's invalid characters: a text holding one is not a valid post.
		s.answer(w, r, 400, invalid("text", "text contains invalid characters (U+FFFE, U+FEFF or U+FFFF)"))
		return
	}
	if len(ids) > 4 {
		s.answer(w, r, 400, invalid("media.media_ids", "at most 4 media ids"))
		return
	}
	status, body, drop := s.accept(w.Header(), text, ids)
	if drop {
		hijackAndClose(w)
		return
	}
	s.answer(w, r, status, body)
}

// accept decides a well-formed post under the lock: unknown media, duplicate text, the rate
// window, then records it. drop means the post was recorded but the answer must be lost.
func (s *Server) accept(h http.Header, text string, ids []string) (status int, body any, drop bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, id := range ids {
		if _, ok := s.media[id]; !ok {
			return 400, invalid("media.media_ids", "Your media IDs are invalid."), false
		}
	}
	for _, p := range s.posts {
		if p.Text == text && text != "" && !s.isDeleted(p.ID) {
			return 403, problem(403, "Forbidden", "about:blank", "You are not allowed to create a Tweet with duplicate content."), false
		}
	}
	now := s.now()
	s.sent = within(s.sent, now, s.window)
	s.sentDay = within(s.sentDay, now, 24*time.Hour)
	windowReset, dayReset := now.Add(s.window), now.Add(24*time.Hour)
	if len(s.sent) > 0 {
		windowReset = s.sent[0].Add(s.window)
	}
	if len(s.sentDay) > 0 {
		dayReset = s.sentDay[0].Add(24 * time.Hour)
	}
	h.Set("x-rate-limit-limit", strconv.Itoa(s.limit))
	h.Set("x-rate-limit-reset", strconv.FormatInt(windowReset.Unix()+1, 10))
	h.Set("x-app-limit-24hour-limit", strconv.Itoa(s.daily))
	h.Set("x-app-limit-24hour-reset", strconv.FormatInt(dayReset.Unix()+1, 10))
	if len(s.sent) >= s.limit || len(s.sentDay) >= s.daily {
		h.Set("x-rate-limit-remaining", strconv.Itoa(max(0, s.limit-len(s.sent))))
		h.Set("x-app-limit-24hour-remaining", strconv.Itoa(max(0, s.daily-len(s.sentDay))))
		return 429, problem(429, "Too Many Requests", "about:blank", "Too Many Requests"), false
	}
	s.sent = append(s.sent, now)
	s.sentDay = append(s.sentDay, now)
	h.Set("x-rate-limit-remaining", strconv.Itoa(s.limit-len(s.sent)))
	h.Set("x-app-limit-24hour-remaining", strconv.Itoa(s.daily-len(s.sentDay)))
	s.nextID++
	p := Post{ID: strconv.FormatInt(s.nextID, 10), Text: text, MediaIDs: ids, Time: now}
	s.posts = append(s.posts, p)
	if s.dropPosts > 0 {
		s.dropPosts--
		return 0, nil, true
	}
	if len(s.failAfter) > 0 {
		f := s.failAfter[0]
		s.failAfter = s.failAfter[1:]
		return f.status, f.body, false
	}
	return 201, map[string]any{"data": map[string]string{"id": p.ID, "text": p.Text}}, false
}

// within keeps the times of ts less than d before now.
func within(ts []time.Time, now time.Time, d time.Duration) []time.Time {
	kept := ts[:0]
	for _, t := range ts {
		if now.Sub(t) < d {
			kept = append(kept, t)
		}
	}
	return kept
}

func hijackAndClose(w http.ResponseWriter) {
	if hj, ok := w.(http.Hijacker); ok {
		if conn, _, err := hj.Hijack(); err == nil {
			_ = conn.Close()
		}
	}
}

func (s *Server) isDeleted(id string) bool {
	for _, d := range s.deleted {
		if d == id {
			return true
		}
	}
	return false
}

func invalid(param, msg string) string {
	b, _ := json.Marshal(map[string]any{
		"errors": []map[string]any{{"parameters": map[string][]string{param: {}}, "message": msg}},
		"title":  "Invalid Request", "detail": "One or more parameters to your request was invalid.",
		"type": "https://api.twitter.com/2/problems/invalid-request", "status": 400,
	})
	return string(b)
}

var imageTypes = map[string]bool{"image/jpeg": true, "image/pjpeg": true, "image/png": true, "image/webp": true, "image/bmp": true, "image/tiff": true}

func (s *Server) upload(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Media         string `json:"media"`
		MediaCategory string `json:"media_category"`
		MediaType     string `json:"media_type"`
	}
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		s.answer(w, r, 400, invalid("body", err.Error()))
		return
	}
	data, err := base64.StdEncoding.DecodeString(req.Media)
	switch {
	case err != nil || len(data) == 0:
		s.answer(w, r, 400, invalid("media", "media must be base64 image bytes"))
		return
	case req.MediaCategory != "tweet_image":
		s.answer(w, r, 400, invalid("media_category", "media_category must be tweet_image for this endpoint"))
		return
	case !imageTypes[req.MediaType]:
		s.answer(w, r, 400, invalid("media_type", "unsupported media_type "+req.MediaType))
		return
	case len(data) > 5<<20:
		s.answer(w, r, 400, invalid("media", "image over 5 MB"))
		return
	case !strings.HasPrefix(http.DetectContentType(data), "image/"):
		// X decodes the bytes: a page served as image/jpeg is refused, whatever media_type says.
		s.answer(w, r, 400, invalid("media", "media type unrecognized"))
		return
	}
	s.mu.Lock()
	s.nextID++
	id := strconv.FormatInt(s.nextID, 10)
	s.media[id] = Media{ID: id, Type: req.MediaType, Category: req.MediaCategory, Size: len(data)}
	s.mu.Unlock()
	s.answer(w, r, 200, map[string]any{"data": map[string]any{"id": id, "media_key": "3_" + id, "size": len(data), "expires_after_secs": 86400}})
}

func (s *Server) deletePost(w http.ResponseWriter, r *http.Request, id string) {
	s.mu.Lock()
	if len(s.failDel) > 0 {
		f := s.failDel[0]
		s.failDel = s.failDel[1:]
		s.mu.Unlock()
		for k, vs := range f.header {
			for _, v := range vs {
				w.Header().Add(k, v)
			}
		}
		s.answer(w, r, f.status, f.body)
		return
	}
	found := false
	for _, p := range s.posts {
		if p.ID == id && !s.isDeleted(id) {
			found = true
		}
	}
	if found {
		s.deleted = append(s.deleted, id)
	}
	s.mu.Unlock()
	if !found {
		s.answer(w, r, 404, problem(404, "Not Found Error", "https://api.twitter.com/2/problems/resource-not-found", "Could not find tweet with id: ["+id+"]."))
		return
	}
	s.answer(w, r, 200, map[string]any{"data": map[string]bool{"deleted": true}})
}
