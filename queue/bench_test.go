package queue

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"gopkg.in/yaml.v3"

	"herald/article"
	"herald/channels"
	"herald/channels/telegram"
	"herald/channels/telegram/telegramfake"
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
// instant channel and commit, with 20 workers; it reports deliveries per second and the
// allocations of the deliveries (the publishes come before the timer).
func BenchmarkDeliver(b *testing.B) {
	broker, route := benchEnv(b)
	benchDeliver(b, broker, route, zap.NewNop())
}

// BenchmarkDeliverTelegram is BenchmarkDeliver through the real Telegram channel, over HTTP to
// the fake Bot API, with the production JSON logger writing each delivery line (to io.Discard):
// what one delivery of `make bench` costs herald's process, less asynq's share of Redis
// round trips being the same. Its allocations include the fake's own, in the same process.
func BenchmarkDeliverTelegram(b *testing.B) {
	broker, _ := benchEnv(b)
	fake := telegramfake.New()
	b.Cleanup(fake.Close)
	var settings yaml.Node
	doc := fmt.Sprintf("token: %q\nchat_id: \"@%s\"\napi_endpoint: %q\nbot_rate: unlimited\n",
		telegramfake.DefaultToken, telegramfake.DefaultChat.Username, fake.Endpoint())
	if err := yaml.Unmarshal([]byte(doc), &settings); err != nil {
		b.Fatal(err)
	}
	ch, err := telegram.New(channels.Spec{Name: "tg", Kind: channels.KindTelegram, Settings: *settings.Content[0]}, channels.Env{})
	if err != nil {
		b.Fatal(err)
	}
	r, err := formatter.New(channels.KindTelegram, formatter.Options{})
	if err != nil {
		b.Fatal(err)
	}
	enc := zap.NewProductionEncoderConfig()
	enc.TimeKey, enc.EncodeTime = "time", zapcore.ISO8601TimeEncoder
	log := zap.New(zapcore.NewCore(zapcore.NewJSONEncoder(enc), zapcore.AddSync(io.Discard), zap.InfoLevel), zap.AddCaller())
	benchDeliver(b, broker, Route{Channel: ch, Renderer: r}, log)
}

func benchDeliver(b *testing.B, broker *Broker, route Route, log *zap.Logger) {
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
		Concurrency: 20, PollInterval: 10 * time.Millisecond, Logger: log,
		OnOutcome: func(o Outcome) {
			if o.Status == "sent" && sent.Add(1) == int64(b.N) {
				close(done)
			}
		},
	})
	b.ReportAllocs()
	b.ResetTimer()
	start, cpu0, rcpu0 := time.Now(), processCPU(), redisCPU(b, broker)
	if err := broker.rdb.ConfigResetStat(ctx).Err(); err != nil {
		b.Fatal(err)
	}
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
	// CPU time, unlike the wall clock, hardly moves with what else the machine runs: the
	// figure to compare (it includes an in-process fake's share, not Redis's).
	b.ReportMetric(float64((processCPU()-cpu0)/time.Microsecond)/float64(b.N), "cpu-µs/delivery")
	b.ReportMetric(float64((redisCPU(b, broker)-rcpu0)/time.Microsecond)/float64(b.N), "redis-cpu-µs/delivery")
	b.ReportMetric(float64(redisCalls(b, broker))/float64(b.N), "redis-cmds/delivery")
}

// redisCPU is the CPU time redis-server has used (INFO cpu).
func redisCPU(b *testing.B, broker *Broker) time.Duration {
	info, err := broker.rdb.Info(context.Background(), "cpu").Result()
	if err != nil {
		b.Fatal(err)
	}
	var total float64
	for line := range strings.SplitSeq(info, "\r\n") {
		k, v, _ := strings.Cut(line, ":")
		if k == "used_cpu_sys" || k == "used_cpu_user" {
			f, _ := strconv.ParseFloat(v, 64)
			total += f
		}
	}
	return time.Duration(total * float64(time.Second))
}

// redisCalls is the number of commands Redis ran since the last CONFIG RESETSTAT, scripts'
// own commands included, the benchmark's INFO left out.
func redisCalls(b *testing.B, broker *Broker) int64 {
	info, err := broker.rdb.Info(context.Background(), "commandstats").Result()
	if err != nil {
		b.Fatal(err)
	}
	var n int64
	for line := range strings.SplitSeq(info, "\r\n") {
		name, rest, ok := strings.Cut(line, ":calls=")
		if !ok || name == "cmdstat_info" || name == "cmdstat_config|resetstat" {
			continue
		}
		calls, _, _ := strings.Cut(rest, ",")
		c, _ := strconv.ParseInt(calls, 10, 64)
		n += c
	}
	return n
}

// processCPU is the user and system CPU time this process has used.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
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
