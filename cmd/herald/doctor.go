package main

import (
	"context"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/spf13/cobra"
	"go.uber.org/zap"

	"herald/channels"
	"herald/config"
	"herald/queue"
)

// finding is one line of herald doctor.
type finding struct {
	Level  string `json:"level"` // ok, warn, fail
	Area   string `json:"area"`  // config, redis, channel <name>
	Detail string `json:"detail"`
	// Advice says what to do, in plain words, when Level is not ok.
	Advice string `json:"advice,omitempty"`
}

func newDoctorCmd(g *globalFlags) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "doctor",
		Short: "Check the config, Redis (version, AOF, eviction) and each channel's credentials, and say what to fix",
		Long: `doctor checks what herald needs, without posting anything: the config file, Redis (reachable,
version 6.2 or newer, AOF persistence on, maxmemory-policy noeviction) and every channel's
credentials and destination against its platform (Telegram: getMe and getChat), and warns of
a paused channel (paused, it sends nothing whatever its credentials). Each problem comes with
what to do. It exits 1 when something must be fixed, 0 otherwise (warnings
included).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			fs := doctor(cmd.Context(), g)
			out := cmd.OutOrStdout()
			if asJSON {
				if err := printJSON(out, map[string]any{"findings": fs}); err != nil {
					return err
				}
			} else {
				printFindings(out, fs)
			}
			for _, f := range fs {
				if f.Level == "fail" {
					return &exitError{code: 1, err: fmt.Errorf("doctor: something must be fixed (see above)")}
				}
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the findings as JSON")
	return cmd
}

func printFindings(w io.Writer, fs []finding) {
	for _, f := range fs {
		// A config with several errors says each on a line of its own (errors.Join): one line
		// with \n between them was hard to read. Continuation lines stay indented under the
		// detail, so no text can pass for a finding of its own.
		lines := strings.Split(f.Detail, "\n")
		fmt.Fprintf(w, "%-4s  %-16s %s\n", strings.ToUpper(f.Level), f.Area, shown(lines[0]))
		for _, l := range lines[1:] {
			fmt.Fprintf(w, "      %-16s %s\n", "", shown(l))
		}
		if f.Advice != "" {
			fmt.Fprintf(w, "      %-16s → %s\n", "", f.Advice)
		}
	}
}

func doctor(ctx context.Context, g *globalFlags) []finding {
	cfg, err := loadConfig(g)
	if err != nil {
		return []finding{{Level: "fail", Area: "config", Detail: err.Error(), Advice: "fix the setting named above; herald.example.yaml documents each one"}}
	}
	fs := []finding{{Level: "ok", Area: "config", Detail: fmt.Sprintf("%d channel(s), %d route(s)", len(cfg.Channels), len(cfg.Routes))}}
	if len(cfg.Channels) == 0 {
		fs[0] = finding{Level: "fail", Area: "config", Detail: "no channels configured", Advice: "add a channel under channels: (see herald.example.yaml) and pass --config"}
	}
	if cfg.HTTP.APIToken == "" && len(cfg.HTTP.Tokens) == 0 {
		fs = append(fs, finding{Level: "warn", Area: "config", Detail: "no API token: herald serve will refuse to start",
			Advice: "set HERALD_API_TOKEN (or http.api_token_file, or http.tokens) to a long random string"})
	}
	if err := cfg.CheckAPIToken(); err != nil {
		fs = append(fs, finding{Level: "fail", Area: "config", Detail: err.Error() + ": herald serve will refuse to start",
			Advice: "set HERALD_API_TOKEN (or http.api_token_file) to a long random string: openssl rand -hex 32"})
	}
	fs = append(fs, doctorRedis(ctx, cfg)...)
	return append(fs, doctorChannels(ctx, cfg)...)
}

func doctorRedis(ctx context.Context, cfg *config.Config) []finding {
	rctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	rdb, err := openRedis(rctx, cfg.Redis.URL)
	if err != nil {
		return []finding{{Level: "fail", Area: "redis", Detail: err.Error(), Advice: "start Redis or fix redis.url / REDIS_URL"}}
	}
	defer rdb.Close()
	var fs []finding
	raw, err := rdb.Info(rctx, "server", "persistence").Result()
	info := parseInfo(raw)
	version := info["redis_version"]
	switch {
	case err != nil:
		// An application user often may not run INFO (ACL -@dangerous, a managed Redis): say what
		// could not be checked instead of reading an empty answer as an old Redis without AOF.
		fs = append(fs, finding{Level: "warn", Area: "redis", Detail: "could not read INFO (" + err.Error() + "): version and persistence not checked",
			Advice: "make sure the server is Redis 6.2 or newer with appendonly yes (appendfsync everysec); ask your Redis provider if you cannot check"})
	case versionAtLeast(version, 6, 2):
		fs = append(fs, finding{Level: "ok", Area: "redis", Detail: "version " + version})
	default:
		fs = append(fs, finding{Level: "fail", Area: "redis", Detail: "version " + version + " is too old",
			Advice: "herald needs Redis 6.2 or newer (stream trimming by id); Debian 12's redis-server is 7.0"})
	}
	switch {
	case err != nil: // said above
	case info["aof_enabled"] == "1":
		fs = append(fs, finding{Level: "ok", Area: "redis", Detail: "AOF persistence on"})
	default:
		fs = append(fs, finding{Level: "warn", Area: "redis", Detail: "AOF persistence is off",
			Advice: "a Redis restart can lose queued deliveries and delivery records: set appendonly yes (appendfsync everysec)"})
	}
	policy, err := rdb.ConfigGet(rctx, "maxmemory-policy").Result()
	switch {
	case err != nil:
		fs = append(fs, finding{Level: "warn", Area: "redis", Detail: "could not read maxmemory-policy (CONFIG is disabled?)",
			Advice: "make sure the server's maxmemory-policy is noeviction; ask your Redis provider if you cannot check"})
	case policy["maxmemory-policy"] == "noeviction":
		fs = append(fs, finding{Level: "ok", Area: "redis", Detail: "maxmemory-policy noeviction"})
	default:
		fs = append(fs, finding{Level: "fail", Area: "redis", Detail: "maxmemory-policy is " + policy["maxmemory-policy"],
			Advice: "Redis may evict herald's queue and delivery records when memory runs short, losing or re-posting articles: set maxmemory-policy noeviction"})
	}
	return append(fs, doctorSenders(rctx, cfg, rdb)...)
}

// doctorSenders says which process sends for each channel that one process at a time sends
// for (the sender lease, queue/lease.go). None is only a warning: herald serve may not be
// running where doctor runs.
func doctorSenders(ctx context.Context, cfg *config.Config, rdb redis.UniversalClient) []finding {
	b := queue.NewBroker(rdb, queue.Options{})
	var fs []finding
	unconfigured, err := b.Unconfigured(ctx, cfgChannels(cfg))
	if err != nil {
		fs = append(fs, finding{Level: "warn", Area: "queues", Detail: err.Error(), Advice: "check Redis"})
	}
	for _, u := range unconfigured {
		detail, advice := unconfiguredText(u)
		fs = append(fs, finding{Level: "warn", Area: "channel " + string(u.Channel), Detail: detail, Advice: advice})
	}
	// A channel removed from the config while paused keeps its pause record for ever, and the
	// admin bot alerts the pause again every 30 days.
	paused, err := b.Paused(ctx)
	if err != nil {
		fs = append(fs, finding{Level: "warn", Area: "queues", Detail: err.Error(), Advice: "check Redis"})
	}
	for _, p := range paused {
		if _, ok := cfg.Channel(string(p.Channel)); ok {
			// Paused, it sends nothing whatever its credentials: after a new token (herald
			// paused it on the revoked one) every check below passes and the backlog waits on.
			fs = append(fs, finding{Level: "warn", Area: "channel " + string(p.Channel),
				Detail: fmt.Sprintf("paused by %s since %s%s; nothing is sent for it until it is resumed", pausedBy(p.By), p.Since.Format(time.RFC3339), reasonText(p.Reason)),
				Advice: fmt.Sprintf("once the cause is fixed (the check of the channel below says whether its credentials work), herald resume %s", p.Channel)})
			continue
		}
		fs = append(fs, finding{Level: "warn", Area: "channel " + string(p.Channel),
			Detail: fmt.Sprintf("not in the config, yet still paused (since %s: %s)", p.Since.Format(time.RFC3339), p.Reason),
			Advice: fmt.Sprintf("herald resume %s removes the pause record (add the channel back first if it is to deliver again)", p.Channel)})
	}
	for _, c := range cfgChannels(cfg) {
		if !c.Leased {
			continue
		}
		area := "channel " + string(c.Name)
		l, err := b.Sender(ctx, c.Name)
		switch {
		case err != nil:
			fs = append(fs, finding{Level: "warn", Area: area, Detail: err.Error(), Advice: "check Redis"})
		case l.Owner == "":
			fs = append(fs, finding{Level: "warn", Area: area, Detail: "no process holds the sender lease: nothing is sent for it now",
				Advice: "start herald serve; if it runs, its log says why (\"sender lease\"), usually Redis unreachable"})
		default:
			fs = append(fs, finding{Level: "ok", Area: area, Detail: "sent for by " + l.Owner + " (sender lease)"})
		}
	}
	return fs
}

// pausedBy is who paused a channel, for doctor: "?" for a pause recorded without a name.
func pausedBy(by string) string {
	if by == "" {
		return "?"
	}
	return by
}

// reasonText is ": reason", or nothing for a pause given no reason.
func reasonText(reason string) string {
	if reason == "" {
		return ""
	}
	return ": " + reason
}

func doctorChannels(ctx context.Context, cfg *config.Config) []finding {
	routes, err := buildRoutes(cfg, zap.NewNop(), platformClient(cfg, checkTimeout))
	if err != nil {
		return []finding{{Level: "fail", Area: "channels", Detail: err.Error(), Advice: "fix the channel's settings named above"}}
	}
	chs := make([]channels.Channel, 0, len(routes))
	for _, r := range routes {
		chs = append(chs, r.Channel)
	}
	var fs []finding
	passed := map[channels.Name]bool{}
	for _, r := range channels.CheckAll(ctx, chs, checkTimeout) {
		area := "channel " + string(r.Channel)
		switch r.Status {
		case channels.CheckOK:
			passed[r.Channel] = true
			fs = append(fs, finding{Level: "ok", Area: area, Detail: string(r.Kind) + ": credentials and destination work"})
		case channels.CheckUnsupported:
			fs = append(fs, finding{Level: "warn", Area: area, Detail: string(r.Kind) + ": cannot be checked without posting",
				Advice: "publish a test article to this channel to be sure"})
		default:
			fs = append(fs, finding{Level: "fail", Area: area, Detail: string(r.Kind) + ": " + r.Error, Advice: checkAdvice(r)})
		}
	}
	return append(fs, limitFindings(ctx, cfg, routes, passed)...)
}

// checkAdvice turns a failed check into what to do.
func checkAdvice(r channels.CheckResult) string {
	e := strings.ToLower(r.Error)
	switch {
	case strings.Contains(e, "unknown webhook") || strings.Contains(e, "invalid webhook token"):
		return "the Discord webhook was deleted or its URL is wrong: create one in the channel's settings (Integrations → Webhooks) and set webhook_url"
	case r.Kind == channels.KindBluesky && (strings.Contains(e, "authenticationrequired") || strings.Contains(e, "accounttakedown") || strings.Contains(e, "not active")):
		return "Bluesky refuses the login: check identifier, create a new App Password (Settings → Privacy and security → App passwords) and set app_password; a suspended or deactivated account must be restored first"
	case r.Kind == channels.KindThreads && threadsAdvice(e) != "":
		return threadsAdvice(e)
	case r.Kind == channels.KindLinkedIn && linkedinAdvice(e) != "":
		return linkedinAdvice(e)
	case r.Kind == channels.KindMastodon && (strings.Contains(e, "401") || strings.Contains(e, "403")):
		return "the Mastodon server refuses the access token: create one (Preferences → Development → New application, scopes write:statuses write:media read:accounts) and set access_token"
	case strings.Contains(e, "401") || strings.Contains(e, "unauthorized"):
		return "the token is wrong or revoked: set the channel's token again (for Telegram, from @BotFather)"
	case strings.Contains(e, "chat not found"):
		return "the bot cannot see the chat: check chat_id and add the bot to the channel as an administrator allowed to post"
	case strings.Contains(e, "403") || strings.Contains(e, "forbidden"):
		return "the platform refuses this account: check its permissions in the destination"
	case strings.Contains(e, "deadline") || strings.Contains(e, "timeout") || strings.Contains(e, "connection refused") || strings.Contains(e, "no such host"):
		return "the platform's API cannot be reached from here: check the network, proxy and api_endpoint"
	}
	return "check the channel's settings and the platform's status page"
}

// threadsPermissionCode is a Graph permission error (10, 200–299) in an error's text.
var threadsPermissionCode = regexp.MustCompile(`\(code (10|2\d\d)\b`)

// threadsAdvice reads a failed Threads check (channels/threads Check): "" when it says nothing
// Threads-specific.
func threadsAdvice(e string) string {
	switch {
	case strings.Contains(e, "code 190"):
		return "the Threads access token is invalid or expired (long-lived tokens last 60 days): refresh it (GET /refresh_access_token) or create a new one, and set access_token"
	case strings.Contains(e, "not user_id"):
		return "the token belongs to another Threads profile: set user_id to the id it names, or use that profile's token"
	case strings.Contains(e, "publishing limit") && threadsPermissionCode.MatchString(e):
		return "the token lacks threads_content_publish: authorise the app again with threads_basic, threads_content_publish and threads_delete"
	case strings.Contains(e, "posts wait until the window moves"):
		return "the profile used its 250 posts of the last 24 h (herald's default rate keeps under it; other apps posting count too): posts resume as the window moves"
	}
	return ""
}

// linkedinAdvice reads a failed LinkedIn check (channels/linkedin Check, GET
// /rest/organizations/{id}): "" when it says nothing LinkedIn-specific.
func linkedinAdvice(e string) string {
	status := func(code string) bool { return regexp.MustCompile(`\b` + code + `\b`).MatchString(e) }
	switch {
	case status("401") || strings.Contains(e, "invalid_access_token"):
		return "LinkedIn refuses the access token (member tokens last 60 days): authorise the app again as an administrator of the Page, with w_organization_social, and set access_token"
	case status("403") || strings.Contains(e, "access_denied"):
		return "the token's member may not act for this organization, or the app lacks the Community Management API: give the member the Page's ADMINISTRATOR or CONTENT_ADMIN role and authorise with w_organization_social"
	case status("426") || strings.Contains(e, "nonexistent_version") || strings.Contains(e, "version_missing"):
		return "LinkedIn no longer serves the API version herald asks for: set the channel's version to an active one (YYYYMM, https://learn.microsoft.com/en-us/linkedin/marketing/versioning)"
	case status("404") || strings.Contains(e, "not organization_id"):
		return "organization_id names no organization LinkedIn knows: use the number in the Page's admin URL (linkedin.com/company/<id>/admin)"
	}
	return ""
}

func parseInfo(s string) map[string]string {
	out := map[string]string{}
	for _, line := range strings.Split(s, "\n") {
		if k, v, ok := strings.Cut(strings.TrimSpace(line), ":"); ok {
			out[k] = v
		}
	}
	return out
}

func versionAtLeast(v string, major, minor int) bool {
	parts := strings.SplitN(v, ".", 3)
	if len(parts) < 2 {
		return false
	}
	ma, _ := strconv.Atoi(parts[0])
	mi, _ := strconv.Atoi(parts[1])
	return ma > major || (ma == major && mi >= minor)
}
