package queue

import (
	"context"
	"encoding/json"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/zap"

	"herald/article"
	"herald/channels"
	"herald/formatter"
	"herald/internal/redistest"
)

func benchEnv(b *testing.B) (*Broker, Route) {
	b.Helper()
	rdb, _ := redistest.Start(b)
	r, err := formatter.New(channels.KindTelegram, formatter.Options{})
	if err != nil {
		b.Fatal(err)
	}
	return NewBroker(rdb, Options{}), Route{Channel: &scripted{name: "tg"}, Renderer: r}
}

func benchArticle(i int) *article.Article {
	a := &article.Article{URL: fmt.Sprintf("https://news.example.com/b/%d", i), Title: "عنوان الخبر رقم " + fmt.Sprint(i)}
	a.Normalize()
	return a
}

// BenchmarkPublish measures recording and enqueueing one article for one channel.
func BenchmarkPublish(b *testing.B) {
	broker, _ := benchEnv(b)
	ctx := context.Background()
	targets := []Target{{Name: "tg", Kind: channels.KindTelegram}}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := broker.Publish(ctx, benchArticle(i), targets); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDeliver is the load harness: b.N articles through publish, ledger, format, an
// instant channel and commit, with 20 workers; it reports deliveries per second.
func BenchmarkDeliver(b *testing.B) {
	broker, route := benchEnv(b)
	ctx := context.Background()
	targets := []Target{{Name: "tg", Kind: channels.KindTelegram}}
	for i := 0; i < b.N; i++ {
		if _, err := broker.Publish(ctx, benchArticle(i), targets); err != nil {
			b.Fatal(err)
		}
	}
	var sent atomic.Int64
	done := make(chan struct{})
	w := NewWorker(broker, map[channels.Name]Route{"tg": route}, WorkerOptions{
		Concurrency: 20, PollInterval: 10 * time.Millisecond, Logger: zap.NewNop(),
		OnOutcome: func(o Outcome) {
			if o.Status == "sent" && sent.Add(1) == int64(b.N) {
				close(done)
			}
		},
	})
	b.ResetTimer()
	start := time.Now()
	wctx, cancel := context.WithCancel(ctx)
	stopped := make(chan struct{})
	go func() { _ = w.Run(wctx); close(stopped) }()
	// The worker must be gone before the test's Redis is, or asynq's subscriber panics.
	defer func() { cancel(); <-stopped }()
	select {
	case <-done:
	case <-time.After(5 * time.Minute):
		b.Fatalf("only %d of %d delivered", sent.Load(), b.N)
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "deliveries/s")
}

// BenchmarkArticleStoredForm measures what a publish (compress) and a claim (decompress) spend
// on an article's stored form.
func BenchmarkArticleStoredForm(b *testing.B) {
	a := benchArticle(1)
	a.Summary = "اتهم الرئيس الأوكراني فولوديمير زيلينسكي كوريا الشمالية بإرسال أفراد من جيشها إلى روسيا، في تصعيد جديد للحرب."
	data, err := json.Marshal(a)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		v := storedArticleValue(data, []string{"tg"})
		if _, err := decodeStoredArticle(a.ID, v); err != nil {
			b.Fatal(err)
		}
	}
}
