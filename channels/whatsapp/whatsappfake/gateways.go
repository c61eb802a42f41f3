package whatsappfake

import (
	"fmt"
	"net/http"
	"strings"
	"time"
)

// wahaError writes WAHA's (NestJS) error body. A 500 is an error the engine threw, which WAHA's
// exception filter answers as {"statusCode":500,"timestamp","exception":{"message","name",
// "stack"}}, with no top-level "message".
func wahaError(w http.ResponseWriter, status int, msg string, extra map[string]any) {
	if status == http.StatusInternalServerError {
		writeJSON(w, status, map[string]any{"statusCode": status, "timestamp": time.Now().UTC().Format(time.RFC3339Nano),
			"exception": map[string]any{"message": msg, "name": "Error", "stack": "Error: " + msg + "\n    at WhatsappSessionWebJSCore.sendText (/app/dist/core/engines/webjs/session.webjs.core.js:512:19)"}})
		return
	}
	body := map[string]any{"statusCode": status, "message": msg, "error": http.StatusText(status)}
	for k, v := range extra {
		body[k] = v
	}
	writeJSON(w, status, body)
}

// waha serves POST /api/sendText and GET /api/sessions/{session}.
// Specs: https://waha.devlike.pro/docs/how-to/send-messages/
func (s *Server) waha(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("X-Api-Key") != WAHAKey {
		wahaError(w, 401, "Unauthorized", nil)
		return
	}
	s.mu.Lock()
	status := s.session
	s.mu.Unlock()
	if name, ok := strings.CutPrefix(r.URL.Path, "/api/sessions/"); ok && r.Method == http.MethodGet {
		if name != WAHASession {
			wahaError(w, 404, fmt.Sprintf("Session %q does not exist", name), nil)
			return
		}
		writeJSON(w, 200, map[string]any{"name": name, "status": status,
			"me": map[string]string{"id": "15550100000@c.us", "pushName": "Herald Fake"}, "engine": map[string]string{"engine": "WEBJS"}})
		return
	}
	if r.URL.Path == "/api/sendImage" && r.Method == http.MethodPost {
		s.wahaImage(w, r, status)
		return
	}
	if r.URL.Path != "/api/sendText" || r.Method != http.MethodPost {
		wahaError(w, 404, fmt.Sprintf("Cannot %s %s", r.Method, r.URL.Path), nil)
		return
	}
	if a, ok := s.injected(WAHA); ok {
		if a.RetryAfter != "" {
			w.Header().Set("Retry-After", a.RetryAfter)
		}
		wahaError(w, a.Status, a.Message, nil)
		return
	}
	var req struct {
		Session string `json:"session"`
		ChatID  string `json:"chatId"`
		Text    string `json:"text"`
	}
	if err := decode(r, &req); err != nil {
		wahaError(w, 400, err.Error(), nil)
		return
	}
	if !wahaTarget(w, req.Session, req.ChatID, status) {
		return
	}
	switch {
	case req.Text == "":
		wahaError(w, 400, "text should not be empty", nil)
		return
	case units(req.Text) > MaxText:
		wahaError(w, 400, "text is longer than 4096 characters", nil)
		return
	}
	m := s.accept(Message{Provider: WAHA, To: req.ChatID, Type: "text", Text: req.Text, Session: req.Session})
	s.mu.Lock()
	var exception string
	if len(s.throwAfter) > 0 {
		exception, s.throwAfter = s.throwAfter[0], s.throwAfter[1:]
	}
	s.mu.Unlock()
	if exception != "" {
		wahaError(w, http.StatusInternalServerError, exception, nil)
		return
	}
	short := strings.TrimPrefix(m.ID, "true_"+req.ChatID+"_")
	writeJSON(w, 201, map[string]any{
		"id":        map[string]any{"fromMe": true, "remote": req.ChatID, "id": short, "_serialized": m.ID},
		"body":      req.Text,
		"timestamp": m.Time.Unix(),
		"fromMe":    true,
	})
}

// wahaTarget answers the error WAHA gives for an unknown session, a session that is not
// WORKING or an unknown chat, and reports whether the request may go on. WAHA's session
// manager throws the first two as 422 with its own object as the whole body: {"error",
// "session"[, "status", "expected"]}, no "statusCode" or "message".
func wahaTarget(w http.ResponseWriter, session, chatID, status string) bool {
	switch {
	case session != WAHASession:
		writeJSON(w, 422, map[string]any{"error": fmt.Sprintf("Session %q does not exist", session), "session": session})
	case status != "WORKING":
		writeJSON(w, 422, map[string]any{"error": "Session status is not as expected. Try again later or restart the session",
			"session": session, "status": status, "expected": []string{"WORKING"}})
	case chatID != ChannelID:
		wahaError(w, 400, fmt.Sprintf("chatId %q: no such chat or channel", chatID), nil)
	default:
		return true
	}
	return false
}

// wahaImage serves POST /api/sendImage {"session","chatId","file":{"url","mimetype"},"caption"}.
func (s *Server) wahaImage(w http.ResponseWriter, r *http.Request, status string) {
	if a, ok := s.injected(WAHA); ok {
		wahaError(w, a.Status, a.Message, nil)
		return
	}
	var req struct {
		Session string `json:"session"`
		ChatID  string `json:"chatId"`
		File    struct {
			URL      string `json:"url"`
			Mimetype string `json:"mimetype"`
		} `json:"file"`
		Caption string `json:"caption"`
	}
	if err := decode(r, &req); err != nil {
		wahaError(w, 400, err.Error(), nil)
		return
	}
	if !wahaTarget(w, req.Session, req.ChatID, status) {
		return
	}
	s.mu.Lock()
	plus := s.wahaPlus
	s.mu.Unlock()
	if !plus {
		// WAHA Core sends text only: media is a Plus feature (AvailableInPlusVersion, a 422).
		wahaError(w, 422, "The feature is available only in Plus version for 'WEBJS' engine. Check this out: https://waha.devlike.pro/", nil)
		return
	}
	switch {
	case !okImageURL(req.File.URL) || !strings.HasPrefix(req.File.Mimetype, "image/"):
		wahaError(w, 400, "file.url and an image/* file.mimetype are required", nil)
		return
	case s.imageRejected(req.File.URL):
		wahaError(w, 400, "Failed to download the file: Request failed with status code 404", nil)
		return
	}
	m := s.accept(Message{Provider: WAHA, To: req.ChatID, Type: "image", Text: req.Caption, ImageURL: req.File.URL, Session: req.Session})
	writeJSON(w, 201, map[string]any{"id": map[string]any{"fromMe": true, "remote": req.ChatID, "_serialized": m.ID}, "caption": req.Caption})
}

// whapiError writes Whapi.Cloud's error body.
func whapiError(w http.ResponseWriter, status int, msg, details string) {
	e := map[string]any{"code": status, "message": msg}
	if details != "" {
		e["details"] = details
	}
	writeJSON(w, status, map[string]any{"error": e})
}

// whapi serves POST /messages/text and GET /health.
// Specs: https://whapi.readme.io/reference/sendmessagetext
func (s *Server) whapi(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("Authorization") != "Bearer "+WhapiToken {
		whapiError(w, 401, "Unauthorized", "invalid or missing token")
		return
	}
	switch {
	case r.URL.Path == "/health" && r.Method == http.MethodGet:
		writeJSON(w, 200, map[string]any{"status": map[string]any{"code": 4, "text": "AUTH"}, "channel_id": "HERALD-FAKE"})
		return
	case r.URL.Path == "/messages/text" && r.Method == http.MethodPost:
	case r.URL.Path == "/messages/image" && r.Method == http.MethodPost:
		s.whapiImage(w, r)
		return
	default:
		whapiError(w, 404, "Not found", r.Method+" "+r.URL.Path)
		return
	}
	if a, ok := s.injected(Whapi); ok {
		if a.RetryAfter != "" {
			w.Header().Set("Retry-After", a.RetryAfter)
		}
		whapiError(w, a.Status, a.Message, a.Details)
		return
	}
	var req struct {
		To   string `json:"to"`
		Body string `json:"body"`
	}
	if err := decode(r, &req); err != nil {
		whapiError(w, 400, "Bad request", err.Error())
		return
	}
	switch {
	case req.To == "" || req.Body == "":
		whapiError(w, 400, "Bad request", "to and body are required")
		return
	case req.To != ChannelID:
		whapiError(w, 404, "Chat not found", req.To)
		return
	case units(req.Body) > MaxText:
		whapiError(w, 400, "Bad request", "body is longer than 4096 characters")
		return
	}
	m := s.accept(Message{Provider: Whapi, To: req.To, Type: "text", Text: req.Body})
	writeJSON(w, 200, map[string]any{"sent": true, "message": map[string]any{
		"id": m.ID, "from_me": true, "type": "text", "chat_id": req.To, "timestamp": time.Now().Unix(),
		"source": "api", "status": "pending", "text": map[string]string{"body": req.Body}}})
}

// whapiImage serves POST /messages/image {"to","media","caption"}.
func (s *Server) whapiImage(w http.ResponseWriter, r *http.Request) {
	if a, ok := s.injected(Whapi); ok {
		whapiError(w, a.Status, a.Message, a.Details)
		return
	}
	var req struct {
		To      string `json:"to"`
		Media   string `json:"media"`
		Caption string `json:"caption"`
	}
	if err := decode(r, &req); err != nil {
		whapiError(w, 400, "Bad request", err.Error())
		return
	}
	switch {
	case req.To != ChannelID:
		whapiError(w, 404, "Chat not found", req.To)
		return
	case !okImageURL(req.Media):
		whapiError(w, 400, "Bad request", "media must be a URL, a media id or base64")
		return
	case s.imageRejected(req.Media):
		whapiError(w, 400, "Bad request", "could not download media")
		return
	case units(req.Caption) > 1024:
		whapiError(w, 400, "Bad request", "caption is longer than 1024 characters")
		return
	}
	m := s.accept(Message{Provider: Whapi, To: req.To, Type: "image", Text: req.Caption, ImageURL: req.Media})
	writeJSON(w, 200, map[string]any{"sent": true, "message": map[string]any{"id": m.ID, "from_me": true, "type": "image", "chat_id": req.To}})
}
