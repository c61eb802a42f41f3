// Command screenshot is `make screenshot`: it logs in to a running herald's dashboard with
// headless chromium, optionally pauses a channel with its button (so the picture shows a
// paused channel and why), and saves a PNG of the page. The README's docs/dashboard.png is
// made this way from `herald demo`:
//
//	go run ./cmd/herald demo --addr 127.0.0.1:8080 &
//	go run ./internal/harness/screenshot -url http://127.0.0.1:8080 -token sandbox-token \
//	    -pause whatsapp-waha-demo -reason "صيانة المزوّد" -out docs/dashboard.png
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"time"

	"github.com/chromedp/chromedp"
)

func main() {
	base := flag.String("url", "http://127.0.0.1:8080", "herald's address")
	token := flag.String("token", "sandbox-token", "an admin or viewer API token")
	pause := flag.String("pause", "", "pause this channel with its button first")
	reason := flag.String("reason", "", "the pause reason")
	out := flag.String("out", "dashboard.png", "the PNG to write")
	width := flag.Int("width", 1100, "viewport width (390 for a phone)")
	height := flag.Int("height", 1000, "viewport height")
	full := flag.Bool("full", false, "the whole page, not only the viewport")
	page := flag.String("path", "", "open this page after logging in (an article page: /dashboard/articles/ID)")
	flag.Parse()
	if err := run(*base, *token, *pause, *reason, *out, *page, *width, *height, *full); err != nil {
		fmt.Fprintln(os.Stderr, "screenshot:", err)
		os.Exit(1)
	}
}

func run(base, token, pause, reason, out, page string, width, height int, full bool) error {
	path := ""
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			path = p
			break
		}
	}
	if path == "" {
		return fmt.Errorf("no chromium found (apt-get install chromium)")
	}
	dir, err := os.MkdirTemp("", "herald-screenshot-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), chromedp.ExecPath(path), chromedp.Headless,
		chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun, chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-quic", true), chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true), chromedp.Flag("disable-sync", true),
		// Loopback only: no name resolution, no DNS-over-HTTPS probe (as in the browser test).
		chromedp.Flag("host-resolver-rules", "MAP * ~NOTFOUND , EXCLUDE 127.0.0.1"),
		chromedp.Flag("disable-features", "DnsOverHttps,AsyncDns,OptimizationHints,MediaRouter,Translate"),
		chromedp.Flag("dns-prefetch-disable", true), chromedp.Flag("no-pings", true),
		chromedp.Flag("disable-domain-reliability", true), chromedp.Flag("disable-client-side-phishing-detection", true),
		chromedp.UserDataDir(dir), chromedp.WindowSize(width, height))
	defer cancelAlloc()
	ctx, cancel := chromedp.NewContext(actx)
	defer cancel()
	if err := chromedp.Do(ctx, chromedp.Navigate("about:blank")); err != nil {
		return fmt.Errorf("starting %s: %w", path, err)
	}
	tctx, cancelT := context.WithTimeout(ctx, 60*time.Second)
	defer cancelT()
	steps := []chromedp.Action[chromedp.Void]{
		chromedp.EmulateViewport(int64(width), int64(height)),
		chromedp.Navigate(base + "/dashboard/login"),
		chromedp.SendKeys(chromedp.ID("token"), token),
		chromedp.Click(chromedp.ID("login")),
		chromedp.WaitVisible(chromedp.ID("live")),
	}
	if pause != "" {
		steps = append(steps,
			chromedp.SendKeys(chromedp.CSS(`#ch-`+pause+` input[name=reason]`), reason),
			chromedp.Click(chromedp.CSS(`button[data-action="pause"][data-channel="`+pause+`"]`)),
			chromedp.WaitVisible(chromedp.CSS(`button[data-action="resume"][data-channel="`+pause+`"]`)))
	}
	if page != "" {
		steps = append(steps, chromedp.Navigate(base+page), chromedp.WaitVisible(chromedp.CSS("main")))
	}
	if err := chromedp.Do(tctx, steps...); err != nil {
		return err
	}
	var png []byte
	if full {
		png, err = chromedp.Run(tctx, chromedp.FullScreenshot(100))
	} else {
		png, err = chromedp.Run(tctx, chromedp.CaptureScreenshot())
	}
	if err != nil {
		return err
	}
	if err := os.WriteFile(out, png, 0o644); err != nil {
		return err
	}
	fmt.Printf("%s: %d bytes\n", out, len(png))
	return nil
}
