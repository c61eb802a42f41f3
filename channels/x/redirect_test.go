package x

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"go.uber.org/zap"

	"herald/channels"
	"herald/channels/x/xfake"
)

// An api_base that redirects is handed back, not followed: Go turns a redirected POST into a
// GET without its body (301, 302) or sends the signed post wherever the answer points (307,
// 308). Nothing reaches the redirect's target, and the delivery is not recorded as sent.
func TestRedirectingAPIBaseIsNotFollowed(t *testing.T) {
	for _, code := range []int{http.StatusMovedPermanently, http.StatusPermanentRedirect} {
		fake := xfake.New()
		t.Cleanup(fake.Close)
		moved := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, fake.APIBase()+r.URL.Path, code)
		}))
		t.Cleanup(moved.Close)
		ch, err := New(specFrom(t, settingsFor(moved.URL, xfake.DefaultCredentials)), channels.Env{Logger: zap.NewNop(), HTTPClient: http.DefaultClient})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := ch.Send(testCtx(t), msgOf(channels.Post{Text: "خبر عاجل"})); err == nil {
			t.Fatalf("%d: a redirected post was reported sent", code)
		}
		for _, r := range fake.Requests() {
			t.Fatalf("%d: the redirect was followed: %s %s reached its target", code, r.Method, r.Path)
		}
	}
}
