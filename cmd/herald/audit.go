package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/user"
	"strconv"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"herald/config"
	"herald/queue"
)

func newAuditCmd(g *globalFlags) *cobra.Command {
	var rf remoteFlags
	var asJSON bool
	var n int
	cmd := &cobra.Command{
		Use:   "audit",
		Short: "Show the newest admin actions (who, when, what, result), newest first",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if n < 1 || n > 1000 {
				return &exitError{code: 2, err: fmt.Errorf("-n %d: want 1 to 1000", n)}
			}
			var es []queue.AuditEntry
			if rf.server != "" {
				var res struct {
					Entries []queue.AuditEntry `json:"entries"`
				}
				if err := remoteGet(cmd, rf, "/v1/audit?n="+strconv.Itoa(n), &res); err != nil {
					return err
				}
				es = res.Entries
			} else if err := withBroker(cmd, g, func(ctx context.Context, _ *config.Config, b *queue.Broker) error {
				var err error
				es, err = b.Audit(ctx, int64(n))
				return err
			}); err != nil {
				return err
			}
			if asJSON {
				return printJSON(cmd.OutOrStdout(), map[string]any{"entries": es})
			}
			return printAudit(cmd.OutOrStdout(), es)
		},
	}
	rf.add(cmd)
	cmd.Flags().IntVarP(&n, "number", "n", 50, "how many entries")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON (same as GET /v1/audit)")
	return cmd
}

// printAudit prints audit entries as the table of herald audit.
func printAudit(w io.Writer, es []queue.AuditEntry) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "TIME\tSOURCE\tUSER\tCHAT\tACTION\tARGS\tRESULT")
	for _, e := range es {
		user := strconv.FormatInt(e.UserID, 10)
		if e.Username != "" {
			user += " @" + e.Username
		}
		if !e.Allowed {
			user += " (refused)"
		}
		if e.Client != "" {
			user += " " + e.Client
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%s\t%s\t%s\n", e.Time.Format(time.RFC3339), shown(e.Source), shown(user), e.ChatID, shown(e.Action), shown(e.Args), shown(e.Result))
	}
	return tw.Flush()
}

// auditCLI records an admin action taken with the CLI against Redis directly (through --server
// the API records it): the operating-system user and host say who.
func auditCLI(ctx context.Context, b *queue.Broker, action, args string, err error) {
	auditCLIResult(ctx, b, action, args, action+" done", err)
}

// auditCLIResult is auditCLI with the result to record when there is no error (retract and
// correct: what each channel answered, as the API records it).
func auditCLIResult(ctx context.Context, b *queue.Broker, action, args, result string, err error) {
	if err != nil {
		result = "error: " + err.Error()
	}
	host, _ := os.Hostname()
	_ = b.AppendAudit(ctx, queue.AuditEntry{Source: "cli", Username: currentUser(), Client: host, Action: action, Args: args, Result: result, Allowed: true})
}

// currentUser is the operating-system user running the CLI.
func currentUser() string {
	if u, err := user.Current(); err == nil {
		return u.Username
	}
	return os.Getenv("USER")
}
