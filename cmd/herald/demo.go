package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"time"

	"github.com/spf13/cobra"
	"go.uber.org/zap"

	"herald/channels"
	"herald/queue"
	"herald/sandbox"
)

// demoSummary is the `herald demo --json` contract.
type demoSummary struct {
	Articles   int `json:"articles"`
	Deliveries int `json:"deliveries"`
	Sent       int `json:"sent"`
	Failed     int `json:"failed"`
	Unknown    int `json:"unknown"`
	Duplicates int `json:"duplicates"`
}

func newDemoCmd(g *globalFlags) *cobra.Command {
	var asJSON bool
	var addr string
	var wait time.Duration
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Run the whole pipeline on the embedded sandbox (in-memory Redis, fake platforms)",
		Long: `demo starts herald on its embedded default: an in-process Redis and fake platforms
(Telegram, WhatsApp, X, Facebook, Discord, Bluesky, Threads, LinkedIn, Mastodon, a webhook receiver, a WebSub hub) on loopback. It publishes
the Arabic sample articles the project carries (each twice, to show that a second publish posts
nothing), prints each post as each platform received it and its delivery record, then keeps
serving the API so you can publish more. Nothing is kept across
restarts. It has its own channels and fakes: --config is refused (herald doctor checks your
config, herald serve runs it).

With --json it is one-shot: it waits until every delivery is final and prints
{"articles":N,"deliveries":N,"sent":N,"failed":N,"unknown":N,"duplicates":N}; the exit
status is 0 only when every delivery was sent and nothing was posted twice.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runDemo(cmd, g, asJSON, addr, wait)
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "one-shot: print a JSON summary and exit")
	cmd.Flags().StringVar(&addr, "addr", "127.0.0.1:8080", "API listen address (a free port is used if this one is taken)")
	cmd.Flags().DurationVar(&wait, "wait", 60*time.Second, "longest wait for the deliveries to become final")
	return cmd
}

func runDemo(cmd *cobra.Command, g *globalFlags, asJSON bool, addr string, wait time.Duration) error {
	// The sandbox has its own config. A --config given here was ignored without a word, and a
	// demo that posted everything read as if the operator's own channels had worked. (A
	// HERALD_CONFIG left in the environment stays fine.)
	if f := cmd.Flag("config"); f != nil && f.Changed {
		return &exitError{code: 2, err: errors.New("demo runs the embedded sandbox with its own channels and fakes: --config is not used (herald doctor --config FILE checks your config, herald serve --config FILE runs it)")}
	}
	out := cmd.OutOrStdout()
	level := "info"
	if asJSON {
		level = "warn" // stdout carries only the JSON object; logs go to stderr
	}
	if g.logLevel != "" {
		if err := checkLogLevel(g.logLevel); err != nil {
			return err
		}
		level = g.logLevel
	}
	log, err := newLogger(level, "console")
	if err != nil {
		return err
	}
	defer func() { _ = log.Sync() }()

	ln, err := net.Listen("tcp", addr)
	if err != nil {
		if ln, err = net.Listen("tcp", "127.0.0.1:0"); err != nil {
			return fmt.Errorf("listening for the API: %w", err)
		}
	}
	sb, err := sandbox.Start(ln.Addr().String())
	if err != nil {
		ln.Close()
		return err
	}
	defer sb.Close()
	cfg := sb.Config
	cfg.Log.Level = level
	broker, pub := brokerFor(cfg, sb.RDB)
	routes, err := buildRoutes(cfg, log, sb.HTTPClient())
	if err != nil {
		ln.Close()
		return err
	}

	ctx, stop := stopOnSignal(cmd.Context(), log, "the sandbox keeps nothing: its in-memory Redis and the deliveries in it end with the process", os.Exit)
	defer stop()
	runCtx, stopRun := context.WithCancel(ctx)
	defer stopRun()
	runDone := make(chan error, 1)
	go func() { runDone <- run(runCtx, log, cfg, broker, pub, routes, ln) }()

	if !asJSON {
		fmt.Fprintln(out, "herald demo: embedded sandbox — in-memory Redis and fake platforms (Telegram, WhatsApp, X, Facebook, Discord, Bluesky, Threads, LinkedIn, Mastodon, webhook, WebSub) on loopback.")
		fmt.Fprintln(out, "Nothing is kept across restarts. Production: `herald serve` with REDIS_URL and a config file.")
		fmt.Fprintln(out)
	}
	arts, err := sb.Samples() // their images on the sandbox's loopback image host
	if err != nil {
		stopRun()
		<-runDone
		return err
	}
	ids := make([]string, 0, len(arts))
	for i := range arts {
		for range 2 { // the second publish of the same article must post nothing
			a := arts[i]
			res, err := pub.Publish(ctx, &a)
			if err != nil {
				stopRun()
				<-runDone
				return fmt.Errorf("publishing sample %s: %w", a.URL, err)
			}
			if len(ids) == 0 || ids[len(ids)-1] != res.ArticleID {
				ids = append(ids, res.ArticleID)
			}
		}
	}
	sum, statuses, werr := waitFinal(ctx, broker, ids, wait)
	sum.Duplicates = sb.Duplicates()
	if asJSON {
		stopRun()
		<-runDone
		if err := json.NewEncoder(out).Encode(sum); err != nil {
			return err
		}
		if werr != nil {
			return &exitError{code: 1, err: werr}
		}
		if sum.Sent != sum.Deliveries || sum.Duplicates != 0 {
			return &exitError{code: 1, err: errors.New("not every delivery was sent exactly once")}
		}
		return nil
	}
	printDemo(out, sb, statuses)
	if werr != nil {
		fmt.Fprintln(out, "warning:", werr)
	}
	base := "http://" + ln.Addr().String()
	fmt.Fprintf(out, "\nThe API is serving on %s (Ctrl-C to stop). Publish another article:\n\n", base)
	fmt.Fprintf(out, "  curl -sS -X POST %s/v1/articles \\\n    -H 'Authorization: Bearer %s' -H 'Content-Type: application/json' \\\n    -d '{\"url\":\"https://news.example.com/a/1\",\"title\":\"عنوان تجريبي\"}'\n\n", base, sandbox.APIToken)
	fmt.Fprintf(out, "and read its delivery record:\n\n  curl -sS -H 'Authorization: Bearer %s' %s/v1/articles/<id>\n\n", sandbox.APIToken, base)
	fmt.Fprintf(out, "The dashboard is at %s/dashboard/ — log in with the admin token %s\n(or the viewer token %s: read only, no buttons)\n\n", base, sandbox.APIToken, sandbox.ViewerToken)
	err = <-runDone
	log.Info("demo stopped; the sandbox data is gone", zap.Int("articles", len(ids)))
	return err
}

// waitFinal polls the ledger until every delivery of ids is final or the wait runs out.
func waitFinal(ctx context.Context, b *queue.Broker, ids []string, wait time.Duration) (demoSummary, []*queue.ArticleStatus, error) {
	deadline := time.Now().Add(wait)
	for {
		sum := demoSummary{Articles: len(ids)}
		var sts []*queue.ArticleStatus
		final := true
		for _, id := range ids {
			st, err := b.Status(ctx, id)
			if err != nil {
				return sum, nil, err
			}
			sts = append(sts, st)
			for _, d := range st.Deliveries {
				sum.Deliveries++
				switch d.State {
				case queue.StateSent:
					sum.Sent++
				case queue.StateFailed:
					sum.Failed++
				case queue.StateUnknown:
					sum.Unknown++
				default:
					final = false
				}
			}
		}
		if final {
			return sum, sts, nil
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return sum, sts, fmt.Errorf("deliveries still in progress after %s", wait)
		}
		select {
		case <-ctx.Done():
		case <-time.After(50 * time.Millisecond):
		}
	}
}

func printDemo(out io.Writer, sb *sandbox.Sandbox, sts []*queue.ArticleStatus) {
	msgs := sb.Telegram.Messages()
	for _, st := range sts {
		fmt.Fprintf(out, "── article %s\n   %s\n   %s\n", st.ID, st.Title, st.URL)
		for _, d := range st.Deliveries {
			for _, m := range msgs {
				if fmt.Sprint(m.MessageID) == d.RemoteID && d.Kind == channels.KindTelegram {
					body := m.Text
					if m.Method == "sendPhoto" {
						body = fmt.Sprintf("[photo %s]\n%s", m.PhotoURL, m.Caption)
					}
					fmt.Fprintf(out, "\n   Telegram received (%s, parse_mode %s):\n%s\n", m.Method, m.ParseMode, indent(body, "   │ "))
				}
			}
			if title, body, ok := sb.Received(d.Kind, d.RemoteID); ok {
				fmt.Fprintf(out, "\n   %s:\n%s\n", title, indent(body, "   │ "))
			}
			printXFacebook(out, sb, d)
			if title, body, ok := sb.DiscordReceived(d.Kind, d.RemoteID); ok {
				fmt.Fprintf(out, "\n   %s:\n%s\n", title, indent(body, "   │ "))
			}
			if title, body, ok := sb.MastodonReceived(d.Kind, d.RemoteID); ok {
				fmt.Fprintf(out, "\n   %s:\n%s\n", title, indent(body, "   │ "))
			}
			if title, body, ok := sb.ThreadsReceived(d.Kind, d.RemoteID); ok {
				fmt.Fprintf(out, "\n   %s:\n%s\n", title, indent(body, "   │ "))
			}
			if title, body, ok := sb.LinkedInReceived(d.Kind, d.RemoteID); ok {
				fmt.Fprintf(out, "\n   %s:\n%s\n", title, indent(body, "   │ "))
			}
			if d.Kind == channels.KindBluesky {
				if title, body, ok := sb.ReceivedBluesky(d.RemoteID); ok {
					fmt.Fprintf(out, "\n   %s:\n%s\n", title, indent(body, "   │ "))
				}
			}
			rec, _ := json.MarshalIndent(d, "   ", "  ")
			fmt.Fprintf(out, "\n   delivery record:\n   %s\n\n", rec)
		}
	}
}

func indent(s, prefix string) string {
	out := prefix
	for _, r := range s {
		out += string(r)
		if r == '\n' {
			out += prefix
		}
	}
	return out
}
