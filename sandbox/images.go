package sandbox

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"time"

	"herald/article"
)

// imageHost serves the sample articles' images on loopback. The samples name their images on
// the publisher's site (news.example.com); the sandbox serves the same paths itself so every
// channel that takes an image posts one without a request leaving the machine.
type imageHost struct {
	srv  *httptest.Server
	jpeg []byte
}

func startImageHost() (*imageHost, error) {
	img := image.NewRGBA(image.Rect(0, 0, 64, 48))
	for y := range 48 {
		for x := range 64 {
			img.Set(x, y, color.RGBA{R: uint8(x * 4), G: 40, B: uint8(y * 5), A: 255})
		}
	}
	var b bytes.Buffer
	if err := jpeg.Encode(&b, img, nil); err != nil {
		return nil, fmt.Errorf("sandbox: drawing the sample image: %w", err)
	}
	h := &imageHost{jpeg: b.Bytes()}
	h.srv = httptest.NewServer(http.HandlerFunc(h.serve))
	return h, nil
}

// serve answers any .jpg under /media/ with the sample picture, and 404 otherwise.
func (h *imageHost) serve(w http.ResponseWriter, r *http.Request) {
	if (r.Method != http.MethodGet && r.Method != http.MethodHead) ||
		!strings.HasPrefix(r.URL.Path, "/media/") || !strings.HasSuffix(r.URL.Path, ".jpg") {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", "image/jpeg")
	w.Header().Set("Content-Length", fmt.Sprint(len(h.jpeg)))
	_, _ = w.Write(h.jpeg)
}

// localURL is raw with its scheme and host replaced by the image host's; "" stays "".
func (h *imageHost) localURL(raw string) string {
	u, err := url.Parse(strings.TrimSpace(raw))
	if raw == "" || err != nil {
		return raw
	}
	base, _ := url.Parse(h.srv.URL)
	u.Scheme, u.Host, u.User = base.Scheme, base.Host, nil
	return u.String()
}

// Samples returns the sample articles with their images on the sandbox's loopback image host,
// as `herald demo` publishes them.
func (s *Sandbox) Samples() ([]article.Article, error) {
	arts, err := Samples()
	if err != nil {
		return nil, err
	}
	for i := range arts {
		arts[i].ImageURL = s.images.localURL(arts[i].ImageURL)
	}
	return arts, nil
}

// ErrNotLoopback refuses a connection from the sandbox's HTTP client to anything but loopback.
var ErrNotLoopback = errors.New("sandbox: only loopback addresses may be reached")

// HTTPClient is the client the sandbox's channels get (channels.Env.HTTPClient): it dials
// loopback IP addresses and "localhost" only, and refuses any other host before a DNS lookup,
// so a fake misconfigured to a real API's address fails loudly instead of reaching it.
func (s *Sandbox) HTTPClient() *http.Client { return loopbackClient() }

func loopbackClient() *http.Client {
	dialer := &net.Dialer{Timeout: 5 * time.Second}
	return &http.Client{
		Timeout: 30 * time.Second,
		Transport: &http.Transport{
			Proxy: nil, // a proxy would be the one dialling out
			DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
				host, _, err := net.SplitHostPort(addr)
				if err != nil {
					return nil, err
				}
				if ip := net.ParseIP(host); (ip == nil && host != "localhost") || (ip != nil && !ip.IsLoopback()) {
					return nil, fmt.Errorf("%w: %s", ErrNotLoopback, addr)
				}
				return dialer.DialContext(ctx, network, addr)
			},
		},
	}
}
