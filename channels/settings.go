package channels

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// BaseURL applies a platform base-URL setting's default, drops trailing slashes and checks it is
// an absolute http(s) URL; the error names the setting. Every platform package's config reads
// its API base through it.
func BaseURL(setting string, v *string, def string) error {
	if *v == "" {
		*v = def
	}
	*v = strings.TrimRight(*v, "/")
	if u, err := url.Parse(*v); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("%s: %s is not an http(s) URL", setting, ShowURL(*v))
	}
	return nil
}

// Duration applies a duration setting's default when it is zero and refuses a negative one;
// the error names the setting.
func Duration(setting string, v *time.Duration, def time.Duration) error {
	if *v == 0 {
		*v = def
	}
	if *v < 0 {
		return fmt.Errorf("%s: must be positive, got %s", setting, *v)
	}
	return nil
}

// ShowURL is a URL setting's value as an error may repeat it: quoted scheme and host only, with
// "/…" when a path, query or user info followed, since those may hold a credential (a Telegram
// or Discord token in the path, ?access_token=, user:password@). A value that is not a URL with
// a scheme and host is not repeated at all: it may be a token pasted into the wrong setting.
func ShowURL(raw string) string {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil || u.Scheme == "" || u.Host == "" {
		return "(the value is not repeated: it is not a URL with a scheme and host, and may hold a credential)"
	}
	s := u.Scheme + "://" + u.Host
	if u.User != nil || strings.Trim(u.Path, "/") != "" || u.RawQuery != "" || u.Fragment != "" || u.Opaque != "" {
		s += "/…"
	}
	return strconv.Quote(s)
}
