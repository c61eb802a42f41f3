package queue

import (
	"context"
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

// Keys kept beside the delivery log by luaLogAppend (log.go). Index streams hold a marker under
// each of their entries' ids in the main stream, so a query reads only the ids it wants and
// then those entries; an article's entry ids are fields of its deliveries' ledger records.
func logIndexChStatus(ch, st string) string { return logKey + ":ix:cs:" + ch + ":" + st }

// logChannelsKey is the set of channels that have delivery records (recordScript adds to it):
// a query by status merges their indexes of that status.
const logChannelsKey = logKey + ":channels"

func logCounterKey(ch, st string, hour int64) string {
	return logKey + ":n:" + ch + ":" + st + ":" + strconv.FormatInt(hour, 10)
}

// ledgerLogField prefixes the ledger fields that hold a delivery's log entry ids (log_field in
// luaLogAppend): "l:<ms in base 36>" or "l:<ms in base 36>-<seq>".
const ledgerLogField = "l:"

// logIDFromField is the log entry id a ledger field names, if it names one.
func logIDFromField(f string) (string, bool) {
	rest, ok := strings.CutPrefix(f, ledgerLogField)
	if !ok {
		return "", false
	}
	ms36, seq, hasSeq := strings.Cut(rest, "-")
	ms, err := strconv.ParseUint(ms36, 36, 64)
	if err != nil {
		return "", false
	}
	if !hasSeq {
		seq = "0"
	} else if _, err := strconv.ParseUint(seq, 10, 64); err != nil {
		return "", false
	}
	return strconv.FormatUint(ms, 10) + "-" + seq, true
}

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

// streams are the streams whose union holds q's entries, the most selective there is: the main
// log, a channel and status's index, a channel's per-status indexes, or a status's index in
// every channel (an article's query reads its ledger records' entry ids instead, see
// queryArticle).
func (b *Broker) streams(ctx context.Context, q LogQuery) ([]string, error) {
	switch {
	case q.Channel != "" && q.Status != "":
		return []string{logIndexChStatus(q.Channel, q.Status)}, nil
	case q.Channel != "":
		keys := make([]string, 0, len(logStatuses)+1)
		for _, st := range logStatuses {
			keys = append(keys, logIndexChStatus(q.Channel, st))
		}
		return append(keys, logIndexChStatus(q.Channel, logOtherStatus)), nil
	case q.Status != "":
		chs, err := b.rdb.SMembers(ctx, logChannelsKey).Result()
		if err != nil {
			return nil, fmt.Errorf("queue: reading delivery log: %w", err)
		}
		sort.Strings(chs)
		keys := make([]string, len(chs))
		for i, ch := range chs {
			keys[i] = logIndexChStatus(ch, q.Status)
		}
		return keys, nil
	}
	return []string{logKey}, nil
}

// followStreams are the streams FollowLog reads for q: as streams, except that a status alone
// follows the main log (filtered), so a channel that gets its first delivery meanwhile is not
// missed and nothing polls for new channels.
func (b *Broker) followStreams(ctx context.Context, q LogQuery) ([]string, error) {
	if q.Status != "" && q.Channel == "" {
		return []string{logKey}, nil
	}
	return b.streams(ctx, q)
}

// newestIDs reads the newest count messages of the union of keys within (start, end), newest
// first (one round trip, pipelined for several keys).
func (b *Broker) newestIDs(ctx context.Context, keys []string, end, start string, count int64) ([]redis.XMessage, error) {
	if len(keys) == 1 {
		msgs, err := b.rdb.XRevRangeN(ctx, keys[0], end, start, count).Result()
		if err != nil {
			return nil, fmt.Errorf("queue: reading delivery log: %w", err)
		}
		return msgs, nil
	}
	pipe := b.rdb.Pipeline()
	cmds := make([]*redis.XMessageSliceCmd, len(keys))
	for i, k := range keys {
		cmds[i] = pipe.XRevRangeN(ctx, k, end, start, count)
	}
	if _, err := pipe.Exec(ctx); err != nil {
		return nil, fmt.Errorf("queue: reading delivery log: %w", err)
	}
	var all []redis.XMessage
	for _, c := range cmds {
		all = append(all, c.Val()...)
	}
	sort.Slice(all, func(i, j int) bool { return idLess(all[j].ID, all[i].ID) })
	return all[:min(len(all), int(count))], nil
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
	keys, err := b.streams(ctx, q)
	if err != nil || len(keys) == 0 {
		return LogPage{}, err
	}
	end, start := "+", "-"
	if !q.Until.IsZero() {
		if q.Until.UnixMilli() <= 0 {
			return LogPage{}, nil // nothing was logged before 1970; a negative id is an error
		}
		end = "(" + strconv.FormatInt(q.Until.UnixMilli(), 10) + "-0"
	}
	if q.Cursor != "" {
		if !streamID.MatchString(q.Cursor) {
			return LogPage{}, fmt.Errorf("queue: reading delivery log: %w %q", ErrBadCursor, q.Cursor)
		}
		end = "(" + q.Cursor
	}
	if !q.Since.IsZero() && q.Since.UnixMilli() > 0 {
		start = strconv.FormatInt(q.Since.UnixMilli(), 10)
	}
	// Index streams are trimmed approximately: hide what the main log no longer has, so every
	// query sees the same retention.
	oldest, err := b.oldestLogID(ctx, keys[0])
	if err != nil {
		return LogPage{}, err
	}
	var page LogPage
	for {
		batch := int64(q.Limit + 1)
		msgs, err := b.newestIDs(ctx, keys, end, start, batch)
		if err != nil {
			return LogPage{}, err
		}
		n := len(msgs)
		for i, m := range msgs {
			if oldest != "" && idLess(m.ID, oldest) {
				msgs, n = msgs[:i], 0
				break
			}
		}
		entries, err := b.logEntries(ctx, keys[0], msgs)
		if err != nil {
			return LogPage{}, err
		}
		for _, e := range entries {
			if !q.match(e) {
				continue
			}
			if len(page.Entries) == q.Limit {
				page.NextCursor = page.Entries[len(page.Entries)-1].ID
				return page, b.addDetails(ctx, page.Entries)
			}
			page.Entries = append(page.Entries, e)
		}
		if int64(n) < batch {
			return page, b.addDetails(ctx, page.Entries)
		}
		end = "(" + msgs[len(msgs)-1].ID
	}
}

// logEntries turns messages read from key into entries: the main stream's messages are the
// entries; an index's are markers, whose entries are read from the main stream by id (one
// pipelined round trip). An id the main stream no longer has (trimmed) is left out.
func (b *Broker) logEntries(ctx context.Context, key string, msgs []redis.XMessage) ([]LogEntry, error) {
	if key == logKey {
		out := make([]LogEntry, len(msgs))
		for i, m := range msgs {
			out[i] = logEntry(m)
		}
		return out, nil
	}
	ids := make([]string, len(msgs))
	for i, m := range msgs {
		ids[i] = m.ID
	}
	return b.logEntriesByID(ctx, ids)
}

// logEntriesByID reads entries of the main stream by id, in the order given, pipelined; ids
// the stream no longer has are left out.
func (b *Broker) logEntriesByID(ctx context.Context, ids []string) ([]LogEntry, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	pipe := b.rdb.Pipeline()
	cmds := make([]*redis.XMessageSliceCmd, len(ids))
	for i, id := range ids {
		cmds[i] = pipe.XRangeN(ctx, logKey, id, id, 1)
	}
	if _, err := pipe.Exec(ctx); err != nil && !errors.Is(err, redis.Nil) {
		return nil, fmt.Errorf("queue: reading delivery log: %w", err)
	}
	out := make([]LogEntry, 0, len(ids))
	for _, c := range cmds {
		if msgs, err := c.Result(); err == nil && len(msgs) == 1 {
			out = append(out, logEntry(msgs[0]))
		}
	}
	return out, nil
}

// queryArticle is QueryLog for one article: the entry ids its deliveries' ledger records hold
// (logIDFromField), newest first, within the time range and before the cursor, each entry read
// back from the main log (one pipelined round trip per page); entries the log has trimmed are
// gone, as elsewhere.
func (b *Broker) queryArticle(ctx context.Context, q LogQuery) (LogPage, error) {
	if q.Cursor != "" && !streamID.MatchString(q.Cursor) {
		return LogPage{}, fmt.Errorf("queue: reading delivery log: %w %q", ErrBadCursor, q.Cursor)
	}
	names, err := b.articleChannels(ctx, q.ArticleID)
	if errors.Is(err, ErrNotFound) {
		return LogPage{}, nil
	}
	if err != nil {
		return LogPage{}, err
	}
	pipe := b.rdb.Pipeline()
	var cmds []*redis.StringSliceCmd
	for _, n := range names {
		if q.Channel == "" || q.Channel == n {
			cmds = append(cmds, pipe.HKeys(ctx, ledgerKey(q.ArticleID, channels.Name(n))))
		}
	}
	if _, err := pipe.Exec(ctx); err != nil {
		return LogPage{}, fmt.Errorf("queue: reading delivery log: %w", err)
	}
	var since, until uint64 = 0, ^uint64(0)
	if !q.Since.IsZero() {
		since = uint64(max(q.Since.UnixMilli(), 0))
	}
	if !q.Until.IsZero() {
		until = uint64(max(q.Until.UnixMilli(), 0))
	}
	var ids []string
	for _, c := range cmds {
		for _, f := range c.Val() {
			id, ok := logIDFromField(f)
			if !ok {
				continue
			}
			if ms := splitID(id)[0]; ms >= since && ms < until && (q.Cursor == "" || idLess(id, q.Cursor)) {
				ids = append(ids, id)
			}
		}
	}
	sort.Slice(ids, func(i, j int) bool { return idLess(ids[j], ids[i]) })
	var page LogPage
	for len(ids) > 0 {
		batch := ids[:min(len(ids), 200)]
		ids = ids[len(batch):]
		entries, err := b.logEntriesByID(ctx, batch)
		if err != nil {
			return LogPage{}, err
		}
		for _, e := range entries {
			if !q.match(e) {
				continue
			}
			if len(page.Entries) == q.Limit {
				page.NextCursor = page.Entries[len(page.Entries)-1].ID
				return page, b.addDetails(ctx, page.Entries)
			}
			page.Entries = append(page.Entries, e)
		}
	}
	return page, b.addDetails(ctx, page.Entries)
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
	keys, err := b.followStreams(ctx, q)
	if err != nil {
		return err
	}
	if from == "" {
		from = "$"
	}
	const count = 100
	for ctx.Err() == nil {
		streams := append([]string(nil), keys...)
		for range keys {
			streams = append(streams, from)
		}
		// A bounded block lets a cancelled context end the loop within a second.
		res, err := b.rdb.XRead(ctx, &redis.XReadArgs{Streams: streams, Block: time.Second, Count: count}).Result()
		if errors.Is(err, redis.Nil) {
			continue
		}
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("queue: following delivery log: %w", err)
		}
		// Several streams (a channel's per-status indexes) are merged in id order. A stream that
		// returned a full batch may hold more before the others' later ids: stop at its last id
		// and read on from there.
		var msgs []redis.XMessage
		cutoff := ""
		for _, s := range res {
			msgs = append(msgs, s.Messages...)
			if n := len(s.Messages); n == count && (cutoff == "" || idLess(s.Messages[n-1].ID, cutoff)) {
				cutoff = s.Messages[n-1].ID
			}
		}
		sort.Slice(msgs, func(i, j int) bool { return idLess(msgs[i].ID, msgs[j].ID) })
		if cutoff != "" {
			i := sort.Search(len(msgs), func(i int) bool { return idLess(cutoff, msgs[i].ID) })
			msgs = msgs[:i]
		}
		if len(msgs) == 0 {
			continue
		}
		from = msgs[len(msgs)-1].ID
		read, err := b.logEntries(ctx, keys[0], msgs)
		if err != nil {
			return err
		}
		entries := read[:0]
		for _, e := range read {
			if q.match(e) {
				entries = append(entries, e)
			}
		}
		if err := b.addDetails(ctx, entries); err != nil {
			return err
		}
		for _, e := range entries {
			if err := fn(e); err != nil {
				return err
			}
		}
	}
	return nil
}

// LastLogID is the newest entry's id of the streams FollowLog reads for q ("0" when empty):
// FollowLog from it continues exactly after a QueryLog page read just before.
func (b *Broker) LastLogID(ctx context.Context, q LogQuery) (string, error) {
	keys, err := b.followStreams(ctx, q)
	if err != nil {
		return "", err
	}
	msgs, err := b.newestIDs(ctx, keys, "+", "-", 1)
	if err != nil {
		return "", err
	}
	if len(msgs) == 0 {
		return "0", nil
	}
	return msgs[0].ID, nil
}

// addDetails fills what an entry does not store itself: its article's title (stored articles
// only; "" once expired) and its channel's kind (from the delivery's ledger record, for entries
// written without one), in one pipeline.
func (b *Broker) addDetails(ctx context.Context, entries []LogEntry) error {
	if len(entries) == 0 {
		return nil
	}
	ids := map[string]*redis.StringCmd{}
	kinds := map[string]*redis.StringCmd{}
	pipe := b.rdb.Pipeline()
	for _, e := range entries {
		if _, ok := ids[e.ArticleID]; !ok {
			ids[e.ArticleID] = pipe.Get(ctx, articleKey(e.ArticleID))
		}
		if k := ledgerKey(e.ArticleID, channels.Name(e.Channel)); e.Kind == "" && kinds[k] == nil {
			kinds[k] = pipe.HGet(ctx, k, "kind")
		}
	}
	if _, err := pipe.Exec(ctx); err != nil && !errors.Is(err, redis.Nil) {
		return fmt.Errorf("queue: reading article titles and channel kinds: %w", err)
	}
	titles := make(map[string]string, len(ids))
	for id, c := range ids {
		if data, err := c.Bytes(); err == nil {
			if a, err := decodeStoredArticle(id, data); err == nil {
				titles[id] = a.Title
			}
		}
	}
	for i := range entries {
		e := &entries[i]
		e.Title = titles[e.ArticleID]
		if e.Kind == "" {
			e.Kind = kinds[ledgerKey(e.ArticleID, channels.Name(e.Channel))].Val()
		}
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
