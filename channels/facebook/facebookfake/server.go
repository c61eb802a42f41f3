// Package facebookfake is a fake Graph API for one Facebook Page, on loopback, for tests and for
// the sandbox (herald demo). It checks what Graph checks and answers what Graph answers: every
// call needs the Page's access token (access_token in the form or query, or a Bearer header),
// else code 190; posting to another Page's feed or photos is code 100, subcode 33; POST /{page}/feed takes message and/or link; POST /{page}/photos takes url or
// an uploaded source with a caption; POST /{post-id} with message (an edit); DELETE /{post-id};
// GET /me. Errors are
// {"error":{"message","type","code","error_subcode","fbtrace_id"}}. A feed message the Page
// already posted is refused (506; a photo is posted again, as Graph does), and failures can be injected (FailNext, FailAfterPostNext,
// FailEditNext, RateLimitNext, RejectPhotoURL, DropNextPost, DropNextEdit). All methods are safe for concurrent use.
package facebookfake

import (
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"time"
	"unicode/utf16"
)

// Defaults a new Server starts with.
const (
	Version      = "v21.0"
	DefaultPage  = "104000000000001"
	PageName     = "Herald Fake Page"
	DefaultToken = "EAAherald-fake-page-token-0123456789"
	// MaxMessage is the feed message limit in UTF-16 units.
	MaxMessage = 63206
)

// Post is one accepted feed or photo post.
type Post struct {
	ID          string // "<page>_<n>"
	Kind        string // "feed" or "photo"
	Message     string // feed message, or photo caption
	Link        string
	PhotoURL    string
	PhotoUpload int // bytes of an uploaded source
	Time        time.Time
}

// Request is one request received.
type Request struct {
	Method, Path string
	Status       int
}

type injected struct {
	status  int
	code    int
	subcode int
	message string
	header  http.Header
}

// Server is the fake. Create it with New; Close it when done.
type Server struct {
	srv *httptest.Server

	mu          sync.Mutex
	token       string
	posts       []Post
	deleted     map[string]bool
	requests    []Request
	fail        []injected
	failDel     []injected // FailDeleteNext
	failEdit    []injected // FailEditNext
	edits       []Edit
	rejectPhoto map[string]bool
	drop        int
	dropEdit    int        // DropNextEdit
	failAfter   []injected // FailAfterPostNext
	next        int
}

// New starts a fake on a loopback port.
func New() *Server {
	s := &Server{token: DefaultToken, deleted: map[string]bool{}, rejectPhoto: map[string]bool{}}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	return s
}

// GraphBase is the value for the channel's graph_base setting.
func (s *Server) GraphBase() string { return s.srv.URL + "/" + Version }

// Close stops the server.
func (s *Server) Close() { s.srv.Close() }

// SetToken replaces the accepted Page token (the old one then gets 190).
func (s *Server) SetToken(t string) { s.mu.Lock(); s.token = t; s.mu.Unlock() }

// FailNext makes the next post (feed or photos) answer a Graph error.
func (s *Server) FailNext(httpStatus, code, subcode int, message string, header http.Header) {
	s.mu.Lock()
	s.fail = append(s.fail, injected{httpStatus, code, subcode, message, header})
	s.mu.Unlock()
}

// FailAfterPostNext makes the next post be made (it is on the Page) and then answered with a
// Graph error, as Graph sometimes answers a 500 code 1 or 2 for a post it made: the client
// cannot tell it from a post that was not made.
func (s *Server) FailAfterPostNext(httpStatus, code, subcode int, message string) {
	s.mu.Lock()
	s.failAfter = append(s.failAfter, injected{httpStatus, code, subcode, message, nil})
	s.mu.Unlock()
}

// FailDeleteNext makes the next DELETE /{post-id} answer a Graph error; nothing is deleted.
func (s *Server) FailDeleteNext(httpStatus, code, subcode int, message string, header http.Header) {
	s.mu.Lock()
	s.failDel = append(s.failDel, injected{httpStatus, code, subcode, message, header})
	s.mu.Unlock()
}

// FailEditNext makes the next POST /{post-id} (an edit) answer a Graph error; nothing changes.
func (s *Server) FailEditNext(httpStatus, code, subcode int, message string, header http.Header) {
	s.mu.Lock()
	s.failEdit = append(s.failEdit, injected{httpStatus, code, subcode, message, header})
	s.mu.Unlock()
}

// Edit is one accepted edit of a post's message.
type Edit struct {
	PostID, Message string
	Time            time.Time
}

// Edits returns the accepted edits in order.
func (s *Server) Edits() []Edit {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Edit(nil), s.edits...)
}

// RateLimitNext makes the next post answer code 32 (Page request limit) with an
// X-Page-Usage header saying access comes back in minutes.
func (s *Server) RateLimitNext(minutes int) {
	h := http.Header{}
	h.Set("X-Page-Usage", fmt.Sprintf(`{"call_count":100,"total_cputime":20,"total_time":30,"estimated_time_to_regain_access":%d}`, minutes))
	s.FailNext(400, 32, 0, "(#32) Page request limit reached", h)
}

// RejectPhotoURL makes photo posts by this URL fail as when Facebook cannot fetch it (324).
func (s *Server) RejectPhotoURL(u string) { s.mu.Lock(); s.rejectPhoto[u] = true; s.mu.Unlock() }

// DropNextPost makes the next post be made but its answer lost (the connection closes).
func (s *Server) DropNextPost() { s.mu.Lock(); s.drop++; s.mu.Unlock() }

// DropNextEdit makes the next edit be applied but its answer lost (the connection closes).
func (s *Server) DropNextEdit() { s.mu.Lock(); s.dropEdit++; s.mu.Unlock() }

// Posts returns the accepted posts in order (deleted ones included).
func (s *Server) Posts() []Post {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Post(nil), s.posts...)
}

// Delete deletes a post as when someone removes it on facebook.com.
func (s *Server) Delete(id string) { s.mu.Lock(); s.deleted[id] = true; s.mu.Unlock() }

// Deleted reports whether a post was deleted.
func (s *Server) Deleted(id string) bool { s.mu.Lock(); defer s.mu.Unlock(); return s.deleted[id] }

// Requests returns every request received, in order.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.requests...)
}

func (s *Server) answer(w http.ResponseWriter, r *http.Request, status int, body any) {
	s.mu.Lock()
	s.requests = append(s.requests, Request{Method: r.Method, Path: r.URL.Path, Status: status})
	s.mu.Unlock()
	w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(body)
}

func (s *Server) graphError(w http.ResponseWriter, r *http.Request, status, code, subcode int, message string) {
	typ := "OAuthException"
	if code == 1 || code == 2 {
		typ = "FacebookApiException"
	}
	e := map[string]any{"message": message, "type": typ, "code": code, "fbtrace_id": "AfakeTrace" + fmt.Sprint(len(s.Requests()))}
	if subcode != 0 {
		e["error_subcode"] = subcode
	}
	s.answer(w, r, status, map[string]any{"error": e})
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	path, ok := strings.CutPrefix(r.URL.Path, "/"+Version+"/")
	if !ok {
		s.graphError(w, r, 400, 2500, 0, "Unknown path components: "+r.URL.Path)
		return
	}
	form, err := s.form(r)
	if err != nil {
		s.graphError(w, r, 400, 100, 0, "(#100) "+err.Error())
		return
	}
	tok := form.Get("access_token")
	if b, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok {
		tok = b
	}
	s.mu.Lock()
	good := tok != "" && tok == s.token
	s.mu.Unlock()
	if !good {
		s.graphError(w, r, 400, 190, 0, "Invalid OAuth access token - Cannot parse access token")
		return
	}
	page := DefaultPage
	switch {
	case r.Method == http.MethodPost && path == page+"/feed":
		s.post(w, r, Post{Kind: "feed", Message: form.Get("message"), Link: form.Get("link")})
	case r.Method == http.MethodPost && path == page+"/photos":
		if src := form.Get("\x00source"); src != "" && !strings.HasPrefix(http.DetectContentType([]byte(src)), "image/") {
			// Facebook decodes an uploaded photo: bytes that are no image are refused.
			s.graphError(w, r, 400, 324, 0, "(#324) Missing or invalid image file")
			return
		}
		s.post(w, r, Post{Kind: "photo", Message: form.Get("caption"), PhotoURL: form.Get("url"), PhotoUpload: len(form.Get("\x00source"))})
	case r.Method == http.MethodGet && path == "me":
		s.answer(w, r, 200, map[string]string{"id": page, "name": PageName})
	case r.Method == http.MethodDelete && !strings.Contains(path, "/"):
		s.del(w, r, path)
	case r.Method == http.MethodPost && !strings.Contains(path, "/"):
		s.edit(w, r, path, form.Get("message"))
	case r.Method == http.MethodPost && (strings.HasSuffix(path, "/feed") || strings.HasSuffix(path, "/photos")):
		// Another Page, or one this token cannot see: Graph's answer for an object it cannot load.
		id, _, _ := strings.Cut(path, "/")
		s.graphError(w, r, 400, 100, 33, "Unsupported post request. Object with ID '"+id+"' does not exist, cannot be loaded due to missing permissions, or does not support this operation. Please read the Graph API documentation at https://developers.facebook.com/docs/graph-api")
	default:
		s.graphError(w, r, 400, 100, 0, "(#100) Unsupported "+r.Method+" request")
	}
}

// form merges the query, a urlencoded body and a multipart body (an uploaded file's bytes go
// under the key "\x00source").
func (s *Server) form(r *http.Request) (url.Values, error) {
	v := r.URL.Query()
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	switch mt {
	case "application/x-www-form-urlencoded":
		if err := r.ParseForm(); err != nil {
			return nil, err
		}
		for k, vs := range r.PostForm {
			v[k] = vs
		}
	case "multipart/form-data":
		if err := r.ParseMultipartForm(16 << 20); err != nil {
			return nil, err
		}
		for k, vs := range r.MultipartForm.Value {
			v[k] = vs
		}
		if fh := r.MultipartForm.File["source"]; len(fh) > 0 {
			ct, _, _ := mime.ParseMediaType(fh[0].Header.Get("Content-Type"))
			if !strings.HasPrefix(ct, "image/") {
				return nil, fmt.Errorf("source is %q, not an image", ct)
			}
			f, err := fh[0].Open()
			if err != nil {
				return nil, err
			}
			b, err := io.ReadAll(f)
			f.Close()
			if err != nil {
				return nil, err
			}
			v.Set("\x00source", string(b))
		}
	}
	return v, nil
}

func validURL(u string) bool {
	p, err := url.Parse(u)
	return err == nil && (p.Scheme == "http" || p.Scheme == "https") && p.Host != ""
}

func (s *Server) post(w http.ResponseWriter, r *http.Request, p Post) {
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
		s.graphError(w, r, f.status, f.code, f.subcode, f.message)
		return
	}
	reject := s.rejectPhoto[p.PhotoURL]
	s.mu.Unlock()
	switch {
	case p.Kind == "feed" && p.Message == "" && p.Link == "":
		s.graphError(w, r, 400, 100, 0, "(#100) Missing message or attachment")
		return
	case p.Link != "" && !validURL(p.Link):
		s.graphError(w, r, 400, 100, 0, "(#100) link URL is not properly formatted")
		return
	case len(utf16.Encode([]rune(p.Message))) > MaxMessage:
		s.graphError(w, r, 400, 100, 0, "(#100) message is too long")
		return
	case p.Kind == "photo" && p.PhotoUpload == 0 && !validURL(p.PhotoURL):
		s.graphError(w, r, 400, 100, 0, "(#100) url should represent a valid URL")
		return
	case p.Kind == "photo" && p.PhotoUpload == 0 && reject:
		s.graphError(w, r, 400, 324, 0, "(#324) Missing or invalid image file")
		return
	}
	s.mu.Lock()
	for _, old := range s.posts {
		// Graph's duplicate check is the feed's ("Duplicate status message"): a photo post is made
		// again however often it is sent (arsduo/koala#699: one photo posted seven times, each
		// answered 500 code 2).
		if p.Kind == "feed" && old.Kind == "feed" && old.Message != "" && old.Message == p.Message && !s.deleted[old.ID] {
			s.mu.Unlock()
			s.graphError(w, r, 400, 506, 0, "(#506) Duplicate status message")
			return
		}
	}
	s.next++
	p.ID = fmt.Sprintf("%s_%d", DefaultPage, 900000000000000+s.next)
	p.Time = time.Now()
	s.posts = append(s.posts, p)
	drop := s.drop > 0
	if drop {
		s.drop--
		s.requests = append(s.requests, Request{Method: r.Method, Path: r.URL.Path})
	}
	var after *injected
	if !drop && len(s.failAfter) > 0 {
		after = &s.failAfter[0]
		s.failAfter = s.failAfter[1:]
	}
	s.mu.Unlock()
	if after != nil {
		s.graphError(w, r, after.status, after.code, after.subcode, after.message)
		return
	}
	if drop {
		if hj, ok := w.(http.Hijacker); ok {
			if conn, _, err := hj.Hijack(); err == nil {
				_ = conn.Close()
			}
		}
		return
	}
	if p.Kind == "photo" {
		photoID := strings.TrimPrefix(p.ID, DefaultPage+"_") + "1"
		s.answer(w, r, 200, map[string]string{"id": photoID, "post_id": p.ID})
		return
	}
	s.answer(w, r, 200, map[string]string{"id": p.ID})
}

func (s *Server) del(w http.ResponseWriter, r *http.Request, id string) {
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
		s.graphError(w, r, f.status, f.code, f.subcode, f.message)
		return
	}
	found := false
	for _, p := range s.posts {
		if p.ID == id && !s.deleted[id] {
			found = true
			s.deleted[id] = true
		}
	}
	s.mu.Unlock()
	if !found {
		s.graphError(w, r, 400, 100, 33, "Unsupported delete request. Object with ID '"+id+"' does not exist, cannot be loaded due to missing permissions, or does not support this operation.")
		return
	}
	s.answer(w, r, 200, map[string]bool{"success": true})
}

// edit replaces a post's message (POST /{post-id}): the post must be one of this Page's and
// not deleted (else code 100, subcode 33, as Graph answers), the message within MaxMessage.
// Setting the same message again succeeds, as on Graph.
func (s *Server) edit(w http.ResponseWriter, r *http.Request, id, message string) {
	s.mu.Lock()
	if len(s.failEdit) > 0 {
		f := s.failEdit[0]
		s.failEdit = s.failEdit[1:]
		s.mu.Unlock()
		for k, vs := range f.header {
			for _, v := range vs {
				w.Header().Add(k, v)
			}
		}
		s.graphError(w, r, f.status, f.code, f.subcode, f.message)
		return
	}
	s.mu.Unlock()
	switch {
	case message == "":
		s.graphError(w, r, 400, 100, 0, "(#100) message is required")
		return
	case len(utf16.Encode([]rune(message))) > MaxMessage:
		s.graphError(w, r, 400, 100, 0, "(#100) message is too long")
		return
	}
	s.mu.Lock()
	found := false
	for i := range s.posts {
		if s.posts[i].ID == id && !s.deleted[id] {
			s.posts[i].Message = message
			found = true
		}
	}
	if found {
		s.edits = append(s.edits, Edit{PostID: id, Message: message, Time: time.Now()})
	}
	drop := found && s.dropEdit > 0
	if drop {
		s.dropEdit--
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
	if !found {
		s.graphError(w, r, 400, 100, 33, "Unsupported post request. Object with ID '"+id+"' does not exist, cannot be loaded due to missing permissions, or does not support this operation.")
		return
	}
	s.answer(w, r, 200, map[string]bool{"success": true})
}
