package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"herald/channels"
	"herald/channels/linkedin/linkedinfake"
	"herald/config"
	"herald/queue"
)

// TestFormatLinkedInShowsThePostsRequest: herald format --channel linkedin prints the Posts API
// request: the Page as author, the little-text commentary and the article card, the token
// hidden.
func TestFormatLinkedInShowsThePostsRequest(t *testing.T) {
	t.Setenv("HERALD_CONFIG", "")
	reqs, _ := formatRequests(t, "--channel", "linkedin", "-")
	b, _ := json.Marshal(reqs)
	if len(reqs) != 1 || !strings.HasSuffix(reqs[0].URL, "/rest/posts") || reqs[0].Header["Authorization"] != "Bearer <redacted>" ||
		strings.Contains(string(b), "example-token") {
		t.Fatalf("linkedin: %s", b)
	}
	var body struct {
		Author     string `json:"author"`
		Commentary string `json:"commentary"`
		Content    struct {
			Article struct{ Source string } `json:"article"`
		} `json:"content"`
	}
	if err := json.Unmarshal([]byte(reqs[0].Body), &body); err != nil || body.Author != "urn:li:organization:2414183" ||
		!strings.Contains(body.Commentary, "التفاصيل") || !strings.Contains(body.Content.Article.Source, "utm_source=linkedin") {
		t.Fatalf("body %s: %v", reqs[0].Body, err)
	}
}

// TestLinkedInChannelFromConfigIsChecked: a linkedin channel built from a config, its token from
// HERALD_CH_<NAME>_ACCESS_TOKEN and the default rate 150/24h, passes the start-up check against
// the API; a wrong token fails it with LinkedIn's reason and not the token.
func TestLinkedInChannelFromConfigIsChecked(t *testing.T) {
	fake := linkedinfake.New()
	defer fake.Close()
	path := filepath.Join(t.TempDir(), "herald.yaml")
	doc := fmt.Sprintf(`channels:
  - name: li-ar
    kind: linkedin
    settings: {organization_id: %q, api_base: %q}
  - name: li-bad
    kind: linkedin
    settings: {organization_id: %q, api_base: %q, access_token: not-the-token}
`, linkedinfake.DefaultOrganization, fake.APIBase(), linkedinfake.DefaultOrganization, fake.APIBase())
	if err := os.WriteFile(path, []byte(doc), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("HERALD_CH_LI_AR_ACCESS_TOKEN", linkedinfake.DefaultToken)
	cfg, err := config.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	routes := map[channels.Name]queue.Route{}
	for _, name := range []channels.Name{"li-ar", "li-bad"} {
		c, ok := cfg.Channel(string(name))
		if !ok {
			t.Fatalf("no channel %s", name)
		}
		if c.Limit.Count != 150 || c.Limit.Period != 24*time.Hour {
			t.Fatalf("%s: rate %+v, want the default 150/24h", name, c.Limit)
		}
		ch, err := channels.New(c.Spec, channels.Env{})
		if err != nil {
			t.Fatal(err)
		}
		routes[name] = queue.Route{Channel: ch}
	}
	core, logs := observer.New(zapcore.InfoLevel)
	select {
	case <-checkChannels(context.Background(), zap.New(core), routes):
	case <-time.After(30 * time.Second):
		t.Fatal("checks did not finish")
	}
	warn := logs.FilterMessageSnippet("channel check failed").All()
	ok := logs.FilterMessageSnippet("channel check passed").All()
	if len(warn) != 1 || warn[0].ContextMap()["channel"] != "li-bad" || len(ok) != 1 || ok[0].ContextMap()["channel"] != "li-ar" {
		t.Fatalf("warnings %+v, passes %+v", warn, ok)
	}
	if s := fmt.Sprint(warn[0].ContextMap()); !strings.Contains(s, "INVALID_ACCESS_TOKEN") || strings.Contains(s, "not-the-token") {
		t.Fatalf("the warning does not say why, or shows the token: %s", s)
	}
}

// TestDoctorAdviceForLinkedIn: herald doctor says what to do for each way a LinkedIn check
// fails, using the errors channels/linkedin returns.
func TestDoctorAdviceForLinkedIn(t *testing.T) {
	for errText, want := range map[string]string{
		"channel must pause: auth: linkedin: checking the token and organization: 401 Invalid access token (INVALID_ACCESS_TOKEN, serviceErrorCode 65600)": "60 days",
		"channel must pause: auth: linkedin: checking the token and organization: 403 Not enough permissions (ACCESS_DENIED, serviceErrorCode 100)":        "ADMINISTRATOR",
		"permanent: linkedin: checking the token and organization: 426 Requested version 202401 is not active (NONEXISTENT_VERSION, serviceErrorCode 0)":   "version",
		"permanent: linkedin: checking the token and organization: 404 Organization 999 not found (NOT_FOUND, serviceErrorCode 0)":                         "organization_id",
		"linkedin: checking the token and organization: context deadline exceeded":                                                                         "cannot be reached",
	} {
		got := checkAdvice(channels.CheckResult{Channel: "li-page", Kind: channels.KindLinkedIn, Error: errText})
		if !strings.Contains(got, want) {
			t.Errorf("%q: advice %q, want %q", errText, got, want)
		}
	}
}
