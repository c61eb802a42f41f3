// Package safehttp makes the requests whose address comes from content rather than from the
// operator — article-supplied files (photos for Telegram, X media, Facebook photos) and the
// WebSub hub a feed document names — without letting that content make herald probe the
// operator's network: http(s) only, a size cap, a content-type check, and no connection to
// loopback, private, link-local, CGNAT or otherwise non-public addresses unless allowed.
package safehttp

import (
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"path"
	"strings"
	"syscall"
	"time"
)

// ErrPrivateAddress refuses a host whose resolved address is not public.
var ErrPrivateAddress = errors.New("host resolves to a private address (loopback, private, link-local, CGNAT, reserved or unspecified)")

// reserved are the special-purpose ranges that net.IP's predicates do not cover and that no
// public web server answers on (IANA's IPv4 and IPv6 Special-Purpose Address Registries): an
// address in one is a network of the operator's, or nobody's. The documentation ranges
// (192.0.2.0/24, 2001:db8::/32, …) are left alone: nothing answers there, and tests stand them in
// for public hosts.
var reserved = func() []netip.Prefix {
	var ps []netip.Prefix
	for _, p := range []string{
		"0.0.0.0/8",      // "this network"; Linux connects 0.0.0.0 to itself
		"100.64.0.0/10",  // shared address space (RFC 6598, carrier-grade NAT)
		"192.0.0.0/24",   // IETF protocol assignments
		"198.18.0.0/15",  // benchmarking, used as internal space
		"240.0.0.0/4",    // reserved, and the broadcast address
		"::/96",          // IPv4-compatible (deprecated): ::10.0.0.1
		"64:ff9b:1::/48", // local-use IPv4/IPv6 translation (RFC 8215): the operator's own
		"100::/64",       // discard-only
		"2001::/23",      // IETF protocol assignments: Teredo, benchmarking, ORCHID
		"fec0::/10",      // site-local (deprecated, still routed where configured)
	} {
		ps = append(ps, netip.MustParsePrefix(p))
	}
	return ps
}()

// nat64 is the well-known prefix of IPv4/IPv6 translation (RFC 6052): 64:ff9b::10.0.0.1 is
// 10.0.0.1 to an IPv6-only host behind a NAT64 gateway (DNS64 networks, IPv6-only clusters).
// sixToFour is 6to4 (RFC 3056): 2002:0a00:0001:: carries 10.0.0.1 to a 6to4 relay.
var (
	nat64     = netip.MustParsePrefix("64:ff9b::/96")
	sixToFour = netip.MustParsePrefix("2002::/16")
)

// Public reports whether ip is an address an article-supplied URL may reach: not loopback,
// private, link-local, multicast, unspecified or otherwise reserved, including an IPv4 address
// carried inside an IPv6 one (IPv4-mapped, NAT64, 6to4), which reaches that IPv4 address.
func Public(ip net.IP) bool {
	a, ok := netip.AddrFromSlice(ip)
	if !ok {
		return false
	}
	a = a.Unmap()
	switch {
	case nat64.Contains(a):
		b := a.As16()
		return Public(net.IP(b[12:16]))
	case sixToFour.Contains(a):
		b := a.As16()
		return Public(net.IP(b[2:6]))
	}
	if a.IsLoopback() || a.IsPrivate() || a.IsLinkLocalUnicast() || a.IsLinkLocalMulticast() ||
		a.IsInterfaceLocalMulticast() || a.IsUnspecified() || a.IsMulticast() {
		return false
	}
	for _, p := range reserved {
		if p.Contains(a) {
			return false
		}
	}
	return true
}

// Options configure a download client.
type Options struct {
	Timeout time.Duration // whole request, headers and body (default 15s)
	// AllowPrivate lets the client reach non-public addresses (a CMS on the same network).
	AllowPrivate bool
	// Setting names the channel setting that allows private hosts, for the error message.
	Setting string
	// Also allows non-public addresses it reports true for (nil: none), such as those of the
	// operator's own host the request belongs to.
	Also func(net.IP) bool
}

// NewClient returns a client for article-supplied URLs. The address check runs on the resolved
// address at connect time, so DNS tricks and redirects to an internal host are refused too.
func NewClient(o Options) *http.Client {
	if o.Timeout <= 0 {
		o.Timeout = 15 * time.Second
	}
	dialer := &net.Dialer{Timeout: 10 * time.Second}
	if !o.AllowPrivate {
		refusal := ErrPrivateAddress
		if o.Setting != "" {
			refusal = fmt.Errorf("%w (%s is off)", ErrPrivateAddress, o.Setting)
		}
		dialer.Control = func(_, address string, _ syscall.RawConn) error {
			host, _, err := net.SplitHostPort(address)
			if err != nil {
				return err
			}
			if ip := net.ParseIP(host); !Public(ip) && (o.Also == nil || !o.Also(ip)) {
				return refusal
			}
			return nil
		}
	}
	return &http.Client{
		Timeout: o.Timeout,
		Transport: &http.Transport{
			Proxy:                 nil, // a proxy would connect for us and bypass the address check
			DialContext:           dialer.DialContext,
			TLSHandshakeTimeout:   10 * time.Second,
			ResponseHeaderTimeout: o.Timeout,
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

// File is a downloaded file.
type File struct {
	Name        string // the last path element of the URL, "image" when it has none
	ContentType string // the media type the host sent ("image/jpeg")
	Data        []byte
}

// DownloadImage fetches rawURL with client: an absolute http(s) URL, a 200 answer with an image/*
// media type, at most maxBytes (capName names the setting or limit in errors). Errors say which
// check failed.
func DownloadImage(ctx context.Context, client *http.Client, rawURL string, maxBytes int64, capName string) (File, error) {
	const typePrefix = "image/"
	u, err := url.Parse(rawURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return File{}, fmt.Errorf("%q is not an absolute http(s) URL", rawURL)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return File{}, err
	}
	req.Header.Set("Accept", typePrefix+"*")
	resp, err := client.Do(req)
	if err != nil {
		return File{}, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return File{}, fmt.Errorf("host answered %s", resp.Status)
	}
	mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	// Storage such as S3 serves a file uploaded without a type as application/octet-stream: its
	// bytes then say whether it is an image.
	untyped := mt == "" || mt == "application/octet-stream" || mt == "binary/octet-stream"
	if !untyped && !strings.HasPrefix(mt, typePrefix) {
		return File{}, fmt.Errorf("host sent %q, not an image", mt)
	}
	if resp.ContentLength > maxBytes {
		return File{}, fmt.Errorf("image is %d bytes, over %s (%d)", resp.ContentLength, capName, maxBytes)
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxBytes+1))
	if err != nil {
		return File{}, fmt.Errorf("reading: %w", err)
	}
	if int64(len(data)) > maxBytes {
		return File{}, fmt.Errorf("image is over %s (%d)", capName, maxBytes)
	}
	if untyped {
		sniffed, _, _ := mime.ParseMediaType(http.DetectContentType(data))
		if !strings.HasPrefix(sniffed, typePrefix) {
			return File{}, fmt.Errorf("host sent %q whose bytes are %q, not an image", mt, sniffed)
		}
		mt = sniffed
	}
	name := path.Base(u.Path)
	if name == "." || name == "/" || name == "" {
		name = "image"
	}
	return File{Name: name, ContentType: mt, Data: data}, nil
}
