package queue

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"

	"herald/channels"
)

// Unconfigured finds channels that are not in the configuration but still have deliveries in
// their queues — a channel renamed or removed while its backlog waited. No worker serves such a
// queue, so its deliveries would wait forever without a word; the status views name them.
// Channels whose queues are empty are left out.
func (b *Broker) Unconfigured(ctx context.Context, configured []ChannelConfig) ([]ChannelStats, error) {
	qs, err := b.insp.Queues()
	if err != nil {
		return nil, fmt.Errorf("queue: listing queues: %w", err)
	}
	seen := map[channels.Name]bool{}
	var out []ChannelStats
	for _, q := range qs {
		ch, ok := channelOfQueue(q)
		if !ok || seen[ch] || slices.ContainsFunc(configured, func(c ChannelConfig) bool { return c.Name == ch }) {
			continue
		}
		seen[ch] = true
		st, err := b.statsIn(ch, qs)
		if err != nil {
			return nil, err
		}
		if st.Waiting() > 0 {
			out = append(out, st)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Channel < out[j].Channel })
	return out, nil
}

// Waiting is how many deliveries a channel's queues hold, whatever their state.
func (s ChannelStats) Waiting() int { return s.Pending + s.Scheduled + s.Retry + s.Active }

// channelOfQueue is asynqQueue and bellQueue read backwards.
func channelOfQueue(q string) (channels.Name, bool) {
	rest, ok := strings.CutPrefix(q, "ch:")
	if !ok || rest == "" {
		return "", false
	}
	rest = strings.TrimSuffix(strings.TrimSuffix(rest, ":urgent"), ":bell")
	return channels.Name(rest), rest != ""
}
