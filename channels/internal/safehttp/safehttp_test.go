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
	if _, err := DownloadImage(ctx, open, "file:///etc/passwd", 1<<20, "the cap"); err == nil {
		t.Fatal("file URL accepted")
	}
}
