package web

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"go.uber.org/zap"

	"herald/internal/redistest"
	"herald/queue"
)

// TestDashboardRetryUnknownThatStopsHalfWaySaysHowManyWent: the dashboard's "Retry N unknown"
// button whose Redis fails after the first of three deliveries was requeued says that one is
// being sent again and the rest are still unknown, and its audit entry has the count; it said
// "Could not retry the unknown deliveries", as if none had gone, and audited no count.
func TestDashboardRetryUnknownThatStopsHalfWaySaysHowManyWent(t *testing.T) {
	st := newBrowserStack(t)
	st.fake.Hold()
	var ids []string
	for i := 1; i <= 3; i++ {
		ids = append(ids, st.publish(t, fmt.Sprintf("https://news.example.com/a/half-%d", i), fmt.Sprintf("خبر %d", i)))
	}
	state := func(id string) queue.State {
		d, err := st.broker.Delivery(context.Background(), id, "tg-main")
		if err != nil {
			t.Fatal(err)
		}
		return d.State
	}
	for _, id := range ids {
		waitFor(t, 30*time.Second, id+" to become unknown", func() bool { return state(id) == queue.StateUnknown })
	}
	st.fake.Release()

	// A second herald on the same Redis whose connection fails at the second delivery (publish
	// order) serves the dashboard.
	hooked := redis.NewClient(st.broker.Client().(*redis.Client).Options())
	t.Cleanup(func() { _ = hooked.Close() })
	hooked.AddHook(redistest.FailScripts{Key: ids[1] + ":tg-main"})
	s := &Server{Broker: queue.NewBroker(hooked, queue.Options{}), Token: dashAdminToken, Logger: zap.NewNop(),
		Channels: []queue.ChannelConfig{{Name: "tg-main", Kind: "telegram"}, {Name: "tg-second", Kind: "telegram"}}}
	hs := httptest.NewServer(s.Handler())
	t.Cleanup(hs.Close)

	c, csrf := browserLogin(t, hs.URL, dashAdminToken, "/dashboard/")
	resp, err := c.PostForm(hs.URL+"/dashboard/channels/tg-main/retry-unknown", url.Values{"csrf": {csrf}})
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{"Retrying 1 unknown deliveries of tg-main, then Redis failed", "the rest are still unknown"} {
		if !strings.Contains(string(body), want) {
			t.Errorf("after the button, the page lacks %q:\n%s", want, body)
		}
	}
	waitFor(t, 20*time.Second, "the first to be sent", func() bool { return state(ids[0]) == queue.StateSent })
	for _, id := range ids[1:] {
		if got := state(id); got != queue.StateUnknown {
			t.Errorf("%s is %s; want still unknown", id, got)
		}
	}
	es, err := st.broker.Audit(context.Background(), 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(es) == 0 || es[0].Action != "retry-unknown" || !strings.Contains(es[0].Args, "requeued 1") {
		t.Errorf("audit entries %+v: want retry-unknown with requeued 1 first", es)
	}
}

// TestRetryUnknownEndpointThatStopsHalfWaySaysHowManyWent: POST /v1/channels/{name}/retry-unknown
// whose Redis fails after the first of two deliveries was requeued answers 503 with requeued 1,
// and its error says so too: herald retry --all-unknown --server prints only the error, which
// said "could not retry every unknown delivery", read as "none went" while one was being sent.
func TestRetryUnknownEndpointThatStopsHalfWaySaysHowManyWent(t *testing.T) {
	st := newBrowserStack(t)
	st.fake.Hold()
	var ids []string
	for i := 1; i <= 2; i++ {
		ids = append(ids, st.publish(t, fmt.Sprintf("https://news.example.com/a/api-half-%d", i), fmt.Sprintf("خبر %d", i)))
	}
	for _, id := range ids {
		waitFor(t, 30*time.Second, id+" to become unknown", func() bool {
			d, err := st.broker.Delivery(context.Background(), id, "tg-main")
			return err == nil && d.State == queue.StateUnknown
		})
	}
	st.fake.Release()
	hooked := redis.NewClient(st.broker.Client().(*redis.Client).Options())
	t.Cleanup(func() { _ = hooked.Close() })
	hooked.AddHook(redistest.FailScripts{Key: ids[1] + ":tg-main"})
	s := &Server{Broker: queue.NewBroker(hooked, queue.Options{}), Token: dashAdminToken, Logger: zap.NewNop(),
		Channels: []queue.ChannelConfig{{Name: "tg-main", Kind: "telegram"}}}
	req := httptest.NewRequest(http.MethodPost, "/v1/channels/tg-main/retry-unknown", nil)
	req.Header.Set("Authorization", "Bearer "+dashAdminToken)
	rec := httptest.NewRecorder()
	s.Handler().ServeHTTP(rec, req)
	var body struct {
		Error    string `json:"error"`
		Requeued int    `json:"requeued"`
	}
	_ = json.Unmarshal(rec.Body.Bytes(), &body)
	if rec.Code != http.StatusServiceUnavailable || body.Requeued != 1 || !strings.Contains(body.Error, "1 requeued before Redis failed") {
		t.Fatalf("%d %s; want 503 with requeued 1, said in the error too", rec.Code, rec.Body)
	}
}
