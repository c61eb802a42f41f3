package ingest

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"os"
	"reflect"
	"strconv"
	"testing"
	"time"

	"herald/channels/webhook"
	"herald/config"
	"herald/internal/redistest"
)

const (
	testSecret  = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	otherSecret = "whsec_c2Vjb25kLXNlY3JldC1mb3Itcm90YXRpb24tdGVzdHM="
)

func testSources(t *testing.T) []config.Webhook {
	t.Helper()
	cfg, err := config.Parse([]byte(`
channels: [{name: tg, kind: telegram}]
webhooks:
  - {name: cms, secret: "` + otherSecret + `"}
  - {name: wordpress, secret: "` + testSecret + `", site: news.example.com}
`))
	if err != nil {
		t.Fatal(err)
	}
	return cfg.Webhooks
}

// standardHeaders signs with the outgoing webhook channel's signer, written apart from the
// verifier under test.
func standardHeaders(t *testing.T, secret, id string, ts time.Time, body []byte) http.Header {
	t.Helper()
	key, err := webhook.DecodeSecret(secret)
	if err != nil {
		t.Fatal(err)
	}
	h := http.Header{}
	h.Set("webhook-id", id)
	h.Set("webhook-timestamp", strconv.FormatInt(ts.Unix(), 10))
	h.Set("webhook-signature", webhook.Sign(key, id, ts.Unix(), body))
	return h
}

func TestVerifyStandardWebhooks(t *testing.T) {
	rdb, _ := redistest.Start(t)
	now := time.Unix(1_800_000_000, 0)
	v := &Verifier{Sources: testSources(t), Redis: rdb, Now: func() time.Time { return now }}
	body := []byte(`{"url":"https://e.com/a","title":"t"}`)
	ctx := context.Background()

	c, err := v.Verify(ctx, standardHeaders(t, testSecret, "msg_1", now, body), body)
	if err != nil || c.Source.Name != "wordpress" {
		t.Fatalf("valid signature: claim %+v, err %v", c, err)
	}
	// The same id while the first request runs: to be tried again later (the first may fail).
	if _, err := v.Verify(ctx, standardHeaders(t, testSecret, "msg_1", now, body), body); !errors.Is(err, ErrInProgress) {
		t.Fatalf("replayed webhook-id: err %v, want ErrInProgress", err)
	}
	// A second verifier (another herald process) shares the record.
	v2 := &Verifier{Sources: v.Sources, Redis: rdb, Now: v.Now}
	if _, err := v2.Verify(ctx, standardHeaders(t, testSecret, "msg_1", now.Add(time.Second), body), body); !errors.Is(err, ErrInProgress) {
		t.Fatalf("replay to another process: err %v", err)
	}
	// Released (the publish failed): the sender's retry with the same id is accepted.
	c.Release(ctx)
	c, err = v.Verify(ctx, standardHeaders(t, testSecret, "msg_1", now, body), body)
	if err != nil {
		t.Fatalf("retry after release: %v", err)
	}
	c.Confirm(ctx) // answered 2xx
	if ttl := rdb.TTL(ctx, "herald:whid:{wordpress}:msg_1").Val(); ttl < 10*time.Minute || ttl > 12*time.Minute {
		t.Fatalf("webhook-id remembered for %s, want the tolerance window both ways (~11m)", ttl)
	}
	// Processed: the sender's retry (its answer lost) is that success again, processed no more.
	if _, err := v2.Verify(ctx, standardHeaders(t, testSecret, "msg_1", now.Add(time.Minute), body), body); !errors.Is(err, ErrAlreadyProcessed) {
		t.Fatalf("retry of a processed message: err %v, want ErrAlreadyProcessed", err)
	}

	rotated := standardHeaders(t, testSecret, "msg_rot", now, body)
	key, _ := webhook.DecodeSecret("whsec_" + "b2xkLWtleS1vbGQta2V5LW9sZC1rZXktb2xkLWtleQ==")
	rotated.Set("webhook-signature", webhook.Sign(key, "msg_rot", now.Unix(), body)+" "+rotated.Get("webhook-signature"))
	if c, err := v.Verify(ctx, rotated, body); err != nil || c.Source.Name != "wordpress" {
		t.Fatalf("one of several signatures valid: %v", err)
	}
	if c, err := v.Verify(ctx, standardHeaders(t, otherSecret, "msg_cms", now, body), body); err != nil || c.Source.Name != "cms" {
		t.Fatalf("second source: %+v %v", c, err)
	}

	for name, h := range map[string]http.Header{
		"expired":        standardHeaders(t, testSecret, "msg_old", now.Add(-5*time.Minute-time.Second), body),
		"too far ahead":  standardHeaders(t, testSecret, "msg_new", now.Add(5*time.Minute+time.Second), body),
		"wrong secret":   standardHeaders(t, "whsec_"+"d3JvbmctLXNlY3JldC0td3JvbmctLXNlY3JldA==", "msg_x", now, body),
		"unsigned":       {},
		"id without sig": {"Webhook-Id": {"m"}},
		"other body":     standardHeaders(t, testSecret, "msg_body", now, []byte(`{}`)),
		"v2 scheme":      {"Webhook-Id": {"m2"}, "Webhook-Timestamp": {strconv.FormatInt(now.Unix(), 10)}, "Webhook-Signature": {"v1a,AAAA"}},
		"bad timestamp":  {"Webhook-Id": {"m3"}, "Webhook-Timestamp": {"yesterday"}, "Webhook-Signature": {"v1,AAAA"}},
		"hub wrong":      {"X-Hub-Signature-256": {"sha256=" + hex.EncodeToString(make([]byte, 32))}},
		"hub not hex":    {"X-Hub-Signature-256": {"sha256=zz"}},
		"hub wrong algo": {"X-Hub-Signature-256": {"sha1=00"}},
	} {
		if _, err := v.Verify(ctx, h, body); !errors.Is(err, ErrUnauthorized) {
			t.Errorf("%s: err %v, want ErrUnauthorized", name, err)
		}
	}
	// The expired message's id was not recorded: only verified messages are remembered.
	if n := rdb.Exists(ctx, "herald:whid:{wordpress}:msg_old").Val(); n != 0 {
		t.Fatal("an expired message's id was recorded")
	}
}

// A request herald never answered (killed between recording the id and answering: neither
// Confirm nor Release ran) holds its webhook-id only for InFlight, not the whole replay window:
// the WordPress plugin's retry a minute later was refused as a replay for 11 minutes, and the
// plugin gives up on a 401, so the post was never sent. A duplicate while the first request
// may still be running is told to come back later.
func TestUnansweredWebhookIDIsFreedForTheRetry(t *testing.T) {
	rdb, _ := redistest.Start(t)
	now := time.Unix(1_800_000_000, 0)
	v := &Verifier{Sources: testSources(t), Redis: rdb, Now: func() time.Time { return now }, InFlight: time.Second}
	body := []byte(`{"url":"https://e.com/a","title":"t"}`)
	ctx := context.Background()
	if _, err := v.Verify(ctx, standardHeaders(t, testSecret, "msg_crash", now, body), body); err != nil {
		t.Fatal(err)
	}
	if _, err := v.Verify(ctx, standardHeaders(t, testSecret, "msg_crash", now, body), body); !errors.Is(err, ErrInProgress) {
		t.Fatalf("duplicate while the first may be running: %v, want ErrInProgress", err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		_, err := v.Verify(ctx, standardHeaders(t, testSecret, "msg_crash", now, body), body)
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the retry of a request never answered is still refused: %v", err)
		}
		time.Sleep(50 * time.Millisecond) // polling a condition, bounded by the deadline
	}
}

func TestVerifyHubSignature256(t *testing.T) {
	rdb, _ := redistest.Start(t)
	v := &Verifier{Sources: testSources(t), Redis: rdb}
	body := []byte(`{"id":1}`)
	mac := hmac.New(sha256.New, []byte(testSecret)) // the secret exactly as configured
	mac.Write(body)
	h := http.Header{"X-Hub-Signature-256": {"sha256=" + hex.EncodeToString(mac.Sum(nil))}}
	c, err := v.Verify(context.Background(), h, body)
	if err != nil || c.Source.Name != "wordpress" {
		t.Fatalf("claim %+v err %v", c, err)
	}
	if _, err := v.Verify(context.Background(), h, []byte(`{"id":2}`)); !errors.Is(err, ErrUnauthorized) {
		t.Fatalf("other body: %v", err)
	}
}

func TestWordPressArticle(t *testing.T) {
	body, err := os.ReadFile("testdata/wordpress-post.json")
	if err != nil {
		t.Fatal(err)
	}
	p, err := WordPressArticle(body, "news.example.com")
	if err != nil {
		t.Fatal(err)
	}
	a := p.Article
	if p.Status != "publish" || a.ID != "wp-news.example.com-4711" || a.URL != "https://news.example.com/world/2026/11/zelensky/" ||
		p.GUID != "https://news.example.com/?p=4711" {
		t.Fatalf("post %+v", p)
	}
	if a.Title != "زيلينسكي: كوريا الشمالية أرسلت قوات – تقرير" {
		t.Errorf("title %q (entities decoded, tags dropped)", a.Title)
	}
	if a.Summary != "قال الرئيس الأوكراني إن كوريا الشمالية أرسلت قوات لدعم الجيش الروسي" {
		t.Errorf("summary %q", a.Summary)
	}
	if a.ImageURL != "https://news.example.com/wp-content/uploads/2026/11/zelensky.jpg" || a.Category != "الدفاع و الامن" {
		t.Errorf("image %q category %q", a.ImageURL, a.Category)
	}
	if !reflect.DeepEqual(a.Tags, []string{"دولي", "أوكرانيا", "كوريا الشمالية"}) {
		t.Errorf("tags %q", a.Tags)
	}
	// Every category, for routes: WordPress lists them by name, not by the editor's choice.
	if !reflect.DeepEqual(a.Categories, []string{"الدفاع و الامن", "دولي"}) {
		t.Errorf("categories %q", a.Categories)
	}
	if a.PublishedAt == nil || !a.PublishedAt.Equal(time.Date(2026, 11, 25, 9, 15, 0, 0, time.UTC)) {
		t.Errorf("published_at %v", a.PublishedAt)
	}
	a.Normalize()
	if err := a.Validate(); err != nil {
		t.Fatal(err)
	}
	if _, err := WordPressArticle([]byte(`{"link":"https://e.com"}`), "s"); err == nil {
		t.Fatal("a post without id was accepted")
	}
}

// A GUID is an address of the story besides its link only when it is an absolute http(s) URL
// that is not the link itself.
func TestGUIDAddress(t *testing.T) {
	for _, c := range []struct{ guid, link, want string }{
		{"https://news.example.com/?p=4711", "https://news.example.com/world/zelensky/", "https://news.example.com/?p=4711"},
		{" http://news.example.com/?p=12 ", "https://news.example.com/a/", "http://news.example.com/?p=12"},
		{"https://news.example.com/world/zelensky", "https://news.example.com/world/zelensky/?utm_source=rss", ""},
		{"tag:news.example.com,2026:4711", "https://news.example.com/a", ""},
		{"4711", "https://news.example.com/a", ""},
		{"", "https://news.example.com/a", ""},
		{"https:///?p=1", "https://news.example.com/a", ""},
	} {
		if got := GUIDAddress(c.guid, c.link); got != c.want {
			t.Errorf("GUIDAddress(%q, %q) = %q, want %q", c.guid, c.link, got, c.want)
		}
	}
}
