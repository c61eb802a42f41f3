package metrics

import (
	"errors"
	"os"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"

	"herald/channels"
	"herald/internal/redistest"
	"herald/queue"
)

// The README's table of series (Monitoring) names exactly the series /metrics serves, each with
// its labels, and a row for every family of series herald leaves to a library (asynq_*, go_*,
// process_*): a series added, renamed or relabelled without its row fails here, and so does a
// row for a series that is gone. No label may hold an article id or other per-article value:
// every label of herald's own series is one of a fixed set.
func TestReadmeListsExactlyTheSeriesServed(t *testing.T) {
	data, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	text := string(data)
	start := strings.Index(text, "**Metrics.**")
	end := strings.Index(text[max(start, 0):], "\nCounters are per process")
	if start < 0 || end < 0 {
		t.Fatal("README: no **Metrics.** table")
	}
	documented := map[string][]string{}
	var prefixes []string
	for _, m := range regexp.MustCompile("(?m)^\\| `([a-z_]+)(\\*|\\{([a-z_,]*)\\})?`").FindAllStringSubmatch(text[start:start+end], -1) {
		if m[2] == "*" {
			prefixes = append(prefixes, m[1])
			continue
		}
		var labels []string
		if m[3] != "" {
			labels = strings.Split(m[3], ",")
		}
		sort.Strings(labels)
		documented[m[1]] = labels
	}

	rdb, _ := redistest.Start(t)
	m := New(queue.NewBroker(rdb, queue.Options{}), []queue.ChannelConfig{{Name: "tg", Kind: channels.KindTelegram}})
	// One outcome of each kind, so every vector has a child to show.
	m.Observe(queue.Outcome{Channel: "tg", Status: "sent", Took: time.Second, QueuedAt: time.Now().Add(-2 * time.Second)})
	m.Observe(queue.Outcome{Channel: "tg", Status: "rate_limited", Took: time.Second,
		Err: channels.RateLimited(errors.New("429"), time.Now().Add(time.Second))})
	fams, err := m.Registry().Gather()
	if err != nil {
		t.Fatal(err)
	}
	allowed := map[string]bool{"channel": true, "status": true, "source": true, "class": true, "lane": true, "state": true}
	served := map[string]bool{}
	for _, f := range fams {
		name := f.GetName()
		served[name] = true
		if !strings.HasPrefix(name, "herald_") {
			if !slices.ContainsFunc(prefixes, func(p string) bool { return strings.HasPrefix(name, p) }) {
				t.Errorf("%s is served; the README's table has no row for it (or for its family, %s*)", name, strings.SplitN(name, "_", 2)[0]+"_")
			}
			continue
		}
		var labels []string
		for _, l := range f.GetMetric()[0].GetLabel() {
			labels = append(labels, l.GetName())
			if !allowed[l.GetName()] {
				t.Errorf("%s has label %s, not one of the fixed label set", name, l.GetName())
			}
		}
		sort.Strings(labels)
		want, ok := documented[name]
		switch {
		case !ok:
			t.Errorf("%s%v is served; the README's table does not list it", name, labels)
		case !slices.Equal(want, labels):
			t.Errorf("%s: the README lists labels %v, the series has %v", name, want, labels)
		}
	}
	for name := range documented {
		if !served[name] {
			t.Errorf("the README lists %s, which /metrics does not serve", name)
		}
	}
	for _, p := range prefixes {
		if !slices.ContainsFunc(fams, func(f *dto.MetricFamily) bool { return strings.HasPrefix(f.GetName(), p) }) && p != "asynq_" {
			t.Errorf("the README lists %s*, which /metrics does not serve", p)
		}
	}
	if len(documented) < 10 {
		t.Fatalf("read only %d rows from the README", len(documented))
	}
}
