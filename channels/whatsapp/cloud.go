package whatsapp

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"unicode/utf16"

	"github.com/rivo/uniseg"
)

// cloud is Meta's WhatsApp Cloud API.
type cloud struct{ cfg Config }

// Specs: https://developers.facebook.com/docs/whatsapp/cloud-api/reference/messages
func (p cloud) send(text string) (string, any) {
	path := "/" + p.cfg.PhoneNumberID + "/messages"
	if p.cfg.Template.Name != "" {
		// Specs: https://developers.facebook.com/docs/whatsapp/cloud-api/guides/send-message-templates
		return path, map[string]any{
			"messaging_product": "whatsapp",
			"recipient_type":    "individual",
			"to":                p.cfg.To,
			"type":              "template",
			"template": map[string]any{
				"name":     p.cfg.Template.Name,
				"language": map[string]string{"code": p.cfg.Template.Language},
				"components": []any{map[string]any{
					"type":       "body",
					"parameters": []any{map[string]string{"type": "text", "text": templateParam(text)}},
				}},
			},
		}
	}
	return path, map[string]any{
		"messaging_product": "whatsapp",
		"recipient_type":    "individual",
		"to":                p.cfg.To,
		"type":              "text",
		"text":              map[string]any{"body": text, "preview_url": true},
	}
}

// maxTemplateParam keeps a body variable inside a template body's 1024 characters, with room
// for the template's own text. Counted in UTF-16 units, as strictly as the formatter counts: a
// letter with its haraka is one grapheme but two characters, an emoji one grapheme but two.
const maxTemplateParam = 900

// templateParam is text on one line: a template variable may not hold new lines, tabs or more
// than four spaces in a row (the API refuses it), and is cut at a grapheme boundary.
func templateParam(text string) string {
	var lines []string
	for _, l := range strings.Split(text, "\n") {
		if l = strings.Join(strings.Fields(l), " "); l != "" {
			lines = append(lines, l)
		}
	}
	s := strings.Join(lines, " — ")
	if utf16Len(s) <= maxTemplateParam {
		return s
	}
	var b strings.Builder
	n := 0
	for g := uniseg.NewGraphemes(s); g.Next(); {
		u := utf16Len(g.Str())
		if n+u > maxTemplateParam-1 { // room for "…"
			break
		}
		b.WriteString(g.Str())
		n += u
	}
	return strings.TrimSpace(b.String()) + "…"
}

func utf16Len(s string) int {
	n := 0
	for _, r := range s {
		n += utf16.RuneLen(r)
	}
	return n
}

// Specs: https://developers.facebook.com/docs/whatsapp/cloud-api/reference/messages#media-object
func (p cloud) sendImage(imageURL, caption string) (string, any) {
	return "/" + p.cfg.PhoneNumberID + "/messages", map[string]any{
		"messaging_product": "whatsapp",
		"recipient_type":    "individual",
		"to":                p.cfg.To,
		"type":              "image",
		"image":             map[string]string{"link": imageURL, "caption": caption},
	}
}

func (p cloud) authorize(h http.Header) { h.Set("Authorization", "Bearer "+p.cfg.Token) }

// sentID reads {"messaging_product":"whatsapp","contacts":[…],"messages":[{"id":"wamid.…"}]}.
func (cloud) sentID(body []byte) (string, error) {
	var r struct {
		Messages []struct {
			ID string `json:"id"`
		} `json:"messages"`
	}
	if err := json.Unmarshal(body, &r); err != nil {
		return "", err
	}
	if len(r.Messages) == 0 {
		return "", errors.New("no messages in the answer")
	}
	return r.Messages[0].ID, nil
}

// Specs: https://developers.facebook.com/docs/whatsapp/cloud-api/reference/phone-numbers
func (p cloud) check() string { return "/" + p.cfg.PhoneNumberID }

func (cloud) checked(body []byte) error {
	var r struct {
		ID string `json:"id"`
	}
	if err := json.Unmarshal(body, &r); err != nil || r.ID == "" {
		return fmt.Errorf("unexpected answer %.100q", body)
	}
	return nil
}
