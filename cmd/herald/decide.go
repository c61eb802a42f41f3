package main

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/spf13/cobra"

	"herald/channels"
	"herald/config"
	"herald/queue"
)

// newDecideCmd builds `mark-sent` and `drop`: an admin's decision on a failed or unknown
// delivery (the Telegram admin bot's alert buttons do the same).
func newDecideCmd(g *globalFlags, action, short string) *cobra.Command {
	var rf remoteFlags
	var remoteID, postURL, by string
	cmd := &cobra.Command{
		Use:   action + " ARTICLE_ID CHANNEL",
		Short: short,
		Args:  cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			by = cliBy(by)
			if rf.server != "" {
				q := url.Values{"by": {by}}
				if action == "mark-sent" {
					q.Set("remote_id", remoteID)
					q.Set("post_url", postURL)
				}
				return notFoundExit3(remoteRequest(cmd, rf, http.MethodPost,
					"/v1/articles/"+url.PathEscape(args[0])+"/deliveries/"+url.PathEscape(args[1])+"/"+action+"?"+q.Encode()))
			}
			return withBroker(cmd, g, func(ctx context.Context, _ *config.Config, b *queue.Broker) error {
				var d queue.Delivery
				var err error
				if action == "mark-sent" {
					d, err = b.MarkSent(ctx, args[0], channels.Name(args[1]), by, remoteID, postURL)
				} else {
					d, err = b.Drop(ctx, args[0], channels.Name(args[1]), by)
				}
				auditCLI(ctx, b, action, args[0]+" "+args[1]+" by "+by, err)
				switch {
				case errors.Is(err, queue.ErrNotFound):
					return &exitError{code: 3, err: err}
				case errors.Is(err, queue.ErrConflict), errors.Is(err, queue.ErrInvalidURL):
					return &exitError{code: 2, err: err}
				case err != nil:
					return err // Redis failed: 1, as the API's 503 through --server
				}
				return printJSON(cmd.OutOrStdout(), d)
			})
		},
	}
	rf.add(cmd)
	cmd.Flags().StringVar(&by, "by", "", "who decides (default: your user name)")
	if action == "mark-sent" {
		cmd.Flags().StringVar(&remoteID, "remote-id", "", "the post's id on the platform, if known")
		cmd.Flags().StringVar(&postURL, "post-url", "", "the post's link, if known")
	}
	return cmd
}

// cliBy is who a CLI admin action acts for: --by, else the user running herald, else "cli". The
// delivery log's entry of the action carries it.
func cliBy(by string) string {
	if by = strings.TrimSpace(by); by != "" {
		return by
	}
	if u := currentUser(); u != "" {
		return u
	}
	return "cli"
}
