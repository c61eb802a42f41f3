package queue

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"herald/channels"
)

// Keys kept beside the delivery log by luaLogAppend (log.go). Index streams hold a copy of each
// entry under the main stream's id, so a query reads only the entries it wants; an article's
// index is a sorted set of entry ids.
func logIndexChannel(ch string) string      { return logKey + ":ix:ch:" + ch }
func logIndexStatus(st string) string       { return logKey + ":ix:st:" + st }
func logIndexChStatus(ch, st string) string { return logKey + ":ix:cs:" + ch + ":" + st }
func logIndexArticle(id string) string      { return logKey + ":ix:art:" + id }
func logLatencyKey(ch string) string        { return logKey + ":lat:" + ch }
func logCounterKey(ch, st string, hour int64) string {
	return logKey + ":n:" + ch + ":" + st + ":" + strconv.FormatInt(hour, 10)
}

// logIndexArticleTTL (seconds, 90 days: the default retention) bounds an article's index,
// which is no longer touched once the article gets no more entries.
const logIndexArticleTTL = "7776000"

// LogQuery selects delivery log entries. Empty fields do not filter.
type LogQuery struct {
	ArticleID string
	Channel   string
	Status    string
	Since     time.Time // inclusive
	Until     time.Time // exclusive
	// Limit is the page size (default 50, at most 1000).
	Limit int
	// Cursor continues a previous page: its NextCursor.
	Cursor string
}

// LogPage is one page of QueryLog, newest first.
type LogPage struct {
	Entries []LogEntry `json:"deliveries"`
	// NextCursor fetches the next (older) page; empty on the last page.
	NextCursor string `json:"next_cursor,omitempty"`
}

// ErrBadCursor is returned for a cursor QueryLog did not hand out.
var ErrBadCursor = errors.New("bad cursor")

var streamID = regexp.MustCompile(`^[0-9]{1,20}-[0-9]{1,20}$`)

// stream picks the most selective index stream for q; residual reports whether entries still
// need filtering (by article: an article's index is a set of ids, see queryArticle).
func (q LogQuery) stream() (key string, residual bool) {
	art := q.ArticleID != ""
	switch {
	case q.Channel != "" && q.Status != "":
		return logIndexChStatus(q.Channel, q.Status), art
	case q.Channel != "":
		return logIndexChannel(q.Channel), art
	case q.Status != "":
		return logIndexStatus(q.Status), art
	}
	return logKey, art
}

func (q LogQuery) match(e LogEntry) bool {
	return (q.Channel == "" || e.Channel == q.Channel) && (q.Status == "" || e.Status == q.Status) &&
		(q.ArticleID == "" || e.ArticleID == q.ArticleID)
}

// QueryLog returns one page of the delivery log, newest first, reading only the index that
// fits the query (an article, a channel, a status, a channel and status) within the time range.
func (b *Broker) QueryLog(ctx context.Context, q LogQuery) (LogPage, error) {
	if q.Limit <= 0 {
		q.Limit = 50
	}
	q.Limit = min(q.Limit, 1000)
	if q.ArticleID != "" {
		return b.queryArticle(ctx, q)
	}
	key, residual := q.stream()
	end, start := "+", "-"
	if !q.Until.IsZero() {
		end = "(" + strconv.FormatInt(q.Until.UnixMilli(), 10) + "-0"
	}
	if q.Cursor != "" {
		if !streamID.MatchString(q.Cursor) {
			return LogPage{}, fmt.Errorf("queue: reading delivery log: %w %q", ErrBadCursor, q.Cursor)
		}
		end = "(" + q.Cursor
	}
	if !q.Since.IsZero() {
		start = strconv.FormatInt(q.Since.UnixMilli(), 10)
	}
	// Index streams are trimmed approximately: hide what the main log no longer has, so every
	// query sees the same retention.
	oldest, err := b.oldestLogID(ctx, key)
	if err != nil {
		return LogPage{}, err
	}
	var page LogPage
	for {
		batch := int64(q.Limit + 1)
		if residual {
			batch = 200
		}
		msgs, err := b.rdb.XRevRangeN(ctx, key, end, start, batch).Result()
		if err != nil {
			return LogPage{}, fmt.Errorf("queue: reading delivery log: %w", err)
		}
		for _, m := range msgs {
			if oldest != "" && idLess(m.ID, oldest) {
				msgs = nil
				break
			}
			e := logEntry(m)
			if !q.match(e) {
				continue
			}
			if len(page.Entries) == q.Limit {
				page.NextCursor = page.Entries[len(page.Entries)-1].ID
				return page, b.addTitles(ctx, page.Entries)
			}
			page.Entries = append(page.Entries, e)
		}
		if int64(len(msgs)) < batch {
			return page, b.addTitles(ctx, page.Entries)
		}
		end = "(" + msgs[len(msgs)-1].ID
	}
}

// queryArticle is QueryLog for one article: its ids from the article's sorted set, newest
// first, within the time range and before the cursor, each entry read back from the main log
// (one pipelined round trip per page); entries the log has trimmed are gone, as elsewhere.
func (b *Broker) queryArticle(ctx context.Context, q LogQuery) (LogPage, error) {
	if q.Cursor != "" && !streamID.MatchString(q.Cursor) {
		return LogPage{}, fmt.Errorf("queue: reading delivery log: %w %q", ErrBadCursor, q.Cursor)
	}
	rng := &redis.ZRangeBy{Max: "+inf", Min: "-inf"}
	if !q.Until.IsZero() {
		rng.Max = "(" + strconv.FormatInt(q.Until.UnixMilli(), 10)
	}
	if !q.Since.IsZero() {
		rng.Min = strconv.FormatInt(q.Since.UnixMilli(), 10)
	}
	ids, err := b.rdb.ZRevRangeByScore(ctx, logIndexArticle(q.ArticleID), rng).Result()
	if err != nil {
		return LogPage{}, fmt.Errorf("queue: reading delivery log: %w", err)
	}
	// Same-millisecond ids share a score: order them as the stream does.
	sort.SliceStable(ids, func(i, j int) bool { return idLess(ids[j], ids[i]) })
	if q.Cursor != "" {
		i := sort.Search(len(ids), func(i int) bool { return idLess(ids[i], q.Cursor) })
		ids = ids[i:]
	}
	var page LogPage
	for len(ids) > 0 {
		batch := ids[:min(len(ids), 200)]
		ids = ids[len(batch):]
		pipe := b.rdb.Pipeline()
		cmds := make([]*redis.XMessageSliceCmd, len(batch))
		for i, id := range batch {
			cmds[i] = pipe.XRangeN(ctx, logKey, id, id, 1)
		}
		if _, err := pipe.Exec(ctx); err != nil && !errors.Is(err, redis.Nil) {
			return LogPage{}, fmt.Errorf("queue: reading delivery log: %w", err)
		}
		for _, c := range cmds {
			msgs, err := c.Result()
			if err != nil || len(msgs) == 0 {
				continue
			}
			e := logEntry(msgs[0])
			if !q.match(e) {
				continue
			}
			if len(page.Entries) == q.Limit {
				page.NextCursor = page.Entries[len(page.Entries)-1].ID
				return page, b.addTitles(ctx, page.Entries)
			}
			page.Entries = append(page.Entries, e)
		}
	}
	return page, b.addTitles(ctx, page.Entries)
}

// oldestLogID is the main log's first id when key is an index ("" otherwise or when empty).
func (b *Broker) oldestLogID(ctx context.Context, key string) (string, error) {
	if key == logKey {
		return "", nil
	}
	first, err := b.rdb.XRangeN(ctx, logKey, "-", "+", 1).Result()
	if err != nil {
		return "", fmt.Errorf("queue: reading delivery log: %w", err)
	}
	if len(first) == 0 {
		return "", nil
	}
	return first[0].ID, nil
}

func idLess(a, b string) bool {
	pa, pb := splitID(a), splitID(b)
	return pa[0] < pb[0] || (pa[0] == pb[0] && pa[1] < pb[1])
}

func splitID(id string) [2]uint64 {
	var out [2]uint64
	ms, seq, _ := strings.Cut(id, "-")
	out[0], _ = strconv.ParseUint(ms, 10, 64)
	out[1], _ = strconv.ParseUint(seq, 10, 64)
	return out
}

// FollowLog calls fn with each new entry matching q (Since, Until, Limit and Cursor aside), in
// order, as it is appended, until ctx ends or fn fails. It uses blocking stream reads (XREAD
// BLOCK) on the index that fits q: no polling. from is the id to start after ("$" or "" for
// only new entries).
func (b *Broker) FollowLog(ctx context.Context, q LogQuery, from string, fn func(LogEntry) error) error {
	key, _ := q.stream()
	if from == "" {
		from = "$"
	}
	for ctx.Err() == nil {
		// A bounded block lets a cancelled context end the loop within a second.
		res, err := b.rdb.XRead(ctx, &redis.XReadArgs{Streams: []string{key, from}, Block: time.Second, Count: 100}).Result()
		if errors.Is(err, redis.Nil) {
			continue
		}
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("queue: following delivery log: %w", err)
		}
		for _, s := range res {
			entries := make([]LogEntry, 0, len(s.Messages))
			for _, m := range s.Messages {
				from = m.ID
				if e := logEntry(m); q.match(e) {
					entries = append(entries, e)
				}
			}
			if err := b.addTitles(ctx, entries); err != nil {
				return err
			}
			for _, e := range entries {
				if err := fn(e); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// LastLogID is the newest entry's id of the stream q reads ("0" when empty): FollowLog from it
// continues exactly after a QueryLog page read just before.
func (b *Broker) LastLogID(ctx context.Context, q LogQuery) (string, error) {
	key, _ := q.stream()
	msgs, err := b.rdb.XRevRangeN(ctx, key, "+", "-", 1).Result()
	if err != nil {
		return "", fmt.Errorf("queue: reading delivery log: %w", err)
	}
	if len(msgs) == 0 {
		return "0", nil
	}
	return msgs[0].ID, nil
}

// addTitles fills each entry's article title (stored articles only; "" once expired).
func (b *Broker) addTitles(ctx context.Context, entries []LogEntry) error {
	if len(entries) == 0 {
		return nil
	}
	ids := map[string]*redis.StringCmd{}
	pipe := b.rdb.Pipeline()
	for _, e := range entries {
		if _, ok := ids[e.ArticleID]; !ok {
			ids[e.ArticleID] = pipe.Get(ctx, articleKey(e.ArticleID))
		}
	}
	if _, err := pipe.Exec(ctx); err != nil && !errors.Is(err, redis.Nil) {
		return fmt.Errorf("queue: reading article titles: %w", err)
	}
	titles := make(map[string]string, len(ids))
	for id, c := range ids {
		var a struct {
			Title string `json:"title"`
		}
		if data, err := c.Bytes(); err == nil && json.Unmarshal(data, &a) == nil {
			titles[id] = a.Title
		}
	}
	for i := range entries {
		entries[i].Title = titles[entries[i].ArticleID]
	}
	return nil
}

// Unknown lists the channel's deliveries parked as unknown (article ids, sorted), from the
// ledger's unknown index.
func (b *Broker) Unknown(ctx context.Context, ch channels.Name) ([]string, error) {
	members, err := b.rdb.SMembers(ctx, unknownKey(ch)).Result()
	if err != nil {
		return nil, fmt.Errorf("queue: listing unknown deliveries of %s: %w", ch, err)
	}
	// A record that expired (retention) is no longer waiting for anyone.
	pipe := b.rdb.Pipeline()
	exists := make([]*redis.IntCmd, len(members))
	for i, m := range members {
		exists[i] = pipe.Exists(ctx, keyPrefix+"dlv:{"+m+"}")
	}
	if len(members) > 0 {
		if _, err := pipe.Exec(ctx); err != nil {
			return nil, fmt.Errorf("queue: listing unknown deliveries of %s: %w", ch, err)
		}
	}
	var out []string
	for i, m := range members {
		if art, ok := strings.CutSuffix(m, ":"+string(ch)); ok && exists[i].Val() == 1 {
			out = append(out, art)
		}
	}
	sort.Strings(out)
	return out, nil
}
