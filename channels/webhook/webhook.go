// Package webhook delivers articles to any HTTP endpoint as a Standard Webhooks request: a JSON
// body (the webhook renderer's payload, or the channel's body_template), signed with
// webhook-id, webhook-timestamp and webhook-signature so the receiver can check it came from
// herald and drop repeats. See config.go for the settings, errors.go for how answers map to
// retry decisions, and docs/webhook.md.
package webhook

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"text/template"
	"time"

	"herald/channels"
	"herald/channels/httpsend"
)

// Channel posts to one webhook URL. It is safe for concurrent use.
type Channel struct {
	name channels.Name
	cfg  Config
	http *httpsend.Client
	now  func() time.Time
}

var (
	_ channels.Channel       = (*Channel)(nil)
	_ channels.Deduplicating = (*Channel)(nil)
	_ channels.Previewer     = (*Channel)(nil)
)

// New builds a webhook channel from its spec without calling the network.
func New(spec channels.Spec, env channels.Env) (channels.Channel, error) {
	cfg, err := LoadConfig(spec)
	if err != nil {
		return nil, err
	}
	return newChannel(spec.Name, cfg, env), nil
}

func newChannel(name channels.Name, cfg Config, env channels.Env) *Channel {
	c := &Channel{name: name, cfg: cfg, now: time.Now}
	c.http = &httpsend.Client{
		HTTP:    httpsend.NoRedirects(env.HTTPClient),
		Timeout: cfg.Timeout,
		Prefix:  "webhook",
		Secrets: cfg.secretValues(),
		// The URL may carry a token (…/hooks/T0/B0/XXXX): errors show its origin only.
		SafeURL: origin,
		Log:     env.Logger,
		Now:     func() time.Time { return c.now() },
	}
	return c
}

func origin(u *url.URL) string { return u.Scheme + "://" + u.Host + "/…" }

// Name implements channels.Channel.
func (c *Channel) Name() channels.Name { return c.name }

// Kind implements channels.Channel.
func (c *Channel) Kind() channels.Kind { return channels.KindWebhook }

// Deduplicates implements channels.Deduplicating: every retry of a delivery carries the same
// webhook-id, which Standard Webhooks receivers use to drop repeats, so an unknown outcome is
// retried rather than parked.
func (c *Channel) Deduplicates() bool { return true }

// Send POSTs each post (normally one) signed per Standard Webhooks. webhook-id is the
// delivery's key, the same on every retry ("<key>.2", "<key>.3" for further posts); the
// timestamp and signatures are made afresh for each attempt. The receipt's remote id is the
// webhook-id.
func (c *Channel) Send(ctx context.Context, msg channels.Message) (channels.Receipt, error) {
	reqs, err := c.requests(msg)
	if err != nil {
		return channels.Receipt{}, err
	}
	for _, r := range reqs {
		if err := c.deliver(ctx, r); err != nil {
			return channels.Receipt{}, err
		}
	}
	return channels.Receipt{RemoteID: reqs[0].id}, nil
}

// request is one signed delivery, ready to send.
type request struct {
	id          string
	timestamp   int64
	body        []byte
	contentType string
}

func (c *Channel) requests(msg channels.Message) ([]request, error) {
	if len(msg.Posts) == 0 {
		return nil, channels.Permanent(errors.New("webhook: message has no posts"))
	}
	key := msg.Key
	if key == "" {
		key = msg.ArticleID
	}
	if key == "" {
		return nil, channels.Permanent(errors.New("webhook: message has no key for webhook-id"))
	}
	ts := c.now().Unix()
	out := make([]request, 0, len(msg.Posts))
	for i, p := range msg.Posts {
		id := key
		if i > 0 {
			id = key + "." + strconv.Itoa(i+1)
		}
		body, ctype, err := c.body(p, id, ts)
		if err != nil {
			return nil, channels.Permanent(fmt.Errorf("webhook: building the body: %w", err))
		}
		out = append(out, request{id: id, timestamp: ts, body: body, contentType: ctype})
	}
	return out, nil
}

// TemplateData is what body_template sees.
type TemplateData struct {
	// Article is the article as JSON fields: .Article.url, .Article.title, .Article.tags …
	Article map[string]any
	// Text is the rendered post text; Payload the default body as JSON fields (.Payload.link,
	// .Payload.hashtags …).
	Text    string
	Payload map[string]any
	// ID and Timestamp are the webhook-id and webhook-timestamp of this request.
	ID        string
	Timestamp int64
}

var templateFuncs = template.FuncMap{
	// json writes v as JSON: {"title": {{json .Article.title}}}.
	"json": func(v any) (string, error) {
		b, err := json.Marshal(v)
		return string(b), err
	},
}

// body is the payload the webhook renderer put in Extra["payload"] as JSON, or the
// body_template's output over it.
func (c *Channel) body(p channels.Post, id string, ts int64) ([]byte, string, error) {
	payload, ok := p.Extra["payload"]
	if !ok {
		payload = map[string]any{"text": p.Text}
	}
	raw, err := json.Marshal(payload)
	if err != nil {
		return nil, "", fmt.Errorf("encoding the payload: %w", err)
	}
	ctype := "application/json"
	if v, ok := header(c.cfg.Headers, "Content-Type"); ok {
		ctype = v
	}
	if c.cfg.tmpl == nil {
		return raw, ctype, nil
	}
	var fields map[string]any
	if err := json.Unmarshal(raw, &fields); err != nil {
		fields = map[string]any{"text": p.Text}
	}
	art, _ := fields["article"].(map[string]any)
	var b bytes.Buffer
	if err := c.cfg.tmpl.Execute(&b, TemplateData{Article: art, Text: p.Text, Payload: fields, ID: id, Timestamp: ts}); err != nil {
		return nil, "", fmt.Errorf("body_template: %w", err)
	}
	return b.Bytes(), ctype, nil
}

func header(h map[string]string, name string) (string, bool) {
	for k, v := range h {
		if http.CanonicalHeaderKey(k) == name {
			return v, true
		}
	}
	return "", false
}

// httpRequest builds the signed request.
func (c *Channel) httpRequest(r request) (*http.Request, error) {
	req, err := http.NewRequest(http.MethodPost, c.cfg.URL, bytes.NewReader(r.body))
	if err != nil {
		return nil, c.http.Errorf("building the request: %w", err)
	}
	for k, v := range c.cfg.Headers {
		req.Header.Set(k, v)
	}
	req.Header.Set("Content-Type", r.contentType)
	req.Header.Set("User-Agent", "herald-webhook")
	req.Header.Set("webhook-id", r.id)
	req.Header.Set("webhook-timestamp", strconv.FormatInt(r.timestamp, 10))
	req.Header.Set("webhook-signature", Signatures(c.cfg.keys, r.id, r.timestamp, r.body))
	return req, nil
}

// deliver sends one request and classifies the answer (errors.go).
// Specs: https://github.com/standard-webhooks/standard-webhooks/blob/main/spec/standard-webhooks.md
func (c *Channel) deliver(ctx context.Context, r request) error {
	req, err := c.httpRequest(r)
	if err != nil {
		return channels.Permanent(err)
	}
	resp, err := c.http.Do(ctx, "delivering "+r.id, req)
	if err != nil {
		return err
	}
	return c.classify(r.id, resp)
}

// Preview implements channels.Previewer: the requests Send would make now, with the URL's path
// and the configured header values hidden (they may be credentials).
func (c *Channel) Preview(msg channels.Message) ([]channels.Request, error) {
	reqs, err := c.requests(msg)
	if err != nil {
		return nil, err
	}
	out := make([]channels.Request, 0, len(reqs))
	for _, r := range reqs {
		hr, err := c.httpRequest(r)
		if err != nil {
			return nil, err
		}
		h := map[string]string{}
		for k := range hr.Header {
			h[k] = hr.Header.Get(k)
		}
		for k := range c.cfg.Headers {
			if http.CanonicalHeaderKey(k) != "Content-Type" {
				h[http.CanonicalHeaderKey(k)] = "<redacted>"
			}
		}
		out = append(out, channels.Request{Method: hr.Method, URL: origin(hr.URL), Header: h, Body: string(r.body)})
	}
	return out, nil
}
