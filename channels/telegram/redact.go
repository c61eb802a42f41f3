package telegram

import (
	"errors"
	"net/url"
	"strings"
)

// Redacted replaces a bot token wherever one would show.
const Redacted = "<redacted>"

// RedactError removes token from err: in place from every *url.Error in the chain (their URL
// is tgbotapi's /bot<token>/<method>), and, should the token still show in the message, by
// replacing the whole error with its redacted text. Every user of a bot token (the channels,
// the admin bot) goes through this one function.
func RedactError(token string, err error) error {
	if err == nil || token == "" {
		return err
	}
	for e := err; e != nil; e = errors.Unwrap(e) {
		if ue, ok := e.(*url.Error); ok {
			ue.URL = RedactString(token, ue.URL)
		}
	}
	if msg := err.Error(); strings.Contains(msg, token) || strings.Contains(msg, url.PathEscape(token)) {
		return errors.New(RedactString(token, msg))
	}
	return err
}

// RedactString replaces token, raw or path-escaped, in s.
func RedactString(token, s string) string {
	if token == "" {
		return s
	}
	s = strings.ReplaceAll(s, token, Redacted)
	return strings.ReplaceAll(s, url.PathEscape(token), Redacted)
}
