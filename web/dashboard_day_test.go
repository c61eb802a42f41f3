package web

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap"

	"herald/channels"
	"herald/internal/redistest"
	"herald/queue"
)

// The dashboard's "N sent · M failed in 24 h" beside each chart agrees with herald stats'
// last_day (GET /v1/stats), which counts the last 24 hours to the minute. The chart's 24 hourly
// bars start at the top of an hour, so summing them left out up to an hour of deliveries: at
// 10:10, those from 10:10 to 11:00 yesterday.
func TestDashboardDayTotalsAgreeWithStats(t *testing.T) {
	rdb, _ := redistest.Start(t)
	ctx := context.Background()
	now := time.Date(2026, 11, 27, 10, 10, 0, 0, time.UTC)
	b := queue.NewBroker(rdb, queue.Options{Now: func() time.Time { return now }})
	chs := []queue.ChannelConfig{{Name: "tg-main", Kind: channels.KindTelegram}}
	s := &Server{Broker: b, Token: dashAdminToken, Logger: zap.NewNop(), Channels: chs}
	e := &dashEnv{t: t, srv: s, h: s.Handler(), broker: b}

	// The log's per-minute counters (README, What herald keeps in Redis:
	// herald:log:n:<channel>:<status>:<hour>, one field per minute).
	seed := func(status string, at time.Time, n int) {
		min := at.UnixMilli() / 60000
		key := fmt.Sprintf("herald:log:n:tg-main:%s:%d", status, min/60)
		if err := rdb.HIncrBy(ctx, key, fmt.Sprint(min), int64(n)).Err(); err != nil {
			t.Fatal(err)
		}
	}
	seed("sent", now.Add(-23*time.Hour-50*time.Minute), 3) // 10:20 yesterday: in the last 24 h, before the first bar
	seed("failed", now.Add(-23*time.Hour-40*time.Minute), 1)
	seed("sent", now.Add(-30*time.Minute), 2)
	seed("sent", now.Add(-24*time.Hour-time.Minute), 7) // more than 24 h ago: in neither

	ov, err := b.Overview(ctx, chs)
	if err != nil {
		t.Fatal(err)
	}
	day := ov.Channels[0].LastDay
	if day.Sent != 5 || day.Failed != 1 {
		t.Fatalf("herald stats' last_day: %+v, want 5 sent, 1 failed", day)
	}
	page := e.loginAs(roleAdmin).page("/dashboard/live")
	want := fmt.Sprintf(`%d sent</b> · <b class="k-failed">%d failed</b>`, day.Sent, day.Failed)
	if !strings.Contains(page, want) {
		i := strings.Index(page, "<figcaption>")
		t.Fatalf("the dashboard's 24 h totals disagree with herald stats (%s); it shows:\n%s", want, page[max(i, 0):min(len(page), max(i, 0)+300)])
	}
}
