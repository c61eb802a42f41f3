package sandbox

import (
	"fmt"

	"herald/channels/facebook/facebookfake"
	"herald/channels/x/xfake"
)

// The sandbox's X and Facebook channels, against their fakes on loopback.
const (
	XChannel        = "x-demo"
	FacebookChannel = "facebook-demo"
)

// xFacebookYAML is the channels: entries for the fake X and the fake Facebook Page. The Page
// posts photos (format.image) so the demo shows both kinds of Page post. Both may download
// from private hosts: the sample images are on the sandbox's loopback image host.
func xFacebookYAML(x *xfake.Server, fb *facebookfake.Server) string {
	c := xfake.DefaultCredentials
	return fmt.Sprintf(`
  - name: %s
    kind: x
    settings:
      consumer_key: %q
      consumer_secret: %q
      access_token: %q
      access_secret: %q
      api_base: %q
      allow_private_hosts: true
  - name: %s
    kind: facebook
    format:
      image: true
    settings:
      page_id: %q
      page_token: %q
      graph_base: %q
      allow_private_hosts: true
`, XChannel, c.ConsumerKey, c.ConsumerSecret, c.AccessToken, c.AccessSecret, x.APIBase(),
		FacebookChannel, facebookfake.DefaultPage, facebookfake.DefaultToken, fb.GraphBase())
}

// xFacebookDuplicates counts posts X or the Page received twice with the same text.
func (s *Sandbox) xFacebookDuplicates() int {
	seen := map[string]int{}
	dups := 0
	count := func(k string) {
		seen[k]++
		if seen[k] > 1 {
			dups++
		}
	}
	for _, p := range s.X.Posts() {
		count("x\x00" + p.Text)
	}
	for _, p := range s.Facebook.Posts() {
		count("fb\x00" + p.Message + "\x00" + p.Link + "\x00" + p.PhotoURL)
	}
	return dups
}
