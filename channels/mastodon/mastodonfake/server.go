// Package mastodonfake is a fake Mastodon server for one account, on loopback, for tests and
// for the sandbox (herald demo). It checks what Mastodon checks and answers what Mastodon
// answers: every API call needs the account's bearer token, else 401
// {"error":"The access token is invalid"}; POST /api/v1/statuses (form or JSON) takes status,
// visibility, language and media_ids[], counts the text as Mastodon does (grapheme clusters,
// every URL 23, a remote mention as its local part: count.go) against max_characters (500 by default) and answers 422
// {"error":"Validation failed: Text character limit of 500 exceeded"}; a repeated
// Idempotency-Key within an hour answers the status it made (404 once it was deleted) and
// creates nothing; every request counts against the account's rate limit (300 per 5 minutes,
// uploads and deletes 30 per 30 minutes), answered with X-RateLimit-Limit/Remaining/Reset and, over it, 429
// {"error":"Too many requests"}. POST /api/v2/media takes an image, DELETE /api/v1/statuses/:id,
// GET /api/v1/accounts/verify_credentials and GET /api/v2/instance; GET and PUT (edit)
// /api/v1/statuses/:id, the edit only on this account's own statuses (404 otherwise, as for a
// deleted one). Failures can be injected (FailNext, FailDeleteNext, FailEditNext, DropNextStatus,
// ProcessNextUpload) and everything read back (Statuses, Edits, Media, Requests). All methods are safe for concurrent use.
package mastodonfake

import (
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Defaults a new Server starts with.
const (
	DefaultToken    = "herald-fake-mastodon-token-Zq9xW2vK7mP4"
	AccountID       = "109000000000000001"
	Username        = "herald"
	MaxCharacters   = 500
	IdempotencyTTL  = time.Hour
	DefaultLimit    = 300
	DefaultPeriod   = 5 * time.Minute
	MediaLimit      = 30
	MediaPeriod     = 30 * time.Minute
	maxAttachments  = 4
	firstStatusID   = 113500000000000000
	firstMediaID    = 113400000000000000
	statusURLFormat = "%s/@" + Username + "/%s"
	otherAccountID  = "109000000000000002"
)

// Status is one status the server made.
type Status struct {
	ID             string
	URL            string
	Text           string
	Visibility     string
	Language       string
	MediaIDs       []string
	IdempotencyKey string
	Deleted        bool
	Time           time.Time
	// Account is the owner's id: AccountID, or another account's (AddForeignStatus).
	Account string
	// Edits counts the accepted edits (PUT /api/v1/statuses/:id); EditedAt is the last one's time.
	Edits    int
	EditedAt time.Time
}

// Edit is one accepted PUT /api/v1/statuses/:id, as the server applied it.
type Edit struct {
	StatusID, Text, Language string
	MediaIDs                 []string
}

// Media is one accepted upload.
type Media struct {
	ID, ContentType, Filename string
	Size                      int
	// Pending is how many more GET /api/v1/media/:id answer 206 (still processing).
	Pending int
}

// Request is one request received.
type Request struct {
	Method, Path   string
	Status         int
	IdempotencyKey string
	Time           time.Time
}

type injected struct {
	status int
	body   string
	header http.Header
}

type idem struct {
	statusID string
	at       time.Time
}

// Server is the fake. Create it with New; Close it when done.
type Server struct {
	srv *httptest.Server

	mu       sync.Mutex
	token    string
	maxChars int
	statuses []Status
	media    map[string]Media
	idem     map[string]idem
	requests []Request
	fail     []injected
	failDel  []injected
	failEdit []injected
	edits    []Edit
	drop     int
	slow     int // ProcessNextUpload
	nextID   int64
	mediaID  int64
	api      *window // every authenticated request
	uploads  *window // POST /api/v2/media
	deletes  *window // DELETE /api/v1/statuses/:id
	now      func() time.Time
}

// New starts a fake on a loopback port.
func New() *Server {
	s := &Server{
		token: DefaultToken, maxChars: MaxCharacters, media: map[string]Media{}, idem: map[string]idem{},
		nextID: firstStatusID, mediaID: firstMediaID, now: time.Now,
		api:     newWindow(DefaultLimit, DefaultPeriod),
		uploads: newWindow(MediaLimit, MediaPeriod),
		deletes: newWindow(MediaLimit, MediaPeriod),
	}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	return s
}

// URL is the value for the channel's instance setting.
func (s *Server) URL() string { return s.srv.URL }

// Close stops the server.
func (s *Server) Close() { s.srv.Close() }

// SetToken replaces the accepted token (a revoked token: the old one then gets 401).
func (s *Server) SetToken(t string) { s.mu.Lock(); s.token = t; s.mu.Unlock() }

// SetMaxCharacters sets the instance's status limit (GET /api/v2/instance and validation).
func (s *Server) SetMaxCharacters(n int) { s.mu.Lock(); s.maxChars = n; s.mu.Unlock() }

// SetRateLimit sets how many API requests a period allows (default 300 per 5 minutes).
func (s *Server) SetRateLimit(n int, period time.Duration) {
	s.mu.Lock()
	s.api = newWindow(n, period)
	s.mu.Unlock()
}

// SetNow replaces the server's clock (idempotency keys expire after an hour of it).
func (s *Server) SetNow(now func() time.Time) { s.mu.Lock(); s.now = now; s.mu.Unlock() }

// FailNext makes the next POST /api/v1/statuses answer status with body (JSON) and headers
// (over the server's own; "" removes one), once per call; nothing is made.
func (s *Server) FailNext(status int, body string, header http.Header) {
	s.mu.Lock()
	s.fail = append(s.fail, injected{status, body, header})
	s.mu.Unlock()
}

// FailDeleteNext makes the next DELETE /api/v1/statuses/:id answer status with body; nothing
// is deleted.
func (s *Server) FailDeleteNext(status int, body string, header http.Header) {
	s.mu.Lock()
	s.failDel = append(s.failDel, injected{status, body, header})
	s.mu.Unlock()
}

// FailEditNext makes the next PUT /api/v1/statuses/:id answer status with body; nothing changes.
func (s *Server) FailEditNext(status int, body string, header http.Header) {
	s.mu.Lock()
	s.failEdit = append(s.failEdit, injected{status, body, header})
	s.mu.Unlock()
}

// AddForeignStatus makes a status of another account on this server and returns its id: it
// can be read (GET), but this account's token cannot edit or delete it.
func (s *Server) AddForeignStatus(text string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.nextID++
	id := strconv.FormatInt(s.nextID, 10)
	s.statuses = append(s.statuses, Status{ID: id, URL: fmt.Sprintf("%s/@other/%s", s.srv.URL, id), Text: text,
		Visibility: "public", Time: s.now(), Account: otherAccountID})
	return id
}

// Edits returns the accepted edits in order.
func (s *Server) Edits() []Edit {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Edit, len(s.edits))
	for i, e := range s.edits {
		e.MediaIDs = append([]string(nil), e.MediaIDs...)
		out[i] = e
	}
	return out
}

// ProcessNextUpload makes the next upload be processed asynchronously, as Mastodon does
// for large files: POST /api/v2/media answers 202 with "url": null, GET /api/v1/media/:id
// answers 206 the next polls times, and a status naming it meanwhile gets 422
// "Cannot attach files that have not finished processing. Try again in a moment!".
func (s *Server) ProcessNextUpload(polls int) { s.mu.Lock(); s.slow = polls; s.mu.Unlock() }

// DropNextStatus makes the next new status be made (and its Idempotency-Key stored) but the
// connection close before any answer: the client cannot know it went out.
func (s *Server) DropNextStatus() { s.mu.Lock(); s.drop++; s.mu.Unlock() }

// Statuses returns the statuses made, in order (deleted ones included, marked).
func (s *Server) Statuses() []Status {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Status, len(s.statuses))
	for i, st := range s.statuses {
		st.MediaIDs = append([]string(nil), st.MediaIDs...)
		out[i] = st
	}
	return out
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

func errorBody(msg string) string {
	b, _ := json.Marshal(map[string]string{"error": msg})
	return string(b)
}

func (s *Server) answer(w http.ResponseWriter, r *http.Request, status int, body any) {
	s.mu.Lock()
	s.requests = append(s.requests, Request{Method: r.Method, Path: r.URL.Path, Status: status,
		IdempotencyKey: r.Header.Get("Idempotency-Key"), Time: s.now()})
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
	p := r.URL.Path
	if !strings.HasPrefix(p, "/api/") {
		s.answer(w, r, 404, "<!DOCTYPE html><title>The page you are looking for isn't here.</title>")
		return
	}
	if !s.authorized(r) {
		s.answer(w, r, 401, errorBody("The access token is invalid"))
		return
	}
	// Rate limits per account (rack-attack), counted before anything else is looked at.
	if !s.allow(w, r, s.api) {
		return
	}
	id, isStatus := strings.CutPrefix(p, "/api/v1/statuses/")
	mediaID, isMedia := strings.CutPrefix(p, "/api/v1/media/")
	switch {
	case r.Method == http.MethodPost && p == "/api/v1/statuses":
		s.createStatus(w, r)
	case r.Method == http.MethodGet && isStatus && !strings.Contains(id, "/"):
		s.getStatus(w, r, id)
	case r.Method == http.MethodPut && isStatus && !strings.Contains(id, "/"):
		s.editStatus(w, r, id)
	case r.Method == http.MethodDelete && isStatus && !strings.Contains(id, "/"):
		if s.allow(w, r, s.deletes) {
			s.deleteStatus(w, r, id)
		}
	case r.Method == http.MethodPost && p == "/api/v2/media":
		if s.allow(w, r, s.uploads) {
			s.upload(w, r)
		}
	case r.Method == http.MethodGet && isMedia:
		s.getMedia(w, r, mediaID)
	case r.Method == http.MethodGet && p == "/api/v1/accounts/verify_credentials":
		s.answer(w, r, 200, map[string]any{"id": AccountID, "username": Username, "acct": Username,
			"display_name": "Herald Fake", "url": s.srv.URL + "/@" + Username})
	case r.Method == http.MethodGet && p == "/api/v2/instance":
		s.mu.Lock()
		n := s.maxChars
		s.mu.Unlock()
		s.answer(w, r, 200, map[string]any{"domain": strings.TrimPrefix(s.srv.URL, "http://"), "version": "4.3.0",
			"configuration": map[string]any{"statuses": map[string]any{"max_characters": n, "max_media_attachments": maxAttachments,
				"characters_reserved_per_url": urlLength}}})
	default:
		s.answer(w, r, 404, errorBody("Record not found"))
	}
}

func (s *Server) authorized(r *http.Request) bool {
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	s.mu.Lock()
	defer s.mu.Unlock()
	return ok && tok != "" && tok == s.token
}

// allow counts r in win and sets the X-RateLimit headers; over the limit it answers 429.
// Specs: https://docs.joinmastodon.org/api/rate-limits/
func (s *Server) allow(w http.ResponseWriter, r *http.Request, win *window) bool {
	s.mu.Lock()
	ok, remaining, reset := win.take(s.now())
	limit := win.limit
	s.mu.Unlock()
	w.Header().Set("X-RateLimit-Limit", strconv.Itoa(limit))
	w.Header().Set("X-RateLimit-Remaining", strconv.Itoa(remaining))
	w.Header().Set("X-RateLimit-Reset", reset.UTC().Format("2006-01-02T15:04:05.000000Z"))
	if !ok {
		s.answer(w, r, 429, errorBody("Too many requests"))
	}
	return ok
}

// window is a fixed rate-limit window aligned to multiples of period, as rack-attack counts.
type window struct {
	limit  int
	period time.Duration
	start  time.Time
	n      int
}

func newWindow(limit int, period time.Duration) *window { return &window{limit: limit, period: period} }

func (w *window) take(now time.Time) (ok bool, remaining int, reset time.Time) {
	start := now.Truncate(w.period)
	if !start.Equal(w.start) {
		w.start, w.n = start, 0
	}
	reset = start.Add(w.period)
	if w.n >= w.limit {
		return false, 0, reset
	}
	w.n++
	return true, w.limit - w.n, reset
}

// params reads a form (urlencoded or multipart) or JSON body into one map; media_ids[] and
// media_ids are the same parameter.
func params(r *http.Request) (url.Values, error) {
	v := url.Values{}
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	switch mt {
	case "application/json":
		var body map[string]any
		if err := json.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(&body); err != nil {
			return nil, err
		}
		for k, x := range body {
			switch t := x.(type) {
			case string:
				v.Set(k, t)
			case []any:
				for _, e := range t {
					v.Add(k, fmt.Sprint(e))
				}
			case nil:
			default:
				v.Set(k, fmt.Sprint(t))
			}
		}
	case "application/x-www-form-urlencoded", "multipart/form-data":
		if err := r.ParseMultipartForm(32 << 20); err != nil && err != http.ErrNotMultipart {
			return nil, err
		}
		for k, vs := range r.PostForm {
			v[k] = vs
		}
	}
	if ids := v["media_ids[]"]; len(ids) > 0 {
		v["media_ids"] = ids
	}
	return v, nil
}

var visibilities = map[string]bool{"public": true, "unlisted": true, "private": true, "direct": true}

// createStatus is POST /api/v1/statuses.
// Specs: https://docs.joinmastodon.org/methods/statuses/#create
func (s *Server) createStatus(w http.ResponseWriter, r *http.Request) {
	form, err := params(r)
	if err != nil {
		s.answer(w, r, 400, errorBody("Invalid request body: "+err.Error()))
		return
	}
	key := r.Header.Get("Idempotency-Key")
	s.mu.Lock()
	// A key seen within the hour answers the status it made, before anything else is checked:
	// nothing new is made. Mastodon finds that status by the id it stored with the key
	// (PostStatusService: @account.statuses.find), so once it was deleted the lookup fails and
	// the answer is 404 Record not found — still nothing new is made.
	if key != "" {
		if prev, ok := s.idem[key]; ok && s.now().Sub(prev.at) < IdempotencyTTL {
			st := s.find(prev.statusID)
			if st == nil || st.Deleted {
				s.mu.Unlock()
				s.answer(w, r, 404, errorBody("Record not found"))
				return
			}
			body := s.statusJSON(*st)
			s.mu.Unlock()
			s.answer(w, r, 200, body)
			return
		}
	}
	if len(s.fail) > 0 {
		f := s.fail[0]
		s.fail = s.fail[1:]
		s.mu.Unlock()
		setHeaders(w, f.header)
		s.answer(w, r, f.status, f.body)
		return
	}
	maxChars := s.maxChars
	s.mu.Unlock()
	text, ids := form.Get("status"), form["media_ids"]
	vis := form.Get("visibility")
	if vis == "" {
		vis = "public"
	}
	switch {
	case strings.TrimSpace(text) == "" && len(ids) == 0:
		s.answer(w, r, 422, errorBody("Validation failed: Text can't be blank"))
		return
	case Count(text) > maxChars:
		s.answer(w, r, 422, errorBody(fmt.Sprintf("Validation failed: Text character limit of %d exceeded", maxChars)))
		return
	case !visibilities[vis]:
		s.answer(w, r, 422, errorBody(fmt.Sprintf("'%s' is not a valid visibility", vis)))
		return
	case len(ids) > maxAttachments:
		s.answer(w, r, 422, errorBody("Cannot attach more than 4 files"))
		return
	}
	s.mu.Lock()
	for _, id := range ids {
		m, ok := s.media[id]
		if !ok {
			s.mu.Unlock()
			s.answer(w, r, 422, errorBody("Validation failed: Media attachments could not be found: "+id))
			return
		}
		if m.Pending > 0 {
			s.mu.Unlock()
			s.answer(w, r, 422, errorBody("Cannot attach files that have not finished processing. Try again in a moment!"))
			return
		}
	}
	s.nextID++
	id := strconv.FormatInt(s.nextID, 10)
	st := Status{ID: id, URL: fmt.Sprintf(statusURLFormat, s.srv.URL, id), Text: text, Visibility: vis,
		Language: form.Get("language"), MediaIDs: ids, IdempotencyKey: key, Time: s.now(), Account: AccountID}
	s.statuses = append(s.statuses, st)
	if key != "" {
		s.idem[key] = idem{statusID: id, at: st.Time}
	}
	drop := s.drop > 0
	if drop {
		s.drop--
		s.requests = append(s.requests, Request{Method: r.Method, Path: r.URL.Path, IdempotencyKey: key, Time: st.Time})
	}
	body := s.statusJSON(st)
	s.mu.Unlock()
	if drop {
		if hj, ok := w.(http.Hijacker); ok {
			if conn, _, err := hj.Hijack(); err == nil {
				_ = conn.Close()
			}
		}
		return
	}
	s.answer(w, r, 200, body)
}

// setHeaders puts an injected answer's headers over the ones the server set (a value of ""
// removes the header).
func setHeaders(w http.ResponseWriter, h http.Header) {
	for k, vs := range h {
		w.Header().Del(k)
		for _, v := range vs {
			if v != "" {
				w.Header().Add(k, v)
			}
		}
	}
}

func (s *Server) find(id string) *Status {
	for i := range s.statuses {
		if s.statuses[i].ID == id {
			return &s.statuses[i]
		}
	}
	return nil
}

func (s *Server) statusJSON(st Status) map[string]any {
	media := []map[string]any{}
	for _, id := range st.MediaIDs {
		media = append(media, map[string]any{"id": id, "type": "image", "url": s.srv.URL + "/system/media/" + id})
	}
	var lang, edited any
	if st.Language != "" {
		lang = st.Language
	}
	if st.Edits > 0 {
		edited = st.EditedAt.UTC().Format(time.RFC3339)
	}
	acct := map[string]string{"id": AccountID, "username": Username, "acct": Username}
	if st.Account != AccountID {
		acct = map[string]string{"id": st.Account, "username": "other", "acct": "other"}
	}
	return map[string]any{"edited_at": edited,
		"id": st.ID, "created_at": st.Time.UTC().Format(time.RFC3339), "url": st.URL,
		"uri":     s.srv.URL + "/users/" + Username + "/statuses/" + st.ID,
		"content": "<p>" + htmlEscape(st.Text) + "</p>", "visibility": st.Visibility, "language": lang,
		"media_attachments": media, "account": acct,
	}
}

func htmlEscape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;", "\n", "<br />").Replace(s)
}

// deleteStatus is DELETE /api/v1/statuses/:id: the deleted status with its source text.
// Specs: https://docs.joinmastodon.org/methods/statuses/#delete
func (s *Server) deleteStatus(w http.ResponseWriter, r *http.Request, id string) {
	s.mu.Lock()
	if len(s.failDel) > 0 {
		f := s.failDel[0]
		s.failDel = s.failDel[1:]
		s.mu.Unlock()
		setHeaders(w, f.header)
		s.answer(w, r, f.status, f.body)
		return
	}
	st := s.find(id)
	if st == nil || st.Deleted || st.Account != AccountID {
		s.mu.Unlock()
		s.answer(w, r, 404, errorBody("Record not found"))
		return
	}
	st.Deleted = true
	body := s.statusJSON(*st)
	body["text"] = st.Text
	s.mu.Unlock()
	s.answer(w, r, 200, body)
}

// upload is POST /api/v2/media: a multipart "file" that must be an image here.
// Specs: https://docs.joinmastodon.org/methods/media/#v2
func (s *Server) upload(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseMultipartForm(40 << 20); err != nil {
		s.answer(w, r, 422, errorBody("Validation failed: File can't be blank"))
		return
	}
	fhs := r.MultipartForm.File["file"]
	if len(fhs) == 0 {
		s.answer(w, r, 422, errorBody("Validation failed: File can't be blank"))
		return
	}
	f, err := fhs[0].Open()
	if err != nil {
		s.answer(w, r, 500, errorBody(err.Error()))
		return
	}
	data, err := io.ReadAll(f)
	f.Close()
	if err != nil {
		s.answer(w, r, 500, errorBody(err.Error()))
		return
	}
	// Mastodon sniffs the bytes, not the declared type.
	ct := http.DetectContentType(data)
	if !strings.HasPrefix(ct, "image/") {
		s.answer(w, r, 422, errorBody("Validation failed: File content type is invalid, File is invalid"))
		return
	}
	s.mu.Lock()
	s.mediaID++
	m := Media{ID: strconv.FormatInt(s.mediaID, 10), ContentType: ct, Filename: fhs[0].Filename, Size: len(data), Pending: s.slow}
	s.slow = 0
	s.media[m.ID] = m
	s.mu.Unlock()
	if m.Pending > 0 {
		s.answer(w, r, 202, map[string]any{"id": m.ID, "type": "image", "url": nil})
		return
	}
	s.answer(w, r, 200, map[string]any{"id": m.ID, "type": "image", "url": s.srv.URL + "/system/media/" + m.ID})
}

// getMedia is GET /api/v1/media/:id: 206 with "url": null while processing, 200 once done.
// Specs: https://docs.joinmastodon.org/methods/media/#get
func (s *Server) getMedia(w http.ResponseWriter, r *http.Request, id string) {
	s.mu.Lock()
	m, ok := s.media[id]
	pending := ok && m.Pending > 0
	if pending {
		m.Pending--
		s.media[id] = m
	}
	s.mu.Unlock()
	switch {
	case !ok:
		s.answer(w, r, 404, errorBody("Record not found"))
	case pending:
		s.answer(w, r, 206, map[string]any{"id": id, "type": "image", "url": nil})
	default:
		s.answer(w, r, 200, map[string]any{"id": id, "type": "image", "url": s.srv.URL + "/system/media/" + id})
	}
}

// getStatus is GET /api/v1/statuses/:id: any status this server has that is not deleted.
// Specs: https://docs.joinmastodon.org/methods/statuses/#get
func (s *Server) getStatus(w http.ResponseWriter, r *http.Request, id string) {
	s.mu.Lock()
	st := s.find(id)
	if st == nil || st.Deleted {
		s.mu.Unlock()
		s.answer(w, r, 404, errorBody("Record not found"))
		return
	}
	body := s.statusJSON(*st)
	s.mu.Unlock()
	s.answer(w, r, 200, body)
}

// editStatus is PUT /api/v1/statuses/:id. Mastodon looks the status up among the token's
// account's own (current_account.statuses.find), so another account's status or a deleted one
// answers 404 Record not found; the text is validated as on create (422); media_ids[] is the
// list of attachments to keep, so an edit without it drops the status's media; language is set
// when given. Editing to the same text succeeds.
// Specs: https://docs.joinmastodon.org/methods/statuses/#edit
func (s *Server) editStatus(w http.ResponseWriter, r *http.Request, id string) {
	form, err := params(r)
	if err != nil {
		s.answer(w, r, 400, errorBody("Invalid request body: "+err.Error()))
		return
	}
	s.mu.Lock()
	if len(s.failEdit) > 0 {
		f := s.failEdit[0]
		s.failEdit = s.failEdit[1:]
		s.mu.Unlock()
		setHeaders(w, f.header)
		s.answer(w, r, f.status, f.body)
		return
	}
	st := s.find(id)
	if st == nil || st.Deleted || st.Account != AccountID {
		s.mu.Unlock()
		s.answer(w, r, 404, errorBody("Record not found"))
		return
	}
	maxChars := s.maxChars
	s.mu.Unlock()
	text, ids := form.Get("status"), form["media_ids"]
	switch {
	case strings.TrimSpace(text) == "" && len(ids) == 0:
		s.answer(w, r, 422, errorBody("Validation failed: Text can't be blank"))
		return
	case Count(text) > maxChars:
		s.answer(w, r, 422, errorBody(fmt.Sprintf("Validation failed: Text character limit of %d exceeded", maxChars)))
		return
	case len(ids) > maxAttachments:
		s.answer(w, r, 422, errorBody("Cannot attach more than 4 files"))
		return
	}
	s.mu.Lock()
	for _, mid := range ids {
		if _, ok := s.media[mid]; !ok {
			s.mu.Unlock()
			s.answer(w, r, 422, errorBody("Validation failed: Media attachments could not be found: "+mid))
			return
		}
	}
	st = s.find(id)
	st.Text, st.MediaIDs = text, append([]string(nil), ids...)
	if lang := form.Get("language"); lang != "" {
		st.Language = lang
	}
	st.Edits++
	st.EditedAt = s.now()
	s.edits = append(s.edits, Edit{StatusID: id, Text: text, Language: st.Language, MediaIDs: append([]string(nil), ids...)})
	body := s.statusJSON(*st)
	s.mu.Unlock()
	s.answer(w, r, 200, body)
}
