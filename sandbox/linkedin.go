package sandbox

import (
	"fmt"

	"herald/channels"
	"herald/channels/linkedin/linkedinfake"
)

// LinkedInChannel is the sandbox's LinkedIn channel, against the fake LinkedIn API on loopback.
const LinkedInChannel = "linkedin-demo"

// linkedinYAML is the channels: entry for the fake LinkedIn Page. Its rate is 1/s, not the
// kind's 150/24h: the demo's posts would otherwise leave 9 m 36 s apart.
func linkedinYAML(li *linkedinfake.Server) string {
	return fmt.Sprintf(`
  - name: %s
    kind: linkedin
    rate: 1/s
    settings:
      organization_id: %q
      access_token: %q
      api_base: %q
`, LinkedInChannel, linkedinfake.DefaultOrganization, linkedinfake.DefaultToken, li.APIBase())
}

// LinkedInReceived is the post the fake LinkedIn made for a delivery's URN, for the demo to
// print: the commentary as LinkedIn shows it (its little text read back) and the article card.
func (s *Sandbox) LinkedInReceived(kind channels.Kind, remoteID string) (title, body string, ok bool) {
	if kind != channels.KindLinkedIn || s.LinkedIn == nil {
		return "", "", false
	}
	for _, p := range s.LinkedIn.Posts() {
		if p.URN != remoteID {
			continue
		}
		body := p.Shown
		if p.Source != "" {
			body += "\n[article card " + p.Source + "]"
		}
		state := "shown whole"
		if p.Truncated {
			state = "CUT by LinkedIn at an unescaped reserved character"
		}
		return fmt.Sprintf("LinkedIn received (POST /rest/posts as %s, %s; %s)", p.Author, p.URN, state), body, true
	}
	return "", "", false
}

// linkedinDuplicates counts posts the fake LinkedIn holds twice with the same commentary.
func (s *Sandbox) linkedinDuplicates() int {
	seen := map[string]bool{}
	dups := 0
	for _, p := range s.LinkedIn.Posts() {
		if p.Deleted {
			continue
		}
		if seen[p.Shown] {
			dups++
		}
		seen[p.Shown] = true
	}
	return dups
}
