package main

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"herald/config"
	"herald/queue"
)

func newStatusCmd(g *globalFlags) *cobra.Command {
	var rf remoteFlags
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "status ARTICLE_ID|URL",
		Short: "Show an article's delivery record on every channel",
		Long: `status shows an article's delivery record on every channel. A URL finds the article
published with it, with or without an id of its own, written any way its canonical form
forgives (tracking parameters, fragment, host case, trailing slash); the newest publish of a URL
wins. Exit status: 0 found, 2 not a URL, 3 no such article.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			id := args[0]
			var st *queue.ArticleStatus
			var err error
			if rf.server != "" {
				path := "/v1/articles/" + url.PathEscape(id)
				if isURLRef(id) {
					path = "/v1/articles?url=" + url.QueryEscape(id)
				}
				st = new(queue.ArticleStatus)
				err = notFoundExit3(remoteGet(cmd, rf, path, st))
			} else {
				err = withBroker(cmd, g, func(ctx context.Context, _ *config.Config, b *queue.Broker) error {
					aid, err := b.ArticleID(ctx, id)
					if err != nil {
						return err
					}
					st, err = b.Status(ctx, aid)
					return err
				})
			}
			if errors.Is(err, queue.ErrInvalidURL) {
				return &exitError{code: 2, err: err}
			}
			if errors.Is(err, queue.ErrNotFound) {
				what := "id"
				if isURLRef(id) {
					what = "URL"
				}
				return &exitError{code: 3, err: fmt.Errorf("no article with %s %s", what, id)}
			}
			if err != nil {
				return err
			}
			if asJSON {
				return printJSON(cmd.OutOrStdout(), st)
			}
			printStatus(cmd, st)
			return nil
		},
	}
	rf.add(cmd)
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the record as JSON (same as GET /v1/articles/{id})")
	return cmd
}

func printStatus(cmd *cobra.Command, st *queue.ArticleStatus) {
	out := cmd.OutOrStdout()
	fmt.Fprintf(out, "article %s\n  %s\n  %s\n\n", st.ID, shown(st.Title), shown(st.URL))
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "CHANNEL\tKIND\tSTATUS\tATTEMPT\tREMOTE ID\tPOST URL\tCORRECTION\tERROR")
	for _, d := range st.Deliveries {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%s\t%s\t%s\t%s\n", d.Channel, d.Kind, d.State, d.Attempt, shown(d.RemoteID), shown(d.PostURL), shown(correctionCell(d)), shown(d.Error))
	}
	_ = tw.Flush()
}

// correctionCell says what a retract or a correction in place did to the delivery's post:
// "retracted <time> by <who>" (taken back: deleted, or cancelled before it went out), "edited
// <time> by <who>", "cannot-edit <time> by <who>" (the post keeps the old text), or "-".
func correctionCell(d queue.Delivery) string {
	const layout = "2006-01-02T15:04Z"
	switch {
	case d.State == queue.StateRetracted && !d.RetractedAt.IsZero():
		return "retracted " + d.RetractedAt.UTC().Format(layout) + " by " + d.RetractedBy
	case !d.NotEditedAt.IsZero():
		return "cannot-edit " + d.NotEditedAt.UTC().Format(layout) + " by " + d.NotEditedBy
	case !d.EditedAt.IsZero():
		return "edited " + d.EditedAt.UTC().Format(layout) + " by " + d.EditedBy
	}
	return "-"
}
