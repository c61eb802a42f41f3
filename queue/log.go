package queue

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// LogEntry is one state change in the delivery log.
type LogEntry struct {
	ID        string    `json:"id"`
	Time      time.Time `json:"time"`
	ArticleID string    `json:"article_id"`
	Channel   string    `json:"channel"`
	Status    string    `json:"status"`
	Attempt   int       `json:"attempt"`
	RemoteID  string    `json:"remote_id,omitempty"`
	Error     string    `json:"error,omitempty"`
}

// Log returns the newest delivery log entries, newest first.
func (b *Broker) Log(ctx context.Context, count int64) ([]LogEntry, error) {
	msgs, err := b.rdb.XRevRangeN(ctx, logKey, "+", "-", count).Result()
	if err != nil {
		return nil, fmt.Errorf("queue: reading delivery log: %w", err)
	}
	out := make([]LogEntry, 0, len(msgs))
	for _, m := range msgs {
		out = append(out, logEntry(m))
	}
	return out, nil
}

func logEntry(m redis.XMessage) LogEntry {
	s := func(k string) string { v, _ := m.Values[k].(string); return v }
	e := LogEntry{ID: m.ID, ArticleID: s("article_id"), Channel: s("channel"), Status: s("status"), RemoteID: s("remote_id"), Error: s("error")}
	e.Attempt, _ = strconv.Atoi(s("attempt"))
	if ms, err := strconv.ParseInt(strings.SplitN(m.ID, "-", 2)[0], 10, 64); err == nil {
		e.Time = time.UnixMilli(ms).UTC()
	}
	return e
}
