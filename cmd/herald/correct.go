package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strings"

	"github.com/spf13/cobra"

	"herald/article"
	"herald/channels"
	"herald/config"
	"herald/queue"
)

// newCorrectCmd builds `herald correct article.json [--channel C]` (POST /v1/articles/{id}/correct).
func newCorrectCmd(g *globalFlags) *cobra.Command {
	var rf remoteFlags
	var channel, by string
	cmd := &cobra.Command{
		Use:   "correct [ARTICLE.json|-]",
		Short: "Correct a published article: store the fixed version and edit its sent posts in place where the platform can",
		Long: `correct is for fixed headlines, summaries and figures. The file (or stdin) holds the corrected
article, validated like a publish (an invalid one changes nothing); its id names the article, which
must have been published; without an id, its URL does, as in herald status (the article published
with that URL, with an id of its own or the URL's default id). The stored article is replaced, so
deliveries not yet sent post the corrected text; every sent post on a channel whose platform can
edit (Telegram, Facebook, Mastodon, Discord, LinkedIn) is changed in place, keeping its link
and reactions, and logged as edited; a platform that cannot edit keeps the old post (cannot-edit:
retract and repost to replace it). --channel limits it to one channel. It edits through the channels
built from the config (with --channel, that one only), or with --server through a running herald
(token from HERALD_API_TOKEN).

Exit status: 0 done, 1 an edit failed or a delivery was busy (run it again), 2 bad input,
3 no such article or channel.`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			in, name, err := openInput(cmd, args)
			if err != nil {
				return &exitError{code: 2, err: err}
			}
			data, err := io.ReadAll(io.LimitReader(in, article.MaxPayloadBytes+1))
			in.Close()
			if err != nil {
				return &exitError{code: 2, err: fmt.Errorf("%s: %w", name, err)}
			}
			a, err := article.DecodeBytes(data)
			if err != nil {
				return inputError(name, err)
			}
			// Without an id of its own the correction names its article by URL, as herald status
			// finds it: an article published with an id of its own, else the URL's default id.
			byURL := strings.TrimSpace(a.ID) == ""
			a.Normalize()
			if err := a.Validate(); err != nil {
				return inputError(name, err)
			}
			if by == "" {
				by = "cli:" + currentUser()
			}
			if rf.server != "" {
				if byURL {
					if a.ID, err = remoteArticleID(cmd, rf, a.URL); err != nil {
						return err
					}
				}
				q := url.Values{"by": {by}}
				if channel != "" {
					q.Set("channel", channel)
				}
				return remoteAdminPost(cmd, rf, "/v1/articles/"+url.PathEscape(a.ID)+"/correct?"+q.Encode(), data,
					"correct: an edit failed or a delivery was busy; run it again")
			}
			cfg, err := loadConfig(g)
			if err != nil {
				return err
			}
			if channel != "" {
				if err := configuredChannel(cfg, channel); err != nil {
					return err
				}
			}
			return withBroker(cmd, g, func(ctx context.Context, _ *config.Config, b *queue.Broker) error {
				log, err := newLogger(cfg.Log.Level, cfg.Log.Format)
				if err != nil {
					return err
				}
				if byURL {
					id, err := b.ArticleIDByURL(ctx, a.URL)
					if errors.Is(err, queue.ErrNotFound) {
						return &exitError{code: 3, err: err}
					} else if err != nil {
						return err
					}
					a.ID = id
				}
				// As retract: an unknown article is exit 3 before any channel is built.
				if _, err := b.Status(ctx, a.ID); errors.Is(err, queue.ErrNotFound) {
					return &exitError{code: 3, err: b.NoRecord(a.ID)}
				}
				routes, err := buildRoutesFor(cfg, channel, log)
				if err != nil {
					return err
				}
				res, err := b.Correct(ctx, &a, channels.Name(channel), by, routes)
				auditCLIResult(ctx, b, "correct", auditArgs(a.ID, channel, by), res.Summary(), err)
				var ve *article.ValidationError
				switch {
				case errors.As(err, &ve):
					return inputError(name, err)
				case errors.Is(err, queue.ErrNotFound):
					return &exitError{code: 3, err: err}
				case err != nil:
					return err // Redis failed: 1, as the API's 503 through --server
				}
				if perr := printJSON(cmd.OutOrStdout(), res); perr != nil {
					return perr
				}
				if res.Failed() {
					return &exitError{code: 1, err: errors.New("correct: an edit failed or a delivery was busy; run it again")}
				}
				return nil
			})
		},
	}
	rf.add(cmd)
	cmd.Flags().StringVar(&channel, "channel", "", "only this channel (default every channel the article went to)")
	cmd.Flags().StringVar(&by, "by", "", "who asks, recorded in the delivery log (default cli:<OS user>)")
	return cmd
}
