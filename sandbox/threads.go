package sandbox

import (
	"fmt"

	"herald/channels"
	"herald/channels/threads/threadsfake"
)

// ThreadsChannel is the sandbox's Threads channel, against the fake Threads API on loopback.
const ThreadsChannel = "threads-demo"

// threadsYAML is the channels: entry for the fake Threads profile. Its rate is 1/s, not the
// kind's 250/24h: the demo's posts would otherwise leave 5 m 46 s apart.
func threadsYAML(th *threadsfake.Server) string {
	return fmt.Sprintf(`
  - name: %s
    kind: threads
    rate: 1/s
    settings:
      user_id: %q
      access_token: %q
      api_base: %q
`, ThreadsChannel, threadsfake.DefaultUser, threadsfake.DefaultToken, th.APIBase())
}

// ThreadsReceived is what the fake Threads published for a delivery's post id, for the demo to
// print.
func (s *Sandbox) ThreadsReceived(kind channels.Kind, remoteID string) (title, body string, ok bool) {
	if kind != channels.KindThreads || s.Threads == nil {
		return "", "", false
	}
	for _, p := range s.Threads.Posts() {
		if p.ID != remoteID {
			continue
		}
		body := p.Text
		switch {
		case p.ImageURL != "":
			body = fmt.Sprintf("[image %s]\n%s", p.ImageURL, body)
		case p.LinkAttachment != "":
			body += "\n[link card " + p.LinkAttachment + "]"
		}
		return fmt.Sprintf("Threads received (container %s %s, then threads_publish; %s)", p.ContainerID, p.MediaType, p.Permalink), body, true
	}
	return "", "", false
}

// threadsDuplicates counts posts the fake Threads published twice with the same text.
func (s *Sandbox) threadsDuplicates() int {
	seen := map[string]bool{}
	dups := 0
	for _, p := range s.Threads.Posts() {
		if s.Threads.Deleted(p.ID) {
			continue
		}
		if seen[p.Text] {
			dups++
		}
		seen[p.Text] = true
	}
	return dups
}
