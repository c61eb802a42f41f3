package main

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"herald/channels"
	"herald/formatter"
)

// newCountCmd prints a text's length in a platform's own unit: UTF-16 units for Telegram,
// twitter-text weighted length for X, code points with URLs as 23 for Mastodon, graphemes for
// Bluesky.
func newCountCmd() *cobra.Command {
	var platform string
	var telegramHTML, showUnit bool
	cmd := &cobra.Command{
		Use:   "count --platform KIND [TEXT|-]",
		Short: "Print a text's length in a platform's unit (X weighted length, UTF-16, graphemes…)",
		Long: `Print the length of TEXT (or stdin, one trailing newline dropped) as the platform counts it:
telegram, whatsapp, discord, facebook, linkedin, webhook: UTF-16 code units; x: twitter-text v3
weighted length (URLs 23, emoji 2, CJK 2); mastodon: characters with every URL as 23; bluesky:
graphemes; threads: characters, an emoji as its UTF-8 bytes. (websub posts no text.)
With --html (telegram) TEXT is HTML parse mode and is checked; the visible length is printed.`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			stderr := cmd.ErrOrStderr()
			kind := channels.Kind(strings.ToLower(strings.TrimSpace(platform)))
			count, unit := formatter.Counter(kind)
			if count == nil {
				err := fmt.Errorf("unknown platform %q: want one of %s", platform, countedKinds())
				fmt.Fprintln(stderr, "herald count:", err)
				return reported(2, err)
			}
			text, err := countInput(cmd, args)
			if err != nil {
				fmt.Fprintln(stderr, "herald count:", err)
				return reported(1, err)
			}
			n := count(text)
			if telegramHTML {
				if kind != channels.KindTelegram {
					err := errors.New("--html applies to telegram only")
					fmt.Fprintln(stderr, "herald count:", err)
					return reported(2, err)
				}
				if n, err = formatter.CheckTelegramHTML(text); err != nil {
					fmt.Fprintln(stderr, "herald count:", err)
					return reported(2, err)
				}
			}
			if showUnit {
				_, err = fmt.Fprintln(cmd.OutOrStdout(), n, unit)
			} else {
				_, err = fmt.Fprintln(cmd.OutOrStdout(), n)
			}
			return err
		},
	}
	cmd.Flags().StringVar(&platform, "platform", "", "platform kind: "+countedKinds())
	cmd.Flags().BoolVar(&telegramHTML, "html", false, "telegram: count the visible text of HTML parse mode, checking the markup")
	cmd.Flags().BoolVar(&showUnit, "unit", false, "print the unit after the number")
	_ = cmd.MarkFlagRequired("platform")
	return cmd
}

// countedKinds lists the kinds count can measure: every kind with a text to count (not websub,
// whose pings carry none).
func countedKinds() string {
	var names []string
	for _, k := range channels.Kinds {
		if count, _ := formatter.Counter(k); count != nil {
			names = append(names, string(k))
		}
	}
	return strings.Join(names, ", ")
}

func countInput(cmd *cobra.Command, args []string) (string, error) {
	if len(args) == 1 && args[0] != "-" {
		return args[0], nil
	}
	data, err := io.ReadAll(io.LimitReader(cmd.InOrStdin(), 16<<20))
	if err != nil {
		return "", fmt.Errorf("reading stdin: %w", err)
	}
	s := string(data)
	s = strings.TrimSuffix(s, "\n")
	return strings.TrimSuffix(s, "\r"), nil
}
