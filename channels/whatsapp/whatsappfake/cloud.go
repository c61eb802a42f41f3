package whatsappfake

import (
	"fmt"
	"net/http"
	"regexp"
	"strings"
)

// graphError writes the Graph API error body.
// Specs: https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes
func graphError(w http.ResponseWriter, a Answer) {
	if a.RetryAfter != "" {
		w.Header().Set("Retry-After", a.RetryAfter)
	}
	e := map[string]any{"message": a.Message, "type": "OAuthException", "code": a.Code, "fbtrace_id": "AbCdEfGhIjKlMnOp"}
	if a.Subcode != 0 {
		e["error_subcode"] = a.Subcode
	}
	if a.Details != "" {
		e["error_data"] = map[string]any{"messaging_product": "whatsapp", "details": a.Details}
	}
	writeJSON(w, a.Status, map[string]any{"error": e})
}

var (
	badToken     = Answer{Status: 401, Code: 190, Message: "Invalid OAuth access token - Cannot parse access token"}
	reEngagement = Answer{Status: 400, Code: 131047, Message: "Re-engagement message",
		Details: "Message failed to send because more than 24 hours have passed since the customer last replied to this number."}
	consecutiveSpaces = regexp.MustCompile(`[\n\t]| {5,}`)
)

// cloud serves GET /v21.0/{phone-number-id} and POST /v21.0/{phone-number-id}/messages.
func (s *Server) cloud(w http.ResponseWriter, r *http.Request) {
	rest := strings.TrimPrefix(r.URL.Path, "/"+CloudVersion+"/")
	if r.Header.Get("Authorization") != "Bearer "+CloudToken {
		graphError(w, badToken)
		return
	}
	id, tail, _ := strings.Cut(rest, "/")
	if id != PhoneNumberID {
		graphError(w, Answer{Status: 400, Code: 100, Subcode: 33, Message: fmt.Sprintf("Unsupported post request. Object with ID '%s' does not exist, cannot be loaded due to missing permissions, or does not support this operation.", id)})
		return
	}
	switch {
	case tail == "" && r.Method == http.MethodGet:
		writeJSON(w, 200, map[string]any{"verified_name": "Herald Fake News", "display_phone_number": "+1 555-010-0000",
			"id": PhoneNumberID, "quality_rating": "GREEN"})
		return
	case tail == "messages" && r.Method == http.MethodPost:
	default:
		graphError(w, Answer{Status: 400, Code: 100, Message: "Unknown path components: /" + tail})
		return
	}
	if a, ok := s.injected(Cloud); ok {
		graphError(w, a)
		return
	}
	var req struct {
		Product string `json:"messaging_product"`
		To      string `json:"to"`
		Type    string `json:"type"`
		Text    *struct {
			Body    string `json:"body"`
			Preview bool   `json:"preview_url"`
		} `json:"text"`
		Image *struct {
			Link    string `json:"link"`
			Caption string `json:"caption"`
		} `json:"image"`
		Template *struct {
			Name     string `json:"name"`
			Language struct {
				Code string `json:"code"`
			} `json:"language"`
			Components []struct {
				Type       string `json:"type"`
				Parameters []struct {
					Type string `json:"type"`
					Text string `json:"text"`
				} `json:"parameters"`
			} `json:"components"`
		} `json:"template"`
	}
	if err := decode(r, &req); err != nil {
		graphError(w, Answer{Status: 400, Code: 100, Message: "(#100) Invalid parameter", Details: err.Error()})
		return
	}
	switch {
	case req.Product != "whatsapp":
		graphError(w, Answer{Status: 400, Code: 100, Message: "(#100) The parameter messaging_product is required."})
		return
	case req.To == "":
		graphError(w, Answer{Status: 400, Code: 100, Message: "(#100) The parameter to is required."})
		return
	}
	m := Message{Provider: Cloud, To: req.To, Type: req.Type}
	switch req.Type {
	case "text":
		if req.Text == nil || req.Text.Body == "" {
			graphError(w, Answer{Status: 400, Code: 100, Message: "(#100) The parameter text['body'] is required."})
			return
		}
		if units(req.Text.Body) > MaxText {
			graphError(w, Answer{Status: 400, Code: 100, Message: "(#100) Param text['body'] must be at most 4096 characters long."})
			return
		}
		if !s.windowOpen(w, req.To) {
			return
		}
		m.Text, m.Preview = req.Text.Body, req.Text.Preview
	case "image":
		switch {
		case req.Image == nil || !okImageURL(req.Image.Link):
			graphError(w, Answer{Status: 400, Code: 100, Message: "(#100) Param image['link'] must be a valid URL"})
			return
		case units(req.Image.Caption) > 1024:
			graphError(w, Answer{Status: 400, Code: 100, Message: "(#100) Param image['caption'] must be at most 1024 characters long."})
			return
		case s.imageRejected(req.Image.Link):
			graphError(w, Answer{Status: 400, Code: 131053, Message: "(#131053) Media upload error",
				Details: "Downloading media from weblink failed with http code 404, status message Not Found"})
			return
		}
		if !s.windowOpen(w, req.To) {
			return
		}
		m.Text, m.ImageURL = req.Image.Caption, req.Image.Link
	case "template":
		t := req.Template
		if t == nil || t.Name != Template || t.Language.Code != TemplateLanguage {
			name, lang := "", ""
			if t != nil {
				name, lang = t.Name, t.Language.Code
			}
			graphError(w, Answer{Status: 404, Code: 132001, Message: "(#132001) Template name does not exist in the translation",
				Details: fmt.Sprintf("template name (%s) does not exist in %s", name, lang)})
			return
		}
		var params []string
		for _, c := range t.Components {
			if c.Type == "body" {
				for _, p := range c.Parameters {
					params = append(params, p.Text)
				}
			}
		}
		if len(params) != 1 {
			graphError(w, Answer{Status: 400, Code: 132000, Message: "(#132000) Number of parameters does not match the expected number of params",
				Details: fmt.Sprintf("body: number of localizable_params (%d) does not match the expected number of params (1)", len(params))})
			return
		}
		if params[0] == "" || consecutiveSpaces.MatchString(params[0]) {
			graphError(w, Answer{Status: 400, Code: 132018, Message: "(#132018) There was an issue with the parameters in your template.",
				Details: "Param text cannot have new-line/tab characters or more than 4 consecutive spaces"})
			return
		}
		if body := strings.Replace(TemplateBody, "{{1}}", params[0], 1); units(body) > MaxTemplateBody {
			// The body with its variables filled in must fit the template body's 1024 characters.
			graphError(w, Answer{Status: 400, Code: 132005, Message: "(#132005) Translated text too long",
				Details: fmt.Sprintf("The template body is %d characters with its parameters, over %d", units(body), MaxTemplateBody)})
			return
		}
		m.Text, m.Template, m.Language = params[0], t.Name, t.Language.Code
	default:
		graphError(w, Answer{Status: 400, Code: 100, Message: "(#100) Param type must be one of {text, template, …}"})
		return
	}
	m = s.accept(m)
	writeJSON(w, 200, map[string]any{"messaging_product": "whatsapp",
		"contacts": []any{map[string]string{"input": req.To, "wa_id": req.To}},
		"messages": []any{map[string]string{"id": m.ID, "message_status": "accepted"}}})
}

// windowOpen answers the re-engagement error unless to has written in the last 24 hours (a
// free-form text or image is refused outside that window), and reports whether it has.
func (s *Server) windowOpen(w http.ResponseWriter, to string) bool {
	s.mu.Lock()
	open := s.windows[to]
	s.mu.Unlock()
	if !open {
		graphError(w, reEngagement)
	}
	return open
}
