package telegram

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"herald/channels"
	"herald/channels/telegram/telegramfake"
)

// An api_endpoint that redirects (http:// to https://, a moved local Bot API server) is handed
// back as an error naming the redirect, not followed: Go turns a redirected POST into a GET
// without its body (301, 302) or sends the post wherever the answer points (307, 308), with the
// token in the path. The post must neither be lost under a misleading "message text is empty"
// nor go to another address than the one configured.
func TestRedirectingEndpointIsNotFollowed(t *testing.T) {
	for _, code := range []int{http.StatusMovedPermanently, http.StatusTemporaryRedirect} {
		fake := telegramfake.New()
		t.Cleanup(fake.Close)
		fake.SetToken(token)
		moved := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, strings.TrimSuffix(fake.URL(), "/")+r.URL.Path, code)
		}))
		t.Cleanup(moved.Close)
		h := newHarnessAt(t, fake, moved.URL+"/bot%s/%s", http.DefaultClient)
		_, err := h.ch.Send(testCtx(t), msgOf(htmlPost("x")))
		if err == nil || !strings.Contains(err.Error(), "redirect") {
			t.Fatalf("%d: err = %v, want an error naming the redirect", code, err)
		}
		if classOf(err) != pause {
			t.Errorf("%d: %v is %v, want a pause (every send would be answered alike)", code, err, classOf(err))
		}
		if n := len(fake.Messages()); n != 0 {
			t.Fatalf("%d: the redirect was followed: %d messages at the redirect's target", code, n)
		}
		h.assertNoToken(t, err)
		if pe, ok := channels.AsPause(err); !ok || strings.Contains(pe.Reason, token) || !strings.Contains(pe.Reason, "api_endpoint") {
			t.Fatalf("%d: pause reason %v: want one naming api_endpoint, without the token", code, pe)
		}
	}
}
