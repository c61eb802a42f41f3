// Package threadsfake is a fake Threads API for one profile, on loopback, for tests. It checks
// what Threads checks and answers what Threads answers: every call needs the profile's access
// token (access_token in the form or query, or a Bearer header), else code 190 (posting as
// another profile: code 100, subcode 33);
// POST /{user-id}/threads makes a media container (TEXT with text ≤ 500 characters, an emoji
// counting its UTF-8 bytes, and an optional link_attachment; IMAGE with image_url, whose
// container is IN_PROGRESS for a few status reads before it is FINISHED, a TEXT one too after
// SetTextPolls); POST
// /{user-id}/threads_publish publishes an existing, FINISHED, unpublished container (a second
// publish is refused) within the profile's quota (250 in 24 h; SetQuota makes it small), else
// code 9 subcode 2207042; GET /{container-id}?fields=status; GET /{post-id}?fields=permalink;
// GET /{user-id}/threads (the newest posts); GET /me; GET /{user-id}/threads_publishing_limit;
// DELETE /{post-id}. Errors are
// {"error":{"message","type","code","error_subcode","fbtrace_id"}}. Failures can be injected
// (FailNext, DropNext, FailImage). All methods are safe for concurrent use.
package threadsfake

import (
	"encoding/json"
	"fmt"
	"mime"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/rivo/uniseg"
)

// Defaults a new Server starts with.
const (
	Version      = "v1.0"
	DefaultUser  = "17841400000000001"
	Username     = "herald_fake"
	DefaultToken = "THAAherald-fake-threads-token-0123456789"
	// MaxText is the text limit; an emoji counts its UTF-8 bytes.
	MaxText = 500
	// DefaultQuota is the number of posts a profile may publish in QuotaWindow.
	DefaultQuota = 250
	QuotaWindow  = 24 * time.Hour
	// DefaultImagePolls is how many status reads an image container answers IN_PROGRESS.
	DefaultImagePolls = 2
	// MaxLinks is how many distinct URLs a post may hold.
	MaxLinks = 5
)

// Step names a request an injected failure applies to.
type Step string

const (
	StepContainer Step = "container" // POST /{user-id}/threads
	StepPublish   Step = "publish"   // POST /{user-id}/threads_publish
	StepStatus    Step = "status"    // GET /{container-id}
	StepList      Step = "list"      // GET /{user-id}/threads
)

// Post is one published post.
type Post struct {
	ID             string
	ContainerID    string
	MediaType      string // TEXT or IMAGE
	Text           string
	ImageURL       string
	LinkAttachment string
	Permalink      string
	Time           time.Time
}

// Container is one media container.
type Container struct {
	ID             string
	MediaType      string
	Text           string
	ImageURL       string
	LinkAttachment string
	Status         string // IN_PROGRESS, FINISHED, ERROR, PUBLISHED
	pollsLeft      int
	errMessage     string
}

// Request is one request received.
type Request struct {
	Method, Path string
	Status       int
}

type injected struct {
	status, code, subcode int
	message               string
	after                 bool // do the step, then answer the error (a 5xx after the post)
}

// Server is the fake. Create it with New; Close it when done.
type Server struct {
	srv *httptest.Server

	mu         sync.Mutex
	token      string
	quota      int
	imagePolls int
	textPolls  int // SetTextPolls
	containers map[string]*Container
	order      []string // container ids in creation order
	posts      []Post
	deleted    map[string]bool
	requests   []Request
	fail       map[Step][]injected
	drop       map[Step]int
	failImage  map[string]string
	next       int
	now        func() time.Time
}

// New starts a fake on a loopback port.
func New() *Server {
	s := &Server{token: DefaultToken, quota: DefaultQuota, imagePolls: DefaultImagePolls,
		containers: map[string]*Container{}, deleted: map[string]bool{}, fail: map[Step][]injected{},
		drop: map[Step]int{}, failImage: map[string]string{}, now: time.Now}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	return s
}

// APIBase is the value for the channel's api_base setting.
func (s *Server) APIBase() string { return s.srv.URL + "/" + Version }

// Close stops the server.
func (s *Server) Close() { s.srv.Close() }

// SetToken replaces the accepted token (the old one then gets 190).
func (s *Server) SetToken(t string) { s.mu.Lock(); s.token = t; s.mu.Unlock() }

// SetQuota sets how many posts the profile may publish in QuotaWindow.
func (s *Server) SetQuota(n int) { s.mu.Lock(); s.quota = n; s.mu.Unlock() }

// SetImagePolls sets how many status reads a new image container answers IN_PROGRESS.
func (s *Server) SetImagePolls(n int) { s.mu.Lock(); s.imagePolls = n; s.mu.Unlock() }

// SetTextPolls sets how many status reads a new TEXT container answers IN_PROGRESS (default 0:
// FINISHED at once). Threads may still be checking a text post's link card when it is published
// right away; such a container's publish is refused with 9007 until it is FINISHED.
func (s *Server) SetTextPolls(n int) { s.mu.Lock(); s.textPolls = n; s.mu.Unlock() }

// FailNext makes the next request of step answer an error, doing nothing.
func (s *Server) FailNext(step Step, httpStatus, code, subcode int, message string) {
	s.mu.Lock()
	s.fail[step] = append(s.fail[step], injected{status: httpStatus, code: code, subcode: subcode, message: message})
	s.mu.Unlock()
}

// FailNextAfter makes the next request of step do its work (make the container, publish the
// post) and then answer an error, as a Threads front end timing out after the back end acted.
func (s *Server) FailNextAfter(step Step, httpStatus, code int, message string) {
	s.mu.Lock()
	s.fail[step] = append(s.fail[step], injected{status: httpStatus, code: code, message: message, after: true})
	s.mu.Unlock()
}

// DropNext makes the next request of step do its work and lose its answer (the connection
// closes).
func (s *Server) DropNext(step Step) { s.mu.Lock(); s.drop[step]++; s.mu.Unlock() }

// FailImage makes image containers of this URL end in status ERROR with message.
func (s *Server) FailImage(imageURL, message string) {
	s.mu.Lock()
	s.failImage[imageURL] = message
	s.mu.Unlock()
}

// Posts returns the published posts in order (deleted ones included).
func (s *Server) Posts() []Post {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Post(nil), s.posts...)
}

// Containers returns every container made, in order.
func (s *Server) Containers() []Container {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Container, 0, len(s.order))
	for _, id := range s.order {
		out = append(out, *s.containers[id])
	}
	return out
}

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

func (s *Server) apiError(w http.ResponseWriter, r *http.Request, status, code, subcode int, message string) {
	typ := "OAuthException"
	if code == 1 || code == 2 {
		typ = "THApiException"
	}
	e := map[string]any{"message": message, "type": typ, "code": code, "fbtrace_id": fmt.Sprintf("AfakeTrace%d", len(s.Requests()))}
	if subcode != 0 {
		e["error_subcode"] = subcode
	}
	s.answer(w, r, status, map[string]any{"error": e})
}

// hangUp closes the connection without an answer.
func (s *Server) hangUp(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.requests = append(s.requests, Request{Method: r.Method, Path: r.URL.Path})
	s.mu.Unlock()
	if hj, ok := w.(http.Hijacker); ok {
		if conn, _, err := hj.Hijack(); err == nil {
			_ = conn.Close()
		}
	}
}

// injectedFor takes the next injected failure of step, if any.
func (s *Server) injectedFor(step Step) (injected, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if f := s.fail[step]; len(f) > 0 {
		s.fail[step] = f[1:]
		return f[0], true
	}
	return injected{}, false
}

// finish answers a step that did its work: a dropped or failed-after answer, else body.
func (s *Server) finish(w http.ResponseWriter, r *http.Request, step Step, inj injected, injectedAfter bool, body any) {
	s.mu.Lock()
	drop := s.drop[step] > 0
	if drop {
		s.drop[step]--
	}
	s.mu.Unlock()
	switch {
	case drop:
		s.hangUp(w, r)
	case injectedAfter:
		s.apiError(w, r, inj.status, inj.code, inj.subcode, inj.message)
	default:
		s.answer(w, r, http.StatusOK, body)
	}
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	path, ok := strings.CutPrefix(r.URL.Path, "/"+Version+"/")
	if !ok {
		s.apiError(w, r, 400, 2500, 0, "Unknown path components: "+r.URL.Path)
		return
	}
	form, err := s.form(r)
	if err != nil {
		s.apiError(w, r, 400, 100, 0, "(#100) "+err.Error())
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
		s.apiError(w, r, 400, 190, 0, "Invalid OAuth access token - Cannot parse access token")
		return
	}
	switch {
	case r.Method == http.MethodPost && path == DefaultUser+"/threads":
		s.createContainer(w, r, form)
	case r.Method == http.MethodPost && path == DefaultUser+"/threads_publish":
		s.publish(w, r, form.Get("creation_id"))
	case r.Method == http.MethodGet && path == DefaultUser+"/threads":
		s.list(w, r, form.Get("limit"), form.Get("fields"))
	case r.Method == http.MethodGet && path == "me":
		s.answer(w, r, 200, map[string]string{"id": DefaultUser, "username": Username})
	case r.Method == http.MethodGet && path == DefaultUser+"/threads_publishing_limit":
		s.mu.Lock()
		used, quota := s.usedLocked(), s.quota
		s.mu.Unlock()
		s.answer(w, r, 200, map[string]any{"data": []any{map[string]any{"quota_usage": used,
			"config": map[string]any{"quota_total": quota, "quota_duration": int(QuotaWindow / time.Second)}}}})
	case r.Method == http.MethodGet && !strings.Contains(path, "/"):
		s.read(w, r, path, form.Get("fields"))
	case r.Method == http.MethodDelete && !strings.Contains(path, "/"):
		s.del(w, r, path)
	case r.Method == http.MethodPost && (strings.HasSuffix(path, "/threads") || strings.HasSuffix(path, "/threads_publish")):
		// Another profile, or one this token cannot see: Graph's answer for an object it cannot load.
		id, _, _ := strings.Cut(path, "/")
		s.apiError(w, r, 400, 100, 33, fmt.Sprintf("Unsupported post request. Object with ID '%s' does not exist, cannot be loaded due to missing permissions, or does not support this operation.", id))
	default:
		s.apiError(w, r, 400, 100, 0, "(#100) Unsupported "+r.Method+" request")
	}
}

// form merges the query and a urlencoded body.
func (s *Server) form(r *http.Request) (url.Values, error) {
	v := r.URL.Query()
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt == "application/x-www-form-urlencoded" {
		if err := r.ParseForm(); err != nil {
			return nil, err
		}
		for k, vs := range r.PostForm {
			v[k] = vs
		}
	}
	return v, nil
}

func validURL(u string) bool {
	p, err := url.Parse(u)
	return err == nil && (p.Scheme == "http" || p.Scheme == "https") && p.Host != ""
}

// TextLength counts like Threads: a character per code point, an emoji grapheme as its UTF-8
// bytes.
func TextLength(s string) int {
	n := 0
	g := uniseg.NewGraphemes(s)
	for g.Next() {
		emoji := false
		for _, r := range g.Runes() {
			if r >= 0x2000 && unicode.Is(unicode.So, r) || r >= 0x1F1E6 && r <= 0x1F1FF || r == 0x20E3 || r == 0xA9 || r == 0xAE {
				emoji = true
			}
		}
		if emoji {
			n += len(g.Str())
		} else {
			n += utf8.RuneCountInString(g.Str())
		}
	}
	return n
}

func countLinks(text, attachment string) int {
	seen := map[string]bool{}
	for _, f := range strings.Fields(text) {
		if validURL(strings.TrimLeft(f, "\u200f\u200e")) {
			seen[strings.TrimLeft(f, "\u200f\u200e")] = true
		}
	}
	if attachment != "" {
		seen[attachment] = true
	}
	return len(seen)
}

// createContainer: POST /{user-id}/threads.
func (s *Server) createContainer(w http.ResponseWriter, r *http.Request, form url.Values) {
	inj, injectedNow := s.injectedFor(StepContainer)
	if injectedNow && !inj.after {
		s.apiError(w, r, inj.status, inj.code, inj.subcode, inj.message)
		return
	}
	c := &Container{MediaType: form.Get("media_type"), Text: form.Get("text"), ImageURL: form.Get("image_url"),
		LinkAttachment: form.Get("link_attachment"), Status: "FINISHED"}
	switch {
	case c.MediaType != "TEXT" && c.MediaType != "IMAGE":
		s.apiError(w, r, 400, 100, 0, "(#100) Param media_type must be one of {TEXT, IMAGE, VIDEO, CAROUSEL}")
		return
	case c.MediaType == "TEXT" && strings.TrimSpace(c.Text) == "":
		s.apiError(w, r, 400, 100, 0, "(#100) The parameter text is required for TEXT posts")
		return
	case TextLength(c.Text) > MaxText:
		s.apiError(w, r, 400, 100, 0, fmt.Sprintf("(#100) Param text must be at most %d characters long", MaxText))
		return
	case c.MediaType == "IMAGE" && !validURL(c.ImageURL):
		s.apiError(w, r, 400, 100, 0, "(#100) Param image_url must be a valid URL")
		return
	case c.LinkAttachment != "" && c.MediaType != "TEXT":
		s.apiError(w, r, 400, 100, 0, "(#100) link_attachment is only available for TEXT posts")
		return
	case c.LinkAttachment != "" && !validURL(c.LinkAttachment):
		s.apiError(w, r, 400, 100, 0, "(#100) Param link_attachment must be a valid URL")
		return
	case countLinks(c.Text, c.LinkAttachment) > MaxLinks:
		s.apiError(w, r, 400, 100, 0, "THREADS_API__LINK_LIMIT_EXCEEDED: a post may hold at most 5 links")
		return
	}
	s.mu.Lock()
	if c.MediaType == "IMAGE" {
		c.Status, c.pollsLeft = "IN_PROGRESS", s.imagePolls
		if msg, bad := s.failImage[c.ImageURL]; bad {
			c.errMessage = msg
		}
	}
	if c.MediaType == "TEXT" && s.textPolls > 0 {
		c.Status, c.pollsLeft = "IN_PROGRESS", s.textPolls
	}
	s.next++
	c.ID = fmt.Sprintf("1790000000%07d", s.next)
	s.containers[c.ID] = c
	s.order = append(s.order, c.ID)
	s.mu.Unlock()
	s.finish(w, r, StepContainer, inj, injectedNow, map[string]string{"id": c.ID})
}

// usedLocked counts the posts published in the quota window.
func (s *Server) usedLocked() int {
	n := 0
	for _, p := range s.posts {
		if s.now().Sub(p.Time) < QuotaWindow {
			n++
		}
	}
	return n
}

// publish: POST /{user-id}/threads_publish.
func (s *Server) publish(w http.ResponseWriter, r *http.Request, creationID string) {
	inj, injectedNow := s.injectedFor(StepPublish)
	if injectedNow && !inj.after {
		s.apiError(w, r, inj.status, inj.code, inj.subcode, inj.message)
		return
	}
	s.mu.Lock()
	c, ok := s.containers[creationID]
	switch {
	case creationID == "" || !ok:
		s.mu.Unlock()
		s.apiError(w, r, 400, 100, 33, fmt.Sprintf("Unsupported post request. Object with ID '%s' does not exist, cannot be loaded due to missing permissions, or does not support this operation.", creationID))
		return
	case c.Status == "PUBLISHED":
		s.mu.Unlock()
		s.apiError(w, r, 400, 100, 0, "(#100) The media container has already been published")
		return
	case c.Status == "IN_PROGRESS":
		s.mu.Unlock()
		s.apiError(w, r, 400, 9007, 2207027, "The media is not ready for publishing, please wait for a moment")
		return
	case c.Status == "ERROR":
		s.mu.Unlock()
		s.apiError(w, r, 400, 100, 0, "(#100) The media container failed: "+c.errMessage)
		return
	case s.usedLocked() >= s.quota:
		s.mu.Unlock()
		s.apiError(w, r, 400, 9, 2207042, "The maximum number of posts that can be published in 24 hours (publishing limit) has been reached")
		return
	}
	c.Status = "PUBLISHED"
	s.next++
	p := Post{ID: fmt.Sprintf("1800000000%07d", s.next), ContainerID: c.ID, MediaType: c.MediaType, Text: c.Text,
		ImageURL: c.ImageURL, LinkAttachment: c.LinkAttachment, Time: s.now()}
	p.Permalink = fmt.Sprintf("https://www.threads.net/@%s/post/F%07d", Username, s.next)
	s.posts = append(s.posts, p)
	s.mu.Unlock()
	s.finish(w, r, StepPublish, inj, injectedNow, map[string]string{"id": p.ID})
}

// read: GET /{container-id}?fields=status,error_message or GET /{post-id}?fields=permalink.
func (s *Server) read(w http.ResponseWriter, r *http.Request, id, fields string) {
	s.mu.Lock()
	if c, ok := s.containers[id]; ok {
		s.mu.Unlock()
		inj, injectedNow := s.injectedFor(StepStatus)
		if injectedNow {
			s.apiError(w, r, inj.status, inj.code, inj.subcode, inj.message)
			return
		}
		s.mu.Lock()
		if c.Status == "IN_PROGRESS" {
			if c.pollsLeft > 0 {
				c.pollsLeft--
			} else if c.errMessage != "" {
				c.Status = "ERROR"
			} else {
				c.Status = "FINISHED"
			}
		}
		body := map[string]string{"id": c.ID, "status": c.Status}
		if c.Status == "ERROR" {
			body["error_message"] = c.errMessage
		}
		s.mu.Unlock()
		s.answer(w, r, 200, body)
		return
	}
	for _, p := range s.posts {
		if p.ID == id && !s.deleted[id] {
			s.mu.Unlock()
			body := map[string]string{"id": p.ID}
			for _, f := range strings.Split(fields, ",") {
				switch f {
				case "permalink":
					body["permalink"] = p.Permalink
				case "text":
					body["text"] = p.Text
				case "media_type":
					body["media_type"] = p.MediaType
				}
			}
			s.answer(w, r, 200, body)
			return
		}
	}
	s.mu.Unlock()
	s.apiError(w, r, 400, 100, 33, fmt.Sprintf("Unsupported get request. Object with ID '%s' does not exist, cannot be loaded due to missing permissions, or does not support this operation.", id))
}

// list: GET /{user-id}/threads, the profile's posts newest first, at most limit (default 25),
// each with its id and the fields asked for (text, timestamp, permalink, media_type): like
// Graph, only id when fields says nothing.
func (s *Server) list(w http.ResponseWriter, r *http.Request, limit, fields string) {
	if inj, ok := s.injectedFor(StepList); ok {
		s.apiError(w, r, inj.status, inj.code, inj.subcode, inj.message)
		return
	}
	n, err := strconv.Atoi(limit)
	if limit == "" {
		n, err = 25, nil
	}
	if err != nil || n <= 0 || n > 100 {
		s.apiError(w, r, 400, 100, 0, "(#100) Param limit must be a number from 1 to 100")
		return
	}
	s.mu.Lock()
	data := []map[string]string{}
	for i := len(s.posts) - 1; i >= 0 && len(data) < n; i-- {
		p := s.posts[i]
		if s.deleted[p.ID] {
			continue
		}
		all := map[string]string{"text": p.Text, "permalink": p.Permalink, "media_type": p.MediaType,
			"timestamp": p.Time.UTC().Format("2006-01-02T15:04:05+0000")}
		item := map[string]string{"id": p.ID}
		for _, f := range strings.Split(fields, ",") {
			if v, ok := all[strings.TrimSpace(f)]; ok {
				item[strings.TrimSpace(f)] = v
			}
		}
		data = append(data, item)
	}
	s.mu.Unlock()
	s.answer(w, r, 200, map[string]any{"data": data})
}

// del: DELETE /{post-id}.
func (s *Server) del(w http.ResponseWriter, r *http.Request, id string) {
	s.mu.Lock()
	found := false
	for _, p := range s.posts {
		if p.ID == id && !s.deleted[id] {
			found = true
			s.deleted[id] = true
		}
	}
	s.mu.Unlock()
	if !found {
		s.apiError(w, r, 400, 100, 33, fmt.Sprintf("Unsupported delete request. Object with ID '%s' does not exist, cannot be loaded due to missing permissions, or does not support this operation.", id))
		return
	}
	s.answer(w, r, 200, map[string]any{"success": true, "deleted_id": id})
}
