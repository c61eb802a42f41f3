package web

// The dashboard: one server-rendered page (channels, queues, the last deliveries, a 24-hour
// chart per channel, admin buttons) and an article page, for people logged in with an admin or
// viewer token. html/template escapes everything it prints; the CSS and the small refresh
// script are embedded, so the page loads nothing from anywhere else.

import (
	"bytes"
	"context"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
	"go.uber.org/zap"

	"herald/channels"
	"herald/formatter"
	"herald/queue"
)

// DashboardOptions configure the dashboard served beside the API.
type DashboardOptions struct {
	// Disabled leaves the dashboard's routes out.
	Disabled bool
	// Previews are the configured channels with their format options: the article page shows
	// what each channel's platform receives (formatter.PreviewAll).
	Previews []formatter.PreviewTarget
	// SecureCookie marks the session cookie Secure even when the request came over plain HTTP
	// (TLS ended at a proxy in front of herald). Requests over TLS always get Secure.
	SecureCookie bool
	// Refresh is how often the page reloads its live part (default 5s).
	Refresh time.Duration
	// Recent is how many recently changed articles the page lists (default 20).
	Recent int
}

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

var dashFuncs = template.FuncMap{
	"ago":     ago,
	"clock":   func(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05 UTC") },
	"short":   func(t time.Time) string { return t.UTC().Format("15:04:05") },
	"path":    url.PathEscape,
	"buttons": newDeliveryButtons,
	// formkey is a form's own idempotency key (dashOnce).
	"formkey": randomToken,
	// headline is a title as the posts show it: a CMS may send one with entities and tags.
	"headline": formatter.PlainTitle,
}

// dashTemplates holds one template set per page (each page defines its own title block) on
// the shared layout and live fragment.
var dashTemplates = func() map[string]*template.Template {
	base := template.Must(template.New("").Funcs(dashFuncs).ParseFS(templateFS, "templates/layout.html", "templates/live.html"))
	out := map[string]*template.Template{"live": base}
	for _, page := range []string{"home.html", "article.html", "login.html", "notfound.html"} {
		out[page] = template.Must(template.Must(base.Clone()).ParseFS(templateFS, "templates/"+page))
	}
	return out
}()

// deliveryButtons are the retry and repost forms of one delivery.
type deliveryButtons struct {
	CSRF, Next string
	Delivery   queue.Delivery
	Actions    []deliveryAction
	// Unconfigured: the delivery's channel is not in the config (removed or renamed), so no
	// button is offered (the server refuses both, errNotConfigured) and the page says why.
	Unconfigured bool
}

// deliveryAction is one button's form. Key is the form's own Idempotency-Key: a form submitted
// twice (a double click, a reload that posts again) retries or reposts once.
type deliveryAction struct {
	Name, Key string
}

// configuredSet names the configured channels, for the buttons.
type configuredSet map[channels.Name]bool

func (s *Server) configuredSet() configuredSet {
	set := configuredSet{}
	for _, c := range s.Channels {
		set[c.Name] = true
	}
	return set
}

// newDeliveryButtons offers what queue.Broker.Requeue allows: retry for a failed or unknown
// delivery, repost for any final one; neither for a channel no longer configured, which
// requeueConfigured refuses.
func newDeliveryButtons(csrf, next string, configured configuredSet, d queue.Delivery) deliveryButtons {
	b := deliveryButtons{CSRF: csrf, Next: next, Delivery: d}
	if !configured[d.Channel] {
		b.Unconfigured = true
		return b
	}
	if d.State == queue.StateFailed || d.State == queue.StateUnknown {
		b.Actions = append(b.Actions, deliveryAction{Name: "retry", Key: randomToken()})
	}
	if d.State.Final() {
		b.Actions = append(b.Actions, deliveryAction{Name: "repost", Key: randomToken()})
	}
	return b
}

// dashboardRoutes adds the dashboard to mux: / redirects to /dashboard/. These are HTML pages
// for browsers, not API routes, so they are not in the OpenAPI document.
func (s *Server) dashboardRoutes(mux *http.ServeMux) {
	if s.Dashboard.Disabled {
		return
	}
	mux.Handle("GET /{$}", http.RedirectHandler("/dashboard/", http.StatusSeeOther))
	mux.HandleFunc("GET /dashboard/{$}", s.dashPage(s.dashHome))
	mux.HandleFunc("GET /dashboard/live", s.dashPage(s.dashLive))
	mux.HandleFunc("GET /dashboard/articles/{id}", s.dashPage(s.dashArticle))
	mux.HandleFunc("GET /dashboard/login", s.dashLoginForm)
	mux.HandleFunc("POST /dashboard/login", s.dashLogin)
	mux.HandleFunc("POST /dashboard/logout", s.dashPost(false, s.dashLogout))
	mux.HandleFunc("POST /dashboard/channels/{name}/{action}", s.dashPost(true, s.dashChannelAction))
	mux.HandleFunc("POST /dashboard/articles/{id}/deliveries/{channel}/{action}", s.dashPost(true, s.dashDeliveryAction))
	static, _ := fs.Sub(staticFS, "static")
	mux.Handle("GET /dashboard/static/", securityHeaders(http.StripPrefix("/dashboard/static/", http.FileServerFS(static))))
}

// securityHeaders: nothing from other origins, no framing, no inline script, no caching of pages
// that show delivery state.
func securityHeaders(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hd := w.Header()
		hd.Set("Content-Security-Policy", "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "+
			"connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
		hd.Set("X-Content-Type-Options", "nosniff")
		hd.Set("X-Frame-Options", "DENY")
		hd.Set("Referrer-Policy", "same-origin")
		if !strings.HasPrefix(r.URL.Path, "/dashboard/static/") {
			hd.Set("Cache-Control", "no-store")
		}
		h.ServeHTTP(w, r)
	})
}

func (s *Server) dashRefresh() time.Duration {
	if s.Dashboard.Refresh > 0 {
		return s.Dashboard.Refresh
	}
	return 5 * time.Second
}

func (s *Server) dashRecent() int {
	if s.Dashboard.Recent > 0 {
		return s.Dashboard.Recent
	}
	return 20
}

func (s *Server) secure(r *http.Request) bool { return r.TLS != nil || s.Dashboard.SecureCookie }

// crossOrigin refuses a POST another site's page sent: Sec-Fetch-Site must say same-origin, or
// Origin must match the host (browsers send one or the other with every form POST).
var crossOrigin = http.NewCrossOriginProtection()

// dashPage wraps a GET page: without a session, the page redirects to the login form (the live
// fragment answers 401 so the script can go there).
func (s *Server) dashPage(h func(w http.ResponseWriter, r *http.Request, sess *session)) http.HandlerFunc {
	return securityHeaders(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sess, err := s.session(r)
		switch {
		case errors.Is(err, errNoSession) && r.URL.Path == "/dashboard/live":
			http.Error(w, "log in again", http.StatusUnauthorized)
		case errors.Is(err, errNoSession):
			// Back to this page once logged in: an article page's link passed to a colleague
			// (or a session that ended) should not land on the home page.
			login := "/dashboard/login"
			if r.URL.Path != "/dashboard/" {
				login += "?next=" + url.QueryEscape(r.URL.RequestURI())
			}
			http.Redirect(w, r, login, http.StatusSeeOther)
		case err != nil:
			s.Logger.Error("dashboard: reading the session", zap.Error(err))
			dashUnavailable(w, "Redis is unavailable; try again shortly")
		default:
			h(w, r, sess)
		}
	})).ServeHTTP
}

// dashPost wraps a form POST: same origin, a session, the session's CSRF token (compared in
// constant time) and, for state changes, the admin role. Anything else is refused with 403
// before the handler runs.
func (s *Server) dashPost(adminOnly bool, h func(w http.ResponseWriter, r *http.Request, sess *session)) http.HandlerFunc {
	return securityHeaders(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := crossOrigin.Check(r); err != nil {
			http.Error(w, "cross-origin request refused", http.StatusForbidden)
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
		sess, err := s.session(r)
		switch {
		case errors.Is(err, errNoSession):
			http.Error(w, "not logged in", http.StatusUnauthorized)
			return
		case err != nil:
			s.Logger.Error("dashboard: reading the session", zap.Error(err))
			dashUnavailable(w, "Redis is unavailable; try again shortly")
			return
		}
		if !sess.checkCSRF(r.PostFormValue("csrf")) {
			http.Error(w, "missing or wrong CSRF token: reload the page and try again", http.StatusForbidden)
			return
		}
		if adminOnly && !sess.admin() {
			http.Error(w, "a "+sess.Role+" may not change anything (needs an admin token)", http.StatusForbidden)
			return
		}
		h(w, r, sess)
	})).ServeHTTP
}

// dashUnavailable answers a dashboard request Redis could not serve: 503 with the API's
// Retry-After, so a proxy, a monitor or the page's script knows it is worth trying again soon.
func dashUnavailable(w http.ResponseWriter, msg string) {
	w.Header().Set("Retry-After", RetryAfter)
	http.Error(w, msg, http.StatusServiceUnavailable)
}

func (s *Server) render(w http.ResponseWriter, name string, status int, data any) {
	var buf bytes.Buffer
	t := dashTemplates[name]
	if err := t.ExecuteTemplate(&buf, name, data); err != nil {
		s.Logger.Error("dashboard: rendering", zap.String("template", name), zap.Error(err))
		http.Error(w, "could not render the page", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

func (s *Server) dashLoginForm(w http.ResponseWriter, r *http.Request) {
	securityHeaders(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		next := dashPath(r.URL.Query().Get("next"))
		if _, err := s.session(r); err == nil {
			http.Redirect(w, r, next, http.StatusSeeOther)
			return
		}
		s.render(w, "login.html", http.StatusOK, pageView{Next: next})
	})).ServeHTTP(w, r)
}

// dashLogin exchanges an admin or viewer API token for a session. The token is never echoed.
func (s *Server) dashLogin(w http.ResponseWriter, r *http.Request) {
	securityHeaders(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := crossOrigin.Check(r); err != nil {
			http.Error(w, "cross-origin request refused", http.StatusForbidden)
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
		rdb := s.Broker.Client()
		failKey := loginFailPrefix + clientAddr(r)
		// Every attempt is counted before its token is looked at, in one step with the check:
		// read first and counted after, a burst of guesses sent at once all passed the check
		// before any was counted. A right token gives its count back. The window starts at
		// the first attempt and is given in the same step as the count.
		n, err := queue.CountInWindow(r.Context(), rdb, failKey, loginFailWindow)
		if err != nil {
			// Not counted, so not checked: a wrong token's 401 beside a right one's 503 would
			// let guessing go on unlimited while Redis is down.
			s.Logger.Error("dashboard: counting a login attempt", zap.Error(err))
			w.Header().Set("Retry-After", RetryAfter)
			s.render(w, "login.html", http.StatusServiceUnavailable, pageView{Error: "Redis is unavailable; try again shortly.", Next: back(r)})
			return
		}
		if n > MaxLoginFailures {
			w.Header().Set("Retry-After", strconv.Itoa(int(loginFailWindow/time.Second)))
			s.render(w, "login.html", http.StatusTooManyRequests, pageView{Error: "Too many wrong tokens from this address; try again in 15 minutes.", Next: back(r)})
			return
		}
		token := r.PostFormValue("token")
		role, ok := s.dashboardRole(token)
		if !ok {
			s.render(w, "login.html", http.StatusUnauthorized, pageView{Error: "That token is not an admin or viewer token.", Next: back(r)})
			return
		}
		_ = uncountScript.Run(r.Context(), rdb, []string{failKey}).Err()
		id, err := newSession(r.Context(), s.Broker.Client(), role, token)
		if err != nil {
			s.Logger.Error("dashboard: logging in", zap.Error(err))
			w.Header().Set("Retry-After", RetryAfter)
			s.render(w, "login.html", http.StatusServiceUnavailable, pageView{Error: "Redis is unavailable; try again shortly.", Next: back(r)})
			return
		}
		setSessionCookie(w, id, s.secure(r), int(SessionTTL/time.Second))
		http.Redirect(w, r, back(r), http.StatusSeeOther)
	})).ServeHTTP(w, r)
}

// MaxLoginFailures wrong tokens from one address within loginFailWindow lock that address out of
// the login form until the window ends (429), across herald processes: guessing a token from a
// browser form is not an option even for short tokens.
const (
	MaxLoginFailures = 20
	loginFailWindow  = 15 * time.Minute
	loginFailPrefix  = "herald:dash:fail:"
)

// uncountScript gives a right token's attempt back, so logins that succeed never lock an
// address out (behind a proxy every browser shares one). KEYS[1] the counter. DECR keeps the
// counter's window; a counter that expired meanwhile is not made again (without a TTL).
var uncountScript = redis.NewScript(`
local n = tonumber(redis.call("GET", KEYS[1]) or "0")
if n > 0 then redis.call("DECR", KEYS[1]) end
return 1
`)

// clientAddr is who the login lockout counts: the request's remote IP (the proxy's, behind
// one: then the limit is shared), or for IPv6 its /64. A single IPv6 host is handed a whole /64
// (SLAAC, every home and cloud subnet) and may take any address in it, so counted per address
// it would have 2^64 fresh addresses of 20 guesses each.
func clientAddr(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	a, err := netip.ParseAddr(host)
	if err != nil {
		return host
	}
	if a = a.Unmap(); a.Is6() {
		return netip.PrefixFrom(a.WithZone(""), 64).Masked().String()
	}
	return a.String()
}

func (s *Server) dashLogout(w http.ResponseWriter, r *http.Request, sess *session) {
	if err := sess.end(r.Context(), s.Broker.Client()); err != nil {
		s.Logger.Error("dashboard: logging out", zap.Error(err))
		dashUnavailable(w, "Redis is unavailable; try again shortly")
		return
	}
	setSessionCookie(w, "", s.secure(r), -1)
	http.Redirect(w, r, "/dashboard/login", http.StatusSeeOther)
}

// back returns the page a form came from, only ever a dashboard path on this site.
func back(r *http.Request) string { return dashPath(r.PostFormValue("next")) }

// dashPath is next if it is a dashboard path on this site, else the home page: a redirect never
// leaves the dashboard.
func dashPath(next string) string {
	if strings.HasPrefix(next, "/dashboard/") && !strings.HasPrefix(next, "//") && !strings.ContainsAny(next, "\\\r\n") {
		return next
	}
	return "/dashboard/"
}

func (s *Server) done(w http.ResponseWriter, r *http.Request, sess *session, msg string) {
	sess.setFlash(r.Context(), s.Broker.Client(), msg)
	http.Redirect(w, r, back(r), http.StatusSeeOther)
}

// dashChannelAction serves the pause, resume and retry-unknown buttons.
func (s *Server) dashChannelAction(w http.ResponseWriter, r *http.Request, sess *session) {
	name, action := r.PathValue("name"), r.PathValue("action")
	if !s.channel(name) {
		http.Error(w, "no configured channel "+name, http.StatusNotFound)
		return
	}
	if action != "pause" && action != "resume" && action != "retry-unknown" {
		http.Error(w, "unknown action "+action+" (pause, resume or retry-unknown)", http.StatusNotFound)
		return
	}
	s.dashOnce(w, r, sess, action+" of "+name, func(ctx context.Context) idemAnswer {
		return s.channelAction(r.WithContext(ctx), sess, name, action)
	})
}

// channelAction does a channel button's action and says what happened.
func (s *Server) channelAction(r *http.Request, sess *session, name, action string) idemAnswer {
	var err error
	switch action {
	case "pause":
		// A pause of a paused channel keeps the first pause (who, why, since): say so, as the
		// API's "already" and the bot's reply do, rather than "Paused" over a reason dropped.
		// The button went stale: another admin, or herald itself, paused it after the page
		// was drawn.
		if ps, perr := s.Broker.Paused(r.Context()); perr == nil {
			if i := slices.IndexFunc(ps, func(p queue.PauseInfo) bool { return string(p.Channel) == name }); i >= 0 {
				p := ps[i]
				s.auditDash(r, sess, action, strings.TrimSpace(name+" "+r.PostFormValue("reason")), errors.New("already paused by "+p.By))
				msg := name + " was already paused"
				if p.By != "" {
					msg += " by " + formatter.Isolate(p.By)
				}
				if !p.Since.IsZero() {
					msg += " " + ago(p.Since)
				}
				if p.Reason != "" {
					msg += ": " + formatter.Isolate(p.Reason)
				}
				return idemAnswer{Status: http.StatusConflict, Body: msg + ". That pause stays (resume first to pause it with your reason)."}
			}
		}
		err = s.Broker.PauseBy(r.Context(), channels.Name(name), strings.TrimSpace(r.PostFormValue("reason")), sess.Role+" via dashboard")
	case "resume":
		err = s.Broker.Resume(r.Context(), channels.Name(name))
	case "retry-unknown":
		var n int
		n, err = s.Broker.RetryUnknown(r.Context(), channels.Name(name), sess.Role+" via dashboard")
		// The count goes in the audit entry either way: when Redis fails part way, those
		// requeued before are being sent (as the API's 503 says with its "requeued").
		s.auditDash(r, sess, action, fmt.Sprintf("%s (requeued %d)", name, n), err)
		if err != nil {
			s.Logger.Error("dashboard: retrying unknown deliveries", zap.String("channel", name), zap.Int("requeued", n), zap.Error(err))
			return idemAnswer{Status: http.StatusServiceUnavailable, Body: fmt.Sprintf("Retrying %d unknown deliveries of %s, then Redis failed: the rest are still unknown; press the button again to send them.", n, name)}
		}
		return idemAnswer{Status: http.StatusAccepted, Body: fmt.Sprintf("Retrying %d unknown deliveries of %s.", n, name)}
	}
	s.auditDash(r, sess, action, name, err)
	if err != nil {
		s.Logger.Error("dashboard: pausing or resuming", zap.String("channel", name), zap.Error(err))
		return idemAnswer{Status: http.StatusServiceUnavailable, Body: "Could not " + action + " " + name + ": Redis is unavailable."}
	}
	return idemAnswer{Status: http.StatusOK, Body: map[string]string{"pause": "Paused ", "resume": "Resumed "}[action] + name + "."}
}

// dashDeliveryAction serves the retry and repost buttons (the rules are queue.Broker.Requeue's).
func (s *Server) dashDeliveryAction(w http.ResponseWriter, r *http.Request, sess *session) {
	id, ch, action := r.PathValue("id"), r.PathValue("channel"), r.PathValue("action")
	if action != "retry" && action != "repost" {
		http.Error(w, "unknown action "+action+" (retry or repost)", http.StatusNotFound)
		return
	}
	// An Arabic id ("خبر-12") in the English message, isolated: its digits stay after its letters.
	shown := formatter.Isolate(id)
	s.dashOnce(w, r, sess, action+" of "+shown+" on "+ch, func(ctx context.Context) idemAnswer {
		r := r.WithContext(ctx)
		_, err := s.requeueConfigured(r, id, ch, action, sess.Role+" via dashboard")
		s.auditDash(r, sess, action, id+" "+ch, err)
		switch {
		case errors.Is(err, queue.ErrNotFound):
			return idemAnswer{Status: http.StatusNotFound, Body: "No delivery of " + shown + " to " + ch + "."}
		case err != nil:
			// The reason names the delivery as "<id>:<channel>" (queue's messages): isolated too.
			why := strings.ReplaceAll(err.Error(), id+":"+ch, shown+":"+ch)
			return idemAnswer{Status: http.StatusConflict, Body: "Could not " + action + " " + shown + " on " + ch + ": " + why}
		}
		return idemAnswer{Status: http.StatusAccepted, Body: map[string]string{"retry": "Retrying ", "repost": "Reposting "}[action] + shown + " on " + ch + "."}
	})
}

// dashOnce does a button's action once per rendered form — its idem field, a key of its own
// (deliveryAction.Key, formkey) — and shows what it did: a form submitted twice (a double
// click, a reload that posts again) does nothing the second time and shows the first answer
// (web/idempotency.go). A form without a key (a page from an older herald) just runs.
func (s *Server) dashOnce(w http.ResponseWriter, r *http.Request, sess *session, what string, do func(context.Context) idemAnswer) {
	key, err := checkIdemKey(r.PostFormValue("idem"))
	if err != nil {
		s.done(w, r, sess, do(r.Context()).Body)
		return
	}
	ans, replayed, err := s.once(r.Context(), key, "dashboard "+r.URL.Path, do)
	switch {
	case errors.Is(err, errIdemRunning):
		s.done(w, r, sess, "That "+what+" is already being done (the button was pressed twice).")
	case errors.Is(err, errIdemOther):
		s.done(w, r, sess, "That form was already used for another action: reload the page and press the button again.")
	case err != nil:
		s.Logger.Error("dashboard: checking a form's idempotency key", zap.Error(err))
		s.done(w, r, sess, "Could not do the "+what+": Redis is unavailable.")
	case replayed:
		// Say so: nothing was done now (a stale form's second submit must not read as news).
		s.done(w, r, sess, ans.Body+" (The button was pressed twice: done once.)")
	default:
		s.done(w, r, sess, ans.Body)
	}
}

// auditDash records a dashboard action in the audit log that herald audit and the Telegram
// admin bot show.
func (s *Server) auditDash(r *http.Request, sess *session, action, args string, err error) {
	result := "ok"
	if err != nil {
		result = err.Error()
	}
	// Where it came from, as the API's entries say; and written even if the browser went away
	// once the action was taken.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), 5*time.Second)
	defer cancel()
	e := queue.AuditEntry{Source: "dashboard", Client: r.RemoteAddr, Username: sess.Role, Action: action, Args: args, Result: result, Allowed: true}
	if aerr := s.Broker.AppendAudit(ctx, e); aerr != nil {
		s.Logger.Warn("dashboard: writing the audit log", zap.Error(aerr))
	}
}

func ago(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	d := time.Since(t)
	future := d < 0
	if future {
		d = -d
	}
	var s string
	switch {
	case d < time.Minute:
		s = d.Round(time.Second).String()
	case d < time.Hour:
		s = d.Round(time.Minute).String()
		s = strings.TrimSuffix(s, "0s")
	case d < 48*time.Hour:
		s = d.Round(time.Hour).String()
		s = strings.TrimSuffix(strings.TrimSuffix(s, "0s"), "0m")
	default:
		s = t.UTC().Format("2006-01-02")
		return s
	}
	if future {
		return "in " + s
	}
	return s + " ago"
}
