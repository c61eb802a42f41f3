package web

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"herald/article"
	"herald/channels"
	"herald/queue"
)

// TestRetryToARemovedChannelIsRefused: a retry or repost of a delivery whose channel was
// removed from the config (or renamed) is refused, 409 through the API and a message on the
// dashboard, saying why and what to do, and changes nothing; both answered as if it were being
// sent, while its task waited for ever in a queue no worker serves. An unknown delivery is
// still 404.
func TestRetryToARemovedChannelIsRefused(t *testing.T) {
	a := newTestAPI(t, nil)
	ctx := context.Background()
	art := &article.Article{ID: "rm-1", URL: "https://news.example.com/rm-1", Title: "خبر قديم"}
	art.Normalize()
	if _, err := a.broker.Publish(ctx, art, []queue.Target{{Name: "tg-old", Kind: channels.KindTelegram}}); err != nil {
		t.Fatal(err)
	}
	if _, err := a.broker.Drop(ctx, "rm-1", "tg-old", "test"); err != nil { // a failed delivery
		t.Fatal(err)
	}
	unchanged := func(how string) {
		t.Helper()
		if d, _ := a.broker.Delivery(ctx, "rm-1", "tg-old"); d.State != queue.StateFailed || d.Revision != 1 {
			t.Fatalf("%s changed the delivery: %+v", how, d)
		}
	}
	for _, action := range []string{"retry", "repost"} {
		code, body := a.do(adminToken, http.MethodPost, "/v1/articles/rm-1/deliveries/tg-old/"+action, "")
		if code != http.StatusConflict || !strings.Contains(string(body), "tg-old is not in the config") {
			t.Errorf("%s: %d %s; want 409 saying tg-old is not in the config", action, code, body)
		}
		unchanged(action)
	}
	if code, body := a.do(adminToken, http.MethodPost, "/v1/articles/nope/deliveries/tg-old/retry", ""); code != http.StatusNotFound {
		t.Errorf("retry of an unknown delivery: %d %s; want 404", code, body)
	}

	hs := httptest.NewServer(a.h)
	t.Cleanup(hs.Close)
	c, csrf := browserLogin(t, hs.URL, adminToken, "/dashboard/articles/rm-1")
	resp, err := c.PostForm(hs.URL+"/dashboard/articles/rm-1/deliveries/tg-old/retry", url.Values{"csrf": {csrf}, "next": {"/dashboard/articles/rm-1"}})
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(body), "tg-old is not in the config") {
		t.Errorf("the dashboard's retry of a removed channel's delivery does not say why it was refused:\n%s", body)
	}
	unchanged("the dashboard's retry")
}

// TestDashboardOffersNoRequeueForARemovedChannel: the dashboard offered retry and repost for a
// delivery whose channel was removed from the config, buttons the server then refused. Now such
// a delivery shows why there is no button, on the home page and the article page, while a
// configured channel's failed delivery of the same article keeps both.
func TestDashboardOffersNoRequeueForARemovedChannel(t *testing.T) {
	e := newDashEnv(t)
	ctx := context.Background()
	art := &article.Article{ID: "rm-2", URL: "https://news.example.com/rm-2", Title: "خبر قديم"}
	art.Normalize()
	if _, err := e.broker.Publish(ctx, art, []queue.Target{{Name: "tg-old", Kind: channels.KindTelegram}, {Name: "tg-main", Kind: channels.KindTelegram}}); err != nil {
		t.Fatal(err)
	}
	for _, ch := range []channels.Name{"tg-old", "tg-main"} {
		if _, err := e.broker.Drop(ctx, "rm-2", ch, "test"); err != nil { // a failed delivery
			t.Fatal(err)
		}
	}
	c := e.login(dashAdminToken)
	for _, path := range []string{"/dashboard/", "/dashboard/articles/rm-2"} {
		page := c.page(path)
		for _, action := range []string{"retry", "repost"} {
			if strings.Contains(page, `data-action="`+action+`" data-channel="tg-old"`) {
				t.Errorf("%s offers %s for tg-old, a channel no longer configured", path, action)
			}
			if !strings.Contains(page, `data-action="`+action+`" data-channel="tg-main"`) {
				t.Errorf("%s offers no %s for tg-main's failed delivery", path, action)
			}
		}
		if !strings.Contains(page, `data-unconfigured="tg-old"`) || !strings.Contains(page, "channel no longer configured") {
			t.Errorf("%s does not say why tg-old's delivery has no buttons", path)
		}
		if strings.Contains(page, `data-unconfigured="tg-main"`) {
			t.Errorf("%s calls tg-main unconfigured", path)
		}
	}
}

// TestDashboardNamesARemovedChannelsBacklog: deliveries queued for a channel removed from the
// config (or renamed) wait for ever, no worker serving their queue; GET /v1/channels and
// herald doctor said so, the dashboard — the page an operator watches — did not. It now names
// the channel and how many wait, on the page and in its live part, to viewers too; with no
// such backlog it says nothing.
func TestDashboardNamesARemovedChannelsBacklog(t *testing.T) {
	e := newDashEnv(t)
	if page := e.login(dashAdminToken).page("/dashboard/"); strings.Contains(page, `id="unconfigured"`) {
		t.Fatal("a warning with every channel configured")
	}
	ctx := context.Background()
	for _, id := range []string{"rm-3", "rm-4"} {
		art := &article.Article{ID: id, URL: "https://news.example.com/" + id, Title: "خبر"}
		art.Normalize()
		if _, err := e.broker.Publish(ctx, art, []queue.Target{{Name: "tg-old", Kind: channels.KindTelegram}}); err != nil {
			t.Fatal(err)
		}
	}
	for _, role := range []string{roleAdmin, roleViewer} {
		c := e.loginAs(role)
		for _, path := range []string{"/dashboard/", "/dashboard/live"} {
			page := c.page(path)
			// herald drop gives a delivery up and deletes its task: the advice says so.
			if !strings.Contains(page, `id="unconfigured"`) || !strings.Contains(page, `data-unconfigured-channel="tg-old">tg-old</b> 2 waiting`) ||
				!strings.Contains(page, "<code>herald drop</code> gives one up (it leaves the count)") {
				t.Errorf("%s %s does not name tg-old's backlog of 2", role, path)
			}
			if strings.Contains(page, `data-unconfigured-channel="tg-main"`) {
				t.Errorf("%s %s names a configured channel", role, path)
			}
		}
	}
}
