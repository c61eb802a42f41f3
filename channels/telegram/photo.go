package telegram

import (
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"net/url"
	"path"
	"syscall"
	"time"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"
)

// errPrivateAddress refuses a photo host on a loopback, private or link-local address.
var errPrivateAddress = errors.New("photo host resolves to a private address (allow_private_photo_hosts is off)")

// newPhotoClient is the client that downloads photos Telegram could not fetch. It is separate
// from the Bot API client: it talks to the article's image host, with its own guard.
func newPhotoClient(cfg Config) *http.Client {
	dialer := &net.Dialer{Timeout: 10 * time.Second}
	if !cfg.AllowPrivatePhotoHosts {
		// Checked on the resolved address at connect time, so DNS tricks and redirects to an
		// internal host are refused too.
		dialer.Control = func(_, address string, _ syscall.RawConn) error {
			host, _, err := net.SplitHostPort(address)
			if err != nil {
				return err
			}
			ip := net.ParseIP(host)
			if ip == nil || ip.IsLoopback() || ip.IsPrivate() || ip.IsLinkLocalUnicast() ||
				ip.IsLinkLocalMulticast() || ip.IsUnspecified() || ip.IsMulticast() {
				return errPrivateAddress
			}
			return nil
		}
	}
	return &http.Client{
		Timeout: cfg.Timeout,
		Transport: &http.Transport{
			DialContext:           dialer.DialContext,
			TLSHandshakeTimeout:   10 * time.Second,
			ResponseHeaderTimeout: cfg.Timeout,
		},
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if len(via) >= 5 {
				return errors.New("too many redirects")
			}
			if req.URL.Scheme != "http" && req.URL.Scheme != "https" {
				return fmt.Errorf("redirect to a %s URL", req.URL.Scheme)
			}
			return nil
		},
	}
}

// downloadPhoto fetches an image for upload: http(s) only, an image content type, at most
// PhotoMaxBytes.
func (c *Channel) downloadPhoto(ctx context.Context, rawURL string) (tgbotapi.FileBytes, error) {
	u, err := url.Parse(rawURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return tgbotapi.FileBytes{}, fmt.Errorf("photo URL %q is not an absolute http(s) URL", rawURL)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return tgbotapi.FileBytes{}, err
	}
	req.Header.Set("Accept", "image/*")
	resp, err := c.photoHTTP.Do(req)
	if err != nil {
		return tgbotapi.FileBytes{}, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return tgbotapi.FileBytes{}, fmt.Errorf("photo host answered %s", resp.Status)
	}
	mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	if len(mt) < 6 || mt[:6] != "image/" {
		return tgbotapi.FileBytes{}, fmt.Errorf("photo host sent %q, not an image", mt)
	}
	if resp.ContentLength > c.cfg.PhotoMaxBytes {
		return tgbotapi.FileBytes{}, fmt.Errorf("photo is %d bytes, over photo_max_bytes (%d)", resp.ContentLength, c.cfg.PhotoMaxBytes)
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, c.cfg.PhotoMaxBytes+1))
	if err != nil {
		return tgbotapi.FileBytes{}, fmt.Errorf("reading photo: %w", err)
	}
	if int64(len(data)) > c.cfg.PhotoMaxBytes {
		return tgbotapi.FileBytes{}, fmt.Errorf("photo is over photo_max_bytes (%d)", c.cfg.PhotoMaxBytes)
	}
	name := path.Base(u.Path)
	if name == "." || name == "/" || name == "" {
		name = "photo"
	}
	return tgbotapi.FileBytes{Name: name, Bytes: data}, nil
}
