package ingest

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"encoding/xml"
	"errors"
	"fmt"
	"hash"
	"io"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.uber.org/zap"

	"herald/config"
	"herald/internal/safehttp"
)

// WebSub subscriber: when a feed advertises a hub, herald subscribes with a callback on its own
// HTTP server (<public_url>/websub/<feed>), answers the hub's verification, renews the lease
// before it runs out, and processes each signed push at once. Polling carries on as the
// fallback.
// Specs: https://www.w3.org/TR/websub/

// requestedLease is the lease herald asks for; hubs may grant another.
const requestedLease = 7 * 24 * time.Hour

// ErrPushRefused is returned by Push for a push that is not processed: unknown feed, no
// subscription, or a missing or wrong X-Hub-Signature.
var ErrPushRefused = errors.New("websub push refused")

const fWSLease = "ws_lease" // granted lease, seconds

type hubLinks struct{ hub, self string }

// discoverHub finds rel="hub" and rel="self" in the Link headers
// (https://www.w3.org/TR/websub/#discovery) or in the document's <link> or <atom:link>
// elements.
func discoverHub(body []byte, h http.Header, feedURL string) hubLinks {
	var l hubLinks
	for _, v := range h.Values("Link") {
		for _, part := range strings.Split(v, ",") {
			target, params, ok := strings.Cut(part, ";")
			target = strings.Trim(strings.TrimSpace(target), "<>")
			if !ok || target == "" {
				continue
			}
			for _, rel := range relValues(params) {
				switch {
				case rel == "hub" && l.hub == "":
					l.hub = target
				case rel == "self" && l.self == "":
					l.self = target
				}
			}
		}
	}
	dec := xml.NewDecoder(bytes.NewReader(body))
	dec.Strict = false
	for l.hub == "" || l.self == "" {
		tok, err := dec.Token()
		if err != nil {
			break
		}
		se, ok := tok.(xml.StartElement)
		if !ok {
			continue
		}
		switch se.Name.Local {
		case "item", "entry":
			// Links past the feed header belong to items.
			return resolveLinks(l, feedURL)
		case "link":
			var rel, href string
			for _, a := range se.Attr {
				switch a.Name.Local {
				case "rel":
					rel = a.Value
				case "href":
					href = a.Value
				}
			}
			for _, r := range strings.Fields(rel) {
				if r == "hub" && l.hub == "" {
					l.hub = href
				}
				if r == "self" && l.self == "" {
					l.self = href
				}
			}
		}
	}
	return resolveLinks(l, feedURL)
}

func relValues(params string) []string {
	for _, p := range strings.Split(params, ";") {
		k, v, ok := strings.Cut(strings.TrimSpace(p), "=")
		if ok && strings.EqualFold(strings.TrimSpace(k), "rel") {
			return strings.Fields(strings.Trim(strings.TrimSpace(v), `"`))
		}
	}
	return nil
}

func resolveLinks(l hubLinks, feedURL string) hubLinks {
	base, err := url.Parse(feedURL)
	if err != nil {
		return hubLinks{}
	}
	abs := func(s string) string {
		if s == "" {
			return ""
		}
		u, err := base.Parse(s)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") {
			return ""
		}
		return u.String()
	}
	l.hub, l.self = abs(l.hub), abs(l.self)
	if l.self == "" {
		l.self = feedURL
	}
	return l
}

// callbackURL is where the hub reaches herald for feed name.
func (p *Poller) callbackURL(name string) string {
	return strings.TrimRight(p.publicURL, "/") + "/websub/" + url.PathEscape(name)
}

// ensureSubscription subscribes to the feed's hub when there is no live subscription for this
// hub and topic, or when the lease is close to its end. Called under the feed's poll lease.
func (p *Poller) ensureSubscription(ctx context.Context, f config.Feed, links hubLinks) {
	if links.hub == "" {
		return
	}
	rdb := p.pub.Redis
	st, err := rdb.HGetAll(ctx, feedKey(f.Name)).Result()
	if err != nil {
		return
	}
	now := p.now()
	same := st[fHub] == links.hub && st[fTopic] == links.self
	since := now.Sub(time.UnixMilli(atoi64(st[fWSRequested])))
	if same {
		switch st[fWSState] {
		case "verified":
			lease := time.Duration(atoi64(st[fWSLease])) * time.Second
			left := time.UnixMilli(atoi64(st[fWSExpires])).Sub(now)
			if left > max(2*time.Duration(f.Interval), lease/10) {
				return
			}
		case "pending":
			if since < time.Minute {
				return // the hub has not verified yet
			}
		case "denied":
			if since < time.Hour {
				return
			}
		}
	}
	secret := st[fWSSecret]
	if secret == "" || !same {
		var b [24]byte
		_, _ = rand.Read(b[:])
		secret = hex.EncodeToString(b[:])
	}
	// Pending before the request: the hub may verify before its answer reaches us.
	if err := rdb.HSet(ctx, feedKey(f.Name), fHub, links.hub, fTopic, links.self, fWSSecret, secret,
		fWSState, "pending", fWSRequested, ms(now), fWSError, "").Err(); err != nil {
		return
	}
	if err := p.subscribe(ctx, p.hubClient(ctx, f.URL), links, p.callbackURL(f.Name), secret); err != nil {
		p.log.Warn("websub: subscribing", zap.String("feed", f.Name), zap.String("hub", links.hub), zap.Error(err))
		rdb.HSet(ctx, feedKey(f.Name), fWSError, err.Error())
		return
	}
	p.log.Info("websub: subscription requested", zap.String("feed", f.Name), zap.String("hub", links.hub), zap.String("topic", links.self))
}

// hubClient is the client of the requests to a feed's hub. The hub's address comes from the
// feed document, not from the operator: a feed (a third party's, or one an intruder edited)
// naming a hub inside the operator's network would make herald POST there and show the start
// of the answer in the feed's status. So the hub must be on a public address, or on one of the
// feed's own host (a hub beside a feed on the newsroom's internal network).
func (p *Poller) hubClient(ctx context.Context, feedURL string) *http.Client {
	var own []net.IP
	if u, err := url.Parse(feedURL); err == nil && u.Hostname() != "" {
		if ip := net.ParseIP(u.Hostname()); ip != nil {
			own = []net.IP{ip}
		} else {
			own, _ = net.DefaultResolver.LookupIP(ctx, "ip", u.Hostname())
		}
	}
	return safehttp.NewClient(safehttp.Options{
		Timeout: p.client.Timeout,
		Also:    func(ip net.IP) bool { return slices.ContainsFunc(own, ip.Equal) },
	})
}

// subscribe sends the subscription request with client (hubClient).
// Specs: https://www.w3.org/TR/websub/#subscriber-sends-subscription-request
func (p *Poller) subscribe(ctx context.Context, client *http.Client, links hubLinks, callback, secret string) error {
	form := url.Values{
		"hub.mode":          {"subscribe"},
		"hub.topic":         {links.self},
		"hub.callback":      {callback},
		"hub.secret":        {secret},
		"hub.lease_seconds": {strconv.Itoa(int(requestedLease / time.Second))},
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, links.hub, strings.NewReader(form.Encode()))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("User-Agent", userAgent)
	resp, err := client.Do(req)
	if errors.Is(err, safehttp.ErrPrivateAddress) {
		return fmt.Errorf("websub: subscribing at the hub: the feed names a hub on a private address, not its own host's: %w", err)
	}
	if err != nil {
		return fmt.Errorf("websub: subscribing at the hub: %w", err)
	}
	defer resp.Body.Close()
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("websub: the hub answered HTTP %d: %s", resp.StatusCode, hubExcerpt(msg, secret))
	}
	return nil
}

// hubExcerpt is the start of a refusing hub's answer for the error, which is logged, kept in
// the feed's state and shown by GET /v1/feeds and herald feeds. A hub may quote the request
// back, hub.secret included, and whoever holds the secret can sign pushes that herald
// publishes, so it is removed, before the cut: a cut through it would keep its first part.
func hubExcerpt(body []byte, secret string) string {
	s := strings.TrimSpace(string(body))
	if secret != "" {
		s = strings.ReplaceAll(s, secret, "<redacted>")
		s = strings.ReplaceAll(s, url.QueryEscape(secret), "<redacted>")
	}
	if len(s) > 300 {
		s = s[:300] + "…"
	}
	return strings.ToValidUTF8(s, "?")
}

// VerifyIntent answers the hub's verification request for feed name
// (https://www.w3.org/TR/websub/#hub-verifies-intent): the challenge with 200 for a subscription
// herald asked for, 404 otherwise. A denial is recorded and acknowledged.
func (p *Poller) VerifyIntent(ctx context.Context, name string, q url.Values) (status int, body string) {
	mode, topic, challenge := q.Get("hub.mode"), q.Get("hub.topic"), q.Get("hub.challenge")
	f, known := p.feeds[name]
	if !known {
		if mode == "unsubscribe" && challenge != "" {
			return http.StatusOK, challenge // a feed no longer configured: yes, stop sending
		}
		return http.StatusNotFound, "no such feed"
	}
	rdb := p.pub.Redis
	st, err := rdb.HGetAll(ctx, feedKey(f.Name)).Result()
	if err != nil {
		return http.StatusServiceUnavailable, "state unavailable"
	}
	switch mode {
	case "denied":
		if topic == st[fTopic] {
			rdb.HSet(ctx, feedKey(f.Name), fWSState, "denied", fWSError, "the hub denied the subscription: "+q.Get("hub.reason"))
		}
		return http.StatusOK, ""
	case "subscribe":
		if challenge == "" || topic == "" || topic != st[fTopic] || (st[fWSState] != "pending" && st[fWSState] != "verified") {
			return http.StatusNotFound, "no subscription requested for this topic"
		}
		if st[fWSState] == "verified" {
			// Nothing is pending: a hub repeating its verification is answered, but the lease
			// stays as granted. This request carries no credentials, and a forged one with a
			// long lease would stop herald renewing until the hub's real lease had lapsed.
			return http.StatusOK, challenge
		}
		lease, err := strconv.Atoi(q.Get("hub.lease_seconds"))
		if err != nil || lease <= 0 {
			lease = int(requestedLease / time.Second)
		}
		expires := p.now().Add(time.Duration(lease) * time.Second)
		if err := rdb.HSet(ctx, feedKey(f.Name), fWSState, "verified", fWSExpires, ms(expires), fWSLease, lease, fWSError, "").Err(); err != nil {
			return http.StatusServiceUnavailable, "state unavailable"
		}
		p.log.Info("websub: subscription verified", zap.String("feed", f.Name), zap.Int("lease_seconds", lease))
		return http.StatusOK, challenge
	}
	// herald never unsubscribes from a configured feed.
	return http.StatusNotFound, "not requested"
}

// Push processes content the hub distributes for feed name
// (https://www.w3.org/TR/websub/#content-distribution) once its X-Hub-Signature (sha1, sha256,
// sha384 or sha512 HMAC of the body with herald's secret for this subscription) checks out.
// Errors wrapping ErrPushRefused mean nothing was processed.
func (p *Poller) Push(ctx context.Context, name string, h http.Header, body []byte) error {
	f, ok := p.feeds[name]
	if !ok {
		return fmt.Errorf("%w: no feed %q", ErrPushRefused, name)
	}
	rdb := p.pub.Redis
	secret, err := rdb.HGet(ctx, feedKey(f.Name), fWSSecret).Result()
	if err != nil || secret == "" {
		return fmt.Errorf("%w: feed %s has no subscription", ErrPushRefused, f.Name)
	}
	if err := checkHubSignature(h.Get("X-Hub-Signature"), secret, body); err != nil {
		rdb.HSet(ctx, feedKey(f.Name), fWSError, "push refused: "+err.Error())
		return fmt.Errorf("%w: feed %s: %v", ErrPushRefused, f.Name, err)
	}
	rdb.HSet(ctx, feedKey(f.Name), fWSLastPush, ms(p.now()))
	if body, err = toUTF8(body, h.Get("Content-Type")); err != nil {
		return fmt.Errorf("feed %s: push: %w", f.Name, err)
	}
	parsed, err := parseFeed(body)
	if err != nil {
		return fmt.Errorf("feed %s: push: %w", f.Name, err)
	}
	if u, err := url.Parse(f.URL); err == nil {
		resolveItemLinks(parsed, u) // as a poll would: the hub pushes the feed's document
	}
	return p.ingest(ctx, f, parsed)
}

func checkHubSignature(header, secret string, body []byte) error {
	method, sig, ok := strings.Cut(header, "=")
	if header == "" || !ok {
		return errors.New("no X-Hub-Signature")
	}
	var newHash func() hash.Hash
	switch method {
	case "sha1":
		newHash = sha1.New
	case "sha256":
		newHash = sha256.New
	case "sha384":
		newHash = sha512.New384
	case "sha512":
		newHash = sha512.New
	default:
		return fmt.Errorf("X-Hub-Signature method %q is not sha1, sha256, sha384 or sha512", method)
	}
	got, err := hex.DecodeString(sig)
	if err != nil {
		return errors.New("X-Hub-Signature is not hex")
	}
	mac := hmac.New(newHash, []byte(secret))
	mac.Write(body)
	if !hmac.Equal(got, mac.Sum(nil)) {
		return errors.New("X-Hub-Signature does not match")
	}
	return nil
}

func atoi64(s string) int64 {
	n, _ := strconv.ParseInt(s, 10, 64)
	return n
}
