package whatsapp

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
)

// whapi is the Whapi.Cloud gateway.
type whapi struct{ cfg Config }

// Specs: https://whapi.readme.io/reference/sendmessagetext
// (Channels: https://support.whapi.cloud/help-desk/channels/channel-newsletters)
func (p whapi) send(text string) (string, any) {
	return "/messages/text", map[string]any{"to": p.cfg.To, "body": text}
}

// Specs: https://whapi.readme.io/reference/sendmessageimage
func (p whapi) sendImage(imageURL, caption string) (string, any) {
	return "/messages/image", map[string]any{"to": p.cfg.To, "media": imageURL, "caption": caption}
}

func (p whapi) authorize(h http.Header) { h.Set("Authorization", "Bearer "+p.cfg.Token) }

// sentID reads {"sent":true,"message":{"id":"…",…}}.
func (whapi) sentID(body []byte) (string, error) {
	var r struct {
		Sent    *bool `json:"sent"`
		Message struct {
			ID string `json:"id"`
		} `json:"message"`
	}
	if err := json.Unmarshal(body, &r); err != nil {
		return "", err
	}
	if r.Sent != nil && !*r.Sent {
		return "", errors.New(`"sent": false`)
	}
	return r.Message.ID, nil
}

// Specs: https://whapi.readme.io/reference/checkhealth
func (whapi) check() string { return "/health" }

// checked wants status AUTH: the channel's phone is linked and can send.
func (whapi) checked(body []byte) error {
	var r struct {
		Status struct {
			Code int    `json:"code"`
			Text string `json:"text"`
		} `json:"status"`
	}
	if err := json.Unmarshal(body, &r); err != nil {
		return fmt.Errorf("unexpected answer %.100q", body)
	}
	if r.Status.Text != "AUTH" {
		return fmt.Errorf("channel status %s (%d), not AUTH (link the phone again in Whapi)", r.Status.Text, r.Status.Code)
	}
	return nil
}
