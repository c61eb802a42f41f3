package main

import (
	"fmt"
	"io"
	"strings"

	"herald/channels"
	"herald/queue"
	"herald/sandbox"
)

// printXFacebook prints what the fake X or the fake Facebook Page received for a delivery.
func printXFacebook(out io.Writer, sb *sandbox.Sandbox, d queue.Delivery) {
	switch d.Kind {
	case channels.KindX:
		for _, p := range sb.X.Posts() {
			if p.ID == d.RemoteID {
				media := ""
				if len(p.MediaIDs) > 0 {
					media = fmt.Sprintf(", media %s", strings.Join(p.MediaIDs, ","))
				}
				fmt.Fprintf(out, "\n   X received (POST /2/tweets%s):\n%s\n", media, indent(p.Text, "   │ "))
			}
		}
	case channels.KindFacebook:
		for _, p := range sb.Facebook.Posts() {
			if p.ID == d.RemoteID {
				head := "POST /" + facebookPath(p.Kind)
				body := p.Message
				if p.PhotoURL != "" {
					body = fmt.Sprintf("[photo %s]\n%s", p.PhotoURL, body)
				}
				if p.Link != "" {
					head += ", link " + p.Link
				}
				fmt.Fprintf(out, "\n   Facebook received (%s):\n%s\n", head, indent(body, "   │ "))
			}
		}
	}
}

func facebookPath(kind string) string {
	if kind == "photo" {
		return "{page}/photos"
	}
	return "{page}/feed"
}
