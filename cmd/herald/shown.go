package main

import (
	"strconv"
	"strings"
	"unicode"
)

// shown makes text herald did not write safe to print on an operator's terminal: a title from
// a feed or a CMS, a platform's error body, a stranger's Telegram message in the audit log, a
// pause reason. A control character there is an attack on the terminal (ESC [2K rewrites the
// line, OSC 52 sets the clipboard, OSC 0 the window title) or breaks the table (a tab, a
// newline); each is printed as its Go escape (\x1b, \n), as herald log prints a title. --json
// output is JSON's own escaping.
func shown(s string) string {
	if !strings.ContainsFunc(s, unicode.IsControl) {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		if unicode.IsControl(r) {
			q := strconv.QuoteRune(r)
			b.WriteString(q[1 : len(q)-1])
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}
