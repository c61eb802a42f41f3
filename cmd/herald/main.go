// Command herald distributes a newsroom's articles to social channels. Subcommands live one per
// file in this folder; see `herald --help`.
package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/redis/go-redis/v9"
	"github.com/spf13/cobra"
	"go.uber.org/zap"

	_ "herald/channels/bluesky"  // registers the bluesky kind
	_ "herald/channels/discord"  // registers the discord kind
	_ "herald/channels/facebook" // registers the facebook kind
	_ "herald/channels/linkedin" // registers the linkedin kind
	_ "herald/channels/mastodon" // registers the mastodon kind
	_ "herald/channels/telegram" // registers the telegram kind
	_ "herald/channels/threads"  // registers the threads kind
	_ "herald/channels/webhook"  // registers the webhook kind
	_ "herald/channels/websub"   // registers the websub kind
	_ "herald/channels/whatsapp" // registers the whatsapp kind
	_ "herald/channels/x"        // registers the x kind
)

// exitError carries an exit code through cobra without printing twice.
type exitError struct {
	code int
	err  error
	// reported: the command has printed the error itself (herald format, herald count).
	reported bool
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

// reported is an error the command has already printed, with its exit status.
func reported(code int, err error) error { return &exitError{code: code, err: err, reported: true} }

func main() {
	os.Exit(reportError(os.Stderr, newRootCmd().Execute()))
}

// reportError prints a command's error as "herald: …" (unless the command did) and returns the
// exit status: the exitError's, 2 for a usage mistake cobra found (README: 2 invalid input or
// usage), else 1.
func reportError(w io.Writer, err error) int {
	if err == nil {
		return 0
	}
	code := 1
	var ee *exitError
	switch {
	case errors.As(err, &ee):
		code = ee.code
		if ee.reported {
			return code
		}
	case isUsageError(err):
		code = 2
	}
	fmt.Fprintln(w, "herald:", err)
	return code
}

// isUsageError tells cobra's own usage errors (an unknown command, flag groups) by their text:
// cobra does not type them. Flags and arguments are typed by usageErrors below.
func isUsageError(err error) bool {
	for _, p := range []string{"unknown command ", "required flag(s) ", "if any flags in the group ", "at least one of the flags in the group "} {
		if strings.HasPrefix(err.Error(), p) {
			return true
		}
	}
	return false
}

// usageErrors makes a wrong flag or a wrong number of arguments exit 2 and say how the command
// is used.
func usageErrors(root *cobra.Command) {
	usage := func(c *cobra.Command, err error) error {
		return &exitError{code: 2, err: fmt.Errorf("%w\nusage: %s (herald %s --help says more)", err, c.UseLine(), c.Name())}
	}
	root.SetFlagErrorFunc(usage)
	for _, c := range root.Commands() {
		if check := c.Args; check != nil {
			c.Args = func(cmd *cobra.Command, args []string) error {
				if err := check(cmd, args); err != nil {
					return usage(cmd, err)
				}
				return nil
			}
		}
	}
}

type globalFlags struct {
	configPath string
	logLevel   string
}

func newRootCmd() *cobra.Command {
	g := &globalFlags{}
	root := &cobra.Command{
		Use:   "herald",
		Short: "Distribute a newsroom's articles to Telegram, WhatsApp, X and more, exactly once",
		Long: `herald takes articles (HTTP API, CLI, signed CMS webhooks, RSS/Atom feeds) into a Redis
queue, formats them for each channel and posts them exactly once per channel, keeping a
delivery record for every post.

Start with "herald demo": an embedded sandbox (in-memory Redis, a fake of every platform on
loopback) that needs no setup. Production: "herald serve --config herald.yaml" with REDIS_URL set.`,
		SilenceUsage:  true,
		SilenceErrors: true,
		PersistentPreRun: func(*cobra.Command, []string) {
			// One-shot commands return their Redis errors; serve and demo route go-redis's own
			// logging into zap when they build their logger.
			redis.SetLogger(redisLogger{zap.NewNop().Sugar()})
		},
	}
	root.PersistentFlags().StringVarP(&g.configPath, "config", "c", os.Getenv("HERALD_CONFIG"), "config file (YAML; env HERALD_CONFIG)")
	root.PersistentFlags().StringVar(&g.logLevel, "log-level", "", "override log.level (debug, info, warn, error)")
	root.AddCommand(newServeCmd(g), newPublishCmd(g), newStatusCmd(g), newDemoCmd(g),
		newFormatCmd(), newCountCmd(), newRouteCmd(g), newFeedsCmd(g),
		newChannelsCmd(g), newPauseCmd(g), newResumeCmd(g),
		newLogCmd(g), newStatsCmd(g), newDoctorCmd(g),
		newRequeueCmd(g, "retry", "Send a failed or unknown delivery again (same revision)"),
		newRequeueCmd(g, "repost", "Post an article to a channel again, even if it was sent (new revision)"),
		newAuditCmd(g),
		newDecideCmd(g, "mark-sent", "Record that a failed or unknown delivery's post exists (nothing is posted)"),
		newDecideCmd(g, "drop", "Give a pending, failed or unknown delivery up (final failed, \"dropped by …\")"),
		newRetractCmd(g),
		newCorrectCmd(g))
	usageErrors(root)
	return root
}
