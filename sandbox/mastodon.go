package sandbox

import (
	"fmt"
	"strings"

	"herald/channels"
	"herald/channels/mastodon/mastodonfake"
)

// MastodonChannel is the sandbox's Mastodon channel, an account on the fake server on loopback.
const MastodonChannel = "mastodon-demo"

// mastodonYAML is the channels: entry for the fake Mastodon server. Images may come from
// private hosts: the sample images are on the sandbox's loopback image host.
func mastodonYAML(m *mastodonfake.Server) string {
	return fmt.Sprintf(`
  - name: %s
    kind: mastodon
    settings:
      instance: %q
      access_token: %q
      allow_private_hosts: true
`, MastodonChannel, m.URL(), mastodonfake.DefaultToken)
}

// MastodonReceived is the status the fake Mastodon made for a delivery's remote id, for the demo
// to print.
func (s *Sandbox) MastodonReceived(kind channels.Kind, remoteID string) (title, body string, ok bool) {
	if kind != channels.KindMastodon || s.Mastodon == nil {
		return "", "", false
	}
	for _, st := range s.Mastodon.Statuses() {
		if st.ID != remoteID {
			continue
		}
		var b strings.Builder
		for _, id := range st.MediaIDs {
			m, _ := s.Mastodon.MediaByID(id)
			fmt.Fprintf(&b, "[image %s, %d bytes]\n", m.Filename, m.Size)
		}
		fmt.Fprintf(&b, "%s\nvisibility %s, language %s, Idempotency-Key %s", st.Text, st.Visibility, st.Language, st.IdempotencyKey)
		return "Mastodon received (POST /api/v1/statuses)", b.String(), true
	}
	return "", "", false
}

// mastodonDuplicates counts statuses the fake holds twice with the same text (not deleted).
func (s *Sandbox) mastodonDuplicates() int {
	seen := map[string]bool{}
	dups := 0
	for _, st := range s.Mastodon.Statuses() {
		if st.Deleted {
			continue
		}
		if seen[st.Text] {
			dups++
		}
		seen[st.Text] = true
	}
	return dups
}
