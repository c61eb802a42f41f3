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
	"slices"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"herald/channels"
	"herald/config"
	"herald/queue"
)

// withBroker loads the config, connects to Redis and runs f with a broker.
func withBroker(cmd *cobra.Command, g *globalFlags, f func(ctx context.Context, cfg *config.Config, b *queue.Broker) error) error {
	return withCheckedBroker(cmd, g, nil, f)
}

// withCheckedBroker is withBroker for a command that needs something of the config (its
// channels, its feeds): check refuses it before Redis is asked, so the error names what is
// missing rather than "redis.url is not set" (without a config, it usually is not either).
func withCheckedBroker(cmd *cobra.Command, g *globalFlags, check func(*config.Config) error, f func(ctx context.Context, cfg *config.Config, b *queue.Broker) error) error {
	cfg, err := loadConfig(g)
	if err != nil {
		return err
	}
	if check != nil {
		if err := check(cfg); err != nil {
			return err
		}
	}
	ctx, cancel := context.WithTimeout(cmd.Context(), 30*time.Second)
	defer cancel()
	rdb, err := openRedis(ctx, cfg.Redis.URL)
	if err != nil {
		return err
	}
	defer rdb.Close()
	b, _ := brokerFor(cfg, rdb)
	return f(ctx, cfg, b)
}

func remoteRequest(cmd *cobra.Command, rf remoteFlags, method, path string) error {
	return remoteCall(cmd, rf, method, path, nil)
}

// remoteCall sends an API request to --server with the bearer token and prints the answer.
func remoteCall(cmd *cobra.Command, rf remoteFlags, method, path string, body []byte) error {
	req, err := http.NewRequestWithContext(cmd.Context(), method, strings.TrimRight(rf.server, "/")+path, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("--server: %w", err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Authorization", "Bearer "+rf.token)
	return doRemote(cmd, req)
}

// remoteGet reads the answer of GET path on --server into v, so a command prints what the API
// answers as it prints what it reads from Redis: a table, or JSON with --json.
func remoteGet(cmd *cobra.Command, rf remoteFlags, path string, v any) error {
	return remoteInto(cmd, rf, http.MethodGet, path, v)
}

// remoteInto sends a request without a body to --server and reads its answer into v.
func remoteInto(cmd *cobra.Command, rf remoteFlags, method, path string, v any) error {
	req, err := http.NewRequestWithContext(cmd.Context(), method, strings.TrimRight(rf.server, "/")+path, nil)
	if err != nil {
		return fmt.Errorf("--server: %w", err)
	}
	req.Header.Set("Authorization", "Bearer "+rf.token)
	body, err := remoteBody(req)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(body, v); err != nil {
		return fmt.Errorf("reading the answer of %s %s: %w", method, path, err)
	}
	return nil
}

// remotePost sends a POST without a body to --server; the command prints its own line.
func remotePost(cmd *cobra.Command, rf remoteFlags, path string) error {
	req, err := http.NewRequestWithContext(cmd.Context(), http.MethodPost, strings.TrimRight(rf.server, "/")+path, nil)
	if err != nil {
		return fmt.Errorf("--server: %w", err)
	}
	req.Header.Set("Authorization", "Bearer "+rf.token)
	_, err = remoteBody(req)
	return err
}

func configuredChannel(cfg *config.Config, name string) error {
	if _, ok := cfg.Channel(name); !ok {
		return &exitError{code: 2, err: errors.New(cfg.UnknownChannel(name))}
	}
	return nil
}

// pausedChannel reports whether a channel has a pause record (configured or not).
func pausedChannel(ctx context.Context, b *queue.Broker, name string) bool {
	ps, err := b.Paused(ctx)
	return err == nil && slices.ContainsFunc(ps, func(p queue.PauseInfo) bool { return string(p.Channel) == name })
}

func newPauseCmd(g *globalFlags) *cobra.Command {
	var rf remoteFlags
	var reason, by string
	cmd := &cobra.Command{
		Use:   "pause CHANNEL",
		Short: "Stop deliveries to a channel in every herald process (queued ones wait)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if by == "" {
				by = "cli"
				if u := currentUser(); u != "" {
					by = u
				}
			}
			if rf.server != "" {
				q := url.Values{"reason": {reason}, "by": {by}}
				var res struct {
					Already *queue.PauseInfo `json:"already"`
				}
				if err := remoteInto(cmd, rf, http.MethodPost, "/v1/channels/"+url.PathEscape(args[0])+"/pause?"+q.Encode(), &res); err != nil {
					return err
				}
				printPaused(cmd.OutOrStdout(), args[0], res.Already) // as without --server
				return nil
			}
			return withBroker(cmd, g, func(ctx context.Context, cfg *config.Config, b *queue.Broker) error {
				if err := configuredChannel(cfg, args[0]); err != nil {
					return err
				}
				var already *queue.PauseInfo
				if ps, err := b.Paused(ctx); err == nil {
					if i := slices.IndexFunc(ps, func(p queue.PauseInfo) bool { return string(p.Channel) == args[0] }); i >= 0 {
						already = &ps[i]
					}
				}
				// Who paused it, shown by herald channels and the alert digest as the bot's and the
				// dashboard's pauses are.
				err := b.PauseBy(ctx, channels.Name(args[0]), reason, by+" via CLI")
				auditCLI(ctx, b, "pause", strings.TrimSpace(args[0]+" "+reason), err)
				if err != nil {
					return err
				}
				printPaused(cmd.OutOrStdout(), args[0], already)
				return nil
			})
		},
	}
	rf.add(cmd)
	cmd.Flags().StringVar(&reason, "reason", "", "why, shown in herald channels")
	cmd.Flags().StringVar(&by, "by", "", "who pauses, shown in herald channels (default: your user name)")
	return cmd
}

// printPaused says a pause is done, or, for a channel already paused, that the first pause
// (who, since, why) is kept and this one's reason was not recorded, as the bot's /pause does.
func printPaused(w io.Writer, channel string, already *queue.PauseInfo) {
	if already == nil {
		fmt.Fprintf(w, "paused %s\n", channel)
		return
	}
	by := already.By
	if by == "" {
		by = "?"
	}
	why := ""
	if already.Reason != "" {
		why = ": " + shown(already.Reason)
	}
	fmt.Fprintf(w, "%s was already paused by %s since %s%s; that pause is kept\n", channel, shown(by), already.Since.Format(time.RFC3339), why)
}

func newResumeCmd(g *globalFlags) *cobra.Command {
	var rf remoteFlags
	cmd := &cobra.Command{
		Use:   "resume CHANNEL",
		Short: "Let a paused channel deliver again",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if rf.server != "" {
				if err := remotePost(cmd, rf, "/v1/channels/"+url.PathEscape(args[0])+"/resume"); err != nil {
					return err
				}
				fmt.Fprintf(cmd.OutOrStdout(), "resumed %s\n", args[0])
				return nil
			}
			return withBroker(cmd, g, func(ctx context.Context, cfg *config.Config, b *queue.Broker) error {
				// A channel removed from the config while paused keeps its pause record (herald
				// doctor names it); resume is the one way to clear it.
				if err := configuredChannel(cfg, args[0]); err != nil && !pausedChannel(ctx, b, args[0]) {
					return err
				}
				err := b.Resume(ctx, channels.Name(args[0]))
				auditCLI(ctx, b, "resume", args[0], err)
				if err != nil {
					return err
				}
				fmt.Fprintf(cmd.OutOrStdout(), "resumed %s\n", args[0])
				return nil
			})
		},
	}
	rf.add(cmd)
	return cmd
}

func newChannelsCmd(g *globalFlags) *cobra.Command {
	var rf remoteFlags
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "channels",
		Short: "List configured channels with their queue, pause and rate-limit state",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var infos []queue.ChannelInfo
			var unconfigured []queue.ChannelStats
			if rf.server != "" {
				var res struct {
					Channels     []queue.ChannelInfo  `json:"channels"`
					Unconfigured []queue.ChannelStats `json:"unconfigured"`
				}
				if err := remoteGet(cmd, rf, "/v1/channels", &res); err != nil {
					return err
				}
				infos, unconfigured = res.Channels, res.Unconfigured
			} else if err := withCheckedBroker(cmd, g, needChannels, func(ctx context.Context, cfg *config.Config, b *queue.Broker) error {
				var err error
				if infos, err = queue.ChannelInfos(ctx, b, cfgChannels(cfg)); err != nil {
					return err
				}
				unconfigured, err = b.Unconfigured(ctx, cfgChannels(cfg))
				return err
			}); err != nil {
				return err
			}
			if asJSON {
				if unconfigured == nil {
					unconfigured = []queue.ChannelStats{}
				}
				return printJSON(cmd.OutOrStdout(), map[string]any{"channels": infos, "unconfigured": unconfigured})
			}
			if err := printChannels(cmd.OutOrStdout(), infos); err != nil {
				return err
			}
			for _, u := range unconfigured {
				detail, advice := unconfiguredText(u)
				fmt.Fprintf(cmd.OutOrStdout(), "\n%s: %s.\n  → %s\n", u.Channel, detail, advice)
			}
			return nil
		},
	}
	rf.add(cmd)
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON (same as GET /v1/channels)")
	return cmd
}

// printChannels prints channel states as the table of herald channels.
func printChannels(w io.Writer, infos []queue.ChannelInfo) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "CHANNEL\tKIND\tRATE\tPENDING\tURGENT\tSCHEDULED\tRETRY\tACTIVE\tSENDING\tUNKNOWN\tPAUSED\tNOT BEFORE\tSPEND\tSENDER")
	for _, c := range infos {
		nb := ""
		if !c.NotBefore.IsZero() {
			nb = c.NotBefore.Format(time.RFC3339)
		}
		paused := "no"
		if c.Paused {
			paused = "yes " + shown(c.PauseReason)
			if c.PausedBy != "" {
				paused += " (by " + shown(c.PausedBy) + ")"
			}
		}
		sending := strconv.Itoa(c.Sending)
		if c.Sending > 0 {
			// After a crash these wait for the lease; say until when.
			sending += " (lease ends " + c.SendingLeaseUntil.Format(time.RFC3339) + ")"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%d\t%d\t%d\t%d\t%s\t%d\t%s\t%s\t%s\t%s\n", c.Channel, c.Kind, c.Rate, c.Pending, c.Urgent, c.Scheduled, c.Retry, c.Active, sending, c.Unknown, paused, nb, spendText(c.Spend), senderText(c.Sender))
	}
	return tw.Flush()
}

// senderText is the SENDER column: which process sends for a channel sent by one at a time.
func senderText(s *queue.SenderLease) string {
	switch {
	case s == nil:
		return "every process"
	case s.Owner == "":
		return "none (no process holds the lease)"
	}
	return s.Owner
}

// unconfiguredText says what waits in the queues of a channel that is not configured (detail)
// and what to do about it (advice), for herald channels and herald doctor.
func unconfiguredText(u queue.ChannelStats) (detail, advice string) {
	detail = fmt.Sprintf("not in the config, yet %d deliveries wait in its queue (%d pending, %d scheduled, %d retry, %d active) and no worker serves it",
		u.Waiting(), u.Pending, u.Scheduled, u.Retry, u.Active)
	advice = fmt.Sprintf("add %[1]s to the config again (or restore its old name if it was renamed) and they are sent; to hold them, run herald pause %[1]s with the new config before herald serve starts with it; herald drop ARTICLE_ID %[1]s gives one up", u.Channel)
	return detail, advice
}

// errNoChannels is what herald channels and herald stats answer without a channel configured
// (most often: no --config, HERALD_CONFIG unset in this shell). An empty table, or every
// channel with deliveries shown as "not in the config", would send the operator looking for a
// channel removed from a config they never passed.
var errNoChannels = &exitError{code: 2, err: errors.New("no channels are configured: pass --config FILE (or set HERALD_CONFIG), or ask a running herald with --server URL")}

// needChannels is withCheckedBroker's check for herald channels and herald stats.
func needChannels(cfg *config.Config) error {
	if len(cfg.Channels) == 0 {
		return errNoChannels
	}
	return nil
}

func cfgChannels(cfg *config.Config) []queue.ChannelConfig {
	out := make([]queue.ChannelConfig, 0, len(cfg.Channels))
	for _, c := range cfg.Channels {
		out = append(out, queue.ChannelConfig{Name: c.Spec.Name, Kind: c.Spec.Kind, Limit: c.Limit,
			Leased: queue.Leased(c.Limit, c.InFlight, cfg.Worker.Concurrency)})
	}
	return out
}

// newRequeueCmd builds `retry` and `repost`: admin actions on one delivery. `retry` also takes
// --channel NAME --all-unknown: every unknown delivery of the channel at once.
func newRequeueCmd(g *globalFlags, mode, short string) *cobra.Command {
	var rf remoteFlags
	var channel, by string
	var allUnknown bool
	cmd := &cobra.Command{
		Use:   mode + " ARTICLE_ID CHANNEL",
		Short: short,
		Args: func(cmd *cobra.Command, args []string) error {
			if allUnknown {
				if len(args) != 0 || channel == "" {
					return errors.New("--all-unknown takes --channel NAME and no arguments")
				}
				return nil
			}
			if channel != "" {
				return errors.New("--channel goes with --all-unknown")
			}
			return cobra.ExactArgs(2)(cmd, args)
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			by = cliBy(by)
			if allUnknown {
				return retryUnknown(cmd, g, rf, channel, by)
			}
			if rf.server != "" {
				return notFoundExit3(remoteRequest(cmd, rf, http.MethodPost, "/v1/articles/"+url.PathEscape(args[0])+"/deliveries/"+url.PathEscape(args[1])+"/"+mode+"?"+url.Values{"by": {by}}.Encode()))
			}
			return withBroker(cmd, g, func(ctx context.Context, cfg *config.Config, b *queue.Broker) error {
				if err := requeueable(ctx, cfg, b, args[0], args[1]); err != nil {
					auditCLI(ctx, b, mode, args[0]+" "+args[1], err)
					return err
				}
				d, err := b.Requeue(ctx, args[0], channels.Name(args[1]), mode, by)
				auditCLI(ctx, b, mode, args[0]+" "+args[1], err)
				if errors.Is(err, queue.ErrNotFound) {
					return &exitError{code: 3, err: err}
				}
				if errors.Is(err, queue.ErrConflict) {
					return &exitError{code: 2, err: err}
				}
				if err != nil {
					return err // Redis failed: 1, as the API's 503 through --server
				}
				return printJSON(cmd.OutOrStdout(), d)
			})
		},
	}
	rf.add(cmd)
	cmd.Flags().StringVar(&by, "by", "", "who asks, kept in the delivery log (default: your user name)")
	if mode == "retry" {
		cmd.Use = "retry ARTICLE_ID CHANNEL | retry --channel NAME --all-unknown"
		cmd.Flags().StringVar(&channel, "channel", "", "with --all-unknown: the channel whose unknown deliveries to retry")
		cmd.Flags().BoolVar(&allUnknown, "all-unknown", false, "retry every unknown delivery of --channel (after checking the channel by hand)")
	}
	return cmd
}

// requeueable refuses a retry or repost to a channel the config does not have (removed or
// renamed): its task would wait in a queue no worker serves, the delivery pending for ever.
// Without channels in the config (only redis.url) it cannot tell, and lets it through.
func requeueable(ctx context.Context, cfg *config.Config, b *queue.Broker, id, ch string) error {
	if len(cfg.Channels) == 0 {
		return nil
	}
	if _, ok := cfg.Channel(ch); ok {
		return nil
	}
	if _, err := b.Delivery(ctx, id, channels.Name(ch)); errors.Is(err, queue.ErrNotFound) {
		return &exitError{code: 3, err: err}
	} else if err != nil {
		return err
	}
	return &exitError{code: 2, err: fmt.Errorf("channel %s is not in the config: no worker would send the delivery (add the channel back, or give the delivery up with herald drop %s %s)", ch, id, ch)}
}

// retryUnknown is `herald retry --channel NAME --all-unknown` (POST /v1/channels/{name}/retry-unknown).
func retryUnknown(cmd *cobra.Command, g *globalFlags, rf remoteFlags, channel, by string) error {
	if rf.server != "" {
		// An unknown channel is input to fix (2), as without --server and as pause says it.
		return remoteRequest(cmd, rf, http.MethodPost, "/v1/channels/"+url.PathEscape(channel)+"/retry-unknown?"+url.Values{"by": {by}}.Encode())
	}
	return withBroker(cmd, g, func(ctx context.Context, cfg *config.Config, b *queue.Broker) error {
		if err := configuredChannel(cfg, channel); err != nil {
			return err
		}
		n, err := b.RetryUnknown(ctx, channels.Name(channel), by)
		auditCLI(ctx, b, "retry-unknown", fmt.Sprintf("%s (requeued %d)", channel, n), err)
		if err != nil {
			// Redis failed (part way, maybe): 1, run it again, as the API's 503 through --server.
			return fmt.Errorf("could not retry every unknown delivery of %s: %d requeued before Redis failed, the rest may still be unknown; run it again to send them: %w", channel, n, err)
		}
		return printJSON(cmd.OutOrStdout(), map[string]any{"channel": channel, "requeued": n})
	})
}

// spendText is a billing channel's month: "$0.40 of $50.00 (2026-11: 2 post_with_url, 1 post)".
func spendText(s *queue.Spend) string {
	if s == nil {
		return ""
	}
	out := fmt.Sprintf("$%.2f", s.USD)
	if s.Budget > 0 {
		out += fmt.Sprintf(" of $%.2f", s.Budget)
	}
	kinds := make([]string, 0, len(s.Posts))
	for k := range s.Posts {
		kinds = append(kinds, k)
	}
	sort.Strings(kinds)
	for i, k := range kinds {
		kinds[i] = fmt.Sprintf("%d %s", s.Posts[k], k)
	}
	return out + " (" + s.Month + ": " + strings.Join(kinds, ", ") + ")"
}
