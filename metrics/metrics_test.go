package metrics

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http/httptest"
	"os"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"

	"herald/article"
	"herald/channels"
	"herald/formatter"
	"herald/internal/redistest"
	"herald/queue"
)

// scripted answers Send with the next scripted error, then success.
type scripted struct {
	name channels.Name
	mu   sync.Mutex
	errs []error
	n    int
}

func (s *scripted) Name() channels.Name { return s.name }
func (s *scripted) Kind() channels.Kind { return channels.KindTelegram }
func (s *scripted) Send(context.Context, channels.Message) (channels.Receipt, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.errs) > 0 {
		err := s.errs[0]
		s.errs = s.errs[1:]
		return channels.Receipt{}, err
	}
	s.n++
	return channels.Receipt{RemoteID: fmt.Sprint(s.n)}, nil
}

// value is a series' value (a histogram's sample count), -1 when absent.
func value(t *testing.T, m *Metrics, name string, labels ...string) float64 {
	t.Helper()
	fams, err := m.Registry().Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range fams {
		if f.GetName() != name {
			continue
		}
		for _, s := range f.GetMetric() {
			if !hasLabels(s, labels) {
				continue
			}
			switch {
			case s.Counter != nil:
				return s.Counter.GetValue()
			case s.Gauge != nil:
				return s.Gauge.GetValue()
			case s.Histogram != nil:
				return float64(s.Histogram.GetSampleCount())
			}
		}
	}
	return -1
}

func hasLabels(s *dto.Metric, kv []string) bool {
	for i := 0; i+1 < len(kv); i += 2 {
		found := false
		for _, l := range s.GetLabel() {
			if l.GetName() == kv[i] && l.GetValue() == kv[i+1] {
				found = true
			}
		}
		if !found {
			return false
		}
	}
	return true
}

// Every series is exported and moves with what the worker does: deliveries by status, send
// duration, publish→post latency, rate-limit waits, platform errors by class, queue depth per
// lane, paused channels, and asynq's own queue series.
func TestEverySeriesPresentAndMoving(t *testing.T) {
	rdb, _ := redistest.Start(t)
	ctx := context.Background()
	b := queue.NewBroker(rdb, queue.Options{})
	chs := []queue.ChannelConfig{{Name: "tg", Kind: channels.KindTelegram}, {Name: "tg2", Kind: channels.KindTelegram}}
	m := New(b, chs)
	tg := &scripted{name: "tg", errs: []error{
		channels.Permanent(errors.New("Bad Request: chat not found")),
		channels.RateLimited(errors.New("Too Many Requests: retry after 1"), time.Now().Add(time.Second)),
		errors.New("connection reset"),
	}}
	r, _ := formatter.New(channels.KindTelegram, formatter.Options{})
	w := queue.NewWorker(b, map[channels.Name]queue.Route{"tg": {Channel: tg, Renderer: r, MaxAttempts: 3}, "tg2": {Channel: &scripted{name: "tg2"}, Renderer: r}},
		queue.WorkerOptions{PollInterval: 50 * time.Millisecond, DelayedInterval: 100 * time.Millisecond, BackoffBase: 50 * time.Millisecond,
			BackoffMax: 100 * time.Millisecond, SendTimeout: 2 * time.Second, ShutdownTimeout: 3 * time.Second, OnOutcome: m.Observe})
	wctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- w.Run(wctx) }()
	defer func() { cancel(); <-done }()

	before := map[string]float64{
		"sent":      value(t, m, "herald_deliveries_total", "channel", "tg", "status", "sent"),
		"duration":  value(t, m, "herald_send_duration_seconds", "channel", "tg"),
		"latency":   value(t, m, "herald_publish_to_post_seconds", "channel", "tg"),
		"waits":     value(t, m, "herald_rate_limit_waits_total", "channel", "tg", "source", "platform"),
		"permanent": value(t, m, "herald_platform_errors_total", "channel", "tg", "class", "permanent"),
		"depth":     value(t, m, "herald_queue_depth", "channel", "tg2", "lane", "normal"),
		"paused":    value(t, m, "herald_channel_paused", "channel", "tg2"),
	}
	if before["depth"] != 0 || before["paused"] != 0 {
		t.Fatalf("before: %v", before)
	}
	if err := b.Pause(ctx, "tg2", "test"); err != nil {
		t.Fatal(err)
	}
	publish := func(id string, ch channels.Name) {
		a := &article.Article{ID: id, URL: "https://news.example.com/" + id, Title: "عنوان " + id}
		a.Normalize()
		if _, err := b.Publish(ctx, a, []queue.Target{{Name: ch, Kind: channels.KindTelegram}}); err != nil {
			t.Fatal(err)
		}
	}
	publish("m1", "tg")
	for id, want := range map[string]queue.State{"m1": queue.StateFailed} {
		waitState(t, b, id, want)
	}
	publish("m2", "tg") // 429, then a transient error, then sent
	publish("p1", "tg2")
	waitState(t, b, "m2", queue.StateSent)
	// The hook runs after the ledger commit: wait for it too.
	deadline := time.Now().Add(10 * time.Second)
	for value(t, m, "herald_deliveries_total", "channel", "tg", "status", "sent") < 1 {
		if time.Now().After(deadline) {
			t.Fatal("the sent outcome never reached the metrics")
		}
		time.Sleep(20 * time.Millisecond) // polling a condition, bounded by the deadline
	}

	after := map[string]float64{
		"sent":      value(t, m, "herald_deliveries_total", "channel", "tg", "status", "sent"),
		"duration":  value(t, m, "herald_send_duration_seconds", "channel", "tg"),
		"latency":   value(t, m, "herald_publish_to_post_seconds", "channel", "tg"),
		"waits":     value(t, m, "herald_rate_limit_waits_total", "channel", "tg", "source", "platform"),
		"permanent": value(t, m, "herald_platform_errors_total", "channel", "tg", "class", "permanent"),
		"depth":     value(t, m, "herald_queue_depth", "channel", "tg2", "lane", "normal"),
		"paused":    value(t, m, "herald_channel_paused", "channel", "tg2"),
	}
	for k, v := range after {
		if v <= before[k] {
			t.Errorf("%s did not move: %v → %v", k, before[k], v)
		}
	}
	if v := value(t, m, "herald_platform_errors_total", "channel", "tg", "class", "transient"); v < 1 {
		t.Errorf("transient platform errors: %v", v)
	}
	if v := value(t, m, "herald_deliveries_total", "channel", "tg", "status", "failed"); v != 1 {
		t.Errorf("failed deliveries: %v", v)
	}
	if v := value(t, m, "herald_queue_depth", "channel", "tg", "lane", "urgent"); v != 0 {
		t.Errorf("urgent lane of tg: %v", v)
	}

	// The exposition carries every family, asynq's included.
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	body, _ := io.ReadAll(rec.Body)
	for _, name := range []string{"herald_deliveries_total", "herald_send_duration_seconds_bucket", "herald_publish_to_post_seconds_bucket",
		"herald_rate_limit_waits_total", "herald_platform_errors_total", "herald_queue_depth", "herald_queue_tasks", "herald_channel_paused",
		"herald_channel_rate_limited_until_seconds", "herald_redis_up", "asynq_queue_size", "asynq_tasks_processed_total"} {
		if !strings.Contains(string(body), "\n"+name) {
			t.Errorf("/metrics has no %s", name)
		}
	}
}

func waitState(t *testing.T, b *queue.Broker, id string, want queue.State) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		st, err := b.Status(context.Background(), id)
		if err == nil && len(st.Deliveries) == 1 && st.Deliveries[0].State == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s never reached %s: %+v %v", id, want, st, err)
		}
		time.Sleep(20 * time.Millisecond) // polling a condition, bounded by the deadline
	}
}

// The Grafana dashboard (deploy/grafana/herald.json) queries only series herald exports.
func TestGrafanaDashboardUsesExportedSeries(t *testing.T) {
	data, err := os.ReadFile("../deploy/grafana/herald.json")
	if err != nil {
		t.Fatal(err)
	}
	var dash struct {
		Panels []struct {
			Title   string
			Targets []struct{ Expr string }
		}
	}
	if err := json.Unmarshal(data, &dash); err != nil {
		t.Fatalf("herald.json: %v", err)
	}
	rdb, _ := redistest.Start(t)
	m := New(queue.NewBroker(rdb, queue.Options{}), []queue.ChannelConfig{{Name: "tg", Kind: channels.KindTelegram}})
	m.Observe(queue.Outcome{Channel: "tg", Status: "rate_limited", Took: time.Second, Err: errors.New("x")})
	fams, err := m.Registry().Gather()
	if err != nil {
		t.Fatal(err)
	}
	known := map[string]bool{}
	for _, f := range fams {
		known[f.GetName()] = true
		if f.GetType() == dto.MetricType_HISTOGRAM {
			known[f.GetName()+"_bucket"] = true
		}
	}
	// Histograms and asynq's queue series appear once observed; name them here.
	for _, n := range []string{"herald_publish_to_post_seconds_bucket", "asynq_queue_latency_seconds"} {
		known[n] = true
	}
	series := regexp.MustCompile(`\b(herald_[a-z_]+|asynq_[a-z_]+)\b`)
	used := 0
	for _, p := range dash.Panels {
		for _, tg := range p.Targets {
			for _, name := range series.FindAllString(tg.Expr, -1) {
				used++
				if !known[name] {
					t.Errorf("panel %q queries %s, which herald does not export", p.Title, name)
				}
			}
		}
	}
	if used < 10 {
		t.Fatalf("the dashboard queries %d series", used)
	}
}

// TestCommitFailureIsNoPlatformError: a post the platform accepted whose commit to Redis then
// failed (the outcome's Err is herald's, PlatformErr nil) counts no platform error; the
// platform's own failure counts in its class.
func TestCommitFailureIsNoPlatformError(t *testing.T) {
	rdb, _ := redistest.Start(t)
	m := New(queue.NewBroker(rdb, queue.Options{}), []queue.ChannelConfig{{Name: "tg", Kind: channels.KindTelegram}})
	m.Observe(queue.Outcome{Channel: "tg", Status: "retry", Took: time.Second,
		Err: errors.New("queue: committing a1:tg as sent: lease lost")})
	for _, class := range []string{"transient", "permanent", "unknown_outcome", "rate_limited", "pause", "duplicate_content"} {
		if v := value(t, m, "herald_platform_errors_total", "channel", "tg", "class", class); v != 0 {
			t.Fatalf("a failed commit after an accepted post counted as a %s platform error (%v)", class, v)
		}
	}
	m.Observe(queue.Outcome{Channel: "tg", Status: "retry", Took: time.Second,
		Err: errors.New("retry in 2s: telegram: 502"), PlatformErr: errors.New("telegram: 502")})
	if v := value(t, m, "herald_platform_errors_total", "channel", "tg", "class", "transient"); v != 1 {
		t.Fatalf("the platform's 502: transient = %v, want 1", v)
	}
}
