package safehttp

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestPublic(t *testing.T) {
	for ip, want := range map[string]bool{
		"127.0.0.1": false, "10.1.2.3": false, "172.16.0.1": false, "192.168.1.1": false,
		"169.254.169.254": false, "100.64.0.1": false, "100.127.255.254": false, "0.0.0.0": false,
		"::1": false, "fe80::1": false, "fc00::1": false, "::ffff:100.64.0.1": false, "::ffff:127.0.0.1": false,
		"100.128.0.1": true, "8.8.8.8": true, "2001:4860:4860::8888": true,
		// An IPv4 address inside an IPv6 one reaches that IPv4 address: through a NAT64 gateway
		// (DNS64 networks, IPv6-only clusters), a 6to4 relay, or as an IPv4-compatible address.
		"64:ff9b::a9fe:a9fe": false, "64:ff9b::7f00:1": false, "64:ff9b::a00:5": false, "64:ff9b::c0a8:101": false,
		"64:ff9b::808:808": true, "64:ff9b:1::a00:5": false,
		"2002:a9fe:a9fe::1": false, "2002:7f00:1::": false, "2002:a00:5::1": false, "2002:808:808::1": true,
		"::a00:5": false, "::7f00:1": false, "::ffff:10.0.0.5": false, "::ffff:8.8.8.8": true,
		// Reserved ranges no public server answers on.
		"0.1.2.3": false, "192.0.0.170": false, "198.18.0.1": false, "240.0.0.1": false, "255.255.255.255": false,
		"100::1": false, "2001::1": false, "fec0::1": false, "ff02::1": false,
		"192.0.3.1": true, "198.20.0.1": true, "2a00:1450:4001:80b::200e": true,
	} {
		if got := Public(net.ParseIP(ip)); got != want {
			t.Errorf("Public(%s) = %v, want %v", ip, got, want)
		}
	}
}

func imageServer(t *testing.T, ctype string, body []byte) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", ctype)
		_, _ = w.Write(body)
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestDownloadImageChecks(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	img := imageServer(t, "image/png", []byte("\x89PNG-bytes"))
	html := imageServer(t, "text/html", []byte("<html>"))

	_, err := DownloadImage(ctx, NewClient(Options{Setting: "allow_private_hosts"}), img.URL+"/a.png", 1<<20, "the cap")
	if !errors.Is(err, ErrPrivateAddress) || !strings.Contains(err.Error(), "allow_private_hosts is off") {
		t.Fatalf("loopback host: %v, want ErrPrivateAddress naming the setting", err)
	}
	open := NewClient(Options{AllowPrivate: true})
	f, err := DownloadImage(ctx, open, img.URL+"/media/a.png", 1<<20, "the cap")
	if err != nil || f.Name != "a.png" || f.ContentType != "image/png" || string(f.Data) != "\x89PNG-bytes" {
		t.Fatalf("allowed: %+v, %v", f, err)
	}
	if _, err := DownloadImage(ctx, open, html.URL, 1<<20, "the cap"); err == nil || !strings.Contains(err.Error(), "not an image") {
		t.Fatalf("html: %v", err)
	}
	if _, err := DownloadImage(ctx, open, img.URL, 4, "max_bytes"); err == nil || !strings.Contains(err.Error(), "over max_bytes") {
		t.Fatalf("cap: %v", err)
	}
	// The metadata service through a NAT64 gateway: refused at the dial, before any packet.
	if _, err := DownloadImage(ctx, NewClient(Options{}), "http://[64:ff9b::a9fe:a9fe]/latest/meta-data/", 1<<20, "the cap"); !errors.Is(err, ErrPrivateAddress) {
		t.Fatalf("NAT64 address of 169.254.169.254: %v, want ErrPrivateAddress", err)
	}
	if _, err := DownloadImage(ctx, open, "file:///etc/passwd", 1<<20, "the cap"); err == nil {
		t.Fatal("file URL accepted")
	}
}

// TestDownloadImageUntypedBytesAreSniffed: storage such as S3 serves a file uploaded without a
// type as application/octet-stream (or binary/octet-stream): such an answer is an image when its
// bytes are one, and is refused otherwise. It used to be refused as "not an image", so every
// photo of a site that stores its images so was left out on X, Mastodon, Bluesky and Facebook
// uploads.
func TestDownloadImageUntypedBytesAreSniffed(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	open := NewClient(Options{AllowPrivate: true})
	png := append([]byte("\x89PNG\r\n\x1a\n"), make([]byte, 64)...)
	jpeg := append([]byte{0xff, 0xd8, 0xff, 0xe0}, make([]byte, 64)...)
	for _, tc := range []struct {
		ctype string
		body  []byte
		want  string
	}{{"application/octet-stream", png, "image/png"}, {"binary/octet-stream", jpeg, "image/jpeg"}} {
		srv := imageServer(t, tc.ctype, tc.body)
		f, err := DownloadImage(ctx, open, srv.URL+"/uploads/photo", 1<<20, "the cap")
		if err != nil || f.ContentType != tc.want || len(f.Data) != len(tc.body) {
			t.Fatalf("%s: %+v, %v; want %s", tc.ctype, f.ContentType, err, tc.want)
		}
	}
	page := imageServer(t, "application/octet-stream", []byte("<!doctype html><title>Access Denied</title>"))
	if _, err := DownloadImage(ctx, open, page.URL, 1<<20, "the cap"); err == nil || !strings.Contains(err.Error(), "not an image") {
		t.Fatalf("octet-stream page: %v, want refused as not an image", err)
	}
	big := imageServer(t, "application/octet-stream", append(png, make([]byte, 100)...))
	if _, err := DownloadImage(ctx, open, big.URL, 100, "max_bytes"); err == nil || !strings.Contains(err.Error(), "over max_bytes") {
		t.Fatalf("cap: %v", err)
	}
}
