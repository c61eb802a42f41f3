package queue

import (
	"context"
	"fmt"
	"time"

	"herald/channels"
)

// ChannelConfig is what the status views need to know about a configured channel.
type ChannelConfig struct {
	Name  channels.Name
	Kind  channels.Kind
	Limit Limit
	// Leased: one process at a time sends for it (in-flight cap 1, see Leased and lease.go).
	Leased bool
}

// ChannelInfo is a channel's live state (herald channels, GET /v1/channels).
type ChannelInfo struct {
	ChannelStats
	Kind        channels.Kind `json:"kind"`
	Rate        string        `json:"rate"`
	PauseReason string        `json:"pause_reason,omitempty"`
	PausedBy    string        `json:"paused_by,omitempty"`
	NotBefore   time.Time     `json:"not_before,omitzero"`

	Spend *Spend `json:"spend,omitempty"` // billing channels (X) that posted this month, spend.go
	// Sending deliveries are claimed by a worker; after a crash they wait there until the latest
	// lease ends (SendingLeaseUntil), then turn unknown.
	Sending           int       `json:"sending"`
	SendingLeaseUntil time.Time `json:"sending_lease_until,omitzero"`
	// Unknown deliveries are parked for an admin (herald retry or repost).
	Unknown int `json:"unknown"`
	// Sender is the process that sends for a leased channel (lease.go); absent when every
	// process sends for the channel.
	Sender *SenderLease `json:"sender,omitempty"`
}

// ChannelInfos reads the queue, pause and not-before state of each channel.
func ChannelInfos(ctx context.Context, b *Broker, chs []ChannelConfig) ([]ChannelInfo, error) {
	paused, err := b.Paused(ctx)
	if err != nil {
		return nil, err
	}
	reasons := map[channels.Name]PauseInfo{}
	for _, p := range paused {
		reasons[p.Channel] = p
	}
	qs, err := b.insp.Queues()
	if err != nil {
		return nil, fmt.Errorf("queue: listing queues: %w", err)
	}
	out := make([]ChannelInfo, 0, len(chs))
	for _, c := range chs {
		st, err := b.statsIn(c.Name, qs)
		if err != nil {
			return nil, err
		}
		pi, isPaused := reasons[c.Name]
		st.Paused = isPaused
		nb, err := b.NotBefore(ctx, c.Name)
		if err != nil {
			return nil, err
		}
		if !nb.After(b.opts.Now()) {
			nb = time.Time{}
		}
		info := ChannelInfo{ChannelStats: st, Kind: c.Kind, Rate: c.Limit.String(), PauseReason: pi.Reason, PausedBy: pi.By, NotBefore: nb.UTC()}
		if info.Sending, info.SendingLeaseUntil, err = b.sending(ctx, c.Name); err != nil {
			return nil, err
		}
		unknown, err := b.Unknown(ctx, c.Name)
		if err != nil {
			return nil, err
		}
		info.Unknown = len(unknown)
		if c.Leased {
			l, err := b.Sender(ctx, c.Name)
			if err != nil {
				return nil, err
			}
			info.Sender = &l
		}
		out = append(out, info)
	}
	return out, b.addSpend(ctx, out)
}
