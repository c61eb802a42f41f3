package whatsapp

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"path"
	"strings"
	"unicode/utf16"

	"go.uber.org/zap"

	"herald/channels"
	"herald/internal/safehttp"
)

// MaxCaption is the longest image caption WhatsApp takes (characters; counted in UTF-16 units,
// as strictly as the formatter counts). A longer post goes out as text, with its link preview.
// Specs: https://developers.facebook.com/docs/whatsapp/cloud-api/reference/messages#media-object
const MaxCaption = 1024

// imageURL is the post's image when it can go out as an image message: the first media URL, a
// caption that fits, and no template (a template carries text only).
func (c *Channel) imageURL(post channels.Post) string {
	if c.cfg.Template.Name != "" || len(post.Media) == 0 || len(utf16.Encode([]rune(post.Text))) > MaxCaption {
		return ""
	}
	return strings.TrimSpace(post.Media[0].URL)
}

// lookupIP resolves a host; a variable so tests can answer without DNS.
var lookupIP = net.DefaultResolver.LookupIP

// checkImageHost refuses an image URL that is not absolute http(s), or whose host resolves to a
// loopback, private, link-local or CGNAT address, unless allow_private_hosts is on: the
// provider fetches the URL (a WAHA gateway from inside the operator's network), and the URL
// comes from the article.
func (c *Channel) checkImageHost(ctx context.Context, raw string) error {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Hostname() == "" {
		return errors.New("not an absolute http or https URL")
	}
	if c.cfg.AllowPrivateHosts {
		return nil
	}
	if ip := net.ParseIP(u.Hostname()); ip != nil {
		if !safehttp.Public(ip) {
			return safehttp.ErrPrivateAddress
		}
		return nil
	}
	ips, err := lookupIP(ctx, "ip", u.Hostname())
	if err != nil {
		return fmt.Errorf("resolving %s: %w", u.Hostname(), err)
	}
	for _, ip := range ips {
		if !safehttp.Public(ip) {
			return safehttp.ErrPrivateAddress
		}
	}
	return nil
}

// mimeType guesses an image's type from its path, for WAHA's file.mimetype.
func mimeType(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "image/jpeg"
	}
	switch strings.ToLower(path.Ext(u.Path)) {
	case ".png":
		return "image/png"
	case ".webp":
		return "image/webp"
	case ".gif":
		return "image/gif"
	}
	return "image/jpeg"
}

// sendPost sends one post: as an image with the text as caption when it has an image that
// can go (imageURL, checkImageHost), else as text. An image the provider refuses permanently
// (it could not fetch it, the type is wrong) is followed by the text alone, so the story still
// goes out; the warning says why.
func (c *Channel) sendPost(ctx context.Context, post channels.Post) (string, error) {
	img := c.imageURL(post)
	if img == "" {
		return c.sendText(ctx, post.Text)
	}
	if err := c.checkImageHost(ctx, img); err != nil {
		c.log.Warn("whatsapp: image not sent; sending the text alone",
			zap.String("image_url", img), zap.Error(err))
		return c.sendText(ctx, post.Text)
	}
	p, body := c.p.sendImage(img, post.Text)
	id, err := c.post(ctx, "sending image", p, body)
	if err == nil || !channels.IsPermanent(err) {
		return id, err
	}
	c.log.Warn("whatsapp: the provider refused the image; sending the text alone",
		zap.String("image_url", img), zap.Error(err))
	return c.sendText(ctx, post.Text)
}
