package metrics

import (
	"testing"

	"herald/channels"
	"herald/internal/redistest"
	"herald/queue"
)

// A counter that appears only at its first increment hides that increment from rate() and
// increase(): after each restart (and on a new pod) the first failed or unknown delivery of a
// channel, and the first 429, would never reach an alert such as
// increase(herald_deliveries_total{status="failed"}[10m]) > 0. Every configured channel's series
// are served at 0 from the start, and the histograms with no sample yet.
func TestSeriesOfConfiguredChannelsStartAtZero(t *testing.T) {
	rdb, _ := redistest.Start(t)
	m := New(queue.NewBroker(rdb, queue.Options{}), []queue.ChannelConfig{
		{Name: "tg-main", Kind: channels.KindTelegram}, {Name: "x-main", Kind: channels.KindX}})
	for _, ch := range []string{"tg-main", "x-main"} {
		for _, st := range []string{"sent", "failed", "unknown", "retry", "rate_limited", "paused", "duplicate"} {
			if v := value(t, m, "herald_deliveries_total", "channel", ch, "status", st); v != 0 {
				t.Errorf("herald_deliveries_total{channel=%q,status=%q} = %v before any delivery, want 0", ch, st, v)
			}
		}
		for _, class := range []string{"permanent", "rate_limited", "unknown_outcome", "pause", "duplicate_content", "transient"} {
			if v := value(t, m, "herald_platform_errors_total", "channel", ch, "class", class); v != 0 {
				t.Errorf("herald_platform_errors_total{channel=%q,class=%q} = %v, want 0", ch, class, v)
			}
		}
		for _, src := range []string{"local", "platform"} {
			if v := value(t, m, "herald_rate_limit_waits_total", "channel", ch, "source", src); v != 0 {
				t.Errorf("herald_rate_limit_waits_total{channel=%q,source=%q} = %v, want 0", ch, src, v)
			}
		}
		for _, h := range []string{"herald_send_duration_seconds", "herald_publish_to_post_seconds"} {
			if v := value(t, m, h, "channel", ch); v != 0 {
				t.Errorf("%s{channel=%q} has %v samples before any send, want a series with 0", h, ch, v)
			}
		}
	}
}
