package whatsapp

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
)

// waha is a WAHA gateway (WhatsApp HTTP API, self-hosted).
type waha struct{ cfg Config }

// Specs: https://waha.devlike.pro/docs/how-to/send-messages/#send-text
// (Channels: https://waha.devlike.pro/docs/how-to/channels/)
func (p waha) send(text string) (string, any) {
	return "/api/sendText", map[string]any{"session": p.cfg.Session, "chatId": p.cfg.ChatID, "text": text}
}

// Specs: https://waha.devlike.pro/docs/how-to/send-messages/#send-image
func (p waha) sendImage(imageURL, caption string) (string, any) {
	return "/api/sendImage", map[string]any{"session": p.cfg.Session, "chatId": p.cfg.ChatID,
		"file": map[string]string{"url": imageURL, "mimetype": mimeType(imageURL)}, "caption": caption}
}

func (p waha) authorize(h http.Header) {
	if p.cfg.APIKey != "" {
		h.Set("X-Api-Key", p.cfg.APIKey)
	}
}

// sentID reads the message WAHA returns. Its shape depends on the engine: WEBJS gives
// {"id":{"_serialized":"true_…"}}, NOWEB and GOWS {"key":{"id":"…"}} or {"id":"…"}.
func (waha) sentID(body []byte) (string, error) {
	var r struct {
		ID  json.RawMessage `json:"id"`
		Key struct {
			ID string `json:"id"`
		} `json:"key"`
	}
	if err := json.Unmarshal(body, &r); err != nil {
		return "", err
	}
	var s string
	if json.Unmarshal(r.ID, &s) == nil && s != "" {
		return s, nil
	}
	var obj struct {
		Serialized string `json:"_serialized"`
		ID         string `json:"id"`
	}
	if json.Unmarshal(r.ID, &obj) == nil {
		if obj.Serialized != "" {
			return obj.Serialized, nil
		}
		if obj.ID != "" {
			return obj.ID, nil
		}
	}
	return r.Key.ID, nil
}

// Specs: https://waha.devlike.pro/docs/how-to/sessions/#get-session
func (p waha) check() string { return "/api/sessions/" + url.PathEscape(p.cfg.Session) }

// checked wants the session WORKING: STARTING, SCAN_QR_CODE, STOPPED and FAILED cannot send.
func (waha) checked(body []byte) error {
	var r struct {
		Status string `json:"status"`
	}
	if err := json.Unmarshal(body, &r); err != nil {
		return fmt.Errorf("unexpected answer %.100q", body)
	}
	if r.Status != "WORKING" {
		return fmt.Errorf("session status %s, not WORKING (link the device again in WAHA)", r.Status)
	}
	return nil
}
