package web

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/zap"

	"herald/article"
	"herald/channels"
	"herald/channels/telegram/telegramfake"
	"herald/config"
	"herald/formatter"
	"herald/ingest"
	"herald/internal/redistest"
	"herald/queue"
)

const (
	dashAdminToken     = "dash-admin-token-0123456789"
	dashViewerToken    = "dash-viewer-token-0123456789"
	dashPublisherToken = "dash-publisher-token-0123456789"
	arabicTitle        = "زيلينسكي يقول إن كوريا الشمالية أرسلت قوات لدعم الجيش الروسي"
)

type dashEnv struct {
	t      *testing.T
	srv    *Server
	h      http.Handler
	broker *queue.Broker
	id     string // a published article
}

func newDashEnv(t *testing.T) *dashEnv {
	t.Helper()
	rdb, _ := redistest.Start(t)
	doc := `
channels:
  - {name: tg-main, kind: telegram, settings: {token: "` + telegramfake.DefaultToken + `", chat_id: "@news", api_endpoint: "http://127.0.0.1:9"}}
  - {name: tg-two, kind: telegram, settings: {token: "` + telegramfake.DefaultToken + `", chat_id: "@two", api_endpoint: "http://127.0.0.1:9"}}
`
	cfg, err := config.Parse([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	b := queue.NewBroker(rdb, queue.Options{})
	var chs []queue.ChannelConfig
	var previews []formatter.PreviewTarget
	for _, c := range cfg.Channels {
		chs = append(chs, queue.ChannelConfig{Name: c.Spec.Name, Kind: c.Spec.Kind, Limit: c.Limit})
		previews = append(previews, formatter.PreviewTarget{Name: string(c.Spec.Name), Kind: c.Spec.Kind, Options: c.Format})
	}
	pub := &ingest.Publisher{Config: cfg, Broker: b}
	s := &Server{Publisher: pub, Broker: b, Token: dashAdminToken, Logger: zap.NewNop(), Channels: chs,
		Tokens:    []Token{{Role: RoleViewer, Token: dashViewerToken}, {Role: RolePublisher, Token: dashPublisherToken}},
		Dashboard: DashboardOptions{Previews: previews}}
	a := article.Article{URL: "https://news.example.com/world/2026/11/story", Title: arabicTitle,
		Body: "<p>نص الخبر</p>", Tags: []string{"أوكرانيا"}}
	res, err := pub.Publish(context.Background(), &a)
	if err != nil {
		t.Fatal(err)
	}
	return &dashEnv{t: t, srv: s, h: s.Handler(), broker: b, id: res.ArticleID}
}

// client is a browser-like cookie holder talking to the handler directly.
type client struct {
	e      *dashEnv
	cookie *http.Cookie
}

func (c *client) do(method, path string, form url.Values, h map[string]string) *httptest.ResponseRecorder {
	c.e.t.Helper()
	var body *strings.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	} else {
		body = strings.NewReader("")
	}
	req := httptest.NewRequest(method, path, body)
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if method == http.MethodPost {
		req.Header.Set("Sec-Fetch-Site", "same-origin")
	}
	for k, v := range h {
		if v == "" {
			req.Header.Del(k)
		} else {
			req.Header.Set(k, v)
		}
	}
	if c.cookie != nil {
		req.AddCookie(c.cookie)
	}
	rec := httptest.NewRecorder()
	c.e.h.ServeHTTP(rec, req)
	return rec
}

func (e *dashEnv) login(token string) *client {
	e.t.Helper()
	c := &client{e: e}
	rec := c.do(http.MethodPost, "/dashboard/login", url.Values{"token": {token}}, nil)
	if rec.Code != http.StatusSeeOther {
		e.t.Fatalf("login: %d %s", rec.Code, rec.Body)
	}
	for _, ck := range rec.Result().Cookies() {
		if ck.Name == sessionCookie {
			c.cookie = ck
		}
	}
	if c.cookie == nil {
		e.t.Fatal("login set no session cookie")
	}
	return c
}

// loginAs gives a session of a role without the login form (another one, with the role's token).
func (e *dashEnv) loginAs(role string) *client {
	e.t.Helper()
	token := map[string]string{roleAdmin: dashAdminToken, roleViewer: dashViewerToken}[role]
	id, err := newSession(context.Background(), e.broker.Client(), role, token)
	if err != nil {
		e.t.Fatal(err)
	}
	return &client{e: e, cookie: &http.Cookie{Name: sessionCookie, Value: id}}
}

var csrfRE = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// browserLogin logs in to the dashboard served at base with token, as a browser does (a cookie
// jar), and returns the client and the CSRF token of the page at path.
func browserLogin(t *testing.T, base, token, path string) (*http.Client, string) {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, Timeout: 10 * time.Second}
	resp, err := c.PostForm(base+"/dashboard/login", url.Values{"token": {token}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp, err = c.Get(base + path); err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	csrf := csrfRE.FindStringSubmatch(string(page))
	if csrf == nil {
		t.Fatalf("no CSRF token in %s: %s", path, page)
	}
	return c, csrf[1]
}

func (c *client) page(path string) string {
	c.e.t.Helper()
	rec := c.do(http.MethodGet, path, nil, nil)
	if rec.Code != http.StatusOK {
		c.e.t.Fatalf("GET %s: %d %s", path, rec.Code, rec.Body)
	}
	return rec.Body.String()
}

func (c *client) csrf() string {
	c.e.t.Helper()
	m := csrfRE.FindStringSubmatch(c.page("/dashboard/"))
	if m == nil {
		c.e.t.Fatal("no CSRF token in the page")
	}
	return m[1]
}

func (e *dashEnv) paused(ch string) (queue.PauseInfo, bool) {
	e.t.Helper()
	ps, err := e.broker.Paused(context.Background())
	if err != nil {
		e.t.Fatal(err)
	}
	for _, p := range ps {
		if string(p.Channel) == ch {
			return p, true
		}
	}
	return queue.PauseInfo{}, false
}

// A pause POST without the CSRF token, with a wrong one, or from another site is refused and
// pauses nothing; with the session's token from the same origin it pauses.
func TestDashboardCSRF(t *testing.T) {
	e := newDashEnv(t)
	c := e.login(dashAdminToken)
	token := c.csrf()
	const path = "/dashboard/channels/tg-main/pause"
	cases := []struct {
		name string
		form url.Values
		hdr  map[string]string
	}{
		{"no token", url.Values{"reason": {"x"}}, nil},
		{"wrong token", url.Values{"csrf": {strings.Map(func(r rune) rune { return r ^ 1 }, token[:1]) + token[1:]}}, nil},
		{"another session's token", url.Values{"csrf": {e.loginAs(roleAdmin).csrf()}}, nil},
		{"cross-site fetch", url.Values{"csrf": {token}}, map[string]string{"Sec-Fetch-Site": "cross-site"}},
		{"foreign Origin", url.Values{"csrf": {token}}, map[string]string{"Sec-Fetch-Site": "", "Origin": "https://evil.example"}},
	}
	for _, tc := range cases {
		rec := c.do(http.MethodPost, path, tc.form, tc.hdr)
		if rec.Code != http.StatusForbidden {
			t.Errorf("%s: %d, want 403", tc.name, rec.Code)
		}
		if _, ok := e.paused("tg-main"); ok {
			t.Fatalf("%s: the channel was paused", tc.name)
		}
	}
	rec := c.do(http.MethodPost, path, url.Values{"csrf": {token}, "reason": {"صيانة"}}, nil)
	if rec.Code != http.StatusSeeOther {
		t.Fatalf("with the right token: %d %s", rec.Code, rec.Body)
	}
	p, ok := e.paused("tg-main")
	if !ok || p.Reason != "صيانة" || p.By != "admin via dashboard" {
		t.Fatalf("after pause: %+v %v", p, ok)
	}
	page := c.page("/dashboard/")
	for _, want := range []string{`id="ch-tg-main" data-state="paused"`, `by <b dir="auto">admin via dashboard</b>: <span dir="auto">صيانة</span>`, "Paused tg-main.", `data-action="resume" data-channel="tg-main"`} {
		if !strings.Contains(page, want) {
			t.Errorf("page after pause lacks %q", want)
		}
	}
	// Resume through its button.
	if rec := c.do(http.MethodPost, "/dashboard/channels/tg-main/resume", url.Values{"csrf": {token}}, nil); rec.Code != http.StatusSeeOther {
		t.Fatalf("resume: %d", rec.Code)
	}
	if _, ok := e.paused("tg-main"); ok {
		t.Fatal("still paused after resume")
	}
	// The actions are in the audit log.
	es, err := e.broker.Audit(context.Background(), 10)
	if err != nil || len(es) != 2 || es[0].Action != "resume" || es[1].Action != "pause" || es[1].Source != "dashboard" {
		t.Fatalf("audit: %+v %v", es, err)
	}
}

// A viewer token logs in as a viewer, who sees the state but no button, and every POST but
// logout is refused; a publisher token does not log in.
func TestDashboardViewerHasNoButtons(t *testing.T) {
	e := newDashEnv(t)
	if rec := (&client{e: e}).do(http.MethodPost, "/dashboard/login", url.Values{"token": {dashPublisherToken}}, nil); rec.Code != http.StatusUnauthorized || len(rec.Result().Cookies()) != 0 {
		t.Fatalf("publisher login: %d", rec.Code)
	}
	v := e.login(dashViewerToken)
	if page := v.page("/dashboard/"); !strings.Contains(page, `<b class="role">viewer</b>`) {
		t.Fatal("the viewer token did not log in as a viewer")
	}
	home, art := v.page("/dashboard/"), v.page("/dashboard/articles/"+e.id)
	for name, page := range map[string]string{"home": home, "article": art, "live": v.page("/dashboard/live")} {
		if strings.Contains(page, "data-action=") || strings.Contains(page, "/pause\"") {
			t.Errorf("viewer's %s page has buttons", name)
		}
		if !strings.Contains(page, "tg-main") {
			t.Errorf("viewer's %s page does not show the channel", name)
		}
	}
	token := v.csrf()
	for _, path := range []string{"/dashboard/channels/tg-main/pause", "/dashboard/channels/tg-main/retry-unknown", "/dashboard/articles/" + e.id + "/deliveries/tg-main/repost"} {
		if rec := v.do(http.MethodPost, path, url.Values{"csrf": {token}}, nil); rec.Code != http.StatusForbidden {
			t.Errorf("viewer POST %s: %d, want 403", path, rec.Code)
		}
	}
	if _, ok := e.paused("tg-main"); ok {
		t.Fatal("a viewer paused a channel")
	}
	a := e.loginAs(roleAdmin)
	if page := a.page("/dashboard/"); !strings.Contains(page, `data-action="pause" data-channel="tg-main"`) {
		t.Fatal("the admin's page has no pause button")
	}
}

// The session cookie is HttpOnly and SameSite=Strict, Secure over TLS; a wrong token gets no
// cookie; logout ends the session in Redis, not only in the browser.
func TestDashboardLoginCookieAndLogout(t *testing.T) {
	e := newDashEnv(t)
	anon := &client{e: e}
	if rec := anon.do(http.MethodGet, "/dashboard/", nil, nil); rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/dashboard/login" {
		t.Fatalf("anonymous home: %d %q", rec.Code, rec.Header().Get("Location"))
	}
	if rec := anon.do(http.MethodGet, "/dashboard/live", nil, nil); rec.Code != http.StatusUnauthorized {
		t.Fatalf("anonymous fragment: %d", rec.Code)
	}
	if rec := anon.do(http.MethodGet, "/", nil, nil); rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/dashboard/" {
		t.Fatalf("/: %d %q", rec.Code, rec.Header().Get("Location"))
	}
	for _, tok := range []string{"", "wrong", dashAdminToken + "x"} {
		rec := anon.do(http.MethodPost, "/dashboard/login", url.Values{"token": {tok}}, nil)
		if rec.Code != http.StatusUnauthorized || len(rec.Result().Cookies()) != 0 {
			t.Fatalf("login with %q: %d, cookies %v", tok, rec.Code, rec.Result().Cookies())
		}
		if tok != "" && strings.Contains(rec.Body.String(), tok) {
			t.Fatal("the login page echoes the token")
		}
	}
	if rec := anon.do(http.MethodPost, "/dashboard/login", url.Values{"token": {dashAdminToken}}, map[string]string{"Sec-Fetch-Site": "cross-site"}); rec.Code != http.StatusForbidden {
		t.Fatalf("cross-site login: %d, want 403", rec.Code)
	}

	c := e.login(dashAdminToken)
	ck := c.cookie
	if !ck.HttpOnly || ck.SameSite != http.SameSiteStrictMode || ck.Secure || ck.Path != "/" || ck.MaxAge <= 0 {
		t.Fatalf("cookie over HTTP: %+v", ck)
	}
	if len(ck.Value) < 40 {
		t.Fatalf("session id too short: %d", len(ck.Value))
	}
	req := httptest.NewRequest(http.MethodPost, "https://herald.example/dashboard/login", strings.NewReader("token="+dashAdminToken))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.TLS = &tls.ConnectionState{}
	rec := httptest.NewRecorder()
	e.h.ServeHTTP(rec, req)
	if cs := rec.Result().Cookies(); len(cs) != 1 || !cs[0].Secure || !cs[0].HttpOnly || cs[0].SameSite != http.SameSiteStrictMode {
		t.Fatalf("cookie over TLS: %+v", cs)
	}
	// Redis holds a hash of the id, not the id.
	keys, _ := e.broker.Client().Keys(context.Background(), sessionPrefix+"*").Result()
	for _, k := range keys {
		if strings.Contains(k, ck.Value) {
			t.Fatal("the session id is stored in clear in Redis")
		}
	}

	token := c.csrf()
	if rec := c.do(http.MethodPost, "/dashboard/logout", url.Values{}, nil); rec.Code != http.StatusForbidden {
		t.Fatalf("logout without CSRF: %d, want 403", rec.Code)
	}
	rec = c.do(http.MethodPost, "/dashboard/logout", url.Values{"csrf": {token}}, nil)
	if rec.Code != http.StatusSeeOther {
		t.Fatalf("logout: %d", rec.Code)
	}
	if cs := rec.Result().Cookies(); len(cs) != 1 || cs[0].MaxAge >= 0 {
		t.Fatalf("logout cookie: %+v", cs)
	}
	// The old cookie (a copy an attacker kept) no longer works.
	if rec := c.do(http.MethodGet, "/dashboard/", nil, nil); rec.Code != http.StatusSeeOther {
		t.Fatalf("home after logout: %d", rec.Code)
	}
	if rec := c.do(http.MethodPost, "/dashboard/channels/tg-main/pause", url.Values{"csrf": {token}}, nil); rec.Code != http.StatusUnauthorized {
		t.Fatalf("pause after logout: %d", rec.Code)
	}
}

// No page shows the API token, a channel's bot token or the session id; the Arabic title is
// there with dir="auto"; the article page shows what the platform receives.
func TestDashboardShowsNoSecrets(t *testing.T) {
	e := newDashEnv(t)
	c := e.login(dashAdminToken)
	pages := map[string]string{}
	for _, p := range []string{"/dashboard/", "/dashboard/live", "/dashboard/articles/" + e.id} {
		pages[p] = c.page(p)
	}
	pages["login form"] = (&client{e: e}).page("/dashboard/login")
	for p, body := range pages {
		for _, secret := range []string{dashAdminToken, dashViewerToken, dashPublisherToken, telegramfake.DefaultToken, c.cookie.Value} {
			if strings.Contains(body, secret) {
				t.Errorf("%s shows a secret (%.6s…)", p, secret)
			}
		}
	}
	home := pages["/dashboard/"]
	if !strings.Contains(home, `dir="auto">`+arabicTitle+`</a>`) {
		t.Error("home: the Arabic title is not shown with dir=auto")
	}
	art := pages["/dashboard/articles/"+e.id]
	for _, want := range []string{`<h1 dir="auto" class="headline">` + arabicTitle, `id="d-tg-main"`, `id="d-tg-two"`, "What telegram receives", "#أوكرانيا"} {
		if !strings.Contains(art, want) {
			t.Errorf("article page lacks %q", want)
		}
	}
	rec := c.do(http.MethodGet, "/dashboard/", nil, nil)
	if csp := rec.Header().Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'self'") || !strings.Contains(csp, "frame-ancestors 'none'") {
		t.Errorf("CSP: %q", csp)
	}
	if rec := c.do(http.MethodGet, "/dashboard/articles/nope", nil, nil); rec.Code != http.StatusNotFound {
		t.Errorf("unknown article: %d", rec.Code)
	}
	for _, f := range []string{"/dashboard/static/dashboard.css", "/dashboard/static/dashboard.js"} {
		if rec := c.do(http.MethodGet, f, nil, nil); rec.Code != http.StatusOK || rec.Body.Len() < 100 {
			t.Errorf("%s: %d", f, rec.Code)
		}
	}
}

// Retry and repost go through queue.Broker.Requeue: a repost of a pending delivery is refused
// (shown as a message), the redirect stays on the dashboard whatever next says.
func TestDashboardRequeueButtons(t *testing.T) {
	e := newDashEnv(t)
	c := e.login(dashAdminToken)
	token := c.csrf()
	path := "/dashboard/articles/" + e.id + "/deliveries/tg-main/repost"
	rec := c.do(http.MethodPost, path, url.Values{"csrf": {token}, "next": {"//evil.example/x"}}, nil)
	if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/dashboard/" {
		t.Fatalf("repost: %d %q", rec.Code, rec.Header().Get("Location"))
	}
	if page := c.page("/dashboard/"); !strings.Contains(page, "still in progress") {
		t.Fatal("no message for a refused repost")
	}
	// Drop it (a final failed), then retry from the article page.
	if _, err := e.broker.Drop(context.Background(), e.id, channels.Name("tg-main"), "test"); err != nil {
		t.Fatal(err)
	}
	back := "/dashboard/articles/" + e.id
	if page := c.page(back); !strings.Contains(page, `data-action="retry" data-channel="tg-main"`) {
		t.Fatal("no retry button for a failed delivery")
	}
	rec = c.do(http.MethodPost, "/dashboard/articles/"+e.id+"/deliveries/tg-main/retry", url.Values{"csrf": {token}, "next": {back}}, nil)
	if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != back {
		t.Fatalf("retry: %d %q", rec.Code, rec.Header().Get("Location"))
	}
	d, err := e.broker.Delivery(context.Background(), e.id, "tg-main")
	if err != nil || d.State != queue.StatePending {
		t.Fatalf("after retry: %+v %v", d, err)
	}
}

func TestBuildChart(t *testing.T) {
	start := time.Date(2026, 11, 25, 20, 0, 0, 0, time.UTC)
	cs := make([]queue.Counts, chartHours)
	cs[0] = queue.Counts{Sent: 4}
	cs[23] = queue.Counts{Sent: 2, Failed: 2}
	c := buildChart(start, cs)
	if len(c.Bars) != chartHours || c.Max != 4 {
		t.Fatalf("bars %d max %d", len(c.Bars), c.Max)
	}
	if b := c.Bars[0]; b.SentH != c.Height-2 || b.FailedH != 0 || b.SentY+b.SentH != c.Height {
		t.Fatalf("first bar %+v", b)
	}
	if b := c.Bars[23]; b.SentH != b.FailedH || b.FailedY+b.FailedH != b.SentY || b.Label != "19:00–20:00 UTC: 2 sent, 2 failed" {
		t.Fatalf("last bar %+v", b)
	}
	if b := c.Bars[5]; b.SentH != 0 || b.FailedH != 0 {
		t.Fatalf("empty bar %+v", b)
	}
}

// After MaxLoginFailures wrong tokens from one address, even the right token is refused (429)
// from that address until the window ends; another address still logs in.
func TestDashboardLoginLockout(t *testing.T) {
	e := newDashEnv(t)
	anon := &client{e: e}
	for i := 0; i < MaxLoginFailures; i++ {
		if rec := anon.do(http.MethodPost, "/dashboard/login", url.Values{"token": {"guess-" + strconv.Itoa(i)}}, nil); rec.Code != http.StatusUnauthorized {
			t.Fatalf("guess %d: %d", i, rec.Code)
		}
	}
	rec := anon.do(http.MethodPost, "/dashboard/login", url.Values{"token": {dashAdminToken}}, nil)
	if rec.Code != http.StatusTooManyRequests || len(rec.Result().Cookies()) != 0 || rec.Header().Get("Retry-After") == "" {
		t.Fatalf("right token after %d wrong ones: %d %v", MaxLoginFailures, rec.Code, rec.Result().Cookies())
	}
	req := httptest.NewRequest(http.MethodPost, "/dashboard/login", strings.NewReader("token="+dashAdminToken))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.RemoteAddr = "192.0.2.7:4000"
	rec = httptest.NewRecorder()
	e.h.ServeHTTP(rec, req)
	if rec.Code != http.StatusSeeOther {
		t.Fatalf("another address: %d", rec.Code)
	}
}

// TestDashboardLoginLockoutHoldsForABurst: guesses sent all at once are each counted before
// their token is looked at, so no more than MaxLoginFailures of them are checked (before, the
// count was read first and raised after, and a burst all passed the check before any was
// counted). Right tokens give their count back: logins that succeed never lock an address
// (behind a proxy every browser shares one) out.
func TestDashboardLoginLockoutHoldsForABurst(t *testing.T) {
	e := newDashEnv(t)
	login := func(addr, token string) int {
		req := httptest.NewRequest(http.MethodPost, "/dashboard/login", strings.NewReader(url.Values{"token": {token}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.RemoteAddr = addr + ":4000"
		rec := httptest.NewRecorder()
		e.h.ServeHTTP(rec, req)
		return rec.Code
	}
	for i := range MaxLoginFailures + 5 {
		if code := login("192.0.2.20", dashViewerToken); code != http.StatusSeeOther {
			t.Fatalf("right token, login %d: %d", i+1, code)
		}
	}
	const burst = 8 * MaxLoginFailures
	codes := make(chan int, burst)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range burst {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			codes <- login("192.0.2.21", "guess-"+strconv.Itoa(i))
		}()
	}
	close(start)
	wg.Wait()
	close(codes)
	checked := 0
	for c := range codes {
		switch c {
		case http.StatusUnauthorized:
			checked++
		case http.StatusTooManyRequests:
		default:
			t.Fatalf("a guess answered %d", c)
		}
	}
	if checked != MaxLoginFailures {
		t.Fatalf("%d of a burst of %d guesses were checked, want %d", checked, burst, MaxLoginFailures)
	}
	if code := login("192.0.2.21", dashAdminToken); code != http.StatusTooManyRequests {
		t.Fatalf("right token after the burst: %d, want 429", code)
	}
}

// TestDashboardLoginLockoutCountsAnIPv6Subnet: an IPv6 host may take any address of its /64,
// so the lockout counts the /64: guesses spread over addresses of one subnet are locked out
// together (before, each address had 20 of its own), while another subnet still logs in.
func TestDashboardLoginLockoutCountsAnIPv6Subnet(t *testing.T) {
	e := newDashEnv(t)
	login := func(addr, token string) int {
		req := httptest.NewRequest(http.MethodPost, "/dashboard/login", strings.NewReader(url.Values{"token": {token}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.RemoteAddr = "[" + addr + "]:4000"
		rec := httptest.NewRecorder()
		e.h.ServeHTTP(rec, req)
		return rec.Code
	}
	for i := range MaxLoginFailures {
		if code := login(fmt.Sprintf("2001:db8:77:1::%x", i+1), "guess-"+strconv.Itoa(i)); code != http.StatusUnauthorized {
			t.Fatalf("guess %d: %d", i, code)
		}
	}
	if code := login("2001:db8:77:1:ffff:1:2:3", "guess-next"); code != http.StatusTooManyRequests {
		t.Fatalf("a guess from a fresh address of the same /64: %d, want 429", code)
	}
	if code := login("2001:db8:77:1::abcd", dashAdminToken); code != http.StatusTooManyRequests {
		t.Fatalf("the right token from the same /64: %d, want 429", code)
	}
	if code := login("2001:db8:77:2::1", dashAdminToken); code != http.StatusSeeOther {
		t.Fatalf("another /64: %d, want 303", code)
	}
}

// A wrong token's counter always has its window: one left without a TTL (its EXPIRE lost, as
// when INCR and EXPIRE went apart and the second failed) gets it at the next failure instead
// of locking the address out of the login form for ever.
func TestDashboardLoginFailuresAlwaysExpire(t *testing.T) {
	e := newDashEnv(t)
	rdb := e.broker.Client()
	ctx := context.Background()
	key := loginFailPrefix + "192.0.2.9"
	if err := rdb.Set(ctx, key, 3, 0).Err(); err != nil {
		t.Fatal(err)
	}
	req := httptest.NewRequest(http.MethodPost, "/dashboard/login", strings.NewReader("token=wrong-token"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.RemoteAddr = "192.0.2.9:4000"
	rec := httptest.NewRecorder()
	e.h.ServeHTTP(rec, req)
	if rec.Code != http.StatusUnauthorized {
		t.Fatalf("wrong token: %d", rec.Code)
	}
	n, _ := rdb.Get(ctx, key).Int()
	ttl, err := rdb.PTTL(ctx, key).Result()
	if err != nil || n != 4 || ttl <= 0 || ttl > loginFailWindow {
		t.Fatalf("counter %d with TTL %v (%v): want 4 with a TTL of at most %v", n, ttl, err, loginFailWindow)
	}
	// A fresh counter gets the window at its first failure.
	rdb.Del(ctx, key)
	rec = httptest.NewRecorder()
	req = httptest.NewRequest(http.MethodPost, "/dashboard/login", strings.NewReader("token=wrong-token"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.RemoteAddr = "192.0.2.9:4000"
	e.h.ServeHTTP(rec, req)
	if ttl, _ := rdb.PTTL(ctx, key).Result(); ttl <= 0 {
		t.Fatalf("first failure: TTL %v", ttl)
	}
}

// A button's result (the flash message) is not written into a session that ended between the
// request reading it and the answer: that would bring the session's key back as a hash with
// no TTL, which nothing ever deletes.
func TestDashboardFlashDoesNotReviveAnEndedSession(t *testing.T) {
	e := newDashEnv(t)
	rdb := e.broker.Client()
	ctx := context.Background()
	id, err := newSession(ctx, rdb, roleAdmin, dashAdminToken)
	if err != nil {
		t.Fatal(err)
	}
	s := &session{key: sessionKey(id), Role: roleAdmin}
	s.setFlash(ctx, rdb, "paused tg-main")
	if got, _ := rdb.HGet(ctx, s.key, "flash").Result(); got != "paused tg-main" {
		t.Fatalf("flash of a live session: %q", got)
	}
	if ttl, _ := rdb.TTL(ctx, s.key).Result(); ttl <= 0 || ttl > SessionTTL {
		t.Fatalf("live session's TTL after a flash: %v", ttl)
	}
	if err := s.end(ctx, rdb); err != nil { // logged out (or expired) meanwhile
		t.Fatal(err)
	}
	s.setFlash(ctx, rdb, "resumed tg-main")
	if n, _ := rdb.Exists(ctx, s.key).Result(); n != 0 {
		ttl, _ := rdb.TTL(ctx, s.key).Result()
		t.Fatalf("the ended session's key is back (TTL %v)", ttl)
	}
}

// A session lasts only as long as the token it was made with: when that token leaves the
// configuration (rotated after a leak) the session ends at the next request, and when its role
// changes (admin to viewer) the session has the new role at once, not for the rest of its 12
// hours.
func TestDashboardSessionFollowsItsToken(t *testing.T) {
	e := newDashEnv(t)
	const extra = "dash-second-admin-token-0123456789"
	e.srv.Tokens = append(e.srv.Tokens, Token{Role: RoleAdmin, Token: extra})
	c := e.login(extra)
	token := c.csrf()
	if page := c.page("/dashboard/"); !strings.Contains(page, `data-action="pause" data-channel="tg-main"`) {
		t.Fatal("the admin's page has no pause button")
	}
	// Demoted to viewer (a restart with the new configuration).
	e.srv.Tokens[len(e.srv.Tokens)-1].Role = RoleViewer
	if page := c.page("/dashboard/"); strings.Contains(page, "data-action=") || !strings.Contains(page, `<b class="role">viewer</b>`) {
		t.Fatal("a demoted token's session still shows an admin's page")
	}
	if rec := c.do(http.MethodPost, "/dashboard/channels/tg-main/pause", url.Values{"csrf": {token}}, nil); rec.Code != http.StatusForbidden {
		t.Fatalf("pause with a demoted token's session: %d, want 403", rec.Code)
	}
	// Removed from the configuration.
	e.srv.Tokens = e.srv.Tokens[:len(e.srv.Tokens)-1]
	if rec := c.do(http.MethodGet, "/dashboard/", nil, nil); rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/dashboard/login" {
		t.Fatalf("home with a removed token's session: %d %q", rec.Code, rec.Header().Get("Location"))
	}
	if rec := c.do(http.MethodGet, "/dashboard/live", nil, nil); rec.Code != http.StatusUnauthorized {
		t.Fatalf("live fragment with a removed token's session: %d", rec.Code)
	}
	if rec := c.do(http.MethodPost, "/dashboard/channels/tg-main/pause", url.Values{"csrf": {token}}, nil); rec.Code != http.StatusUnauthorized {
		t.Fatalf("pause with a removed token's session: %d, want 401", rec.Code)
	}
	if _, ok := e.paused("tg-main"); ok {
		t.Fatal("a session of a removed token paused a channel")
	}
	// Sessions of the tokens still configured go on.
	if page := e.login(dashAdminToken).page("/dashboard/"); !strings.Contains(page, `data-action="pause"`) {
		t.Fatal("the configured admin token's session lost its buttons")
	}
}

// A title with HTML entities and tags (a CMS posting rendered titles) shows on the dashboard
// as the channels' posts show it, not as "&amp;" or "<b>" text.
func TestDashboardShowsTitlesAsThePostsDo(t *testing.T) {
	e := newDashEnv(t)
	a := article.Article{URL: "https://news.example.com/world/2026/11/summit", Title: "<b>عاجل</b>: ترامب &amp; بايدن &#8220;قمة&#8221;"}
	res, err := e.srv.Publisher.Publish(context.Background(), &a)
	if err != nil {
		t.Fatal(err)
	}
	c := e.login(dashAdminToken)
	// html/template escapes "&" once: the page's text reads "ترامب & بايدن".
	const want = "عاجل: ترامب &amp; بايدن “قمة”"
	if page := c.page("/dashboard/"); !strings.Contains(page, `dir="auto">`+want+`</a>`) || strings.Contains(page, "&lt;b&gt;عاجل") {
		t.Errorf("the last deliveries do not show the title as the posts do (%q)", want)
	}
	// (The preview below shows the Telegram HTML itself, tags and all.)
	page := c.page("/dashboard/articles/" + res.ArticleID)
	for _, w := range []string{`<h1 dir="auto" class="headline">` + want + `</h1>`, "<title>" + want + " — herald</title>"} {
		if !strings.Contains(page, w) {
			t.Errorf("the article page lacks %q", w)
		}
	}
}

// An Arabic article id with digits (a CMS slug, "خبر-12") inside an English line is isolated,
// so the digits stay after the letters instead of being reordered with the text around it:
// the article page's id, the not-found page, and a button's result.
func TestDashboardIsolatesArabicIDs(t *testing.T) {
	e := newDashEnv(t)
	const id = "خبر-12"
	a := article.Article{ID: id, URL: "https://news.example.com/ar/khabar-12", Title: arabicTitle}
	if _, err := e.srv.Publisher.Publish(context.Background(), &a); err != nil {
		t.Fatal(err)
	}
	if _, err := e.broker.Drop(context.Background(), id, "tg-main", "test"); err != nil {
		t.Fatal(err)
	}
	c := e.login(dashAdminToken)
	path := "/dashboard/articles/" + url.PathEscape(id)
	if page := c.page(path); !strings.Contains(page, `<code dir="auto">`+id+`</code>`) {
		t.Error("the article page's id is not isolated")
	}
	rec := c.do(http.MethodGet, "/dashboard/articles/"+url.PathEscape("خبر-13"), nil, nil)
	if rec.Code != http.StatusNotFound || !strings.Contains(rec.Body.String(), `<code dir="auto">خبر-13</code>`) {
		t.Errorf("not-found page: %d, id not isolated", rec.Code)
	}
	c.do(http.MethodPost, path+"/deliveries/tg-main/retry", url.Values{"csrf": {c.csrf()}, "next": {path}}, nil)
	if page := c.page(path); !strings.Contains(page, "Retrying \u2068"+id+"\u2069 on tg-main.") {
		t.Error("the button's result does not isolate the id")
	}
	// A refused retry: the reason names the delivery "<id>:<channel>", its id isolated too (the
	// raw one read "12-خبر:tg-main").
	c.do(http.MethodPost, path+"/deliveries/tg-main/retry", url.Values{"csrf": {c.csrf()}, "next": {path}}, nil)
	if page := c.page(path); !strings.Contains(page, "delivery \u2068"+id+"\u2069:tg-main is still in progress") || strings.Contains(page, "delivery "+id) {
		t.Error("a refused button's reason does not isolate the id")
	}
}

// A dashboard action is audited with the address it came from (as the API's are), and even when
// the browser went away mid-request: the audit is written without the request's context.
func TestDashboardAuditSaysWhereAndSurvivesAHangUp(t *testing.T) {
	e := newDashEnv(t)
	c := e.login(dashAdminToken)
	token := c.csrf()
	if rec := c.do(http.MethodPost, "/dashboard/channels/tg-main/pause", url.Values{"csrf": {token}}, nil); rec.Code != http.StatusSeeOther {
		t.Fatalf("pause: %d", rec.Code)
	}
	es, err := e.broker.Audit(context.Background(), 10)
	if err != nil || len(es) != 1 || es[0].Client != "192.0.2.1:1234" || es[0].Source != "dashboard" {
		t.Fatalf("audit: %+v %v", es, err)
	}
	// The browser hangs up after the action was taken: its audit entry is still written.
	req := httptest.NewRequest(http.MethodPost, "/dashboard/channels/tg-main/resume", nil)
	ctx, cancel := context.WithCancel(req.Context())
	cancel()
	sess := &session{Role: roleAdmin}
	e.srv.auditDash(req.WithContext(ctx), sess, "resume", "tg-main", nil)
	es, err = e.broker.Audit(context.Background(), 10)
	if err != nil || len(es) != 2 || es[0].Action != "resume" {
		t.Fatalf("an action whose request hung up is not audited: %+v %v", es, err)
	}
}

// TestDashboardPauseOfAPausedChannelSaysSo: the pause button of a page drawn before another
// admin (or herald itself) paused the channel answered "Paused tg-main." while the first pause
// was kept and the reason typed was dropped. The message now says who paused it, when and why,
// and that the pause stays, as the API's "already" and the bot's reply do.
func TestDashboardPauseOfAPausedChannelSaysSo(t *testing.T) {
	e := newDashEnv(t)
	c := e.login(dashAdminToken)
	token := c.csrf() // the page shows tg-main active, with its pause button
	if err := e.broker.PauseBy(context.Background(), "tg-main", "صيانة المزوّد", "@ops via Telegram"); err != nil {
		t.Fatal(err)
	}
	rec := c.do(http.MethodPost, "/dashboard/channels/tg-main/pause", url.Values{"csrf": {token}, "reason": {"late desk"}}, nil)
	if rec.Code != http.StatusSeeOther {
		t.Fatalf("pause: %d %s", rec.Code, rec.Body)
	}
	page := c.page("/dashboard/")
	if strings.Contains(page, "Paused tg-main.") || !strings.Contains(page, "tg-main was already paused by \u2068@ops via Telegram\u2069") ||
		!strings.Contains(page, "\u2068صيانة المزوّد\u2069") || !strings.Contains(page, "That pause stays") {
		t.Errorf("the pause of a paused channel does not say the first pause stays:\n%s", page)
	}
	if p, ok := e.paused("tg-main"); !ok || p.By != "@ops via Telegram" || p.Reason != "صيانة المزوّد" {
		t.Errorf("the first pause was not kept: %+v", p)
	}
	es, err := e.broker.Audit(context.Background(), 1)
	if err != nil || len(es) != 1 || es[0].Action != "pause" || !strings.Contains(es[0].Result, "already paused by @ops via Telegram") {
		t.Errorf("audit: %+v %v", es, err)
	}
}

// TestDashboardRedisDownIs503WithRetryAfter: with Redis gone the dashboard's pages, its live
// fragment, its buttons and its login form answer 503, and, like every API 503, with
// Retry-After (they had none).
func TestDashboardRedisDownIs503WithRetryAfter(t *testing.T) {
	e := newDashEnv(t)
	c := e.login(dashAdminToken)
	token := c.csrf()
	_ = e.broker.Client().Shutdown(context.Background()).Err() // the server stops; the reply is lost
	for _, r := range []struct {
		method, path string
		form         url.Values
	}{
		{http.MethodGet, "/dashboard/", nil},
		{http.MethodGet, "/dashboard/live", nil},
		{http.MethodGet, "/dashboard/articles/" + e.id, nil},
		{http.MethodPost, "/dashboard/channels/tg-main/pause", url.Values{"csrf": {token}}},
		{http.MethodPost, "/dashboard/logout", url.Values{"csrf": {token}}},
	} {
		rec := c.do(r.method, r.path, r.form, nil)
		if rec.Code != http.StatusServiceUnavailable || rec.Header().Get("Retry-After") != RetryAfter {
			t.Errorf("%s %s with Redis down: %d Retry-After %q; want 503 with Retry-After %s", r.method, r.path, rec.Code, rec.Header().Get("Retry-After"), RetryAfter)
		}
	}
	rec := (&client{e: e}).do(http.MethodPost, "/dashboard/login", url.Values{"token": {dashAdminToken}}, nil)
	if rec.Code != http.StatusServiceUnavailable || rec.Header().Get("Retry-After") != RetryAfter {
		t.Errorf("login with Redis down: %d Retry-After %q", rec.Code, rec.Header().Get("Retry-After"))
	}
}

// TestDashboardLoginReturnsToThePageAsked: an article page's link opened without a session (a
// link passed to a colleague, a session that ended) went to the login form and from there to
// the home page, the article lost. The login now returns to the page asked for — only ever a
// dashboard page of this site.
func TestDashboardLoginReturnsToThePageAsked(t *testing.T) {
	e := newDashEnv(t)
	anon := &client{e: e}
	page := "/dashboard/articles/" + url.PathEscape("خبر-12")
	rec := anon.do(http.MethodGet, page, nil, nil)
	loc := rec.Header().Get("Location")
	if rec.Code != http.StatusSeeOther || !strings.HasPrefix(loc, "/dashboard/login?next=") {
		t.Fatalf("article page without a session: %d %q", rec.Code, loc)
	}
	form := anon.do(http.MethodGet, loc, nil, nil).Body.String()
	m := regexp.MustCompile(`name="next" value="([^"]+)"`).FindStringSubmatch(form)
	if m == nil {
		t.Fatalf("the login form does not carry the page asked for:\n%s", form)
	}
	next := strings.ReplaceAll(m[1], "&#43;", "+")
	if next != page {
		t.Fatalf("the login form's next is %q; want %q", next, page)
	}
	rec = anon.do(http.MethodPost, "/dashboard/login", url.Values{"token": {dashAdminToken}, "next": {next}}, nil)
	if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != page {
		t.Errorf("login: %d to %q; want the article page %q", rec.Code, rec.Header().Get("Location"), page)
	}
	for _, evil := range []string{"//evil.example/x", "https://evil.example/", "/v1/stats"} {
		rec = anon.do(http.MethodPost, "/dashboard/login", url.Values{"token": {dashAdminToken}, "next": {evil}}, nil)
		if rec.Header().Get("Location") != "/dashboard/" {
			t.Errorf("login with next %q went to %q", evil, rec.Header().Get("Location"))
		}
	}
}
