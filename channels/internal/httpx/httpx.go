// Package httpx holds what every platform client needs around one HTTP request: telling a
// request that never left from one that may have reached the platform (so a send without an
// idempotency key is parked instead of posted twice), and keeping secrets out of errors.
package httpx

import (
	"context"
	"errors"
	"net/http/httptrace"
	"net/url"
	"strings"
	"sync/atomic"
)

// Trace records how far one request got. Attach it with Context before the request is sent.
type Trace struct {
	// conn is set when a connection was obtained for an attempt, from which point the request
	// may reach the platform; writeFailed when writing that attempt failed, so it cannot have.
	conn        atomic.Bool
	writeFailed atomic.Bool
}

// Context returns ctx carrying an httptrace that feeds t.
func (t *Trace) Context(ctx context.Context) context.Context {
	return httptrace.WithClientTrace(ctx, &httptrace.ClientTrace{
		// GotConn runs before the request is written; a transport retry of an unwritten
		// request starts a new attempt here.
		GotConn: func(httptrace.GotConnInfo) {
			t.writeFailed.Store(false)
			t.conn.Store(true)
		},
		WroteRequest: func(info httptrace.WroteRequestInfo) {
			if info.Err != nil {
				t.writeFailed.Store(true)
			}
		},
	})
}

// MayHaveArrived reports whether the request may have reached the server whole: a connection
// was obtained and the write was not seen to fail. Erring towards "may have" is deliberate: a
// visible duplicate post is worse than an admin prompt.
func (t *Trace) MayHaveArrived() bool { return t.conn.Load() && !t.writeFailed.Load() }

const redacted = "<redacted>"

// Redact returns err with every non-empty secret (raw, path- and query-escaped) taken out: in
// place from the URL of each *url.Error in the chain, and, should a secret still show in the
// message, by replacing the error with its redacted text.
func Redact(err error, secrets ...string) error {
	if err == nil {
		return nil
	}
	for e := err; e != nil; e = errors.Unwrap(e) {
		if ue, ok := e.(*url.Error); ok {
			ue.URL = RedactString(ue.URL, secrets...)
		}
	}
	msg := err.Error()
	if s := RedactString(msg, secrets...); s != msg {
		return errors.New(s)
	}
	return err
}

// RedactString replaces every non-empty secret in s.
func RedactString(s string, secrets ...string) string {
	for _, sec := range secrets {
		if len(sec) < 4 { // too short to be a real secret; replacing it would mangle text
			continue
		}
		for _, form := range []string{sec, url.PathEscape(sec), url.QueryEscape(sec)} {
			s = strings.ReplaceAll(s, form, redacted)
		}
	}
	return s
}
