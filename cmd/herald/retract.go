package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"herald/article"
	"herald/channels"
	"herald/config"
	"herald/queue"
)

// newRetractCmd builds `herald retract ID|URL [--channel C]` (POST /v1/articles/{id}/retract).
func newRetractCmd(g *globalFlags) *cobra.Command {
	var rf remoteFlags
	var channel, by string
	cmd := &cobra.Command{
		Use:   "retract ARTICLE_ID|URL",
		Short: "Take an article back: delete its sent posts where the platform can, cancel what is not sent yet",
		Long: `retract is for corrections and takedowns. Every sent delivery of the article on a channel
whose platform can delete (X, Facebook, Telegram, Discord, Bluesky, Threads, Mastodon, LinkedIn) is deleted there and recorded as retracted;
deliveries not yet sent are cancelled (never posted); a channel that cannot delete keeps its
post and is reported as cannot-delete. Retracting twice deletes once. A URL stands for the
article published with that URL, found as herald status finds it (with or without an id of
its own; the newest publish of the URL).
--channel limits it to one channel. It deletes through the channels built from the config (with
--channel, that one only: the others' credentials are not needed), or with --server through a
running herald (token from HERALD_API_TOKEN).

Exit status: 0 done, 1 a delete failed or a delivery was busy (run it again), 2 bad input,
3 no such article or channel.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := retractID(args[0])
			if err != nil {
				return &exitError{code: 2, err: err}
			}
			if by == "" {
				by = "cli:" + currentUser()
			}
			if rf.server != "" {
				if id, err = remoteArticleID(cmd, rf, id); err != nil {
					return err
				}
				q := url.Values{"by": {by}}
				if channel != "" {
					q.Set("channel", channel)
				}
				return remoteRetract(cmd, rf, "/v1/articles/"+url.PathEscape(id)+"/retract?"+q.Encode())
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
				if id, err = b.ArticleID(ctx, id); errors.Is(err, queue.ErrNotFound) {
					return &exitError{code: 3, err: err}
				} else if errors.Is(err, queue.ErrInvalidURL) {
					return &exitError{code: 2, err: err}
				} else if err != nil {
					return err
				}
				// An unknown article is exit 3 before any channel is built: a typo of the id
				// ended as a channel's missing credential (exit 1) on a machine without them.
				if _, err := b.Status(ctx, id); errors.Is(err, queue.ErrNotFound) {
					return &exitError{code: 3, err: b.NoRecord(id)}
				}
				routes, err := buildRoutesFor(cfg, channel, log)
				if err != nil {
					return err
				}
				res, err := b.Retract(ctx, id, channels.Name(channel), by, builtChannels(routes))
				auditCLIResult(ctx, b, "retract", auditArgs(id, channel, by), res.Summary(), err)
				if errors.Is(err, queue.ErrNotFound) {
					return &exitError{code: 3, err: err}
				}
				if err != nil {
					return err // Redis failed: 1, as the API's 503 through --server
				}
				if perr := printJSON(cmd.OutOrStdout(), res); perr != nil {
					return perr
				}
				if res.Failed() {
					return &exitError{code: 1, err: errors.New("retract: a delete failed or a delivery was busy; run it again")}
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

// auditArgs are a retract's or a correction's audit arguments, as the API writes them.
func auditArgs(id, channel, by string) string {
	return strings.TrimSpace(id+" "+channel) + " by " + by
}

// retractID checks an argument naming an article: an id, or a URL (looked up later, in Redis or
// through --server).
func retractID(arg string) (string, error) {
	arg = strings.TrimSpace(arg)
	if arg == "" {
		return "", errors.New("retract: an article id or URL is needed")
	}
	if isURLRef(arg) {
		if _, err := article.CanonicalURL(arg); err != nil {
			return "", fmt.Errorf("retract: %q: %w", arg, err)
		}
	}
	return arg, nil
}

// remoteRetract calls the API; a 502 (a delete failed) prints the per-channel answer and exits 1.
func remoteRetract(cmd *cobra.Command, rf remoteFlags, path string) error {
	return remoteAdminPost(cmd, rf, path, nil, "retract: a delete failed or a delivery was busy; run it again")
}

// remoteAdminPost posts body (nil: none; else JSON) to path; a 502 with a JSON body prints it
// and exits 1 with failed502.
func remoteAdminPost(cmd *cobra.Command, rf remoteFlags, path string, body []byte, failed502 string) error {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(cmd.Context(), http.MethodPost, strings.TrimRight(rf.server, "/")+path, rd)
	if err != nil {
		return fmt.Errorf("--server: %w", err)
	}
	req.Header.Set("Authorization", "Bearer "+rf.token)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	var buf bytes.Buffer
	resp, err := (&http.Client{Timeout: 60 * time.Second}).Do(req)
	if err != nil {
		return fmt.Errorf("calling %s: %w", req.URL.Redacted(), err)
	}
	defer resp.Body.Close()
	if _, err := io.Copy(&buf, io.LimitReader(resp.Body, 1<<20)); err != nil {
		return fmt.Errorf("reading the answer of %s: %w", req.URL.Path, err)
	}
	switch {
	case resp.StatusCode == http.StatusBadGateway && json.Valid(buf.Bytes()):
		_ = writeAnswer(cmd.OutOrStdout(), buf.Bytes())
		return &exitError{code: 1, err: errors.New(failed502)}
	case resp.StatusCode >= 300:
		ee := answerError(req, resp, buf.Bytes())
		if resp.StatusCode == http.StatusNotFound {
			ee.code = 3
		}
		return ee
	}
	return writeAnswer(cmd.OutOrStdout(), buf.Bytes())
}

// builtChannels are the routes' channels, which Broker.Retract deletes through.
func builtChannels(routes map[channels.Name]queue.Route) map[channels.Name]channels.Channel {
	out := make(map[channels.Name]channels.Channel, len(routes))
	for n, r := range routes {
		out[n] = r.Channel
	}
	return out
}
