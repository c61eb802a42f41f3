package queue

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"herald/article"
	"herald/channels"
)

// The index streams hold only a marker under each entry's id, yet every query and FollowLog
// by channel, status, both, or article answers with the whole entry.
func TestLogIndexesHoldIDsAndQueriesReturnWholeEntries(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	e.start(testOpts(t), nil)
	followed := make(chan LogEntry, 10)
	fctx, cancel := context.WithCancel(ctx)
	defer cancel()
	done := make(chan error, 1)
	go func() {
		done <- e.broker.FollowLog(fctx, LogQuery{Status: "sent"}, "0", func(le LogEntry) error {
			followed <- le
			return nil
		})
	}()
	for _, id := range []string{"w1", "w2"} {
		e.publish(id)
		e.waitState(id, StateSent, 10*time.Second)
	}
	// No index per channel or per status alone: a channel's query merges its per-status indexes,
	// a status's query that status's index of every channel.
	if n := e.broker.rdb.Exists(ctx, logKey+":ix:st:sent", logKey+":ix:ch:tg").Val(); n != 0 {
		t.Fatal("a status or a channel has an index of its own")
	}
	for _, key := range []string{logIndexChStatus("tg", "pending"), logIndexChStatus("tg", "sent")} {
		msgs, err := e.broker.rdb.XRange(ctx, key, "-", "+").Result()
		if err != nil || len(msgs) == 0 {
			t.Fatalf("%s: %v %v", key, msgs, err)
		}
		for _, m := range msgs {
			v, ok := m.Values["i"].(string)
			// The channel's sent index marks each entry with its publish→post latency (ms).
			if key == logIndexChStatus("tg", "sent") {
				if n, err := strconv.Atoi(v); err != nil || n < 0 {
					ok = false
				}
			} else if v != "" {
				ok = false
			}
			if len(m.Values) != 1 || !ok {
				t.Fatalf("%s holds %v under %s, want only a marker", key, m.Values, m.ID)
			}
			if main := e.broker.rdb.XRange(ctx, logKey, m.ID, m.ID).Val(); len(main) != 1 {
				t.Fatalf("%s: id %s is not in the main log", key, m.ID)
			}
		}
	}
	whole := func(what string, le LogEntry) {
		t.Helper()
		if le.ArticleID == "" || le.Channel != "tg" || le.Kind != "telegram" || le.Title == "" || le.Time.IsZero() {
			t.Fatalf("%s: entry %+v is not whole", what, le)
		}
		if le.Status == "sent" && (le.RemoteID == "" || le.PostURL == "" || le.Attempt != 1) {
			t.Fatalf("%s: sent entry %+v is not whole", what, le)
		}
	}
	for _, q := range []LogQuery{{Channel: "tg"}, {Status: "sent"}, {Channel: "tg", Status: "sent"}, {ArticleID: "w1"}, {ArticleID: "w1", Channel: "tg", Status: "sent"}} {
		page, err := e.broker.QueryLog(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		want := map[string]int{"tg": 4, "sent": 2}
		n := 2
		if q.ArticleID != "" {
			n = 2
			if q.Status != "" {
				n = 1
			}
		} else if q.Status == "" {
			n = want["tg"]
		}
		if len(page.Entries) != n {
			t.Fatalf("%+v: %d entries, want %d: %+v", q, len(page.Entries), n, page.Entries)
		}
		for _, le := range page.Entries {
			whole("query", le)
			if !q.match(le) {
				t.Fatalf("%+v: entry %+v does not match", q, le)
			}
		}
	}
	for range 2 {
		select {
		case le := <-followed:
			whole("follow", le)
		case <-time.After(10 * time.Second):
			t.Fatal("FollowLog by status handed over fewer than 2 sent entries")
		}
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

// An id an index still holds after the main log dropped its entry is skipped, by every query
// (a page still fills up), by an article's query and by FollowLog.
func TestLogIndexSkipsIDsTheLogDropped(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	for _, id := range []string{"t1", "t2", "t3"} {
		e.publish(id)
	}
	all, err := e.broker.QueryLog(ctx, LogQuery{Status: "pending"})
	if err != nil || len(all.Entries) != 3 {
		t.Fatalf("%+v %v", all.Entries, err)
	}
	// t2's entry leaves the main log; the indexes and its ledger record still name it.
	if err := e.broker.rdb.XDel(ctx, logKey, all.Entries[1].ID).Err(); err != nil {
		t.Fatal(err)
	}
	page, err := e.broker.QueryLog(ctx, LogQuery{Channel: "tg", Limit: 2})
	if err != nil || len(page.Entries) != 2 || page.Entries[0].ArticleID != "t3" || page.Entries[1].ArticleID != "t1" || page.NextCursor != "" {
		t.Fatalf("channel page: %+v %v", page, err)
	}
	if art, err := e.broker.QueryLog(ctx, LogQuery{ArticleID: "t2"}); err != nil || len(art.Entries) != 0 {
		t.Fatalf("article t2: %+v %v", art, err)
	}
	fctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var got []string
	err = e.broker.FollowLog(fctx, LogQuery{Status: "pending"}, "0", func(le LogEntry) error {
		got = append(got, le.ArticleID)
		if len(got) == 2 {
			cancel()
		}
		return nil
	})
	if err != nil || strings.Join(got, ",") != "t1,t3" {
		t.Fatalf("followed %v %v", got, err)
	}
}

// The indexes and latency sets are trimmed to the main log's retention on some appends, not
// every one: after many appends to a short log they hold about what the log holds, and a query
// by index sees exactly the log's entries.
func TestLogIndexesAreTrimmedWithTheLog(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	e.broker.opts.LogMaxLen = 10
	for i := range 400 {
		e.publish("m" + itoa(i))
	}
	mainLen := e.broker.rdb.XLen(ctx, logKey).Val()
	ixLen := e.broker.rdb.XLen(ctx, logIndexChStatus("tg", "pending")).Val()
	if mainLen >= 400 || ixLen >= 400 {
		t.Fatalf("not trimmed: log %d, index %d entries of 400", mainLen, ixLen)
	}
	page, err := e.broker.QueryLog(ctx, LogQuery{Status: "pending", Limit: 1000})
	if err != nil || int64(len(page.Entries)) != mainLen {
		t.Fatalf("%d entries by index, the log has %d (%v)", len(page.Entries), mainLen, err)
	}
}

// Per-minute counters count every sent, failed and unknown entry, and each gets a lifetime
// (EXPIRE only when a minute field is new); nothing reads a count of pending entries, so
// there is none.
func TestLogCountersCountAndExpire(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	e.start(testOpts(t), nil)
	for i := range 5 {
		e.publish("k" + itoa(i))
		e.waitState("k"+itoa(i), StateSent, 10*time.Second)
	}
	keys := e.broker.rdb.Keys(ctx, logKey+":n:tg:sent:*").Val()
	var sum int64
	for _, k := range keys {
		if ttl := e.broker.rdb.TTL(ctx, k).Val(); ttl <= 0 {
			t.Fatalf("%s has no lifetime (%v)", k, ttl)
		}
		for _, v := range e.broker.rdb.HVals(ctx, k).Val() {
			n, _ := strconv.ParseInt(v, 10, 64)
			sum += n
		}
	}
	if len(keys) == 0 || sum != 5 {
		t.Fatalf("counters %v count %d, want 5", keys, sum)
	}
	if pending := e.broker.rdb.Keys(ctx, logKey+":n:tg:pending:*").Val(); len(pending) != 0 {
		t.Fatalf("pending entries are counted: %v", pending)
	}
	ov, err := e.broker.Overview(ctx, []ChannelConfig{{Name: "tg", Kind: channels.KindTelegram}})
	if err != nil || ov.Channels[0].LastHour.Sent != 5 {
		t.Fatalf("overview %+v %v", ov, err)
	}
}

// An article is stored compressed, in one key with its channels, and reads back whole; a plain
// JSON value (stored uncompressed, or by a herald from before this layout, with its channels in
// a set beside it) still reads, everywhere titles are shown too.
func TestArticleStoredCompressedAndPlainStillReads(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	pub := time.Date(2026, 11, 26, 8, 0, 0, 0, time.UTC)
	a := &article.Article{ID: "z1", URL: "https://example.com/news/z1", Title: "زيلينسكي يقول إن كوريا الشمالية أرسلت قوات لدعم الجيش الروسي",
		Summary: "اتهم الرئيس الأوكراني فولوديمير زيلينسكي كوريا الشمالية بإرسال أفراد من جيشها إلى روسيا، في تصعيد جديد للحرب.",
		Tags:    []string{"أوكرانيا", "كوريا الشمالية"}, Category: "الدفاع و الامن", Language: "ar", PublishedAt: &pub, Priority: 3}
	a.Normalize()
	if _, err := e.broker.Publish(ctx, a, []Target{{Name: "tg2", Kind: channels.KindTelegram}}); err != nil {
		t.Fatal(err)
	}
	// A second publish routed to one more channel adds it to the stored names.
	if _, err := e.broker.Publish(ctx, a, []Target{{Name: "tg", Kind: channels.KindTelegram}, {Name: "tg2", Kind: channels.KindTelegram}}); err != nil {
		t.Fatal(err)
	}
	plain, _ := json.Marshal(a)
	rawb, err := e.broker.rdb.Get(ctx, articleKey("z1")).Bytes()
	if err != nil {
		t.Fatal(err)
	}
	head, body, _ := bytes.Cut(rawb, []byte{0})
	if string(head) != "tg2,tg" || body[0] != articleDeflate || len(body) >= len(plain) || bytes.Contains(body, []byte(`"title"`)) {
		t.Fatalf("stored %q, then %d bytes (plain %d), marker %#x", head, len(body), len(plain), body[0])
	}
	if ttl := e.broker.rdb.TTL(ctx, articleKey("z1")).Val(); ttl <= 0 {
		t.Fatalf("the article has no lifetime: %v", ttl)
	}
	got, err := e.broker.Article(ctx, "z1")
	if err != nil {
		t.Fatal(err)
	}
	if gotJSON, _ := json.Marshal(got); !bytes.Equal(gotJSON, plain) {
		t.Fatalf("read back\n%s\nwant\n%s", gotJSON, plain)
	}
	if n := e.broker.rdb.Exists(ctx, articleKey("z1")+":ch").Val(); n != 0 {
		t.Fatal("the article's channels are a key of their own")
	}
	ds, err := e.broker.Deliveries(ctx, "z1")
	if err != nil || len(ds) != 2 || ds[0].Channel != "tg" || ds[1].Channel != "tg2" {
		t.Fatalf("deliveries %+v %v", ds, err)
	}

	// Names and plain JSON read as well: Article, Status and the log's titles.
	if err := e.broker.rdb.Set(ctx, articleKey("z1"), append([]byte("tg,tg2\x00"), plain...), 0).Err(); err != nil {
		t.Fatal(err)
	}
	st, err := e.broker.Status(ctx, "z1")
	if err != nil || st.Title != a.Title || st.URL != a.URL || len(st.Deliveries) != 2 {
		t.Fatalf("status %+v %v", st, err)
	}
	page, err := e.broker.QueryLog(ctx, LogQuery{ArticleID: "z1"})
	if err != nil || len(page.Entries) != 2 || page.Entries[0].Title != a.Title {
		t.Fatalf("log %+v %v", page, err)
	}

	// The worker reads it through the claim: it posts the article's title.
	e.start(testOpts(t), nil)
	e.waitState("z1", StateSent, 10*time.Second)
	if s := e.ch.sent(); len(s) != 1 || !strings.Contains(s[0].text, "كوريا الشمالية") {
		t.Fatalf("sent %+v", s)
	}

	// The layout before: plain JSON, the channels in a set beside it.
	if err := e.broker.rdb.Set(ctx, articleKey("z1"), plain, 0).Err(); err != nil {
		t.Fatal(err)
	}
	if err := e.broker.rdb.SAdd(ctx, articleKey("z1")+":ch", "tg", "tg2").Err(); err != nil {
		t.Fatal(err)
	}
	st, err = e.broker.Status(ctx, "z1")
	if err != nil || st.Title != a.Title || len(st.Deliveries) != 2 {
		t.Fatalf("status of the old layout %+v %v", st, err)
	}

	// Publishing it again moves it to this layout, keeping the channels of the set.
	if _, err := e.broker.Publish(ctx, a, []Target{{Name: "tg", Kind: channels.KindTelegram}}); err != nil {
		t.Fatal(err)
	}
	raw := e.broker.rdb.Get(ctx, articleKey("z1")).Val()
	if names, body := splitStoredArticle([]byte(raw)); len(names) != 2 || body[0] != articleDeflate {
		t.Fatalf("published again over the old layout: names %v, %q", names, raw)
	}

	// Something that is neither: a clear error, not a zero article.
	if err := e.broker.rdb.Set(ctx, articleKey("z1"), []byte{'t', 'g', 0, articleDeflate, 0xff, 0x00}, 0).Err(); err != nil {
		t.Fatal(err)
	}
	if _, err := e.broker.Article(ctx, "z1"); err == nil || errors.Is(err, ErrNotFound) {
		t.Fatalf("a corrupt article reads as %v", err)
	}
}

// A final ledger record keeps no empty or zero fields (the lease, owner, expired flag, an empty
// error), but keeps its token, its error when it failed, and its log entry ids.
func TestFinalLedgerRecordKeepsNoEmptyFields(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	e.ch.script(fail(channels.Permanent(errors.New("Bad Request: chat not found"))))
	e.start(testOpts(t), nil)
	e.publish("f1")
	e.waitState("f1", StateFailed, 10*time.Second)
	e.publish("f2")
	sent := e.waitState("f2", StateSent, 10*time.Second)

	for id, want := range map[string][]string{"f1": {"error", "token"}, "f2": {"token", "remote_id", "post_url"}} {
		m := e.broker.rdb.HGetAll(ctx, ledgerKey(id, "tg")).Val()
		logIDs := 0
		for k, v := range m {
			if strings.HasPrefix(k, ledgerLogField) {
				logIDs++
				continue
			}
			if v == "" || (k == "lease_until" && v == "0") || k == "owner" || k == "expired" || k == "urgent" {
				t.Fatalf("%s: final record keeps %s=%q: %v", id, k, v, m)
			}
		}
		for _, k := range want {
			if m[k] == "" {
				t.Fatalf("%s: final record lost %s: %v", id, k, m)
			}
		}
		if logIDs != 2 {
			t.Fatalf("%s: %d log entry ids in the record, want 2 (pending, final): %v", id, logIDs, m)
		}
	}
	if sent.RemoteID == "" || sent.PostURL == "" || sent.Attempt != 1 || !sent.LeaseUntil.IsZero() || sent.Error != "" {
		t.Fatalf("sent record reads as %+v", sent)
	}
	// A retry of the failed one works from the trimmed record.
	if _, err := e.broker.Requeue(ctx, "f1", "tg", "retry", "admin"); err != nil {
		t.Fatal(err)
	}
	e.waitState("f1", StateSent, 10*time.Second)
}

// The ledger field naming a log entry id (written in Lua) reads back as the same id in Go, with
// and without a sequence number.
func TestLogFieldRoundTrips(t *testing.T) {
	e := newEnv(t)
	field := logScript(`return log_field(tonumber(ARGV[1]), tonumber(ARGV[2]))`)
	for _, id := range []string{"1795729688526-0", "1795729688526-3", "0-0", "9007199254740991-12"} {
		ms, seq, _ := strings.Cut(id, "-")
		f, err := field.Run(context.Background(), e.broker.rdb, nil, ms, seq).Text()
		if err != nil {
			t.Fatal(err)
		}
		if got, ok := logIDFromField(f); !ok || got != id || len(f) >= len(ledgerLogField)+len(id) {
			t.Fatalf("%s → field %q → %q %v", id, f, got, ok)
		}
	}
	for _, f := range []string{"lease_until", "l:", "l:x-y", "l:!"} {
		if id, ok := logIDFromField(f); ok {
			t.Fatalf("%q read as log id %q", f, id)
		}
	}
}

// A channel's entries are the union of its per-status indexes (there is no channel index):
// pages, FollowLog (also when one index has more than a read's batch) and LastLogID see every
// entry of the channel once, in order, a status outside the known list included.
func TestChannelQueryMergesItsStatusIndexes(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	appendEntry := logScript(`return log_append(KEYS[1], ARGV[1], {article_id = ARGV[2], channel = ARGV[3], status = ARGV[4], attempt = 0})`)
	statuses := []string{"pending", "sent", "pending", "failed", "odd-status"}
	var ids []string
	for i := range 600 {
		id, err := appendEntry.Run(ctx, e.broker.rdb, []string{logKey}, 100_000, "m"+itoa(i), "c", statuses[i%len(statuses)]).Text()
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
		// Another channel's entries are not the channel's.
		if i%7 == 0 {
			if _, err := appendEntry.Run(ctx, e.broker.rdb, []string{logKey}, 100_000, "o"+itoa(i), "other", "sent").Text(); err != nil {
				t.Fatal(err)
			}
		}
	}
	if n := e.broker.rdb.Exists(ctx, logKey+":ix:ch:c").Val(); n != 0 {
		t.Fatal("the channel has an index of its own")
	}
	var paged []string
	cursor := ""
	for {
		page, err := e.broker.QueryLog(ctx, LogQuery{Channel: "c", Limit: 70, Cursor: cursor})
		if err != nil {
			t.Fatal(err)
		}
		for _, le := range page.Entries {
			paged = append(paged, le.ID)
		}
		if cursor = page.NextCursor; cursor == "" {
			break
		}
	}
	if len(paged) != len(ids) {
		t.Fatalf("%d entries in pages, want %d", len(paged), len(ids))
	}
	for i, id := range paged {
		if id != ids[len(ids)-1-i] {
			t.Fatalf("page entry %d is %s, want %s (newest first)", i, id, ids[len(ids)-1-i])
		}
	}
	odd, err := e.broker.QueryLog(ctx, LogQuery{Channel: "c", Status: "odd-status", Limit: 1000})
	if err != nil || len(odd.Entries) != 120 {
		t.Fatalf("odd status: %d entries, %v", len(odd.Entries), err)
	}
	if last, err := e.broker.LastLogID(ctx, LogQuery{Channel: "c"}); err != nil || last != ids[len(ids)-1] {
		t.Fatalf("last id %s %v, want %s", last, err, ids[len(ids)-1])
	}
	// The deadline ends a follow that missed entries.
	fctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	var followed []string
	err = e.broker.FollowLog(fctx, LogQuery{Channel: "c"}, "0", func(le LogEntry) error {
		if le.Channel != "c" {
			t.Errorf("followed %+v", le)
		}
		followed = append(followed, le.ID)
		if len(followed) == len(ids) {
			cancel()
		}
		return nil
	})
	if err != nil || strings.Join(followed, ",") != strings.Join(ids, ",") {
		t.Fatalf("followed %d entries (want %d in order): %v", len(followed), len(ids), err)
	}
}

// Compressors and readers are reused across goroutines: every article still round-trips.
func TestArticleEncodingConcurrent(t *testing.T) {
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 50 {
				a := article.Article{ID: fmt.Sprintf("c%d-%d", g, i), URL: "https://example.com/" + itoa(i),
					Title: strings.Repeat("خبر عاجل ", 1+i%7) + itoa(g), Tags: []string{"x"}}
				plain, _ := json.Marshal(&a)
				got, err := decodeStoredArticle(a.ID, storedArticleValue(plain, []string{"tg"}))
				if err != nil || got.ID != a.ID || got.Title != a.Title {
					t.Errorf("%s: %+v %v", a.ID, got, err)
					return
				}
			}
		})
	}
	wg.Wait()
}

// A query by status alone merges that status's index of every channel with delivery records, in
// id order, page by page; following a status reads the log itself, so a channel that gets its
// first delivery while a follow runs is followed too.
func TestStatusQueryMergesChannels(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	var ids []string
	for i := range 30 {
		ch := channels.Name([]string{"tg", "tg2", "tg3"}[i%3])
		e.publishTo("s"+itoa(i), ch)
		page, err := e.broker.QueryLog(ctx, LogQuery{ArticleID: "s" + itoa(i)})
		if err != nil || len(page.Entries) != 1 {
			t.Fatalf("%+v %v", page, err)
		}
		ids = append(ids, page.Entries[0].ID)
	}
	var paged []string
	cursor := ""
	for {
		page, err := e.broker.QueryLog(ctx, LogQuery{Status: "pending", Limit: 7, Cursor: cursor})
		if err != nil {
			t.Fatal(err)
		}
		for _, le := range page.Entries {
			if le.Status != "pending" {
				t.Fatalf("entry %+v", le)
			}
			paged = append(paged, le.ID)
		}
		if cursor = page.NextCursor; cursor == "" {
			break
		}
	}
	for i := range ids {
		if len(paged) != len(ids) || paged[i] != ids[len(ids)-1-i] {
			t.Fatalf("pages %v, want the reverse of %v", paged, ids)
		}
	}
	if sent, err := e.broker.QueryLog(ctx, LogQuery{Status: "sent"}); err != nil || len(sent.Entries) != 0 {
		t.Fatalf("sent %+v %v", sent, err)
	}

	last, err := e.broker.LastLogID(ctx, LogQuery{Status: "pending"})
	if err != nil || last != ids[len(ids)-1] {
		t.Fatalf("last %s %v", last, err)
	}
	fctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	got := make(chan LogEntry, 1)
	done := make(chan error, 1)
	go func() {
		done <- e.broker.FollowLog(fctx, LogQuery{Status: "pending"}, last, func(le LogEntry) error {
			got <- le
			cancel()
			return nil
		})
	}()
	e.publishTo("new-channel-article", "tg4")
	// The follow ends on its first entry or at the deadline; then look at what it got.
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	select {
	case le := <-got:
		if le.ArticleID != "new-channel-article" || le.Channel != "tg4" {
			t.Fatalf("followed %+v", le)
		}
	default:
		t.Fatal("a new channel's entry was not followed")
	}
}

// A ledger record does not repeat its article id and channel (they are in its key, ~50 bytes a
// delivery); every reader and script takes them from the key, read back for every reader.
func TestLedgerRecordTakesItsIdsFromTheKey(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	e.publish("ns-42")
	e.start(testOpts(t), nil)
	d := e.waitState("ns-42", StateSent, 10*time.Second)
	if d.ArticleID != "ns-42" || d.Channel != "tg" {
		t.Fatalf("delivery %+v", d)
	}
	m, err := e.broker.rdb.HGetAll(ctx, ledgerKey("ns-42", "tg")).Result()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"article_id", "channel", "urgent"} {
		if v, ok := m[f]; ok {
			t.Errorf("record keeps %s=%q", f, v)
		}
	}
	log, err := e.broker.Log(ctx, 10)
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range log {
		if l.ArticleID != "ns-42" || l.Channel != "tg" {
			t.Fatalf("log entry %+v names another delivery", l)
		}
	}
	ds, err := e.broker.Deliveries(ctx, "ns-42")
	if err != nil || len(ds) != 1 || ds[0].ArticleID != "ns-42" || ds[0].Channel != "tg" {
		t.Fatalf("deliveries %+v %v", ds, err)
	}
}

// A log entry does not store its channel's kind (every entry of a channel would repeat it, about
// 10 bytes each): QueryLog reads it from the delivery's ledger record. An entry written before,
// with its own kind, keeps that one.
func TestLogEntryStoresNoKindYetReadsWithIt(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	e.start(testOpts(t), nil)
	e.publish("k1")
	e.waitState("k1", StateSent, 10*time.Second)
	msgs, err := e.broker.rdb.XRange(ctx, logKey, "-", "+").Result()
	if err != nil || len(msgs) != 2 {
		t.Fatalf("log %v %v", msgs, err)
	}
	for _, m := range msgs {
		if _, ok := m.Values["kind"]; ok {
			t.Fatalf("log entry %s stores the kind: %v", m.ID, m.Values)
		}
	}
	// An entry from an older herald, with its own kind (another than the record's).
	if err := e.broker.rdb.XAdd(ctx, &redis.XAddArgs{Stream: logKey, Values: []any{"article_id", "k1", "channel", "tg",
		"status", "sent", "attempt", "1", "kind", "oldkind", "remote_id", "9", "post_url", "", "error", "", "by", ""}}).Err(); err != nil {
		t.Fatal(err)
	}
	page, err := e.broker.QueryLog(ctx, LogQuery{ArticleID: "k1"})
	if err != nil || len(page.Entries) != 2 {
		t.Fatalf("article query %+v %v", page, err)
	}
	for _, le := range page.Entries {
		if le.Kind != "telegram" {
			t.Fatalf("article query entry %+v, want kind telegram from the record", le)
		}
	}
	page, err = e.broker.QueryLog(ctx, LogQuery{})
	if err != nil || len(page.Entries) != 3 {
		t.Fatalf("log query %+v %v", page, err)
	}
	if page.Entries[0].Kind != "oldkind" || page.Entries[1].Kind != "telegram" || page.Entries[2].Kind != "telegram" {
		t.Fatalf("kinds %q %q %q, want the old entry's own, then the record's", page.Entries[0].Kind, page.Entries[1].Kind, page.Entries[2].Kind)
	}
}
