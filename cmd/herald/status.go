package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"herald/queue"
)

func newStatusCmd(g *globalFlags) *cobra.Command {
	var rf remoteFlags
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "status ARTICLE_ID",
		Short: "Show an article's delivery record on every channel",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			id := args[0]
			if rf.server != "" {
				req, err := http.NewRequestWithContext(cmd.Context(), http.MethodGet, strings.TrimRight(rf.server, "/")+"/v1/articles/"+url.PathEscape(id), nil)
				if err != nil {
					return fmt.Errorf("--server: %w", err)
				}
				req.Header.Set("Authorization", "Bearer "+rf.token)
				return doRemote(cmd, req)
			}
			cfg, err := loadConfig(g)
			if err != nil {
				return err
			}
			ctx, cancel := context.WithTimeout(cmd.Context(), 30*time.Second)
			defer cancel()
			rdb, err := openRedis(ctx, cfg.Redis.URL)
			if err != nil {
				return err
			}
			defer rdb.Close()
			b, _ := brokerFor(cfg, rdb)
			st, err := b.Status(ctx, id)
			if errors.Is(err, queue.ErrNotFound) {
				return &exitError{code: 3, err: fmt.Errorf("no article with id %s", id)}
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
	fmt.Fprintf(out, "article %s\n  %s\n  %s\n\n", st.ID, st.Title, st.URL)
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "CHANNEL\tKIND\tSTATUS\tATTEMPT\tREMOTE ID\tPOST URL\tERROR")
	for _, d := range st.Deliveries {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%s\t%s\t%s\n", d.Channel, d.Kind, d.State, d.Attempt, d.RemoteID, d.PostURL, d.Error)
	}
	_ = tw.Flush()
}
