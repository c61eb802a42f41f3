package main

import (
	"context"
	"errors"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"herald/config"
	"herald/ingest"
	"herald/queue"
)

func newFeedsCmd(g *globalFlags) *cobra.Command {
	var rf remoteFlags
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "feeds",
		Short: "List configured feeds with their last poll, last error, items seen and WebSub state",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var sts []ingest.FeedStatus
			if rf.server != "" {
				var res struct {
					Feeds []ingest.FeedStatus `json:"feeds"`
				}
				if err := remoteGet(cmd, rf, "/v1/feeds", &res); err != nil {
					return err
				}
				sts = res.Feeds
			} else if err := withCheckedBroker(cmd, g, func(*config.Config) error {
				if g.configPath == "" {
					// Feeds live only in the config file: without one the empty table read as
					// "no feeds are polled".
					return &exitError{code: 2, err: errors.New("no config file: herald feeds lists the config's feeds; pass --config FILE (or set HERALD_CONFIG), or ask a running herald with --server URL")}
				}
				return nil
			}, func(ctx context.Context, cfg *config.Config, b *queue.Broker) error {
				var err error
				sts, err = ingest.FeedStatuses(ctx, b.Client(), cfg.Feeds)
				return err
			}); err != nil {
				return err
			}
			if asJSON {
				return printJSON(cmd.OutOrStdout(), map[string]any{"feeds": sts})
			}
			printFeeds(cmd, sts)
			return nil
		},
	}
	rf.add(cmd)
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON (same as GET /v1/feeds)")
	return cmd
}

func printFeeds(cmd *cobra.Command, sts []ingest.FeedStatus) {
	tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "FEED\tINTERVAL\tLAST SUCCESS\tFAILURES\tLAST ERROR\tITEMS SEEN\tNEXT POLL\tWEBSUB")
	ts := func(t *time.Time) string {
		if t == nil {
			return "-"
		}
		return t.Format(time.RFC3339)
	}
	for _, s := range sts {
		ws := "-"
		if s.WebSub != nil {
			ws = s.WebSub.State
			if s.WebSub.Expires != nil {
				ws += " until " + ts(s.WebSub.Expires)
			}
			if s.WebSub.Error != "" {
				ws += " (" + shown(s.WebSub.Error) + ")"
			}
		}
		lastErr := "-"
		if s.LastError != "" {
			lastErr = ts(s.LastErrorAt) + " " + shown(s.LastError)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%s\t%d\t%s\t%s\n", s.Name, s.Interval, ts(s.LastSuccess), s.Failures, lastErr, s.ItemsSeen, ts(s.NextPoll), ws)
	}
	_ = tw.Flush()
}
