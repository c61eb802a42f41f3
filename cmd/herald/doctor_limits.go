package main

import (
	"context"
	"fmt"

	"herald/channels"
	"herald/config"
	"herald/formatter"
	"herald/queue"
)

// serverLimiter is implemented by channels whose server says its own text limit (Mastodon's
// configuration.statuses.max_characters, which each server sets).
type serverLimiter interface {
	MaxCharacters(ctx context.Context) (int, error)
}

// limitFindings compares the format limit of each channel whose server states its limit with
// that limit: above it, long posts would be refused (fail); below it, room is left unused (ok,
// with the setting that uses it). Only channels whose check passed are asked (ok names them):
// a refused token is reported once, by the check.
func limitFindings(ctx context.Context, cfg *config.Config, routes map[channels.Name]queue.Route, ok map[channels.Name]bool) []finding {
	var fs []finding
	for _, c := range cfg.Channels {
		r, found := routes[c.Spec.Name]
		sl, limited := r.Channel.(serverLimiter)
		if !found || !limited || !ok[c.Spec.Name] {
			continue
		}
		area := "channel " + string(c.Spec.Name)
		configured := c.Format.Limit
		if configured == 0 {
			if d, err := formatter.Defaults(c.Spec.Kind); err == nil {
				configured = d.Limit
			}
		}
		cctx, cancel := context.WithTimeout(ctx, checkTimeout)
		n, err := sl.MaxCharacters(cctx)
		cancel()
		switch {
		case err != nil:
			fs = append(fs, finding{Level: "warn", Area: area, Detail: "cannot read the server's text limit: " + err.Error(),
				Advice: fmt.Sprintf("posts are cut to format.limit %d; make sure the server allows that many characters", configured)})
		case configured > n:
			fs = append(fs, finding{Level: "fail", Area: area,
				Detail: fmt.Sprintf("format.limit %d is over the server's %d characters: longer posts would be refused (422)", configured, n),
				Advice: fmt.Sprintf("set format: {limit: %d} on this channel", n)})
		case configured < n:
			fs = append(fs, finding{Level: "ok", Area: area,
				Detail: fmt.Sprintf("the server allows %d characters, posts are cut to %d (set format: {limit: %d} to use them)", n, configured, n)})
		default:
			fs = append(fs, finding{Level: "ok", Area: area, Detail: fmt.Sprintf("format.limit %d is the server's limit", n)})
		}
	}
	return fs
}
