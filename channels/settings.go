package channels

import (
	"fmt"
	"net/url"
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
		return fmt.Errorf("%s: %q is not an http(s) URL", setting, *v)
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
