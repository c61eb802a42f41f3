package web

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"go.uber.org/zap"

	"herald/article"
	"herald/channels"
	_ "herald/channels/telegram"
	"herald/channels/telegram/telegramfake"
	"herald/config"
	"herald/formatter"
	"herald/ingest"
	"herald/internal/redistest"
	"herald/queue"
)

// chromiumPath finds Debian's chromium (installed by `make deps`) or another Chrome.
func chromiumPath() string {
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "headless_shell"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// newBrowser starts a headless chromium with a fresh profile and nothing that calls out to the
// internet (the test only talks to loopback).
func newBrowser(t *testing.T) context.Context {
	t.Helper()
	path := chromiumPath()
	if path == "" {
		t.Skip("no chromium found: the browser test needs Debian's chromium (`make deps` installs it with apt-get as root; elsewhere `apt-get install chromium`)")
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path),
		chromedp.Headless,
		chromedp.NoSandbox, // root in CI containers
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-default-apps", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.Flag("lang", "en-US"),
		// No name is resolved and no DNS-over-HTTPS probe is made: the page is on 127.0.0.1, and
		// anything else the browser reaches for (update checks, safe browsing) fails locally.
		// (strace shows one thing left: a UDP socket connected to a public address to learn the
		// local one, over which nothing is sent.)
		chromedp.Flag("host-resolver-rules", "MAP * ~NOTFOUND , EXCLUDE 127.0.0.1"),
		chromedp.Flag("disable-features", "DnsOverHttps,AsyncDns,OptimizationHints,MediaRouter,Translate"),
		chromedp.Flag("dns-prefetch-disable", true),
		chromedp.Flag("no-pings", true),
		chromedp.Flag("disable-domain-reliability", true),
		chromedp.Flag("disable-client-side-phishing-detection", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 1000),
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(func() { cancel(); cancelAlloc() })
	// The first Do starts the browser; it lives as long as ctx.
	if err := chromedp.Do(ctx, chromedp.Navigate("about:blank")); err != nil {
		t.Fatalf("starting %s: %v", path, err)
	}
	return ctx
}

// browserStack is herald's API and dashboard on a loopback port, with a worker delivering to a
// fake Telegram, on a real Redis.
type browserStack struct {
	url    string
	broker *queue.Broker
	fake   *telegramfake.Server
	routes map[channels.Name]queue.Route
}

// cannotEdit hides a channel's Edit: tg-second behind it is a platform herald cannot edit
// posts on (X, Bluesky, …), as far as a correction can tell.
type cannotEdit struct{ channels.Channel }

// correct corrects article id in place, with tg-second unable to edit: tg-main's post is
// edited, tg-second's keeps the old text.
func (s *browserStack) correct(t *testing.T, id, url, title, by string) {
	t.Helper()
	routes := map[channels.Name]queue.Route{}
	for n, r := range s.routes {
		if n == "tg-second" {
			r.Channel = cannotEdit{r.Channel}
		}
		routes[n] = r
	}
	c, err := s.broker.Correct(context.Background(), &article.Article{ID: id, URL: url, Title: title}, "", by, routes)
	if err != nil {
		t.Fatal(err)
	}
	got := map[channels.Name]string{}
	for _, r := range c.Results {
		got[r.Channel] = r.Result
	}
	if got["tg-main"] != "edited" || got["tg-second"] != "cannot-edit" {
		t.Fatalf("correct: %+v", c.Results)
	}
}

func newBrowserStack(t *testing.T) *browserStack {
	t.Helper()
	rdb, _ := redistest.Start(t)
	fake := telegramfake.New()
	t.Cleanup(fake.Close)
	fake.AddChat(secondChat)
	doc := fmt.Sprintf(`
channels:
  - {name: tg-main, kind: telegram, settings: {token: %[1]q, chat_id: "@%[2]s", api_endpoint: %[3]q, timeout: 2s}}
  - {name: tg-second, kind: telegram, settings: {token: %[1]q, chat_id: "@%[4]s", api_endpoint: %[3]q, timeout: 2s}}
`, telegramfake.DefaultToken, telegramfake.DefaultChat.Username, fake.Endpoint(), secondChat.Username)
	cfg, err := config.Parse([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	b := queue.NewBroker(rdb, queue.Options{})
	routes := map[channels.Name]queue.Route{}
	var chs []queue.ChannelConfig
	var previews []formatter.PreviewTarget
	for _, c := range cfg.Channels {
		ch, err := channels.New(c.Spec, channels.Env{Logger: zap.NewNop()})
		if err != nil {
			t.Fatal(err)
		}
		r, err := formatter.New(c.Spec.Kind, c.Format)
		if err != nil {
			t.Fatal(err)
		}
		routes[c.Spec.Name] = queue.Route{Channel: ch, Renderer: r, Limit: c.Limit, MaxAttempts: 3}
		chs = append(chs, queue.ChannelConfig{Name: c.Spec.Name, Kind: c.Spec.Kind, Limit: c.Limit})
		previews = append(previews, formatter.PreviewTarget{Name: string(c.Spec.Name), Kind: c.Spec.Kind, Options: c.Format})
	}
	w := queue.NewWorker(b, routes, queue.WorkerOptions{Concurrency: 2, PollInterval: 50 * time.Millisecond, Logger: zap.NewNop()})
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); _ = w.Run(ctx) }()
	t.Cleanup(func() { cancel(); wg.Wait() })

	s := &Server{Publisher: &ingest.Publisher{Config: cfg, Broker: b}, Broker: b, Token: dashAdminToken, Logger: zap.NewNop(),
		Channels: chs, Dashboard: DashboardOptions{Previews: previews, Refresh: 300 * time.Millisecond}}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	hs := &httptest.Server{Listener: ln, Config: &http.Server{Handler: s.Handler()}}
	hs.Start()
	t.Cleanup(hs.Close)
	return &browserStack{url: hs.URL, broker: b, fake: fake, routes: routes}
}

// publish posts an article through the API, as a CMS would.
func (s *browserStack) publish(t *testing.T, url, title string) string {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"url": url, "title": title, "summary": "ملخص الخبر للاختبار.", "tags": []string{"اختبار"}})
	req, _ := http.NewRequest(http.MethodPost, s.url+"/v1/articles", bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+dashAdminToken)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var res struct {
		ID string `json:"id"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&res); err != nil || resp.StatusCode != http.StatusAccepted {
		t.Fatalf("publish: %d %v", resp.StatusCode, err)
	}
	return res.ID
}

// jsString quotes s for a JavaScript expression.
func jsString(s string) string { b, _ := json.Marshal(s); return string(b) }

// In a real browser: log in with the admin token, see a published Arabic article delivered,
// see a second one appear without a reload, pause a channel with its button and see its state
// change, open the article page, see a correction in place on it (one post edited, one that
// cannot be) and in the last deliveries, check both pages fit a phone's width, and log out. A screenshot of the page is saved to $TMPDIR.
func TestDashboardInBrowser(t *testing.T) {
	bctx := newBrowser(t)
	st := newBrowserStack(t)
	const title1 = "زيلينسكي يقول إن كوريا الشمالية أرسلت قوات لدعم الجيش الروسي"
	const title2 = "وكالة NASA تُعلن موعد إطلاق أولى وحدات المحطة القمرية «Gateway» في 2027"
	id1 := st.publish(t, "https://news.example.com/world/2026/11/zelensky", title1)

	step := func(name string, steps ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		ctx, cancel := context.WithTimeout(bctx, 20*time.Second)
		defer cancel()
		if err := chromedp.Do(ctx, steps...); err != nil {
			html, _ := chromedp.Run(bctx, chromedp.Evaluate[string](`document.body ? document.body.innerText : ""`))
			t.Fatalf("%s: %v\npage text:\n%s", name, err, html)
		}
	}
	// poll waits for a predicate; a page load in between (a form's redirect) interrupts one
	// evaluation, so it tries again until the deadline.
	poll := func(expr string) chromedp.Action[chromedp.Void] {
		return func(ctx context.Context, tg *chromedp.Target) (chromedp.Void, error) {
			deadline := time.Now().Add(15 * time.Second)
			for {
				_, err := chromedp.Poll[chromedp.Void](expr, chromedp.WithPollingInterval(100*time.Millisecond),
					chromedp.WithPollingTimeout(time.Until(deadline)))(ctx, tg)
				if err == nil || ctx.Err() != nil || time.Now().After(deadline) {
					return chromedp.Void{}, err
				}
				time.Sleep(50 * time.Millisecond) // the next document is loading
			}
		}
	}

	step("open the dashboard: the login form",
		chromedp.Navigate(st.url+"/"),
		chromedp.WaitVisible(chromedp.ID("token")),
		poll(`location.pathname === "/dashboard/login"`))
	step("log in with a wrong token",
		chromedp.SendKeys(chromedp.ID("token"), "not-the-token"),
		chromedp.Click(chromedp.ID("login")),
		poll(`document.body.innerText.includes("not an admin or viewer token")`))
	step("log in with the admin token",
		chromedp.SendKeys(chromedp.ID("token"), dashAdminToken),
		chromedp.Click(chromedp.ID("login")),
		chromedp.WaitVisible(chromedp.ID("live")),
		poll(`document.querySelector(".role").innerText === "admin"`))
	// The article is delivered to both channels: its title (dir=auto) with two sent badges.
	step("see the published article delivered",
		poll(`[...document.querySelectorAll("li.article")].some(li =>
			li.querySelector("a.title").innerText === `+jsString(title1)+` &&
			li.querySelector("a.title").getAttribute("dir") === "auto" &&
			li.querySelectorAll(".st-sent").length === 2)`))
	// A second article appears through the refresh script, without a page load.
	step("mark the page", chromedp.Evaluate[chromedp.Void](`window.__noReload = 1`))
	st.publish(t, "https://news.example.com/science/2026/11/gateway", title2)
	step("see the second article without a reload",
		poll(`[...document.querySelectorAll("li.article")].some(li =>
			li.querySelector("a.title").innerText === `+jsString(title2)+` && li.querySelectorAll(".st-sent").length === 2) &&
			window.__noReload === 1`))

	step("pause tg-main with its button",
		chromedp.SendKeys(chromedp.CSS(`#ch-tg-main input[name=reason]`), "صيانة"),
		chromedp.Click(chromedp.CSS(`button[data-action="pause"][data-channel="tg-main"]`)),
		poll(`document.querySelector("#ch-tg-main").dataset.state === "paused"`),
		poll(`document.querySelector("#ch-tg-main .why").innerText.includes("by admin via dashboard: صيانة")`),
		poll(`document.querySelector(".flash").innerText === "Paused tg-main."`),
		poll(`document.querySelector("#ch-tg-second").dataset.state === "active"`),
		chromedp.WaitVisible(chromedp.CSS(`button[data-action="resume"][data-channel="tg-main"]`)))
	ps, err := st.broker.Paused(context.Background())
	if err != nil || len(ps) != 1 || ps[0].Channel != "tg-main" {
		t.Fatalf("paused channels after the button: %+v %v", ps, err)
	}

	shot, err := chromedp.Run(bctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	f, err := os.CreateTemp("", "herald-dashboard-*.png")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Write(shot); err != nil {
		t.Fatal(err)
	}
	f.Close()
	t.Logf("screenshot of the dashboard: %s (%d bytes)", f.Name(), len(shot))

	step("open the article page: every channel's record and post",
		chromedp.Navigate(st.url+"/dashboard/articles/"+id1),
		poll(`document.querySelector("h1.headline").innerText === `+jsString(title1)),
		poll(`document.querySelectorAll("section.record").length === 2`),
		poll(`document.querySelector("#d-tg-main pre").innerText.includes("#اختبار")`))

	// A correction in place: tg-main's post edited, tg-second's cannot be (it keeps the old text).
	const fixed = "زيلينسكي: كوريا الشمالية أرسلت ١٠ آلاف جندي لدعم الجيش الروسي"
	st.correct(t, id1, "https://news.example.com/world/2026/11/zelensky", fixed, "مكتب التحرير")
	step("the article page shows the correction",
		chromedp.Reload(),
		poll(`document.querySelector("h1.headline").innerText === `+jsString(fixed)),
		poll(`document.querySelector("#correction").dataset.edited === "1" && document.querySelector("#correction").dataset.cannotEdit === "1"`),
		poll(`document.querySelector("#correction").innerText.includes("by مكتب التحرير: 1 post edited in place; 1 cannot be edited")`),
		poll(`document.querySelector("#correction b[dir=auto]").innerText === "مكتب التحرير"`),
		poll(`document.querySelector("#d-tg-main .badge.edited") !== null && document.querySelector("#d-tg-main .cannot-edit") === null`),
		poll(`document.querySelector("#d-tg-main .edited dd").innerText.includes("by مكتب التحرير")`),
		poll(`document.querySelector("#d-tg-second .badge.cannot-edit").innerText === "cannot edit"`),
		poll(`document.querySelector("#d-tg-second p.cannot-edit").innerText.includes("herald cannot edit posts on telegram, so it keeps the text from before the correction")`),
		poll(`document.querySelector("#d-tg-second h3").innerText.includes("the post itself still has the text from before the correction")`))

	// At phone width nothing is wider than the screen (long ids and URLs wrap).
	fits := `document.documentElement.scrollWidth <= window.innerWidth`
	step("the article page at phone width", chromedp.EmulateViewport(390, 844), poll(fits))
	step("the dashboard at phone width",
		chromedp.Navigate(st.url+"/dashboard/"),
		chromedp.WaitVisible(chromedp.ID("live")),
		poll(`document.querySelectorAll("li.article").length === 2`),
		poll(fits))
	step("the last deliveries mark the corrected article's posts",
		poll(`[...document.querySelectorAll("li.article")].some(li =>
			li.querySelector("a.title").innerText === `+jsString(fixed)+` &&
			li.querySelectorAll(".badge.edited").length === 1 && li.querySelectorAll(".badge.cannot-edit").length === 1)`))

	step("log out",
		chromedp.Click(chromedp.ID("logout")),
		chromedp.WaitVisible(chromedp.ID("token")),
		poll(`location.pathname === "/dashboard/login"`))
	step("the dashboard needs a login again",
		chromedp.Navigate(st.url+"/dashboard/"),
		chromedp.WaitVisible(chromedp.ID("token")))

	// What the browser did reached the platform: two articles on two channels, one of the four
	// posts edited.
	edited := 0
	for _, m := range st.fake.Messages() {
		edited += m.Edits
	}
	if n := len(st.fake.Messages()); n != 4 || edited != 1 {
		t.Errorf("the fake Telegram received %d messages (%d edits), want 4 (1)", n, edited)
	}
}
