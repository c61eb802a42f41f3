package linkedin

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"herald/channels"
	"herald/channels/linkedin/linkedinfake"
)

// newHeaderlessServer answers every request 201 without x-restli-id.
func newHeaderlessServer(t *testing.T) string {
	t.Helper()
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusCreated) }))
	t.Cleanup(ts.Close)
	return ts.URL
}

func TestDeleteTakesThePostBackAndAGoneOneIsDeleted(t *testing.T) {
	fake := newFake(t)
	ch := newChannel(t, fake, "")
	rcpt, err := ch.Send(context.Background(), render(t, arabicArticle("del")))
	if err != nil {
		t.Fatal(err)
	}
	if err := ch.Delete(context.Background(), rcpt.RemoteID); err != nil {
		t.Fatal(err)
	}
	if p := fake.Posts()[0]; !p.Deleted {
		t.Fatalf("post %+v not deleted", p)
	}
	// Deleted already (404): a retried correction succeeds.
	if err := ch.Delete(context.Background(), rcpt.RemoteID); err != nil {
		t.Fatalf("deleting a deleted post: %v", err)
	}
	var del []linkedinfake.Request
	for _, r := range fake.Requests() {
		if r.Method == http.MethodDelete {
			del = append(del, r)
		}
	}
	if len(del) != 2 || del[0].Status != 204 || del[1].Status != 404 || del[0].Path != "/rest/posts/"+rcpt.RemoteID {
		t.Fatalf("deletes %+v", del)
	}
	fake.SetToken("another-token-0123456789")
	if _, ok := channels.AsPause(ch.Delete(context.Background(), rcpt.RemoteID)); !ok {
		t.Fatal("a delete with an expired token must pause the channel")
	}
}

func TestEditSetsTheCommentaryInPlace(t *testing.T) {
	fake := newFake(t)
	ch := newChannel(t, fake, "")
	a := arabicArticle("ed")
	rcpt, err := ch.Send(context.Background(), render(t, a))
	if err != nil {
		t.Fatal(err)
	}
	a.Title = "تصحيح: الرئيس (في مؤتمر صحفي) قال [الجديد]"
	if err := ch.Edit(context.Background(), rcpt.RemoteID, render(t, a)); err != nil {
		t.Fatal(err)
	}
	p := fake.Posts()
	if len(p) != 1 || p[0].Truncated || !strings.HasPrefix(p[0].Shown, a.Title+"\n\n") {
		t.Fatalf("posts %+v: want the one post's commentary corrected, whole", p)
	}
	var edits int
	for _, r := range fake.Requests() {
		if r.Method == http.MethodPost && r.RestliMethod == "PARTIAL_UPDATE" && r.Status == 204 {
			edits++
		}
	}
	if edits != 1 {
		t.Fatalf("requests %+v: want one PARTIAL_UPDATE answered 204", fake.Requests())
	}
	// Two URNs for a one-post rendering cannot be applied in place: refused before any call.
	n := len(fake.Requests())
	if err := ch.Edit(context.Background(), rcpt.RemoteID+",urn:li:share:1", render(t, a)); !channels.IsPermanent(err) {
		t.Fatalf("err %v: want Permanent", err)
	}
	if len(fake.Requests()) != n {
		t.Fatal("a refused edit called LinkedIn")
	}
	fake.FailNext(429, "TOO_MANY_REQUESTS", "throttled", nil)
	if _, ok := channels.AsRateLimited(ch.Edit(context.Background(), rcpt.RemoteID, render(t, a))); !ok {
		t.Fatal("a 429 on an edit must be a rate limit")
	}
}

func TestCheck(t *testing.T) {
	fake := newFake(t)
	if err := newChannel(t, fake, "").Check(context.Background()); err != nil {
		t.Fatalf("check: %v", err)
	}
	err := newChannel(t, fake, "organization_id: '999'\n").Check(context.Background())
	if err == nil || !strings.Contains(err.Error(), "404") {
		t.Fatalf("check of another organization: %v", err)
	}
	fake.SetToken("another-token-0123456789")
	err = newChannel(t, fake, "").Check(context.Background())
	if _, ok := channels.AsPause(err); !ok || !strings.Contains(err.Error(), "401") || strings.Contains(err.Error(), linkedinfake.DefaultToken) {
		t.Fatalf("check with an expired token: %v", err)
	}
}

func TestPreviewHidesTheToken(t *testing.T) {
	fake := newFake(t)
	reqs, err := newChannel(t, fake, "").Preview(render(t, arabicArticle("pv")))
	if err != nil || len(reqs) != 1 {
		t.Fatal(reqs, err)
	}
	r := reqs[0]
	if r.Method != "POST" || r.URL != fake.APIBase()+"/posts" || r.Header["Authorization"] != "Bearer <redacted>" ||
		r.Header["LinkedIn-Version"] != DefaultVersion || r.Header["X-Restli-Protocol-Version"] != "2.0.0" ||
		!strings.Contains(r.Body, `"author":"urn:li:organization:`+linkedinfake.DefaultOrganization+`"`) || strings.Contains(r.Body+r.URL, linkedinfake.DefaultToken) {
		t.Fatalf("preview %+v", r)
	}
}

func TestConfigErrorsNameTheSetting(t *testing.T) {
	for _, tc := range []struct{ settings, setting string }{
		{"access_token: t", "organization_id"},
		{"organization_id: abc\naccess_token: t", "organization_id"},
		{"organization_id: '1'", "access_token"},
		{"organization_id: '1'\naccess_token: t\nversion: '2026-08'", "version"},
		{"organization_id: '1'\naccess_token: t\napi_base: api.linkedin.com", "api_base"},
	} {
		var node = yamlNode(t, tc.settings)
		_, err := New(channels.Spec{Name: "li", Kind: channels.KindLinkedIn, Settings: node}, channels.Env{})
		if err == nil || !strings.Contains(err.Error(), tc.setting) {
			t.Errorf("%q: %v; want an error naming %s", tc.settings, err, tc.setting)
		}
	}
	cfg, err := LoadConfig(channels.Spec{Name: "li", Kind: channels.KindLinkedIn, Settings: yamlNode(t, "organization_id: 'urn:li:organization:42'\naccess_token: t")})
	if err != nil || cfg.OrganizationID != "42" || cfg.Version != DefaultVersion || cfg.APIBase != DefaultAPIBase {
		t.Fatalf("%+v %v", cfg, err)
	}
}

func yamlNode(t *testing.T, doc string) yaml.Node {
	t.Helper()
	var node yaml.Node
	if err := yaml.Unmarshal([]byte(doc), &node); err != nil {
		t.Fatal(err)
	}
	return *node.Content[0]
}
