// Package blueskyfake is a fake Bluesky PDS for one account, on loopback, for tests (and the
// sandbox). It checks what the PDS checks and answers what it answers: sessions from the app
// password (opaque tokens that tests can expire, to exercise refreshSession; refresh tokens
// rotate and a used one is revoked), createSession limited to 30 per 5 minutes, every write
// costing points against 5,000 an hour (create 3, delete 1), 429 RateLimitExceeded with the
// RateLimit-* headers, post records validated against app.bsky.feed.post (text ≤ 300 graphemes
// and ≤ 3000 bytes, createdAt, langs, facets, the external card and its thumb blob), record
// keys that must be TIDs, and a taken record key answered with the reference PDS's 500.
//
// The fake is stricter than the PDS in one place, on purpose: a facet must cover bytes inside
// the text, start and end on UTF-8 boundaries, and a tag facet must cover "#" and its tag, a
// link facet non-empty text. The PDS stores any byte range; the apps then underline the wrong
// letters, which is what these checks catch.
//
// Errors are XRPC's {"error":"Name","message":"…"}. Failures can be injected (FailNext,
// RateLimitNext, DropNextPost, ExpireAccessTokens, RevokeRefreshTokens, SetPassword). All
// methods are safe for concurrent use.
package blueskyfake

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/rivo/uniseg"
)

// The account a new Server holds, and the PDS's limits.
const (
	DefaultHandle   = "herald-news.bsky.social"
	DefaultDID      = "did:plc:heraldfakeaccountabcdefg"
	DefaultPassword = "hrld-fake-apwd-2026"
	Collection      = "app.bsky.feed.post"

	MaxTextGraphemes = 300
	MaxTextBytes     = 3000
	MaxLangs         = 3
	MaxThumbBytes    = 1_000_000
	// MaxBlobBytes is the PDS's upload limit (PDS_BLOB_UPLOAD_LIMIT's default); a blob between
	// MaxThumbBytes and this is stored, but a card that uses it is refused.
	MaxBlobBytes = 5_000_000

	SessionLimit  = 30 // createSession per identifier per SessionWindow
	SessionWindow = 5 * time.Minute
	WritePoints   = 5000 // per WriteWindow; create costs 3, delete 1
	WriteWindow   = time.Hour
)

// Record is one post record the fake accepted.
type Record struct {
	URI, Rkey, CID string
	Text           string
	CreatedAt      string
	Langs          []string
	Facets         []Facet
	// Card is the external embed (nil without one); Thumb its blob (nil without one).
	Card    *Card
	Raw     map[string]any // the record as received
	Deleted bool
	Time    time.Time
}

// Facet is a facet as the fake read it: its bytes of the text and its feature.
type Facet struct {
	ByteStart, ByteEnd int
	Type               string // "link", "tag", "mention"
	Value              string // uri, tag or did
	Covered            string // text[ByteStart:ByteEnd]
}

// Card is app.bsky.embed.external's external object.
type Card struct {
	URI, Title, Description string
	Thumb                   *Blob
}

// Blob is an uploaded blob.
type Blob struct {
	CID, MimeType string
	Size          int
}

// Request is one request received.
type Request struct {
	Method string // the XRPC method: "com.atproto.repo.createRecord"
	Status int
	Time   time.Time
}

type injected struct {
	status        int
	name, message string
}

type tokenState struct {
	refresh bool
	expired bool
}

// Server is the fake. Create it with New; Close it when done.
type Server struct {
	srv *httptest.Server

	mu           sync.Mutex
	password     string
	tokens       map[string]*tokenState
	usedRefresh  map[string]bool
	seq          int
	records      map[string]*Record // rkey → live record
	posts        []*Record
	blobs        map[string]Blob
	requests     []Request
	created      int // createSession calls that succeeded
	refreshed    int
	sessionCalls []time.Time
	writes       []spend
	fail         []injected
	failRead     []injected
	limitNext    []time.Time
	drop         int
}

type spend struct {
	at     time.Time
	points int
}

// New starts a fake on a loopback port.
func New() *Server {
	s := &Server{password: DefaultPassword, tokens: map[string]*tokenState{}, usedRefresh: map[string]bool{},
		records: map[string]*Record{}, blobs: map[string]Blob{}}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	return s
}

// URL is the value for the channel's service setting.
func (s *Server) URL() string { return s.srv.URL }

// Close stops the server.
func (s *Server) Close() { s.srv.Close() }

// SetPassword replaces the app password (the old one then gets 401 AuthenticationRequired).
func (s *Server) SetPassword(p string) { s.mu.Lock(); s.password = p; s.mu.Unlock() }

// ExpireAccessTokens makes every access token issued so far answer 400 ExpiredToken.
func (s *Server) ExpireAccessTokens() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, t := range s.tokens {
		if !t.refresh {
			t.expired = true
		}
	}
}

// RevokeRefreshTokens makes every refresh token issued so far answer 400 ExpiredToken (the
// app password was revoked and re-created, or the session timed out): only createSession helps.
func (s *Server) RevokeRefreshTokens() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for tok, t := range s.tokens {
		if t.refresh {
			delete(s.tokens, tok)
			s.usedRefresh[tok] = true
		}
	}
}

// FailNext makes the next createRecord answer an XRPC error (after the auth check); nothing
// is posted.
func (s *Server) FailNext(status int, name, message string) {
	s.mu.Lock()
	s.fail = append(s.fail, injected{status, name, message})
	s.mu.Unlock()
}

// FailNextRead makes the next getRecord answer an XRPC error.
func (s *Server) FailNextRead(status int, name, message string) {
	s.mu.Lock()
	s.failRead = append(s.failRead, injected{status, name, message})
	s.mu.Unlock()
}

// RateLimitNext makes the next createRecord answer 429 with RateLimit-Reset at reset.
func (s *Server) RateLimitNext(reset time.Time) {
	s.mu.Lock()
	s.limitNext = append(s.limitNext, reset)
	s.mu.Unlock()
}

// DropNextPost makes the next createRecord make the post and then close the connection
// without an answer.
func (s *Server) DropNextPost() { s.mu.Lock(); s.drop++; s.mu.Unlock() }

// Sessions counts createSession and refreshSession calls that succeeded.
func (s *Server) Sessions() (created, refreshed int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.created, s.refreshed
}

// Posts returns every post record made, in order (deleted ones included, marked).
func (s *Server) Posts() []Record {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Record, len(s.posts))
	for i, p := range s.posts {
		out[i] = *p
	}
	return out
}

// Requests returns every request received, in order.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.requests...)
}

// Count is how many requests called method.
func (s *Server) Count(method string) int {
	n := 0
	for _, r := range s.Requests() {
		if r.Method == method {
			n++
		}
	}
	return n
}

func (s *Server) answer(w http.ResponseWriter, method string, status int, body any) {
	s.mu.Lock()
	s.requests = append(s.requests, Request{Method: method, Status: status, Time: time.Now()})
	s.mu.Unlock()
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(body)
}

func (s *Server) xrpcError(w http.ResponseWriter, method string, status int, name, message string) {
	s.answer(w, method, status, map[string]string{"error": name, "message": message})
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	method, ok := strings.CutPrefix(r.URL.Path, "/xrpc/")
	if !ok {
		http.NotFound(w, r)
		return
	}
	procedures := map[string]func(http.ResponseWriter, *http.Request, string){
		"com.atproto.server.createSession":  s.createSession,
		"com.atproto.server.refreshSession": s.refreshSession,
		"com.atproto.repo.createRecord":     s.createRecord,
		"com.atproto.repo.deleteRecord":     s.deleteRecord,
		"com.atproto.repo.uploadBlob":       s.uploadBlob,
	}
	queries := map[string]func(http.ResponseWriter, *http.Request, string){
		"com.atproto.server.getSession": s.getSession,
		"com.atproto.repo.getRecord":    s.getRecord,
	}
	if h, ok := procedures[method]; ok {
		if r.Method != http.MethodPost {
			s.xrpcError(w, method, 400, "InvalidRequest", "Incorrect HTTP method ("+r.Method+") expected POST")
			return
		}
		h(w, r, method)
		return
	}
	if h, ok := queries[method]; ok {
		if r.Method != http.MethodGet {
			s.xrpcError(w, method, 400, "InvalidRequest", "Incorrect HTTP method ("+r.Method+") expected GET")
			return
		}
		h(w, r, method)
		return
	}
	s.xrpcError(w, method, 501, "MethodNotImplemented", "Method Not Implemented")
}

// rateLimited answers 429 when the window's points are spent (or one was injected), with the
// headers the PDS sends.
func (s *Server) rateLimited(w http.ResponseWriter, method string, limit int, window time.Duration, reset time.Time) {
	w.Header().Set("RateLimit-Limit", strconv.Itoa(limit))
	w.Header().Set("RateLimit-Remaining", "0")
	w.Header().Set("RateLimit-Reset", strconv.FormatInt(reset.Unix(), 10))
	w.Header().Set("RateLimit-Policy", fmt.Sprintf("%d;w=%d", limit, int(window/time.Second)))
	s.xrpcError(w, method, http.StatusTooManyRequests, "RateLimitExceeded", "Rate Limit Exceeded")
}

func (s *Server) newTokens() (access, refresh string) {
	var b [12]byte
	_, _ = rand.Read(b[:])
	s.seq++
	access = fmt.Sprintf("fake-access-%d-%s", s.seq, hex.EncodeToString(b[:]))
	refresh = fmt.Sprintf("fake-refresh-%d-%s", s.seq, hex.EncodeToString(b[:]))
	s.tokens[access] = &tokenState{}
	s.tokens[refresh] = &tokenState{refresh: true}
	return access, refresh
}

func (s *Server) sessionBody(access, refresh string) map[string]any {
	return map[string]any{"accessJwt": access, "refreshJwt": refresh, "handle": DefaultHandle, "did": DefaultDID, "active": true}
}

// Specs: https://docs.bsky.app/docs/api/com-atproto-server-create-session
func (s *Server) createSession(w http.ResponseWriter, r *http.Request, method string) {
	var in struct {
		Identifier string `json:"identifier"`
		Password   string `json:"password"`
	}
	if err := json.NewDecoder(io.LimitReader(r.Body, 1<<16)).Decode(&in); err != nil || in.Identifier == "" || in.Password == "" {
		s.xrpcError(w, method, 400, "InvalidRequest", "Input must have the property \"identifier\" and \"password\"")
		return
	}
	now := time.Now()
	s.mu.Lock()
	recent := s.sessionCalls[:0]
	for _, t := range s.sessionCalls {
		if now.Sub(t) < SessionWindow {
			recent = append(recent, t)
		}
	}
	s.sessionCalls = recent
	if len(recent) >= SessionLimit {
		reset := recent[0].Add(SessionWindow)
		s.mu.Unlock()
		s.rateLimited(w, method, SessionLimit, SessionWindow, reset)
		return
	}
	s.sessionCalls = append(s.sessionCalls, now)
	good := (in.Identifier == DefaultHandle || in.Identifier == DefaultDID) && in.Password == s.password
	var access, refresh string
	if good {
		access, refresh = s.newTokens()
		s.created++
	}
	s.mu.Unlock()
	if !good {
		s.xrpcError(w, method, 401, "AuthenticationRequired", "Invalid identifier or password")
		return
	}
	s.answer(w, method, 200, s.sessionBody(access, refresh))
}

// Specs: https://docs.bsky.app/docs/api/com-atproto-server-refresh-session
func (s *Server) refreshSession(w http.ResponseWriter, r *http.Request, method string) {
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok || tok == "" {
		s.xrpcError(w, method, 401, "AuthMissing", "Authentication Required")
		return
	}
	s.mu.Lock()
	st := s.tokens[tok]
	used := s.usedRefresh[tok]
	var access, refresh string
	if st != nil && st.refresh {
		delete(s.tokens, tok)
		s.usedRefresh[tok] = true
		access, refresh = s.newTokens()
		s.refreshed++
	}
	s.mu.Unlock()
	switch {
	case used:
		s.xrpcError(w, method, 400, "ExpiredToken", "Token has been revoked")
	case st == nil:
		s.xrpcError(w, method, 400, "InvalidToken", "Token could not be verified")
	case !st.refresh:
		s.xrpcError(w, method, 400, "InvalidToken", "Invalid token type")
	default:
		s.answer(w, method, 200, s.sessionBody(access, refresh))
	}
}

// authorize checks the access token as the PDS does; false means an answer was written.
func (s *Server) authorize(w http.ResponseWriter, r *http.Request, method string) bool {
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok || tok == "" {
		s.xrpcError(w, method, 401, "AuthMissing", "Authentication Required")
		return false
	}
	s.mu.Lock()
	st := s.tokens[tok]
	s.mu.Unlock()
	switch {
	case st == nil:
		s.xrpcError(w, method, 400, "InvalidToken", "Token could not be verified")
	case st.refresh:
		s.xrpcError(w, method, 400, "InvalidToken", "Bad token scope")
	case st.expired:
		s.xrpcError(w, method, 400, "ExpiredToken", "Token has expired")
	default:
		return true
	}
	return false
}

// spendWrite takes points from the hourly write budget; false means a 429 was written.
func (s *Server) spendWrite(w http.ResponseWriter, method string, points int) bool {
	now := time.Now()
	s.mu.Lock()
	kept, used := s.writes[:0], 0
	for _, sp := range s.writes {
		if now.Sub(sp.at) < WriteWindow {
			kept = append(kept, sp)
			used += sp.points
		}
	}
	s.writes = kept
	if used+points > WritePoints {
		reset := kept[0].at.Add(WriteWindow)
		s.mu.Unlock()
		s.rateLimited(w, method, WritePoints, WriteWindow, reset)
		return false
	}
	s.writes = append(s.writes, spend{now, points})
	remaining := WritePoints - used - points
	s.mu.Unlock()
	w.Header().Set("RateLimit-Limit", strconv.Itoa(WritePoints))
	w.Header().Set("RateLimit-Remaining", strconv.Itoa(remaining))
	w.Header().Set("RateLimit-Reset", strconv.FormatInt(now.Add(WriteWindow).Unix(), 10))
	w.Header().Set("RateLimit-Policy", fmt.Sprintf("%d;w=%d", WritePoints, int(WriteWindow/time.Second)))
	return true
}

func (s *Server) getSession(w http.ResponseWriter, r *http.Request, method string) {
	if !s.authorize(w, r, method) {
		return
	}
	s.answer(w, method, 200, map[string]any{"handle": DefaultHandle, "did": DefaultDID, "active": true})
}

var tidRE = regexp.MustCompile(`^[234567abcdefghij][234567abcdefghijklmnopqrstuvwxyz]{12}$`)

func ourRepo(repo string) bool { return repo == DefaultDID || repo == DefaultHandle }

// Specs: https://docs.bsky.app/docs/api/com-atproto-repo-create-record
func (s *Server) createRecord(w http.ResponseWriter, r *http.Request, method string) {
	if !s.authorize(w, r, method) {
		return
	}
	s.mu.Lock()
	var inj *injected
	if len(s.fail) > 0 {
		inj = &s.fail[0]
		s.fail = s.fail[1:]
	}
	var limit *time.Time
	if inj == nil && len(s.limitNext) > 0 {
		limit = &s.limitNext[0]
		s.limitNext = s.limitNext[1:]
	}
	s.mu.Unlock()
	if inj != nil {
		s.xrpcError(w, method, inj.status, inj.name, inj.message)
		return
	}
	if limit != nil {
		s.rateLimited(w, method, WritePoints, WriteWindow, *limit)
		return
	}
	var in struct {
		Repo       string         `json:"repo"`
		Collection string         `json:"collection"`
		Rkey       *string        `json:"rkey"`
		Validate   *bool          `json:"validate"`
		Record     map[string]any `json:"record"`
	}
	dec := json.NewDecoder(io.LimitReader(r.Body, 1_000_000))
	if err := dec.Decode(&in); err != nil {
		s.xrpcError(w, method, 400, "InvalidRequest", "Invalid JSON: "+err.Error())
		return
	}
	switch {
	case in.Repo == "" || in.Collection == "" || in.Record == nil:
		s.xrpcError(w, method, 400, "InvalidRequest", `Input must have the properties "repo", "collection", "record"`)
		return
	case !ourRepo(in.Repo):
		s.xrpcError(w, method, 401, "AuthenticationRequired", "Authentication Required")
		return
	case in.Collection != Collection:
		s.xrpcError(w, method, 400, "InvalidRequest", "the fake PDS only stores "+Collection+" records, not "+in.Collection)
		return
	case in.Validate != nil && !*in.Validate:
		s.xrpcError(w, method, 400, "InvalidRequest", "the fake PDS always validates records")
		return
	}
	if in.Rkey != nil && !tidRE.MatchString(*in.Rkey) {
		s.xrpcError(w, method, 400, "InvalidRequest", "Invalid record key for app.bsky.feed.post: Invalid TID format")
		return
	}
	if !s.spendWrite(w, method, 3) {
		return
	}
	rec, err := s.validatePost(in.Record)
	if err != nil {
		s.xrpcError(w, method, 400, "InvalidRequest", "Invalid app.bsky.feed.post record: "+err.Error())
		return
	}
	s.mu.Lock()
	if in.Rkey != nil {
		rec.Rkey = *in.Rkey
	} else {
		rec.Rkey = clockTID(len(s.posts))
	}
	if s.records[rec.Rkey] != nil {
		s.mu.Unlock()
		// What the reference PDS answers today when the key is taken (its MST refuses the
		// second leaf; bluesky-social/atproto#3718).
		s.xrpcError(w, method, 500, "InternalServerError", "Internal Server Error")
		return
	}
	rec.URI = "at://" + DefaultDID + "/" + Collection + "/" + rec.Rkey
	raw, _ := json.Marshal(in.Record)
	rec.CID = fakeCID(raw)
	rec.Time = time.Now()
	s.records[rec.Rkey] = rec
	s.posts = append(s.posts, rec)
	drop := s.drop > 0
	if drop {
		s.drop--
		s.requests = append(s.requests, Request{Method: method, Time: time.Now()})
	}
	s.mu.Unlock()
	if drop {
		if hj, ok := w.(http.Hijacker); ok {
			if conn, _, err := hj.Hijack(); err == nil {
				_ = conn.Close()
			}
		}
		return
	}
	s.answer(w, method, 200, map[string]any{"uri": rec.URI, "cid": rec.CID,
		"commit": map[string]string{"cid": fakeCID([]byte(rec.URI + "commit")), "rev": rec.Rkey}, "validationStatus": "valid"})
}

// clockTID is a TID from the clock, as the PDS makes when no rkey is given.
func clockTID(n int) string {
	v := uint64(time.Now().UnixMicro())<<10 | uint64(n&0x3ff)
	const alphabet = "234567abcdefghijklmnopqrstuvwxyz"
	var b [13]byte
	for i := 12; i >= 0; i-- {
		b[i] = alphabet[v&31]
		v >>= 5
	}
	return string(b[:])
}

func fakeCID(b []byte) string {
	sum := sha256.Sum256(b)
	return "bafyrei" + strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(sum[:]))
}

var langRE = regexp.MustCompile(`^[a-zA-Z]{2,3}(-[a-zA-Z0-9]{1,8})*$`)

// validatePost checks a record against app.bsky.feed.post (and the fake's facet rules).
// Specs: https://github.com/bluesky-social/atproto/blob/main/lexicons/app/bsky/feed/post.json
func (s *Server) validatePost(m map[string]any) (*Record, error) {
	rec := &Record{Raw: m}
	if t, ok := m["$type"]; ok && t != Collection {
		return nil, badf("Invalid $type: expected %s, got %v", Collection, t)
	}
	text, ok := m["text"].(string)
	if !ok {
		return nil, badf(`Record must have the property "text"`)
	}
	if len(text) > MaxTextBytes {
		return nil, badf("Record/text must not be longer than %d characters", MaxTextBytes)
	}
	if uniseg.GraphemeClusterCount(text) > MaxTextGraphemes {
		return nil, badf("Record/text must not be longer than %d graphemes", MaxTextGraphemes)
	}
	rec.Text = text
	created, ok := m["createdAt"].(string)
	if !ok {
		return nil, badf(`Record must have the property "createdAt"`)
	}
	if _, err := time.Parse(time.RFC3339Nano, created); err != nil {
		return nil, badf("Record/createdAt must be an valid atproto datetime (both RFC-3339 and ISO-8601)")
	}
	rec.CreatedAt = created
	if v, ok := m["langs"]; ok {
		langs, ok := v.([]any)
		if !ok {
			return nil, badf("Record/langs must be an array")
		}
		if len(langs) > MaxLangs {
			return nil, badf("Record/langs must not have more than %d elements", MaxLangs)
		}
		for i, l := range langs {
			ls, ok := l.(string)
			if !ok || !langRE.MatchString(ls) {
				return nil, badf("Record/langs/%d must be a well-formed BCP 47 language tag", i)
			}
			rec.Langs = append(rec.Langs, ls)
		}
	}
	if v, ok := m["facets"]; ok {
		facets, ok := v.([]any)
		if !ok {
			return nil, badf("Record/facets must be an array")
		}
		for i, f := range facets {
			fs, err := readFacet(text, f)
			if err != nil {
				return nil, badf("Record/facets/%d: %v", i, err)
			}
			rec.Facets = append(rec.Facets, fs...)
		}
	}
	if v, ok := m["embed"]; ok {
		card, err := s.readEmbed(v)
		if err != nil {
			return nil, badf("Record/embed: %v", err)
		}
		rec.Card = card
	}
	return rec, nil
}

func intOf(v any) (int, bool) {
	f, ok := v.(float64)
	if !ok || f != float64(int(f)) {
		return 0, false
	}
	return int(f), true
}

func onBoundary(text string, i int) bool { return i == len(text) || utf8.RuneStart(text[i]) }

// readFacet checks one app.bsky.richtext.facet against the text.
func readFacet(text string, v any) ([]Facet, error) {
	m, ok := v.(map[string]any)
	if !ok {
		return nil, badf("must be an object")
	}
	idx, ok := m["index"].(map[string]any)
	if !ok {
		return nil, badf(`must have the property "index"`)
	}
	start, ok1 := intOf(idx["byteStart"])
	end, ok2 := intOf(idx["byteEnd"])
	switch {
	case !ok1 || !ok2 || start < 0 || end < 0:
		return nil, badf("index/byteStart and byteEnd must be integers ≥ 0")
	case start >= end || end > len(text):
		return nil, badf("bytes %d–%d are not a range inside the %d-byte text", start, end, len(text))
	case !onBoundary(text, start) || !onBoundary(text, end):
		return nil, badf("bytes %d–%d cut a UTF-8 character", start, end)
	}
	features, ok := m["features"].([]any)
	if !ok || len(features) == 0 {
		return nil, badf(`must have the property "features"`)
	}
	covered := text[start:end]
	var out []Facet
	for _, fv := range features {
		f, ok := fv.(map[string]any)
		if !ok {
			return nil, badf("features must be objects")
		}
		typ, _ := f["$type"].(string)
		fc := Facet{ByteStart: start, ByteEnd: end, Covered: covered}
		switch typ {
		case "app.bsky.richtext.facet#link":
			u, _ := f["uri"].(string)
			if p, err := url.Parse(u); err != nil || p.Scheme == "" || p.Host == "" {
				return nil, badf("link uri %q must be a URI", u)
			}
			fc.Type, fc.Value = "link", u
		case "app.bsky.richtext.facet#tag":
			tag, _ := f["tag"].(string)
			if tag == "" || len(tag) > 640 || uniseg.GraphemeClusterCount(tag) > 64 {
				return nil, badf("tag %q must be 1–640 bytes and at most 64 graphemes", tag)
			}
			if covered != "#"+tag {
				return nil, badf("tag facet covers %q, not #%s", covered, tag)
			}
			fc.Type, fc.Value = "tag", tag
		case "app.bsky.richtext.facet#mention":
			did, _ := f["did"].(string)
			if !strings.HasPrefix(did, "did:") {
				return nil, badf("mention did %q must be a DID", did)
			}
			fc.Type, fc.Value = "mention", did
		default:
			return nil, badf("feature $type %q is not a facet feature", typ)
		}
		out = append(out, fc)
	}
	return out, nil
}

// readEmbed checks app.bsky.embed.external and its thumb blob.
func (s *Server) readEmbed(v any) (*Card, error) {
	m, ok := v.(map[string]any)
	if !ok {
		return nil, badf("must be an object")
	}
	if t, _ := m["$type"].(string); t != "app.bsky.embed.external" {
		return nil, badf("the fake PDS takes app.bsky.embed.external embeds, not %q", t)
	}
	ext, ok := m["external"].(map[string]any)
	if !ok {
		return nil, badf(`must have the property "external"`)
	}
	card := &Card{}
	for _, k := range []string{"uri", "title", "description"} {
		if _, ok := ext[k].(string); !ok {
			return nil, badf("external must have the string property %q", k)
		}
	}
	card.URI, card.Title, card.Description = ext["uri"].(string), ext["title"].(string), ext["description"].(string)
	if p, err := url.Parse(card.URI); err != nil || p.Scheme == "" {
		return nil, badf("external/uri %q must be a URI", card.URI)
	}
	if tv, ok := ext["thumb"]; ok {
		t, ok := tv.(map[string]any)
		ref, _ := t["ref"].(map[string]any)
		cid, _ := ref["$link"].(string)
		if !ok || t["$type"] != "blob" || cid == "" {
			return nil, badf("external/thumb must be a blob")
		}
		s.mu.Lock()
		b, found := s.blobs[cid]
		s.mu.Unlock()
		switch {
		case !found:
			return nil, badf("Could not find blob: %s", cid)
		case !strings.HasPrefix(b.MimeType, "image/"):
			return nil, badf("external/thumb: Wrong type of file. It is %s but it must match image/*", b.MimeType)
		case b.Size > MaxThumbBytes:
			return nil, badf("external/thumb: This file is too large. It is %d bytes but the maximum size is %d bytes", b.Size, MaxThumbBytes)
		}
		card.Thumb = &b
	}
	return card, nil
}

// Specs: https://docs.bsky.app/docs/api/com-atproto-repo-upload-blob
func (s *Server) uploadBlob(w http.ResponseWriter, r *http.Request, method string) {
	if !s.authorize(w, r, method) {
		return
	}
	data, err := io.ReadAll(io.LimitReader(r.Body, MaxBlobBytes+1))
	if err != nil {
		s.xrpcError(w, method, 400, "InvalidRequest", "reading the blob: "+err.Error())
		return
	}
	if len(data) > MaxBlobBytes {
		s.xrpcError(w, method, 400, "BlobTooLarge", "This file is too large")
		return
	}
	// The PDS sniffs the type from the bytes; the header is only a fallback.
	mt := http.DetectContentType(data)
	if mt == "application/octet-stream" {
		mt, _, _ = mime.ParseMediaType(r.Header.Get("Content-Type"))
	} else {
		mt, _, _ = mime.ParseMediaType(mt)
	}
	b := Blob{CID: "bafkrei" + fakeCID(data)[7:], MimeType: mt, Size: len(data)}
	s.mu.Lock()
	s.blobs[b.CID] = b
	s.mu.Unlock()
	s.answer(w, method, 200, map[string]any{"blob": map[string]any{"$type": "blob", "ref": map[string]string{"$link": b.CID}, "mimeType": b.MimeType, "size": b.Size}})
}

// Specs: https://docs.bsky.app/docs/api/com-atproto-repo-get-record
func (s *Server) getRecord(w http.ResponseWriter, r *http.Request, method string) {
	q := r.URL.Query()
	repo, coll, rkey := q.Get("repo"), q.Get("collection"), q.Get("rkey")
	if repo == "" || coll == "" || rkey == "" {
		s.xrpcError(w, method, 400, "InvalidRequest", `Params must have the properties "repo", "collection", "rkey"`)
		return
	}
	s.mu.Lock()
	rec := s.records[rkey]
	var inj *injected
	if len(s.failRead) > 0 {
		inj = &s.failRead[0]
		s.failRead = s.failRead[1:]
	}
	s.mu.Unlock()
	if inj != nil {
		s.xrpcError(w, method, inj.status, inj.name, inj.message)
		return
	}
	if !ourRepo(repo) || coll != Collection || rec == nil {
		s.xrpcError(w, method, 400, "RecordNotFound", "Could not locate record: at://"+repo+"/"+coll+"/"+rkey)
		return
	}
	s.answer(w, method, 200, map[string]any{"uri": rec.URI, "cid": rec.CID, "value": rec.Raw})
}

// Specs: https://docs.bsky.app/docs/api/com-atproto-repo-delete-record
func (s *Server) deleteRecord(w http.ResponseWriter, r *http.Request, method string) {
	if !s.authorize(w, r, method) {
		return
	}
	var in struct {
		Repo       string `json:"repo"`
		Collection string `json:"collection"`
		Rkey       string `json:"rkey"`
	}
	if err := json.NewDecoder(io.LimitReader(r.Body, 1<<16)).Decode(&in); err != nil || in.Repo == "" || in.Collection == "" || in.Rkey == "" {
		s.xrpcError(w, method, 400, "InvalidRequest", `Input must have the properties "repo", "collection", "rkey"`)
		return
	}
	if !ourRepo(in.Repo) {
		s.xrpcError(w, method, 401, "AuthenticationRequired", "Authentication Required")
		return
	}
	if !s.spendWrite(w, method, 1) {
		return
	}
	s.mu.Lock()
	if rec := s.records[in.Rkey]; rec != nil && in.Collection == Collection {
		rec.Deleted = true
		delete(s.records, in.Rkey)
	}
	s.mu.Unlock()
	// Deleting a record that does not exist succeeds: the post-condition holds.
	s.answer(w, method, 200, map[string]any{})
}

// invalid is a validation message as the PDS words it (capitalised, as it is sent).
type invalid string

func (e invalid) Error() string { return string(e) }

func badf(format string, a ...any) error { return invalid(fmt.Sprintf(format, a...)) }
