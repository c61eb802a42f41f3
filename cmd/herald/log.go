package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/signal"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"herald/config"
	"herald/queue"
	"herald/web"
)

func newLogCmd(g *globalFlags) *cobra.Command {
	var (
		q      queue.LogQuery
		since  string
		follow bool
		asJSON bool
		limit  int
		rf     remoteFlags
	)
	cmd := &cobra.Command{
		Use:   "log",
		Short: "Show the delivery log (every state change), oldest first; --follow waits for new changes",
		Long: `log prints the delivery log: one line per state change of a delivery (pending, sent, failed,
unknown, retracted, edited), oldest first, like tail. Without --since it shows the last 20 changes (--limit);
with --since all changes since then. --follow then keeps printing new changes as they
happen (a blocking read on Redis, no polling) until interrupted. Lines are coloured on a
terminal and plain when piped; --json prints one JSON object per line with the fields time,
article_id, channel, kind, status, attempt, remote_id, post_url, error, title, and by when an
admin decided the change (a retry, drop, retract…). With --server it
reads a running herald's GET /v1/deliveries instead of Redis, and --follow asks it every second.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var err error
			if q.Since, err = web.ParseSince(since, time.Now()); err != nil {
				return &exitError{code: 2, err: fmt.Errorf("--since: %w", err)}
			}
			if q.Status != "" && !slices.Contains([]string{"pending", "sent", "failed", "unknown", "retracted", "edited"}, q.Status) {
				return &exitError{code: 2, err: fmt.Errorf("--status %q: want pending, sent, failed, unknown, retracted or edited", q.Status)}
			}
			// Caught, not left to the default action: herald may be PID 1 in a container, which
			// ignores a signal it has no handler for.
			ctx, stop := signal.NotifyContext(cmd.Context(), syscall.SIGINT, syscall.SIGTERM)
			defer stop()
			if follow {
				// Ctrl-C is how --follow ends: quietly, exit 0, even in the middle of a read or of a
				// --server request (which took cmd's context and ran on until its 30s timeout, a
				// hung server's Ctrl-C then ending in "context deadline exceeded", exit 1).
				cmd.SetContext(ctx)
			}
			err = logCmd(ctx, cmd, g, rf, q, since != "", limit, follow, asJSON)
			if follow && ctx.Err() != nil {
				return nil
			}
			return err
		},
	}
	f := cmd.Flags()
	f.BoolVarP(&follow, "follow", "f", false, "keep printing new changes as they happen")
	f.StringVar(&q.Channel, "channel", "", "only this channel")
	f.StringVar(&q.Status, "status", "", "only this status (pending, sent, failed, unknown, retracted, edited)")
	f.StringVar(&q.ArticleID, "article", "", "only this article")
	f.StringVar(&since, "since", "", "changes since a duration ago (90m, 1h, 2d) or an RFC 3339 time")
	f.IntVar(&limit, "limit", 0, "show at most this many past changes (default 20 without --since, all with)")
	f.BoolVar(&asJSON, "json", false, "one JSON object per line")
	rf.add(cmd)
	return cmd
}

// logCmd prints the delivery log q asks for, and with follow the changes that come after it.
func logCmd(ctx context.Context, cmd *cobra.Command, g *globalFlags, rf remoteFlags, q queue.LogQuery, hasSince bool, limit int, follow, asJSON bool) error {
	p := &logPrinter{w: cmd.OutOrStdout(), json: asJSON, color: isTerminal(cmd.OutOrStdout())}
	if rf.server != "" {
		return remoteLog(ctx, cmd, rf, q, hasSince, limit, follow, p)
	}
	cfg, err := loadConfig(g)
	if err != nil {
		return err
	}
	rdb, err := openRedis(ctx, cfg.Redis.URL)
	if err != nil {
		return err
	}
	defer rdb.Close()
	b, _ := brokerFor(cfg, rdb)
	if err := knownLogChannel(ctx, cfg, b, q.Channel); err != nil {
		return err
	}
	last, err := b.LastLogID(ctx, q)
	if err != nil {
		return err
	}
	if err := printHistory(ctx, b, q, last, limit, hasSince, p); err != nil {
		return err
	}
	if !follow {
		return nil
	}
	return b.FollowLog(ctx, q, last, p.print)
}

// knownLogChannel refuses a --channel that is not configured and has no change in the log: a
// misspelt name (tg-mian) printed nothing, and with --follow waited for ever while the real
// channel's deliveries went by. A channel removed from the config still shows its history.
func knownLogChannel(ctx context.Context, cfg *config.Config, b *queue.Broker, name string) error {
	if name == "" {
		return nil
	}
	if _, ok := cfg.Channel(name); ok {
		return nil
	}
	last, err := b.LastLogID(ctx, queue.LogQuery{Channel: name})
	if err != nil || last != "0" {
		return err
	}
	return &exitError{code: 2, err: fmt.Errorf("--channel: %s, and the delivery log has no change for it", cfg.UnknownChannel(name))}
}

// printHistory prints the changes up to and including id last, oldest first.
func printHistory(ctx context.Context, b *queue.Broker, q queue.LogQuery, last string, limit int, hasSince bool, p *logPrinter) error {
	if last == "0" {
		return nil
	}
	if limit <= 0 && !hasSince {
		limit = 20
	}
	// The page ends just after last, so following from last neither repeats nor misses a change.
	ms, seq, _ := strings.Cut(last, "-")
	n, _ := strconv.ParseUint(seq, 10, 64)
	q.Cursor = ms + "-" + strconv.FormatUint(n+1, 10)
	var entries []queue.LogEntry
	for {
		q.Limit = 1000
		if limit > 0 {
			q.Limit = min(1000, limit-len(entries))
		}
		page, err := b.QueryLog(ctx, q)
		if err != nil {
			return err
		}
		entries = append(entries, page.Entries...)
		if page.NextCursor == "" || (limit > 0 && len(entries) >= limit) {
			break
		}
		q.Cursor = page.NextCursor
	}
	for i := len(entries) - 1; i >= 0; i-- {
		if err := p.print(entries[i]); err != nil {
			return err
		}
	}
	return nil
}

// isTerminal reports whether w is a terminal (colours) rather than a pipe or a file. NO_COLOR
// turns colours off everywhere.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok || os.Getenv("NO_COLOR") != "" {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// logLine is the --json shape; every field is always present but by, which only a change an
// admin decided (retry, repost, mark sent, drop, retract, correct) has.
type logLine struct {
	Time      time.Time `json:"time"`
	ArticleID string    `json:"article_id"`
	Channel   string    `json:"channel"`
	Kind      string    `json:"kind"`
	Status    string    `json:"status"`
	Attempt   int       `json:"attempt"`
	RemoteID  string    `json:"remote_id"`
	PostURL   string    `json:"post_url"`
	Error     string    `json:"error"`
	Title     string    `json:"title"`
	By        string    `json:"by,omitempty"`
}

type logPrinter struct {
	w     io.Writer
	json  bool
	color bool
}

var statusColor = map[string]string{"sent": "\x1b[32m", "failed": "\x1b[31m", "unknown": "\x1b[33m", "pending": "\x1b[36m"}

func (p *logPrinter) print(e queue.LogEntry) error {
	if p.json {
		return writeJSONLine(p.w, logLine{Time: e.Time, ArticleID: e.ArticleID, Channel: e.Channel, Kind: e.Kind, Status: e.Status,
			Attempt: e.Attempt, RemoteID: e.RemoteID, PostURL: e.PostURL, Error: e.Error, Title: e.Title, By: e.By})
	}
	status := fmt.Sprintf("%-7s", e.Status)
	if c, ok := statusColor[e.Status]; ok && p.color {
		status = c + status + "\x1b[0m"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s  %s  %-12s %-24s attempt %d", e.Time.Format("2006-01-02T15:04:05.000Z"), status, e.Channel, e.ArticleID, e.Attempt)
	if e.PostURL != "" {
		b.WriteString("  " + shown(e.PostURL))
	} else if e.RemoteID != "" {
		b.WriteString("  id " + shown(e.RemoteID))
	}
	if e.Title != "" {
		fmt.Fprintf(&b, "  %q", e.Title)
	}
	if e.By != "" {
		b.WriteString("  by " + shown(e.By))
	}
	if e.Error != "" {
		b.WriteString("  error: " + shown(e.Error))
	}
	b.WriteString("\n")
	_, err := io.WriteString(p.w, b.String())
	return err
}

func writeJSONLine(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}
