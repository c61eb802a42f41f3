package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"

	"github.com/spf13/cobra"

	"herald/article"
	"herald/channels"
	"herald/config"
	"herald/formatter"
)

// formatOutput is what `herald format` prints: the posts exactly as the channel would send them.
type formatOutput struct {
	Channel string          `json:"channel"`
	Kind    channels.Kind   `json:"kind"`
	Posts   []channels.Post `json:"posts"`
	// Requests are the HTTP requests the channel would send (kinds whose channel is a
	// channels.Previewer), built from RequestsFrom: the configured channel or example settings.
	Requests     []channels.Request `json:"requests,omitempty"`
	RequestsFrom string             `json:"requests_from,omitempty"`
}

// newFormatCmd is the editor's preview: it needs no Redis and no config (each kind with its
// defaults); with --config it also takes a configured channel's name and its format options.
func newFormatCmd() *cobra.Command {
	var channel, configPath string
	var all, asJSON bool
	cmd := &cobra.Command{
		Use:   "format (--channel NAME|KIND | --all [--json]) [--config FILE] [ARTICLE.json|-]",
		Short: "Preview the posts an article becomes on a channel (no Redis needed)",
		Long: `Render an article (JSON, from a file or stdin) for one channel and print the posts as JSON:
{"channel":..,"kind":..,"posts":[{"text":..,"parse_mode":..,"media":[..],"facets":[..],"length":N,"limit":N,"unit":".."}]}

--channel takes a kind (` + kindList() + `), formatted with that kind's
defaults, or, with --config, the name of a configured channel, formatted with its format: options.

--all shows every channel's post one after another: each configured channel with --config, else
every kind with its defaults; each with its length and limit, its photo or link preview, and the
text as it is sent. --json prints [{"channel","kind","posts":[..],"error"}] instead. A channel
that cannot render shows its error and the exit status is non-zero.`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			stderr := cmd.ErrOrStderr()
			if all {
				return formatAll(cmd, args, configPath, asJSON)
			}
			kind, opts, name, err := resolveFormatChannel(channel, configPath)
			if err != nil {
				fmt.Fprintln(stderr, "herald format:", err)
				return reported(2, err)
			}
			a, err := readArticle(cmd, args)
			if err != nil {
				printArticleError(stderr, err)
				return reported(2, err)
			}
			r, err := formatter.New(kind, opts)
			if err != nil {
				fmt.Fprintln(stderr, "herald format:", err)
				return reported(1, err)
			}
			posts, err := r.Render(&a)
			if err != nil {
				fmt.Fprintln(stderr, "herald format:", err)
				return reported(1, err)
			}
			enc := json.NewEncoder(cmd.OutOrStdout())
			enc.SetEscapeHTML(false) // show Telegram HTML as the channel sends it
			enc.SetIndent("", "  ")
			out := formatOutput{Channel: name, Kind: kind, Posts: posts}
			out.Requests, out.RequestsFrom = previewRequests(configPath, name, kind, &a, posts)
			return enc.Encode(out)
		},
	}
	cmd.Flags().StringVar(&channel, "channel", "", "channel name (with --config) or kind: "+kindList())
	cmd.Flags().BoolVar(&all, "all", false, "every channel's post, one after another")
	cmd.Flags().BoolVar(&asJSON, "json", false, "with --all: print JSON instead of text")
	cmd.Flags().StringVarP(&configPath, "config", "c", os.Getenv("HERALD_CONFIG"), "config file whose channels --channel may name (env HERALD_CONFIG)")
	cmd.MarkFlagsOneRequired("channel", "all")
	cmd.MarkFlagsMutuallyExclusive("channel", "all")
	return cmd
}

// formatAll previews the article on every channel (formatter.PreviewAll, which the dashboard's
// article page shares).
func formatAll(cmd *cobra.Command, args []string, configPath string, asJSON bool) error {
	stderr := cmd.ErrOrStderr()
	targets := formatter.DefaultTargets()
	if configPath != "" {
		cfg, err := config.Load(configPath)
		if err != nil {
			fmt.Fprintln(stderr, "herald format:", err)
			return reported(1, err)
		}
		targets = targets[:0]
		for _, ch := range cfg.Channels {
			targets = append(targets, formatter.PreviewTarget{Name: string(ch.Spec.Name), Kind: ch.Spec.Kind, Options: ch.Format})
		}
	}
	a, err := readArticle(cmd, args)
	if err != nil {
		printArticleError(stderr, err)
		return reported(2, err)
	}
	previews := formatter.PreviewAll(&a, targets)
	if asJSON {
		enc := json.NewEncoder(cmd.OutOrStdout())
		enc.SetEscapeHTML(false)
		enc.SetIndent("", "  ")
		err = enc.Encode(previews)
	} else {
		err = formatter.WritePreviews(cmd.OutOrStdout(), previews)
	}
	if err != nil {
		return err
	}
	failed := 0
	for _, p := range previews {
		if p.Error != "" {
			failed++
		}
	}
	if failed > 0 {
		err = fmt.Errorf("%d of %d channels could not render the article", failed, len(previews))
		fmt.Fprintln(stderr, "herald format:", err)
		return reported(1, err)
	}
	return nil
}

func kindList() string {
	names := make([]string, len(channels.Kinds))
	for i, k := range channels.Kinds {
		names[i] = string(k)
	}
	return strings.Join(names, ", ")
}

// resolveFormatChannel finds the kind and options for --channel: a configured channel's name
// first (when a config is given), else a kind with its defaults.
func resolveFormatChannel(channel, configPath string) (channels.Kind, formatter.Options, string, error) {
	channel = strings.TrimSpace(channel)
	if channel == "" {
		return "", formatter.Options{}, "", errors.New("--channel is required")
	}
	var configured []string
	if configPath != "" {
		cfg, err := config.Load(configPath)
		if err != nil {
			return "", formatter.Options{}, "", err
		}
		if ch, ok := cfg.Channel(channel); ok {
			return ch.Spec.Kind, ch.Format, string(ch.Spec.Name), nil
		}
		for _, ch := range cfg.Channels {
			configured = append(configured, string(ch.Spec.Name))
		}
		sort.Strings(configured)
	}
	if k := channels.Kind(strings.ToLower(channel)); k.Valid() {
		return k, formatter.Options{}, channel, nil
	}
	msg := fmt.Sprintf("unknown channel %q: want a kind (%s)", channel, kindList())
	if len(configured) > 0 {
		msg += " or a configured channel (" + strings.Join(configured, ", ") + ")"
	} else if configPath == "" {
		msg += ", or pass --config to use a configured channel's name"
	}
	return "", formatter.Options{}, "", errors.New(msg)
}

// readArticle decodes, normalises and validates the article from the file argument or stdin. A
// file that cannot be opened is an *exitError with status 2 (input to fix).
func readArticle(cmd *cobra.Command, args []string) (article.Article, error) {
	var in io.Reader = cmd.InOrStdin()
	if len(args) == 1 && args[0] != "-" {
		f, err := os.Open(args[0])
		if err != nil {
			return article.Article{}, &exitError{code: 2, err: err}
		}
		defer f.Close()
		in = f
	}
	a, err := article.Decode(in)
	if err != nil {
		return article.Article{}, err
	}
	a.Normalize()
	if err := a.Validate(); err != nil {
		return article.Article{}, err
	}
	return a, nil
}

// printArticleError writes a validation error one field per line, so an editor fixes every
// problem in one round.
func printArticleError(w io.Writer, err error) {
	var ve *article.ValidationError
	if errors.As(err, &ve) {
		fmt.Fprintln(w, "herald format: invalid article:")
		for _, fe := range ve.Errors {
			fmt.Fprintf(w, "  %s: %s\n", fe.Field, fe.Message)
		}
		return
	}
	fmt.Fprintln(w, "herald format:", err)
}
