package main

import (
	"context"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"herald/config"
	"herald/ingest"
	"herald/queue"
	"herald/web"
)

func newStatsCmd(g *globalFlags) *cobra.Command {
	var rf remoteFlags
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "stats",
		Short: "Per channel: sent, failed and unknown in the last hour and day, queue, pause, rate limit, latency",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var st *web.Stats
			if rf.server != "" {
				st = &web.Stats{Overview: &queue.Overview{}}
				if err := remoteGet(cmd, rf, "/v1/stats", st); err != nil {
					return err
				}
			} else if err := withCheckedBroker(cmd, g, needChannels, func(ctx context.Context, cfg *config.Config, b *queue.Broker) error {
				var feeds func(context.Context) ([]ingest.FeedStatus, error)
				if len(cfg.Feeds) > 0 {
					feeds = func(ctx context.Context) ([]ingest.FeedStatus, error) {
						return ingest.FeedStatuses(ctx, b.Client(), cfg.Feeds)
					}
				}
				var err error
				st, err = web.ReadStats(ctx, b, cfgChannels(cfg), feeds)
				return err
			}); err != nil {
				return err
			}
			if asJSON {
				return printJSON(cmd.OutOrStdout(), st)
			}
			printOverview(cmd, st.Overview)
			if len(st.Feeds) > 0 {
				fmt.Fprintln(cmd.OutOrStdout())
				printFeeds(cmd, st.Feeds)
			}
			return nil
		},
	}
	rf.add(cmd)
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON (same as GET /v1/stats)")
	return cmd
}

func printOverview(cmd *cobra.Command, ov *queue.Overview) {
	out := cmd.OutOrStdout()
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "CHANNEL\tKIND\tSENT 1H/24H\tFAILED 1H/24H\tUNKNOWN 1H/24H\tQUEUED\tSENDING\tPARKED\tRATE-LIMITED UNTIL\tPAUSED\tP50/P95 1H\tSPEND")
	for _, c := range ov.Channels {
		nb := "-"
		if !c.NotBefore.IsZero() {
			nb = c.NotBefore.Format(time.RFC3339)
		}
		paused := "no"
		if c.Paused {
			paused = "yes " + shown(c.PauseReason)
		}
		fmt.Fprintf(tw, "%s\t%s\t%d/%d\t%d/%d\t%d/%d\t%d\t%d\t%d\t%s\t%s\t%s\t%s\n", c.Channel, c.Kind,
			c.LastHour.Sent, c.LastDay.Sent, c.LastHour.Failed, c.LastDay.Failed, c.LastHour.Unknown, c.LastDay.Unknown,
			c.Pending+c.Scheduled+c.Retry, c.Sending, c.Unknown, nb, paused, latency(c.Latency), spendText(c.Spend))
	}
	_ = tw.Flush()
	fmt.Fprintf(out, "\npublish→post latency, last hour, all channels: %s\n", latency(ov.Latency))
}

func latency(l queue.Latency) string {
	if l.Samples == 0 {
		return "-"
	}
	return fmt.Sprintf("%s/%s (%d)", l.P50.Round(time.Millisecond), l.P95.Round(time.Millisecond), l.Samples)
}
