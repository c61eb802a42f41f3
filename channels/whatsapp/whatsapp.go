// Package whatsapp posts to WhatsApp through one of three providers: Meta's Cloud API (a
// message to a phone number; cloud.go), or a gateway that runs a linked WhatsApp device and
// can post to a WhatsApp Channel: WAHA (waha.go) or Whapi.Cloud (whapi.go). See config.go for
// the settings, errors.go for how answers map to retry decisions, and docs/whatsapp.md.
package whatsapp

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"time"

	"go.uber.org/zap"

	"herald/channels"
	"herald/channels/httpsend"
)

// Channel posts to one WhatsApp destination. It is safe for concurrent use.
type Channel struct {
	name channels.Name
	cfg  Config
	p    provider
	http *httpsend.Client
	log  *zap.Logger
	now  func() time.Time
}

var (
	_ channels.Channel   = (*Channel)(nil)
	_ channels.Checker   = (*Channel)(nil)
	_ channels.Previewer = (*Channel)(nil)
)

// provider is what differs between the Cloud API and the gateways.
type provider interface {
	// send is the request that posts text; sendImage an image by URL with a caption.
	send(text string) (path string, body any)
	sendImage(imageURL, caption string) (path string, body any)
	// authorize adds the credential to a request.
	authorize(h http.Header)
	// sentID reads the message id from a 2xx answer ("" when the answer has none).
	sentID(body []byte) (string, error)
	// classify turns an answer other than 2xx into an error of the right kind.
	classify(c *Channel, action string, resp *httpsend.Response) error
	// check is the request that tests credentials and destination without posting, and what
	// its 2xx answer means.
	check() (path string)
	checked(body []byte) error
}

// New builds a WhatsApp channel from its spec without calling the network.
func New(spec channels.Spec, env channels.Env) (channels.Channel, error) {
	cfg, err := LoadConfig(spec)
	if err != nil {
		return nil, err
	}
	return newChannel(spec.Name, cfg, env), nil
}

func newChannel(name channels.Name, cfg Config, env channels.Env) *Channel {
	env = env.WithDefaults()
	c := &Channel{name: name, cfg: cfg, log: env.Logger, now: time.Now}
	switch cfg.Provider {
	case Cloud:
		c.p = cloud{cfg: cfg}
	case WAHA:
		c.p = waha{cfg: cfg}
	default:
		c.p = whapi{cfg: cfg}
	}
	c.http = &httpsend.Client{
		HTTP:    httpsend.NoRedirects(env.HTTPClient),
		Timeout: cfg.Timeout,
		Prefix:  "whatsapp",
		Secrets: cfg.secrets(),
		Log:     env.Logger,
		Now:     func() time.Time { return c.now() },
	}
	return c
}

// Name implements channels.Channel.
func (c *Channel) Name() channels.Name { return c.name }

// Kind implements channels.Channel.
func (c *Channel) Kind() channels.Kind { return channels.KindWhatsApp }

// Send posts each post in order: its text, or, when it carries an image (format.image: true)
// and the text fits a caption, the image with the text as caption (image.go). The receipt
// holds the message id the provider gave (several, comma-joined). WhatsApp has no idempotency
// key: when a later post fails after an earlier one was accepted, or a request may have
// arrived without an answer, the error is UnknownOutcome and the worker parks the delivery for
// an admin instead of posting twice.
func (c *Channel) Send(ctx context.Context, msg channels.Message) (channels.Receipt, error) {
	return channels.SendEach(ctx, "whatsapp", "message", msg.Posts, c.sendPost, nil)
}

func (c *Channel) sendText(ctx context.Context, text string) (string, error) {
	if strings.TrimSpace(text) == "" {
		return "", channels.Permanent(errors.New("whatsapp: empty text"))
	}
	path, body := c.p.send(text)
	return c.post(ctx, "sending message", path, body)
}

// post sends one message request and reads the message id from the answer.
func (c *Channel) post(ctx context.Context, action, path string, body any) (string, error) {
	req, err := c.request(http.MethodPost, path, body)
	if err != nil {
		return "", err
	}
	resp, err := c.http.Do(ctx, action, req)
	if err != nil {
		return "", err
	}
	if resp.Status < 200 || resp.Status >= 300 {
		return "", c.p.classify(c, action, resp)
	}
	id, err := c.p.sentID(resp.Body)
	if err != nil {
		// Accepted (2xx) but not understood: the message may be out; do not send it again.
		return "", channels.UnknownOutcome(c.http.Errorf("%s: reading the %d answer: %w", action, resp.Status, err))
	}
	if id == "" {
		c.log.Warn("whatsapp: the provider accepted the message without an id",
			zap.String("provider", string(c.cfg.Provider)))
	}
	return id, nil
}

// request builds a JSON request to path under api_base, with the provider's credential.
func (c *Channel) request(method, path string, body any) (*http.Request, error) {
	var payload []byte
	if body != nil {
		var err error
		if payload, err = json.Marshal(body); err != nil {
			return nil, channels.Permanent(c.http.Errorf("encoding the request: %w", err))
		}
	}
	req, err := http.NewRequest(method, c.cfg.APIBase+path, bytes.NewReader(payload))
	if err != nil {
		return nil, channels.Permanent(c.http.Errorf("building the request: %w", err))
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Accept", "application/json")
	c.p.authorize(req.Header)
	return req, nil
}

// Check implements channels.Checker: it asks the provider about the sender (Cloud API: the
// phone number; WAHA: the session, which must be WORKING; Whapi: the channel's health)
// without posting. Errors are classified like Send's.
func (c *Channel) Check(ctx context.Context) error {
	req, err := c.request(http.MethodGet, c.p.check(), nil)
	if err != nil {
		return err
	}
	const action = "checking the sender"
	resp, err := c.http.Do(ctx, action, req)
	if err != nil {
		return err
	}
	if resp.Status < 200 || resp.Status >= 300 {
		err := c.p.classify(c, action, resp)
		var u *channels.UnknownOutcomeError
		if errors.As(err, &u) {
			return u.Err // a check sends nothing
		}
		return err
	}
	if err := c.p.checked(resp.Body); err != nil {
		return c.http.Errorf("%s: %w", action, err)
	}
	return nil
}

// Preview implements channels.Previewer: the requests Send would make, credentials hidden.
func (c *Channel) Preview(msg channels.Message) ([]channels.Request, error) {
	out := make([]channels.Request, 0, len(msg.Posts))
	for _, p := range msg.Posts {
		path, body := c.p.send(p.Text)
		if img := c.imageURL(p); img != "" {
			path, body = c.p.sendImage(img, p.Text)
		}
		req, err := c.request(http.MethodPost, path, body)
		if err != nil {
			return nil, err
		}
		b, _ := json.Marshal(body)
		h := map[string]string{}
		for k := range req.Header {
			h[k] = c.http.RedactString(req.Header.Get(k))
		}
		out = append(out, channels.Request{Method: req.Method, URL: req.URL.String(), Header: h, Body: string(b)})
	}
	return out, nil
}
