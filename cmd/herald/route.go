package main

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"herald/article"
	"herald/config"
)

// newRouteCmd explains routing: which channels an article would go to and which rule decided.
// It needs the config but no Redis, and queues nothing.
func newRouteCmd(g *globalFlags) *cobra.Command {
	var source string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "route [ARTICLE.json|-]",
		Short: "Show which channels an article would go to, and the rule that decided (queues nothing)",
		Long: `route reads one article (JSON, from a file or stdin), applies the configured routes and prints
each channel the article would be delivered to with the rule that chose it, and the routes an
exclude condition vetoed. --source names the feed or webhook the article comes from (default
"api", the bearer-token API and the CLI); any other name is refused. Exit 2 when no channel
matches or the source is not configured.`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := loadConfig(g)
			if err != nil {
				return err
			}
			// A misspelt source matches no route's sources: the decision shown would be one
			// the real source never gets.
			if names := cfg.SourceNames(); !slices.Contains(names, source) {
				return &exitError{code: 2, err: fmt.Errorf("--source %q is not a configured webhook or feed name (sources: %s)", source, strings.Join(names, ", "))}
			}
			a, err := readArticle(cmd, args)
			if err != nil {
				return inputError("article", err)
			}
			d, rerr := cfg.Route(&a, source)
			var ve *article.ValidationError
			if rerr != nil && !errors.As(rerr, &ve) {
				return rerr
			}
			if asJSON {
				// The documented shape, lists and all, whatever matched: a script's
				// jq '.excluded[]' must not meet null.
				out := struct {
					Channels []config.Choice `json:"channels"`
					Excluded []config.Choice `json:"excluded"`
				}{Channels: []config.Choice{}, Excluded: []config.Choice{}}
				if d != nil {
					out.Channels = append(out.Channels, d.Channels...)
					out.Excluded = append(out.Excluded, d.Excluded...)
				}
				if err := printJSON(cmd.OutOrStdout(), out); err != nil {
					return err
				}
			} else if d != nil {
				printDecision(cmd, d)
			}
			if rerr != nil {
				return inputError("article", rerr)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&source, "source", config.SourceAPI, "the feed or webhook name the article comes from")
	cmd.Flags().BoolVar(&asJSON, "json", false, `print {"channels":[{"channel","rule","why"}],"excluded":[…]}`)
	return cmd
}

func printDecision(cmd *cobra.Command, d *config.Decision) {
	tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "CHANNEL\tRULE\tWHY")
	for _, c := range d.Channels {
		fmt.Fprintf(tw, "%s\t%s\t%s\n", c.Channel, c.Rule, c.Why)
	}
	for _, c := range d.Excluded {
		fmt.Fprintf(tw, "(excluded) %s\t%s\t%s\n", c.Channel, c.Rule, c.Why)
	}
	_ = tw.Flush()
}
