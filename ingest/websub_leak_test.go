package ingest

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestHubRefusalNeverShowsTheSubscriptionSecret: a hub that refuses a subscription by quoting
// the request back (hub.secret included) gets an error without the secret, wherever the secret
// falls in its answer (the excerpt's cut included). The error is logged, kept in the feed's
// state and shown by GET /v1/feeds; the secret would let anyone sign pushes herald publishes.
func TestHubRefusalNeverShowsTheSubscriptionSecret(t *testing.T) {
	const secret = "0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a6978"
	for _, pad := range []int{0, 260, 470} { // the secret whole, or its first half before the 300- or 512-byte cut
		hub := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			body, _ := io.ReadAll(r.Body)
			w.WriteHeader(http.StatusBadRequest)
			fmt.Fprintf(w, "%shub.secret=%s refused: %s", strings.Repeat("-", pad), secret, body)
		}))
		p := &Poller{}
		err := p.subscribe(context.Background(), hub.Client(), hubLinks{hub: hub.URL, self: "https://news.example.com/feed"}, "https://herald.example.com/websub/news", secret)
		hub.Close()
		if err == nil || !strings.Contains(err.Error(), "HTTP 400") {
			t.Fatalf("pad %d: %v", pad, err)
		}
		for _, part := range []string{secret, secret[:len(secret)/2], secret[len(secret)/2:]} {
			if strings.Contains(err.Error(), part) {
				t.Fatalf("pad %d: the error shows the subscription secret: %v", pad, err)
			}
		}
	}
}
