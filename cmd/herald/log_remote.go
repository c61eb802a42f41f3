package main

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"herald/channels"
	"herald/config"
	"herald/queue"
)

// remoteLog is herald log --server: GET /v1/deliveries, newest first a page at a time, printed
// oldest first like the log from Redis. --follow asks every second for what is newer than the
// last line printed (the API has no blocking read).
func remoteLog(ctx context.Context, cmd *cobra.Command, rf remoteFlags, q queue.LogQuery, hasSince bool, limit int, follow bool, p *logPrinter) error {
	if limit <= 0 && !hasSince {
		limit = 20
	}
	params := url.Values{}
	for k, v := range map[string]string{"article": q.ArticleID, "channel": q.Channel, "status": q.Status} {
		if v != "" {
			params.Set(k, v)
		}
	}
	if !q.Since.IsZero() {
		params.Set("since", q.Since.UTC().Format(time.RFC3339Nano))
	}
	if err := remoteKnownLogChannel(cmd, rf, q.Channel); err != nil {
		return err
	}
	entries, err := remoteLogPages(cmd, rf, params, limit, "")
	if err != nil {
		return err
	}
	if err := printNewestLast(p, entries); err != nil {
		return err
	}
	if !follow {
		return nil
	}
	// With nothing printed yet the follow-up asks from where the history asked (its --since, or
	// the whole log: nothing in it matched), never from this machine's clock: one running ahead
	// of the server's hid every change stamped before it.
	var lastID string
	var lastTime time.Time
	if len(entries) > 0 {
		lastID, lastTime = entries[0].ID, entries[0].Time
	}
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	failing := false
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
		if !lastTime.IsZero() {
			params.Set("since", lastTime.UTC().Format(time.RFC3339Nano))
		}
		entries, err := remoteLogPages(cmd, rf, params, 0, lastID)
		if err != nil && ctx.Err() == nil && passing(err) {
			// A 5xx (the API's 503 while its Redis fails over: safe to retry) or no answer (a
			// restart): following goes on from where it was, as it does on Redis through
			// go-redis's retries, instead of ending at the first one.
			if !failing {
				fmt.Fprintf(cmd.ErrOrStderr(), "herald log: %v; trying again every second\n", err)
				failing = true
			}
			continue
		}
		if err != nil {
			return err
		}
		if failing {
			fmt.Fprintln(cmd.ErrOrStderr(), "herald log: the API answers again")
			failing = false
		}
		if len(entries) > 0 {
			lastID, lastTime = entries[0].ID, entries[0].Time
		}
		if err := printNewestLast(p, entries); err != nil {
			return err
		}
	}
}

// passing tells a failure --follow outlasts (a 5xx, no answer) from one that a retry cannot
// mend: a 4xx (a revoked token, a bad parameter).
func passing(err error) bool {
	var ae *apiStatusError
	return !errors.As(err, &ae) || ae.status >= 500
}

// remoteKnownLogChannel is knownLogChannel through --server: a --channel the server has not
// configured and whose log has no change (a typo) exits 2, naming the configured channels. The
// API answers such a query with no entries, so the log printed nothing, and --follow waited for
// ever. A channel removed from the config still shows its history.
func remoteKnownLogChannel(cmd *cobra.Command, rf remoteFlags, name string) error {
	if name == "" {
		return nil
	}
	var res struct {
		Channels []queue.ChannelInfo `json:"channels"`
	}
	if err := remoteGet(cmd, rf, "/v1/channels", &res); err != nil {
		return err
	}
	var cfg config.Config // the server's channels, for the message knownLogChannel gives
	for _, c := range res.Channels {
		if string(c.Channel) == name {
			return nil
		}
		cfg.Channels = append(cfg.Channels, config.Channel{Spec: channels.Spec{Name: c.Channel, Kind: c.Kind}})
	}
	var page queue.LogPage
	if err := remoteGet(cmd, rf, "/v1/deliveries?"+url.Values{"channel": {name}, "limit": {"1"}}.Encode(), &page); err != nil {
		return err
	}
	if len(page.Entries) > 0 {
		return nil
	}
	return &exitError{code: 2, err: fmt.Errorf("--channel: %s, and the delivery log has no change for it", cfg.UnknownChannel(name))}
}

// remoteLogPages reads pages of the log, newest first, until most entries (0: all), the last
// page, or an entry no newer than stopAt (a log id; "" reads on).
func remoteLogPages(cmd *cobra.Command, rf remoteFlags, params url.Values, most int, stopAt string) ([]queue.LogEntry, error) {
	var out []queue.LogEntry
	cursor := ""
	for {
		v := url.Values{}
		for k, vals := range params {
			v[k] = vals
		}
		v.Set("limit", "1000")
		if most > 0 {
			v.Set("limit", strconv.Itoa(min(1000, most-len(out))))
		}
		if cursor != "" {
			v.Set("cursor", cursor)
		}
		var page queue.LogPage
		if err := remoteGet(cmd, rf, "/v1/deliveries?"+v.Encode(), &page); err != nil {
			return nil, err
		}
		for _, e := range page.Entries {
			if stopAt != "" && !logIDAfter(e.ID, stopAt) {
				return out, nil
			}
			out = append(out, e)
		}
		if page.NextCursor == "" || (most > 0 && len(out) >= most) {
			return out, nil
		}
		cursor = page.NextCursor
	}
}

func printNewestLast(p *logPrinter, entries []queue.LogEntry) error {
	for i := len(entries) - 1; i >= 0; i-- {
		if err := p.print(entries[i]); err != nil {
			return err
		}
	}
	return nil
}

// logIDAfter reports whether log id a ("<ms>-<seq>", a Redis stream id) comes after b.
func logIDAfter(a, b string) bool {
	split := func(id string) (uint64, uint64) {
		ms, seq, _ := strings.Cut(id, "-")
		m, _ := strconv.ParseUint(ms, 10, 64)
		s, _ := strconv.ParseUint(seq, 10, 64)
		return m, s
	}
	am, as := split(a)
	bm, bs := split(b)
	return am > bm || am == bm && as > bs
}
