// Package linkedinfake is a fake LinkedIn REST API (Posts and Organization lookup) for one
// organization Page, on loopback, for tests and for the sandbox (herald demo). It checks what
// LinkedIn checks and answers what LinkedIn answers: every call needs the Bearer token (else
// 401 INVALID_ACCESS_TOKEN), a LinkedIn-Version header of an active version (else 400 or 426)
// and X-Restli-Protocol-Version 2.0.0; POST /rest/posts takes the Posts API body authored by
// the Page (another author: 403 ACCESS_DENIED) and answers 201 with the URN in x-restli-id;
// the commentary is read as little text, as LinkedIn shows it: escapes undone, and the text
// cut at the first unescaped reserved character that is not a hashtag's "#" (LinkedIn's silent
// truncation); over 3000 characters is 422; a commentary the Page already posted is
// 422 DUPLICATE_POST naming the post. GET /rest/posts/{urn} reads a post; POST /rest/posts/{urn} with X-RestLi-Method PARTIAL_UPDATE edits the
// commentary; DELETE /rest/posts/{urn} deletes (404 when unknown); URNs in paths must be
// URL-encoded. GET /rest/organizations/{id}. Errors are
// {"status","serviceErrorCode","code","message"}. Failures can be injected (FailNext,
// RateLimitNext, DropNextPost, SetToken). All methods are safe for concurrent use.
package linkedinfake

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"time"
	"unicode/utf16"
)

// Defaults a new Server starts with.
const (
	DefaultOrganization = "2414183"
	OrganizationName    = "Herald Fake Page"
	DefaultToken        = "AQVherald-fake-linkedin-token-0123456789"
	// MaxCommentary is the Posts API commentary limit.
	MaxCommentary = 3000
)

// Post is one accepted post.
type Post struct {
	URN        string
	Author     string
	Commentary string // as sent (little text)
	Shown      string // as LinkedIn shows it: escapes undone, cut at an unescaped reserved character
	Truncated  bool   // LinkedIn cut the commentary at an unescaped reserved character
	Source     string // content.article.source
	Title      string // content.article.title
	Desc       string // content.article.description
	Deleted    bool
	Time       time.Time
}

// Request is one request received.
type Request struct {
	Method, Path, RestliMethod, Version string
	Status                              int
}

type injected struct {
	status  int
	code    string
	message string
	header  http.Header
}

// Server is the fake. Create it with New; Close it when done.
type Server struct {
	srv *httptest.Server

	mu       sync.Mutex
	token    string
	posts    []Post
	requests []Request
	fail     []injected
	drop     int
	next     int64
}

// New starts a fake on a loopback port.
func New() *Server {
	s := &Server{token: DefaultToken, next: 7400000000000000000}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	return s
}

// APIBase is the value for the channel's api_base setting.
func (s *Server) APIBase() string { return s.srv.URL + "/rest" }

// Close stops the server.
func (s *Server) Close() { s.srv.Close() }

// SetToken replaces the accepted token (the old one then gets 401, as an expired one does).
func (s *Server) SetToken(t string) { s.mu.Lock(); s.token = t; s.mu.Unlock() }

// FailNext makes the next create, edit or delete answer an error (nothing changes).
func (s *Server) FailNext(status int, code, message string, header http.Header) {
	s.mu.Lock()
	s.fail = append(s.fail, injected{status, code, message, header})
	s.mu.Unlock()
}

// RateLimitNext makes the next create answer 429 as LinkedIn does: no Retry-After.
func (s *Server) RateLimitNext() {
	s.FailNext(http.StatusTooManyRequests, "TOO_MANY_REQUESTS", "Resource level throttle APPLICATION DAY limit for calls to this resource is reached.", nil)
}

// DropNextPost makes the next create be made but its answer lost (the connection closes).
func (s *Server) DropNextPost() { s.mu.Lock(); s.drop++; s.mu.Unlock() }

// Posts returns the accepted posts in order (deleted ones included, marked).
func (s *Server) Posts() []Post {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Post(nil), s.posts...)
}

// Requests returns every request received, in order.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.requests...)
}

// versionRE is an active version for the fake: 2025 and later (older ones are sunset).
var versionRE = regexp.MustCompile(`^20(2[5-9]|[3-9][0-9])(0[1-9]|1[0-2])(\.[0-9]{2})?$`)

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	rec := Request{Method: r.Method, Path: r.URL.Path, RestliMethod: r.Header.Get("X-RestLi-Method"), Version: r.Header.Get("LinkedIn-Version")}
	status := s.handle(w, r, &rec)
	if status != 0 {
		rec.Status = status
		s.mu.Lock()
		s.requests = append(s.requests, rec)
		s.mu.Unlock()
	}
}

// handle answers a request and returns the status it answered (0 when the answer was dropped
// and the request already recorded).
func (s *Server) handle(w http.ResponseWriter, r *http.Request, rec *Request) int {
	s.mu.Lock()
	token := s.token
	s.mu.Unlock()
	if r.Header.Get("Authorization") != "Bearer "+token {
		return s.errorf(w, http.StatusUnauthorized, 65600, "INVALID_ACCESS_TOKEN", "Invalid access token")
	}
	switch v := r.Header.Get("LinkedIn-Version"); {
	case v == "":
		return s.errorf(w, http.StatusBadRequest, 0, "VERSION_MISSING", "A version must be present. Please specify a version by adding the LinkedIn-Version header.")
	case !versionRE.MatchString(v):
		return s.errorf(w, http.StatusUpgradeRequired, 0, "NONEXISTENT_VERSION", "Requested version "+v+" is not active")
	}
	if r.Header.Get("X-Restli-Protocol-Version") != "2.0.0" {
		return s.errorf(w, http.StatusBadRequest, 0, "ILLEGAL_ARGUMENT", "Rest.li protocol version 2.0.0 is required")
	}
	path := strings.TrimPrefix(r.URL.Path, "/rest")
	switch {
	case path == "/posts" && r.Method == http.MethodPost:
		return s.create(w, r, rec)
	case strings.HasPrefix(path, "/posts/") && (r.Method == http.MethodPost || r.Method == http.MethodDelete || r.Method == http.MethodGet):
		// The URN must come URL-encoded (urn%3Ali%3Ashare%3A1): Rest.li reads a bare one's
		// colons as syntax.
		if !strings.Contains(r.URL.EscapedPath(), "%3A") {
			return s.errorf(w, http.StatusBadRequest, 0, "ILLEGAL_ARGUMENT", "Syntax exception in path variables")
		}
		urn := strings.TrimPrefix(path, "/posts/")
		if r.Method == http.MethodGet {
			return s.get(w, urn)
		}
		if r.Method == http.MethodDelete {
			return s.delete(w, urn)
		}
		if r.Header.Get("X-RestLi-Method") != "PARTIAL_UPDATE" {
			return s.errorf(w, http.StatusBadRequest, 0, "ILLEGAL_ARGUMENT", "X-RestLi-Method PARTIAL_UPDATE is required to update a post")
		}
		return s.edit(w, r, urn)
	case strings.HasPrefix(path, "/organizations/") && r.Method == http.MethodGet:
		id := strings.TrimPrefix(path, "/organizations/")
		if id != DefaultOrganization {
			return s.errorf(w, http.StatusNotFound, 0, "NOT_FOUND", "Organization "+id+" not found")
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusOK)
		_ = json.NewEncoder(w).Encode(map[string]any{"id": json.Number(DefaultOrganization), "localizedName": OrganizationName, "vanityName": "herald-fake"})
		return http.StatusOK
	}
	return s.errorf(w, http.StatusNotFound, 0, "NOT_FOUND", "No virtual resource found")
}

// errorf answers LinkedIn's error body.
// Specs: https://learn.microsoft.com/en-us/linkedin/shared/api-guide/concepts/error-handling
func (s *Server) errorf(w http.ResponseWriter, status, serviceCode int, code, message string) int {
	body := map[string]any{"status": status, "code": code, "message": message}
	if serviceCode != 0 {
		body["serviceErrorCode"] = serviceCode
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(body)
	return status
}

// injected takes the next injected failure and answers it; false when there is none.
func (s *Server) injected(w http.ResponseWriter) (int, bool) {
	s.mu.Lock()
	if len(s.fail) == 0 {
		s.mu.Unlock()
		return 0, false
	}
	f := s.fail[0]
	s.fail = s.fail[1:]
	s.mu.Unlock()
	for k, v := range f.header {
		w.Header()[k] = v
	}
	return s.errorf(w, f.status, 0, f.code, f.message), true
}

type createBody struct {
	Author       *string `json:"author"`
	Commentary   *string `json:"commentary"`
	Visibility   string  `json:"visibility"`
	Distribution *struct {
		FeedDistribution               string   `json:"feedDistribution"`
		TargetEntities                 []string `json:"targetEntities"`
		ThirdPartyDistributionChannels []string `json:"thirdPartyDistributionChannels"`
	} `json:"distribution"`
	Content *struct {
		Article *struct {
			Source      string `json:"source"`
			Title       string `json:"title"`
			Description string `json:"description"`
			Thumbnail   string `json:"thumbnail"`
		} `json:"article"`
	} `json:"content"`
	LifecycleState            string `json:"lifecycleState"`
	IsReshareDisabledByAuthor *bool  `json:"isReshareDisabledByAuthor"`
}

// create makes a post.
// Specs: https://learn.microsoft.com/en-us/linkedin/marketing/community-management/shares/posts-api#create-organic-posts
func (s *Server) create(w http.ResponseWriter, r *http.Request, rec *Request) int {
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		return s.errorf(w, http.StatusUnsupportedMediaType, 0, "UNSUPPORTED_MEDIA_TYPE", "Content-Type must be application/json")
	}
	raw, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	dec := json.NewDecoder(strings.NewReader(string(raw)))
	dec.DisallowUnknownFields()
	var b createBody
	if err := dec.Decode(&b); err != nil {
		return s.errorf(w, http.StatusBadRequest, 0, "ILLEGAL_ARGUMENT", "Unable to parse request body: "+err.Error())
	}
	switch {
	case b.Author == nil || b.Commentary == nil || b.Distribution == nil || b.IsReshareDisabledByAuthor == nil:
		return s.errorf(w, http.StatusUnprocessableEntity, 0, "FIELD_MISSING", "/author, /commentary, /distribution and /isReshareDisabledByAuthor are required")
	case b.Visibility != "PUBLIC":
		return s.errorf(w, http.StatusUnprocessableEntity, 0, "ILLEGAL_ARGUMENT", "/visibility :: "+b.Visibility+" is not a valid organization post visibility")
	case b.Distribution.FeedDistribution != "MAIN_FEED" || b.Distribution.TargetEntities == nil || b.Distribution.ThirdPartyDistributionChannels == nil:
		return s.errorf(w, http.StatusUnprocessableEntity, 0, "ILLEGAL_ARGUMENT", "/distribution :: feedDistribution MAIN_FEED with targetEntities and thirdPartyDistributionChannels is required")
	case b.LifecycleState != "PUBLISHED":
		return s.errorf(w, http.StatusUnprocessableEntity, 0, "ILLEGAL_ARGUMENT", "/lifecycleState :: must be PUBLISHED")
	case *b.Author != "urn:li:organization:"+DefaultOrganization:
		return s.errorf(w, http.StatusForbidden, 100, "ACCESS_DENIED", "Not enough permissions to access: partnerApiPostsExternal.CREATE.20260801")
	case len(utf16.Encode([]rune(*b.Commentary))) > MaxCommentary:
		return s.errorf(w, http.StatusUnprocessableEntity, 0, "ILLEGAL_ARGUMENT", fmt.Sprintf("/commentary :: length %d exceeds %d", len(utf16.Encode([]rune(*b.Commentary))), MaxCommentary))
	}
	p := Post{Author: *b.Author, Commentary: *b.Commentary, Time: time.Now()}
	p.Shown, p.Truncated = Little(*b.Commentary)
	if b.Content != nil && b.Content.Article != nil {
		a := b.Content.Article
		if u, err := url.Parse(a.Source); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return s.errorf(w, http.StatusUnprocessableEntity, 0, "ILLEGAL_ARGUMENT", "/content/article/source :: not a valid URL")
		}
		if a.Thumbnail != "" && !strings.HasPrefix(a.Thumbnail, "urn:li:image:") {
			return s.errorf(w, http.StatusUnprocessableEntity, 0, "ILLEGAL_ARGUMENT", "/content/article/thumbnail :: must be an image URN")
		}
		p.Source, p.Title, p.Desc = a.Source, a.Title, a.Description
	}
	if status, ok := s.injected(w); ok {
		return status
	}
	s.mu.Lock()
	for _, q := range s.posts {
		if !q.Deleted && q.Shown == p.Shown && q.Source == p.Source {
			s.mu.Unlock()
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusUnprocessableEntity)
			_ = json.NewEncoder(w).Encode(map[string]any{
				"errorDetailType": "com.linkedin.common.error.BadRequest",
				"message":         "com.linkedin.content.common.exception.BadRequestResponseException: Content is a duplicate of " + q.URN,
				"errorDetails":    map[string]any{"inputErrors": []any{map[string]any{"description": "Duplicate post is detected", "input": map[string]any{}, "code": "DUPLICATE_POST"}}},
				"status":          422,
			})
			return http.StatusUnprocessableEntity
		}
	}
	s.next++
	p.URN = fmt.Sprintf("urn:li:share:%d", s.next)
	s.posts = append(s.posts, p)
	drop := s.drop > 0
	if drop {
		s.drop--
		rec.Status = http.StatusCreated
		s.requests = append(s.requests, *rec)
	}
	s.mu.Unlock()
	if drop {
		if hj, ok := w.(http.Hijacker); ok {
			if conn, _, err := hj.Hijack(); err == nil {
				_ = conn.Close()
			}
		}
		return 0
	}
	w.Header().Set("x-restli-id", p.URN)
	w.Header().Set("x-linkedin-id", p.URN)
	w.WriteHeader(http.StatusCreated)
	return http.StatusCreated
}

// edit applies a PARTIAL_UPDATE of the commentary.
// Specs: https://learn.microsoft.com/en-us/linkedin/marketing/community-management/shares/posts-api#update-posts
func (s *Server) edit(w http.ResponseWriter, r *http.Request, urn string) int {
	var b struct {
		Patch struct {
			Set map[string]json.RawMessage `json:"$set"`
		} `json:"patch"`
	}
	if err := json.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(&b); err != nil || len(b.Patch.Set) == 0 {
		return s.errorf(w, http.StatusBadRequest, 0, "ILLEGAL_ARGUMENT", "Unable to parse the patch")
	}
	var commentary string
	for k, v := range b.Patch.Set {
		if k != "commentary" && k != "contentCallToActionLabel" && k != "lifecycleState" && k != "adContext" && k != "contentLandingPage" {
			return s.errorf(w, http.StatusUnprocessableEntity, 0, "ILLEGAL_ARGUMENT", "/"+k+" :: field cannot be updated")
		}
		if k == "commentary" && json.Unmarshal(v, &commentary) != nil {
			return s.errorf(w, http.StatusBadRequest, 0, "ILLEGAL_ARGUMENT", "/commentary :: not a string")
		}
	}
	if len(utf16.Encode([]rune(commentary))) > MaxCommentary {
		return s.errorf(w, http.StatusUnprocessableEntity, 0, "ILLEGAL_ARGUMENT", "/commentary :: too long")
	}
	if status, ok := s.injected(w); ok {
		return status
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := range s.posts {
		if s.posts[i].URN == urn && !s.posts[i].Deleted {
			s.posts[i].Commentary = commentary
			s.posts[i].Shown, s.posts[i].Truncated = Little(commentary)
			w.WriteHeader(http.StatusNoContent)
			return http.StatusNoContent
		}
	}
	return s.errorf(w, http.StatusNotFound, 0, "NOT_FOUND", "Post "+urn+" not found")
}

// get answers a post (404 when unknown or deleted).
// Specs: https://learn.microsoft.com/en-us/linkedin/marketing/community-management/shares/posts-api#retrieve-posts
func (s *Server) get(w http.ResponseWriter, urn string) int {
	s.mu.Lock()
	var found *Post
	for i := range s.posts {
		if s.posts[i].URN == urn && !s.posts[i].Deleted {
			p := s.posts[i]
			found = &p
		}
	}
	s.mu.Unlock()
	if found == nil {
		return s.errorf(w, http.StatusNotFound, 0, "NOT_FOUND", "Post "+urn+" not found")
	}
	body := map[string]any{"id": found.URN, "author": found.Author, "commentary": found.Commentary, "visibility": "PUBLIC",
		"lifecycleState": "PUBLISHED", "isReshareDisabledByAuthor": false,
		"distribution": map[string]any{"feedDistribution": "MAIN_FEED", "targetEntities": []any{}, "thirdPartyDistributionChannels": []any{}}}
	if found.Source != "" {
		body["content"] = map[string]any{"article": map[string]any{"source": found.Source, "title": found.Title, "description": found.Desc}}
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	_ = json.NewEncoder(w).Encode(body)
	return http.StatusOK
}

// delete deletes a post; one not there (or deleted) is 404.
// Specs: https://learn.microsoft.com/en-us/linkedin/marketing/community-management/shares/posts-api#delete-posts
func (s *Server) delete(w http.ResponseWriter, urn string) int {
	if status, ok := s.injected(w); ok {
		return status
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := range s.posts {
		if s.posts[i].URN == urn && !s.posts[i].Deleted {
			s.posts[i].Deleted = true
			w.WriteHeader(http.StatusNoContent)
			return http.StatusNoContent
		}
	}
	return s.errorf(w, http.StatusNotFound, 0, "NOT_FOUND", "Post "+urn+" not found")
}

// reserved are little's reserved characters.
// Specs: https://learn.microsoft.com/en-us/linkedin/marketing/community-management/shares/little-text-format
const reserved = `|{}@[]()<>#\*_~`

// Little reads commentary as LinkedIn shows it: a backslash escape is the character it
// escapes; a "#" starting a word is a hashtag and stays; any other unescaped reserved
// character is markup the fake does not take, and the text is cut there (truncated true), as
// LinkedIn silently cuts a post at an unescaped "(".
func Little(s string) (shown string, truncated bool) {
	var b strings.Builder
	rs := []rune(s)
	for i := 0; i < len(rs); i++ {
		r := rs[i]
		switch {
		case r == '\\' && i+1 < len(rs) && strings.ContainsRune(reserved, rs[i+1]):
			i++
			b.WriteRune(rs[i])
		case r == '#' && (i == 0 || rs[i-1] == ' ' || rs[i-1] == '\n') && i+1 < len(rs) && !strings.ContainsRune(reserved+" \n", rs[i+1]):
			b.WriteRune(r)
		case strings.ContainsRune(reserved, r):
			return b.String(), true
		default:
			b.WriteRune(r)
		}
	}
	return b.String(), false
}
