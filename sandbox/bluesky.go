package sandbox

import (
	"fmt"
	"strings"

	"herald/channels/bluesky/blueskyfake"
)

// BlueskyChannel is the sandbox's Bluesky channel, against the fake PDS on loopback.
const BlueskyChannel = "bluesky-demo"

// blueskyYAML is the channels: entry for the fake PDS. Thumbnails may come from private hosts:
// the sample images are on the sandbox's loopback image host.
func blueskyYAML(b *blueskyfake.Server) string {
	return fmt.Sprintf(`
  - name: %s
    kind: bluesky
    settings:
      service: %q
      identifier: %q
      app_password: %q
      allow_private_hosts: true
`, BlueskyChannel, b.URL(), blueskyfake.DefaultHandle, blueskyfake.DefaultPassword)
}

// blueskyDuplicates counts posts the PDS holds twice with the same text.
func (s *Sandbox) blueskyDuplicates() int {
	seen := map[string]bool{}
	dups := 0
	for _, p := range s.Bluesky.Posts() {
		if p.Deleted {
			continue
		}
		if seen[p.Text] {
			dups++
		}
		seen[p.Text] = true
	}
	return dups
}

// ReceivedBluesky describes the post record the fake PDS holds under uri, as `herald demo`
// prints it: the text, then its facets and card.
func (s *Sandbox) ReceivedBluesky(uri string) (title, body string, ok bool) {
	for _, p := range s.Bluesky.Posts() {
		if p.URI != uri {
			continue
		}
		var b strings.Builder
		b.WriteString(p.Text)
		b.WriteString("\n")
		for _, f := range p.Facets {
			fmt.Fprintf(&b, "\n[%s facet, bytes %d–%d: %q → %s]", f.Type, f.ByteStart, f.ByteEnd, f.Covered, f.Value)
		}
		if c := p.Card; c != nil {
			thumb := "no thumbnail"
			if c.Thumb != nil {
				thumb = fmt.Sprintf("thumbnail %s, %d bytes", c.Thumb.MimeType, c.Thumb.Size)
			}
			fmt.Fprintf(&b, "\n[card %s — %s (%s)]", c.URI, c.Title, thumb)
		}
		return fmt.Sprintf("Bluesky received (com.atproto.repo.createRecord, rkey %s, langs %v)", p.Rkey, p.Langs), b.String(), true
	}
	return "", "", false
}
