// Package whatsappfake is a fake of the three ways herald reaches WhatsApp, on one loopback
// server: Meta's Cloud API (under /v21.0), a WAHA gateway (/api/…) and Whapi.Cloud
// (/messages/text, /health). Each face checks what the real one checks (credential, ids,
// body fields, the 4096-character limit, the Cloud API's 24-hour window and templates, whose
// body with its variable filled in holds at most 1024 characters) and answers with the real
// error bodies (WAHA's three shapes: NestJS 4xx, its session manager's 422, its 500 exception).
// Failures can be injected (FailNext, SetSessionStatus, SetWAHAPlus(false) for WAHA Core, which
// sends no images, RejectImage), the send held (OnAccept), and everything accepted read back
// (Messages, Requests).
//
//	fake := whatsappfake.New()
//	defer fake.Close()
//	// cloud: api_base: fake.CloudBase(), token: whatsappfake.CloudToken,
//	//        phone_number_id: whatsappfake.PhoneNumberID, to: whatsappfake.CloudTo
//	// waha:  api_base: fake.URL(), api_key: whatsappfake.WAHAKey, chat_id: whatsappfake.ChannelID
//	// whapi: api_base: fake.URL(), token: whatsappfake.WhapiToken, to: whatsappfake.ChannelID
package whatsappfake

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"time"
	"unicode/utf16"
)

// What a new Server accepts.
const (
	CloudVersion  = "v21.0"
	CloudToken    = "EAAGfake-cloud-token-0123456789abcdef"
	PhoneNumberID = "106540352242922"
	CloudTo       = "966500000001"
	// Template is the approved template (language TemplateLanguage, one body variable); its
	// body is TemplateBody, which with the variable filled in may hold at most MaxTemplateBody.
	Template         = "herald_news"
	TemplateLanguage = "ar"
	TemplateBody     = "📰 عاجل: {{1}}"
	MaxTemplateBody  = 1024

	WAHAKey     = "waha-fake-api-key-0123456789"
	WAHASession = "default"
	WhapiToken  = "whapi-fake-token-0123456789"
	// ChannelID is the WhatsApp Channel (newsletter) both gateways can post to.
	ChannelID = "120363000000000001@newsletter"

	// MaxText is the text body limit (characters; counted here in UTF-16 units, as strictly as
	// the formatter does).
	MaxText = 4096
)

// Provider names a face.
type Provider string

const (
	Cloud Provider = "cloud"
	WAHA  Provider = "waha"
	Whapi Provider = "whapi"
)

// Message is one accepted message.
type Message struct {
	Provider Provider
	ID       string
	To       string // Cloud: the number; gateways: the chat id
	Type     string // "text", "image" or "template"
	Text     string // the text body, the image caption, or the template's variable
	ImageURL string // the image's link (type "image")
	Template string // template name
	Language string
	Preview  bool // Cloud preview_url
	Session  string
	Time     time.Time
}

// Request is one request received.
type Request struct {
	Provider Provider
	Method   string
	Path     string
	Status   int // 0 while it is being handled
	Time     time.Time
}

// Answer is an injected failure: HTTP status, the Cloud API error code (and details), and an
// optional Retry-After header.
type Answer struct {
	Status     int
	Code       int
	Subcode    int // Cloud API error_subcode
	Message    string
	Details    string
	RetryAfter string
}

// Server is the fake.
type Server struct {
	srv *httptest.Server

	mu       sync.Mutex
	msgs     []Message
	reqs     []Request
	inject   map[Provider][]Answer
	windows  map[string]bool // Cloud recipients whose 24-hour window is open
	badImage map[string]bool // image URLs the providers cannot fetch
	session  string          // WAHA session status
	wahaPlus bool            // WAHA Plus (sends media); Core answers sendImage 422
	onAccept func(Message)
	seq      int
	// throwAfter: WAHA sendText messages to accept and then answer as the engine throwing.
	throwAfter []string
}

// New starts the fake on 127.0.0.1. Every Cloud recipient's window starts closed (free text
// gets 131047); the WAHA session starts WORKING, on WAHA Plus (images can be sent).
func New() *Server {
	s := &Server{inject: map[Provider][]Answer{}, windows: map[string]bool{}, badImage: map[string]bool{}, session: "WORKING", wahaPlus: true}
	s.srv = httptest.NewServer(s)
	return s
}

// URL is the base for the gateways (api_base of waha and whapi).
func (s *Server) URL() string { return s.srv.URL }

// CloudBase is the Cloud API's api_base: URL + "/v21.0".
func (s *Server) CloudBase() string { return s.srv.URL + "/" + CloudVersion }

// Close stops the server.
func (s *Server) Close() { s.srv.Close() }

// OpenWindow opens the 24-hour customer-service window of a Cloud recipient (as if they had
// just written), so free text is accepted.
func (s *Server) OpenWindow(to string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.windows[to] = true
}

// RejectImage makes every face fail to fetch this image URL, as it does for a link that
// answers 404 or is not an image.
func (s *Server) RejectImage(url string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.badImage[url] = true
}

func (s *Server) imageRejected(url string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.badImage[url]
}

func okImageURL(u string) bool {
	return strings.HasPrefix(u, "https://") || strings.HasPrefix(u, "http://")
}

// SetSessionStatus sets the WAHA session's status (WORKING, SCAN_QR_CODE, STOPPED, FAILED).
func (s *Server) SetSessionStatus(status string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.session = status
}

// SetWAHAPlus chooses the WAHA edition: Plus (true, the default) sends images; Core (false)
// answers POST /api/sendImage 422 "The feature is available only in Plus version", as the free
// edition does, and still sends text.
func (s *Server) SetWAHAPlus(plus bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.wahaPlus = plus
}

// FailNext makes the next n send requests to a face answer a.
func (s *Server) FailNext(p Provider, n int, a Answer) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for range n {
		s.inject[p] = append(s.inject[p], a)
	}
}

// ThrowAfterSendNext makes the next WAHA sendText send the message (it is recorded) and then
// answer 500 with the engine's exception, as WAHA does when whatsapp-web.js throws after the
// message went out ("Evaluation failed: TypeError: Cannot read properties of undefined (reading
// 'serialize')"): the client cannot tell it from a message that was not sent.
func (s *Server) ThrowAfterSendNext(exception string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.throwAfter = append(s.throwAfter, exception)
}

// OnAccept sets a hook run after a message is recorded and before the answer; blocking in it
// makes the client time out on an accepted message.
func (s *Server) OnAccept(f func(Message)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.onAccept = f
}

// Messages returns every accepted message, oldest first.
func (s *Server) Messages() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Message(nil), s.msgs...)
}

// Requests returns every request, oldest first.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.reqs...)
}

type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

// ServeHTTP routes to a face by path.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	sw := &statusWriter{ResponseWriter: w}
	p := Whapi
	switch {
	case strings.HasPrefix(r.URL.Path, "/"+CloudVersion+"/"):
		p = Cloud
	case strings.HasPrefix(r.URL.Path, "/api/"):
		p = WAHA
	}
	// Recorded on arrival: a request held in OnAccept is already visible, with status 0.
	s.mu.Lock()
	i := len(s.reqs)
	s.reqs = append(s.reqs, Request{Provider: p, Method: r.Method, Path: r.URL.Path, Time: time.Now()})
	s.mu.Unlock()
	switch p {
	case Cloud:
		s.cloud(sw, r)
	case WAHA:
		s.waha(sw, r)
	default:
		s.whapi(sw, r)
	}
	s.mu.Lock()
	s.reqs[i].Status = sw.status
	s.mu.Unlock()
}

// injected takes the next injected answer for a face.
func (s *Server) injected(p Provider) (Answer, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.inject[p]) == 0 {
		return Answer{}, false
	}
	a := s.inject[p][0]
	s.inject[p] = s.inject[p][1:]
	return a, true
}

// accept records m with a new id and runs the hook.
func (s *Server) accept(m Message) Message {
	s.mu.Lock()
	s.seq++
	switch m.Provider {
	case Cloud:
		m.ID = fmt.Sprintf("wamid.HBgM%s%08d", m.To, s.seq)
	case WAHA:
		m.ID = fmt.Sprintf("true_%s_3EB0%08X", m.To, s.seq)
	default:
		m.ID = fmt.Sprintf("PsobWy36679.%08d", s.seq)
	}
	m.Time = time.Now()
	s.msgs = append(s.msgs, m)
	hook := s.onAccept
	s.mu.Unlock()
	if hook != nil {
		hook(m)
	}
	return m
}

func units(s string) int { return len(utf16.Encode([]rune(s))) }

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func decode(r *http.Request, v any) error {
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		return fmt.Errorf("Content-Type %q, want application/json", ct)
	}
	dec := json.NewDecoder(http.MaxBytesReader(nil, r.Body, 1<<20))
	return dec.Decode(v)
}
