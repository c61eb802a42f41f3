// Package bluesky posts to a Bluesky account through the AT Protocol: a session from the app
// password (kept in memory and refreshed, see session.go), an app.bsky.feed.post record made
// with com.atproto.repo.createRecord under a record key derived from the delivery (rkey.go),
// carrying the formatter's facets, langs and link card, the card's thumbnail uploaded as a
// blob. See config.go for the settings, errors.go for how XRPC errors map to retry decisions,
// and docs/bluesky.md.
package bluesky

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"go.uber.org/zap"

	"herald/channels"
	"herald/channels/httpsend"
	"herald/internal/safehttp"
)

// Collection is the NSID of a Bluesky post record.
const Collection = "app.bsky.feed.post"

// Channel posts to one Bluesky account. It is safe for concurrent use: every send shares the
// channel's one session.
type Channel struct {
	name channels.Name
	cfg  Config
	send *httpsend.Client
	// thumbHTTP downloads card thumbnails, with the private-address guard.
	thumbHTTP *http.Client
	sess      sessions
	log       *zap.Logger
	now       func() time.Time
	// retention is how long herald keeps a delivery's record: a post under a delivery's record
	// key older than that (and a day) is an earlier delivery's (rkey.go).
	retention time.Duration
}

var (
	_ channels.Channel       = (*Channel)(nil)
	_ channels.Checker       = (*Channel)(nil)
	_ channels.Deleter       = (*Channel)(nil)
	_ channels.Previewer     = (*Channel)(nil)
	_ channels.Deduplicating = (*Channel)(nil)
)

// New builds a Bluesky channel from its spec. It does not call the network: the session is
// created by the first send or check.
func New(spec channels.Spec, env channels.Env) (channels.Channel, error) {
	cfg, err := LoadConfig(spec)
	if err != nil {
		return nil, err
	}
	env = env.WithDefaults()
	return &Channel{
		name: spec.Name,
		cfg:  cfg,
		send: &httpsend.Client{HTTP: httpsend.NoRedirects(env.HTTPClient), Timeout: cfg.Timeout, Prefix: "bluesky",
			Secrets: []string{cfg.AppPassword}, Log: env.Logger},
		thumbHTTP: safehttp.NewClient(safehttp.Options{Timeout: cfg.Timeout, AllowPrivate: cfg.AllowPrivateHosts, Setting: "allow_private_hosts"}),
		log:       env.Logger,
		now:       time.Now,
		retention: env.Retention,
	}, nil
}

// Name implements channels.Channel.
func (c *Channel) Name() channels.Name { return c.name }

// Kind implements channels.Channel.
func (c *Channel) Kind() channels.Kind { return channels.KindBluesky }

// Deduplicates implements channels.Deduplicating: every retry of a delivery creates its post
// under the same record key, and a key that is taken means the post exists (read back with
// getRecord), so a send whose outcome is unknown is retried instead of parked.
func (c *Channel) Deduplicates() bool { return true }

// PostURL is the bsky.app link of a post record's at:// URI; "" when uri is not one.
func PostURL(uri string) string {
	did, coll, rkey, ok := parseATURI(uri)
	if !ok || coll != Collection {
		return ""
	}
	return "https://bsky.app/profile/" + did + "/post/" + rkey
}

// parseATURI splits at://<did or handle>/<collection>/<rkey>.
// Specs: https://atproto.com/specs/at-uri-scheme
func parseATURI(uri string) (repo, collection, rkey string, ok bool) {
	rest, found := strings.CutPrefix(strings.TrimSpace(uri), "at://")
	if !found {
		return "", "", "", false
	}
	parts := strings.Split(rest, "/")
	if len(parts) != 3 || parts[0] == "" || parts[1] == "" || parts[2] == "" {
		return "", "", "", false
	}
	return parts[0], parts[1], parts[2], true
}

// Send makes one post record for each of msg.Posts, in order. The receipt holds the records'
// at:// URIs (comma-joined when several) and the bsky.app link of the first.
func (c *Channel) Send(ctx context.Context, msg channels.Message) (channels.Receipt, error) {
	i := 0
	return channels.SendEach(ctx, "bluesky", "post", msg.Posts, func(ctx context.Context, post channels.Post) (string, error) {
		i++
		return c.sendPost(ctx, post, msg.Key, i-1)
	}, PostURL)
}

// rkeyFor is the record key of post i of the delivery key, in its generation gen (rkey.go); a
// message without a key (never from the worker) gets a TID from the clock.
func (c *Channel) rkeyFor(key string, i, gen int) string {
	if key == "" {
		var r [2]byte
		_, _ = rand.Read(r[:])
		return encodeTID(uint64(c.now().UnixMicro())<<10 | uint64(binary.BigEndian.Uint16(r[:])&0x3ff))
	}
	if gen == 0 {
		return RecordKey(fmt.Sprintf("%s/%d", key, i))
	}
	return RecordKey(fmt.Sprintf("%s/%d/%d", key, i, gen))
}

// postRecord is an app.bsky.feed.post.
// Specs: https://github.com/bluesky-social/atproto/blob/main/lexicons/app/bsky/feed/post.json
type postRecord struct {
	Type      string           `json:"$type"`
	Text      string           `json:"text"`
	CreatedAt string           `json:"createdAt"`
	Langs     []string         `json:"langs,omitempty"`
	Facets    []map[string]any `json:"facets,omitempty"`
	Embed     *externalEmbed   `json:"embed,omitempty"`
}

// externalEmbed is the link card, app.bsky.embed.external.
// Specs: https://docs.bsky.app/docs/advanced-guides/posts#website-card-embeds
type externalEmbed struct {
	Type     string   `json:"$type"`
	External external `json:"external"`
}

type external struct {
	URI         string          `json:"uri"`
	Title       string          `json:"title"`
	Description string          `json:"description"`
	Thumb       json.RawMessage `json:"thumb,omitempty"`
}

type createRequest struct {
	Repo       string     `json:"repo"`
	Collection string     `json:"collection"`
	Rkey       string     `json:"rkey"`
	Record     postRecord `json:"record"`
}

// MaxLangs is the post lexicon's limit on langs.
const MaxLangs = 3

// record builds the post record; thumbURL is the card's thumb_url ("" when none).
func (c *Channel) record(post channels.Post) (rec postRecord, thumbURL string) {
	rec = postRecord{Type: Collection, Text: post.Text, CreatedAt: c.now().UTC().Format("2006-01-02T15:04:05.000Z"), Facets: post.Facets}
	if len(rec.Facets) == 0 {
		rec.Facets = nil
	}
	rec.Langs = stringList(post.Extra["langs"])
	if len(rec.Langs) > MaxLangs {
		rec.Langs = rec.Langs[:MaxLangs]
	}
	ext, _ := post.Extra["external"].(map[string]any)
	if uri := str(ext["uri"]); uri != "" {
		rec.Embed = &externalEmbed{Type: "app.bsky.embed.external", External: external{URI: uri, Title: str(ext["title"]), Description: str(ext["description"])}}
		thumbURL = str(ext["thumb_url"])
	}
	return rec, thumbURL
}

func str(v any) string {
	s, _ := v.(string)
	return strings.TrimSpace(s)
}

// stringList reads Extra["langs"]: []string from the formatter, []any once through JSON.
func stringList(v any) []string {
	switch t := v.(type) {
	case []string:
		return append([]string(nil), t...)
	case []any:
		out := make([]string, 0, len(t))
		for _, x := range t {
			if s := str(x); s != "" {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}

// sendPost makes the record of post i of the delivery key and returns its at:// URI: under the
// key's first record key, or, where that holds an earlier delivery's post, the next one free or
// holding this delivery's post (rkey.go).
func (c *Channel) sendPost(ctx context.Context, post channels.Post, key string, i int) (string, error) {
	rec, thumbURL := c.record(post)
	if thumbURL != "" {
		blob, err := c.uploadThumb(ctx, thumbURL)
		_, pause := channels.AsPause(err)
		_, limited := channels.AsRateLimited(err)
		if err != nil {
			if ctx.Err() != nil || pause || limited {
				// The post would fail the same way (and a second login attempt would spend
				// one of the 30 createSession calls allowed in 5 minutes).
				return "", err
			}
			c.log.Warn("bluesky: the card thumbnail could not be uploaded; posting the card without it",
				zap.String("thumb_url", thumbURL), zap.Error(err))
		}
		rec.Embed.External.Thumb = blob
	}
	for gen := 0; ; gen++ {
		rkey := c.rkeyFor(key, i, gen)
		uri, err := c.create(ctx, rec, rkey)
		var earlier *earlierPostError
		if !errors.As(err, &earlier) {
			return uri, err
		}
		if gen+1 >= maxKeyGenerations {
			return "", channels.Permanent(fmt.Errorf("bluesky: creating the post: %w, and so do the next %d keys of this delivery", err, gen))
		}
		c.log.Info("bluesky: the record key holds an earlier delivery's post; taking the delivery's next key",
			zap.String("rkey", rkey), zap.String("uri", earlier.uri), zap.Time("created_at", earlier.createdAt))
	}
}

// create makes rec under rkey and returns its at:// URI.
// Specs: https://docs.bsky.app/docs/api/com-atproto-repo-create-record
func (c *Channel) create(ctx context.Context, rec postRecord, rkey string) (string, error) {
	const action = "creating the post"
	s, send, resp, err := c.authed(ctx, action, func(s *session) (*http.Request, error) {
		body, err := marshal(createRequest{Repo: s.DID, Collection: Collection, Rkey: rkey, Record: rec})
		if err != nil {
			return nil, err
		}
		req, err := http.NewRequest(http.MethodPost, c.xrpcURL("com.atproto.repo.createRecord"), strings.NewReader(body))
		if err == nil {
			req.Header.Set("Content-Type", "application/json")
		}
		return req, err
	})
	switch {
	case err != nil && channels.IsUnknownOutcome(err):
		// The post may exist: look for it under its key.
		return c.settle(ctx, s, send, rkey, rec.Text, err)
	case err != nil:
		return "", err
	case resp.Status == http.StatusOK:
		var ans struct {
			URI string `json:"uri"`
		}
		if json.Unmarshal(resp.Body, &ans) != nil || ans.URI == "" {
			return c.settle(ctx, s, send, rkey, rec.Text, channels.UnknownOutcome(send.Errorf("%s: the 200 answer has no uri: %s", action, send.Snippet(resp.Body))))
		}
		return ans.URI, nil
	}
	cerr := c.classify(send, action, resp)
	xe := parseError(resp, send)
	if resp.Status >= 500 || resp.Status == http.StatusConflict || strings.Contains(xe.Name, "Exists") {
		// The reference PDS answers 500 InternalServerError when the key is taken (a retry of a
		// post that went out); others 409. A 5xx may also have come after the commit.
		if resp.Status >= 500 {
			cerr = channels.UnknownOutcome(cerr)
		} else {
			cerr = fmt.Errorf("bluesky: %s: %w", action, xe) // retryable: the key is taken, but not by a post we can read yet
		}
		return c.settle(ctx, s, send, rkey, rec.Text, cerr)
	}
	return "", cerr
}

// settle decides a createRecord whose answer did not say the post was made: the record under
// rkey with this text is the post (sent); another text under the key is a collision
// (permanent); a post older than the retention is an earlier delivery's (earlierPostError: the
// next key is tried); no record leaves sendErr (a retry is safe: it uses the same key).
func (c *Channel) settle(ctx context.Context, s *session, send *httpsend.Client, rkey, text string, sendErr error) (string, error) {
	if s == nil {
		return "", sendErr
	}
	uri, found, err := c.getRecord(ctx, s, send, rkey, text)
	var earlier *earlierPostError
	switch {
	case errors.Is(err, errCollision), errors.As(err, &earlier):
		return "", err
	case err != nil:
		c.log.Warn("bluesky: looking for the post after an unclear answer", zap.String("rkey", rkey), zap.Error(err))
		return "", sendErr
	case found:
		c.log.Info("bluesky: the post exists already under its record key; recording it", zap.String("uri", uri), zap.NamedError("create_error", sendErr))
		return uri, nil
	}
	return "", sendErr
}

// errCollision is a record under the delivery's key holding another text.
var errCollision = errors.New("the record key holds a different post")

// getRecord reads the post under rkey: found when it exists with text.
// Specs: https://docs.bsky.app/docs/api/com-atproto-repo-get-record
func (c *Channel) getRecord(ctx context.Context, s *session, send *httpsend.Client, rkey, text string) (string, bool, error) {
	const action = "reading the post back"
	q := url.Values{"repo": {s.DID}, "collection": {Collection}, "rkey": {rkey}}
	req, err := http.NewRequest(http.MethodGet, c.xrpcURL("com.atproto.repo.getRecord")+"?"+q.Encode(), nil)
	if err != nil {
		return "", false, send.Errorf("%s: %w", action, err)
	}
	resp, err := send.Do(ctx, action, req)
	if err != nil {
		return "", false, err
	}
	if resp.Status != http.StatusOK {
		if xe := parseError(resp, send); xe.Name == "RecordNotFound" {
			return "", false, nil
		}
		return "", false, c.classify(send, action, resp)
	}
	var ans struct {
		URI   string `json:"uri"`
		Value struct {
			Text      string `json:"text"`
			CreatedAt string `json:"createdAt"`
		} `json:"value"`
	}
	if err := json.Unmarshal(resp.Body, &ans); err != nil || ans.URI == "" {
		return "", false, send.Errorf("%s: unreadable answer: %s", action, send.Snippet(resp.Body))
	}
	if at, err := time.Parse(time.RFC3339Nano, ans.Value.CreatedAt); err == nil && c.now().Sub(at) > c.retention+earlierMargin {
		return "", false, &earlierPostError{uri: ans.URI, createdAt: at, retention: c.retention}
	}
	if ans.Value.Text != text {
		return "", false, channels.Permanent(fmt.Errorf("bluesky: %s %s: %w (an admin can check it and mark the delivery sent, or repost)", action, ans.URI, errCollision))
	}
	return ans.URI, true, nil
}

// uploadThumb downloads the card's thumbnail (image/*, ≤ MaxThumbDownload), shrinks it below
// 1,000,000 bytes when it is larger (thumb.go) and uploads it as a blob; the answer's blob
// object goes into the card as is.
// Specs: https://docs.bsky.app/docs/api/com-atproto-repo-upload-blob
func (c *Channel) uploadThumb(ctx context.Context, thumbURL string) (json.RawMessage, error) {
	f, err := safehttp.DownloadImage(ctx, c.thumbHTTP, thumbURL, MaxThumbDownload, "the thumbnail download limit")
	if err != nil {
		return nil, fmt.Errorf("bluesky: downloading the thumbnail: %w", err)
	}
	data, contentType, err := fitThumb(f)
	if err != nil {
		return nil, fmt.Errorf("bluesky: %w", err)
	}
	const action = "uploading the thumbnail"
	_, send, resp, err := c.authed(ctx, action, func(*session) (*http.Request, error) {
		req, err := http.NewRequest(http.MethodPost, c.xrpcURL("com.atproto.repo.uploadBlob"), bytes.NewReader(data))
		if err == nil {
			req.Header.Set("Content-Type", contentType)
		}
		return req, err
	})
	if err != nil {
		return nil, err
	}
	if resp.Status != http.StatusOK {
		return nil, c.classify(send, action, resp)
	}
	var ans struct {
		Blob json.RawMessage `json:"blob"`
	}
	if err := json.Unmarshal(resp.Body, &ans); err != nil || len(ans.Blob) == 0 || ans.Blob[0] != '{' {
		return nil, send.Errorf("%s: the answer has no blob: %s", action, send.Snippet(resp.Body))
	}
	return ans.Blob, nil
}

// Delete takes back the posts of a receipt (comma-joined at:// URIs), for corrections. A
// record that is gone already counts as deleted (deleteRecord succeeds for it).
// Specs: https://docs.bsky.app/docs/api/com-atproto-repo-delete-record
func (c *Channel) Delete(ctx context.Context, remoteID string) error {
	for _, uri := range strings.Split(remoteID, ",") {
		uri = strings.TrimSpace(uri)
		if uri == "" {
			continue
		}
		repo, coll, rkey, ok := parseATURI(uri)
		if !ok {
			return channels.Permanent(fmt.Errorf("bluesky: deleting %q: not an at:// record URI", uri))
		}
		s, err := c.current(ctx)
		if err != nil {
			return err
		}
		if repo != s.DID && repo != s.Handle {
			return channels.Permanent(fmt.Errorf("bluesky: deleting %s: the record is not in this channel's repo (%s)", uri, s.DID))
		}
		action := "deleting " + uri
		_, send, resp, err := c.authed(ctx, action, func(s *session) (*http.Request, error) {
			body, err := marshal(map[string]string{"repo": s.DID, "collection": coll, "rkey": rkey})
			if err != nil {
				return nil, err
			}
			req, err := http.NewRequest(http.MethodPost, c.xrpcURL("com.atproto.repo.deleteRecord"), strings.NewReader(body))
			if err == nil {
				req.Header.Set("Content-Type", "application/json")
			}
			return req, err
		})
		if err != nil {
			var u *channels.UnknownOutcomeError
			if errors.As(err, &u) {
				return u.Err // deleting twice is harmless
			}
			return err
		}
		if resp.Status != http.StatusOK {
			return c.classify(send, action, resp)
		}
	}
	return nil
}

// Check makes sure the app password works (the session, created or cached) and asks the PDS
// about the account (getSession): it must be active.
// Specs: https://docs.bsky.app/docs/api/com-atproto-server-get-session
func (c *Channel) Check(ctx context.Context) error {
	const action = "checking the session"
	_, send, resp, err := c.authed(ctx, action, func(*session) (*http.Request, error) {
		return http.NewRequest(http.MethodGet, c.xrpcURL("com.atproto.server.getSession"), nil)
	})
	if err != nil {
		var u *channels.UnknownOutcomeError
		if errors.As(err, &u) {
			return u.Err
		}
		return err
	}
	if resp.Status != http.StatusOK {
		return c.classify(send, action, resp)
	}
	var me session
	if err := json.Unmarshal(resp.Body, &me); err != nil || me.DID == "" {
		return send.Errorf("%s: unreadable answer: %s", action, send.Snippet(resp.Body))
	}
	if me.Active != nil && !*me.Active {
		return channels.Auth(fmt.Errorf("bluesky: %s: account %s is not active (%s)", action, me.Handle, me.Status))
	}
	c.log.Info("bluesky session works", zap.String("handle", me.Handle), zap.String("did", me.DID))
	return nil
}

// Preview implements channels.Previewer: the requests Send makes for each post, the app
// password and tokens hidden. The session is created once per process (and refreshed), not per
// post; the account's DID is only known once it is, so the preview names the repo by the
// configured identifier.
func (c *Channel) Preview(msg channels.Message) ([]channels.Request, error) {
	hidden := map[string]string{"Content-Type": "application/json", "Authorization": "Bearer <redacted: the session's access token>"}
	login, err := marshal(map[string]string{"identifier": c.cfg.Identifier, "password": "<redacted>"})
	if err != nil {
		return nil, err
	}
	out := []channels.Request{{Method: http.MethodPost, URL: c.xrpcURL("com.atproto.server.createSession"),
		Header: map[string]string{"Content-Type": "application/json"}, Body: login}}
	for i, post := range msg.Posts {
		rec, thumbURL := c.record(post)
		if thumbURL != "" {
			out = append(out, channels.Request{Method: http.MethodPost, URL: c.xrpcURL("com.atproto.repo.uploadBlob"),
				Header: map[string]string{"Content-Type": "<the image's type>", "Authorization": hidden["Authorization"]},
				Body:   "<the image at " + thumbURL + ", shrunk to a JPEG when over 1,000,000 bytes>"})
			rec.Embed.External.Thumb = json.RawMessage(`"<the uploaded blob>"`)
		}
		b, err := marshal(createRequest{Repo: c.cfg.Identifier, Collection: Collection, Rkey: c.rkeyFor(msg.Key, i, 0), Record: rec})
		if err != nil {
			return nil, err
		}
		out = append(out, channels.Request{Method: http.MethodPost, URL: c.xrpcURL("com.atproto.repo.createRecord"), Header: hidden, Body: b})
	}
	return out, nil
}

// marshal is JSON without HTML escaping, as the request shows it.
func marshal(v any) (string, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return "", err
	}
	return strings.TrimSuffix(b.String(), "\n"), nil
}
