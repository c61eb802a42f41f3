package web

import (
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"
	"time"

	"herald/queue"
)

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t *testing.T, within time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// With real deliveries: a send whose answer never came shows as unknown on its channel's card
// with a "Retry 1 unknown" button that re-sends it; a platform 429 shows the channel
// rate-limited until the time Telegram gave.
func TestDashboardShowsUnknownAndRateLimited(t *testing.T) {
	st := newBrowserStack(t)
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, Timeout: 10 * time.Second}
	if resp, err := c.PostForm(st.url+"/dashboard/login", url.Values{"token": {dashAdminToken}}); err != nil {
		t.Fatal(err)
	} else {
		resp.Body.Close()
	}
	get := func(path string) string {
		t.Helper()
		resp, err := c.Get(st.url + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("GET %s: %d", path, resp.StatusCode)
		}
		return string(b)
	}
	card := func(ch string) string {
		page := get("/dashboard/live")
		i := strings.Index(page, `id="ch-`+ch+`"`)
		if i < 0 {
			t.Fatalf("no card for %s", ch)
		}
		j := strings.Index(page[i:], "</article>")
		return page[i : i+j]
	}

	// Telegram takes the post but its answer never arrives (the channel's timeout is 2 s).
	st.fake.Hold()
	id := st.publish(t, "https://news.example.com/a/unknown", "خبر بلا جواب")
	state := func() queue.State {
		d, err := st.broker.Delivery(context.Background(), id, "tg-main")
		if err != nil {
			t.Fatal(err)
		}
		return d.State
	}
	waitFor(t, 20*time.Second, "the delivery to become unknown", func() bool { return state() == queue.StateUnknown })
	st.fake.Release()
	tg := card("tg-main")
	for _, want := range []string{`<div class="bad"><dt>unknown</dt><dd>1</dd>`, `data-action="retry-unknown" data-channel="tg-main"`, "Retry 1 unknown"} {
		if !strings.Contains(tg, want) {
			t.Fatalf("tg-main's card lacks %q:\n%s", want, tg)
		}
	}
	csrf := csrfRE.FindStringSubmatch(tg)
	if csrf == nil {
		t.Fatal("no CSRF token in the card")
	}
	resp, err := c.PostForm(st.url+"/dashboard/channels/tg-main/retry-unknown", url.Values{"csrf": {csrf[1]}})
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(body), "Retrying 1 unknown deliveries of tg-main.") {
		t.Fatalf("after retry-unknown: %d %s", resp.StatusCode, body)
	}
	waitFor(t, 20*time.Second, "the retried delivery to be sent", func() bool { return state() == queue.StateSent })
	if tg := card("tg-main"); !strings.Contains(tg, `<dt>unknown</dt><dd>0</dd>`) || strings.Contains(tg, "retry-unknown") {
		t.Fatalf("tg-main still shows an unknown delivery:\n%s", tg)
	}

	// A 429 with retry_after 120 sets the channel's not-before time.
	st.fake.RateLimitNext(1, 120)
	st.publish(t, "https://news.example.com/a/limited", "خبر مؤجل")
	waitFor(t, 20*time.Second, "a rate-limited channel", func() bool {
		return strings.Contains(get("/dashboard/live"), `data-state="rate-limited"`)
	})
	page := get("/dashboard/")
	if !strings.Contains(page, "Rate-limited until") {
		t.Fatal("no rate-limited-until line")
	}
}

// With real deliveries and a correction in place (tg-main edits, tg-second cannot): the article
// page and the live fragment say which post was edited, when and by whom, and which keeps the
// old text; who corrected is escaped like every other text (a name with markup stays text) and
// isolated with dir="auto".
func TestDashboardShowsCorrections(t *testing.T) {
	st := newBrowserStack(t)
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, Timeout: 10 * time.Second}
	if resp, err := c.PostForm(st.url+"/dashboard/login", url.Values{"token": {dashAdminToken}}); err != nil {
		t.Fatal(err)
	} else {
		resp.Body.Close()
	}
	get := func(path string) string {
		t.Helper()
		resp, err := c.Get(st.url + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("GET %s: %d", path, resp.StatusCode)
		}
		return string(b)
	}
	section := func(page, id, end string) string {
		t.Helper()
		i := strings.Index(page, id)
		if i < 0 {
			t.Fatalf("no %s in the page", id)
		}
		j := strings.Index(page[i:], end)
		return page[i : i+j]
	}
	const u = "https://news.example.com/a/corrected"
	id := st.publish(t, u, "خبر قبل التصحيح")
	waitFor(t, 20*time.Second, "both deliveries sent", func() bool {
		ds, err := st.broker.Deliveries(context.Background(), id)
		return err == nil && len(ds) == 2 && ds[0].State == queue.StateSent && ds[1].State == queue.StateSent
	})
	if page := get("/dashboard/articles/" + id); strings.Contains(page, "correction") || strings.Contains(page, "badge") {
		t.Fatalf("an article never corrected shows a correction:\n%s", page)
	}

	const by = `<script>alert(1)</script> مكتب`
	st.correct(t, id, u, "خبر بعد التصحيح", by)
	page := get("/dashboard/articles/" + id)
	if strings.Contains(page, "<script>alert") || !strings.Contains(page, "&lt;script&gt;alert(1)&lt;/script&gt; مكتب") {
		t.Fatalf("who corrected is not escaped:\n%s", page)
	}
	banner := section(page, `id="correction"`, "</p>")
	for _, want := range []string{`data-edited="1"`, `data-cannot-edit="1"`, `<b dir="auto">&lt;script&gt;`, "1 post edited in place", "1 cannot be edited</b> and keeps the text from before the correction"} {
		if !strings.Contains(banner, want) {
			t.Errorf("the correction banner lacks %q:\n%s", want, banner)
		}
	}
	main := section(page, `id="d-tg-main"`, "</section>")
	if !strings.Contains(main, `class="badge edited" data-correction="edited"`) || !strings.Contains(main, "<dt>edited</dt>") ||
		strings.Contains(main, "cannot-edit") {
		t.Errorf("tg-main, edited:\n%s", main)
	}
	second := section(page, `id="d-tg-second"`, "</section>")
	if !strings.Contains(second, `class="badge cannot-edit"`) || !strings.Contains(second, `<p class="why cannot-edit" data-correction="cannot-edit"><b>Cannot edit:</b>`) ||
		!strings.Contains(second, "Retract, then repost, to replace it.") || strings.Contains(second, "<dt>edited</dt>") {
		t.Errorf("tg-second, cannot edit:\n%s", second)
	}
	live := section(get("/dashboard/live"), "خبر بعد التصحيح", "</li>")
	if strings.Count(live, `data-correction="edited"`) != 1 || strings.Count(live, `data-correction="cannot-edit"`) != 1 {
		t.Errorf("the last deliveries do not mark the correction:\n%s", live)
	}

	// A repost of the post that could not be edited posts the corrected text: no longer marked.
	if _, err := st.broker.Requeue(context.Background(), id, "tg-second", "repost", "admin"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 20*time.Second, "the repost sent", func() bool {
		d, err := st.broker.Delivery(context.Background(), id, "tg-second")
		return err == nil && d.State == queue.StateSent && d.Revision == 2
	})
	page = get("/dashboard/articles/" + id)
	if strings.Contains(section(page, `id="d-tg-second"`, "</section>"), "cannot-edit") || !strings.Contains(section(page, `id="correction"`, "</p>"), `data-cannot-edit="0"`) {
		t.Errorf("after the repost tg-second is still marked cannot-edit:\n%s", page)
	}
}
