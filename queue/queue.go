// Package queue carries deliveries from publish to post: one asynq task per (article, channel),
// our own effectively-once ledger moved by Lua compare-and-set, shared rate limits and pause
// state, and the delivery log. asynq is an implementation detail: nothing outside this package
// imports it.
package queue

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"

	"herald/article"
	"herald/channels"
)

// Options tune the broker; zero values take the documented defaults.
type Options struct {
	// Retention is how long final delivery records, dead letters included, and stored articles
	// are kept (default 90 days; the delivery log stream keeps LogMaxLen entries).
	Retention time.Duration
	// LogMaxLen caps the delivery log stream (default 100,000 entries, approximate trimming).
	LogMaxLen int64
	// TaskTimeout bounds one delivery attempt inside asynq (default 2 minutes).
	TaskTimeout time.Duration
	// UrgentPriority: articles with this priority or more (default 8; 0..10) jump ahead of their
	// channels' backlogs. They still respect each channel's rate limit.
	UrgentPriority int
	// Now is the clock (tests); default time.Now.
	Now func() time.Time
}

func (o *Options) defaults() {
	if o.Retention <= 0 {
		o.Retention = 90 * 24 * time.Hour
	}
	if o.LogMaxLen <= 0 {
		o.LogMaxLen = 100_000
	}
	if o.TaskTimeout <= 0 {
		o.TaskTimeout = 2 * time.Minute
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.UrgentPriority <= 0 {
		o.UrgentPriority = 8
	}
}

// Broker is the producer and inspector side: publish, status, pause, admin requeue.
type Broker struct {
	rdb    redis.UniversalClient
	client *asynq.Client
	insp   *asynq.Inspector
	opts   Options
	// urlTTLs: the URL index buckets this process has given their TTL today (urlBucketTTL).
	urlTTLs *urlTTLCache
}

// NewBroker wraps a go-redis client, which the caller owns and closes once every worker on it
// has stopped (asynq's subscriber panics on a closed client).
func NewBroker(rdb redis.UniversalClient, opts Options) *Broker {
	opts.defaults()
	return &Broker{rdb: rdb, client: asynq.NewClientFromRedisClient(rdb), insp: asynq.NewInspectorFromRedisClient(rdb), opts: opts,
		urlTTLs: &urlTTLCache{}}
}

// Ping checks Redis (readiness).
func (b *Broker) Ping(ctx context.Context) error {
	if err := b.rdb.Ping(ctx).Err(); err != nil {
		return fmt.Errorf("queue: pinging redis: %w", err)
	}
	return nil
}

// Target is one channel an article is routed to.
type Target struct {
	Name channels.Name
	Kind channels.Kind
}

// Enqueued is what publishing did for one channel.
type Enqueued struct {
	Channel channels.Name `json:"channel"`
	Kind    channels.Kind `json:"kind"`
	Status  State         `json:"status"`
	TaskID  string        `json:"task_id"`
	Urgent  bool          `json:"urgent,omitempty"`
	// Duplicate is true when the delivery already existed (the article was published before).
	Duplicate bool `json:"duplicate"`
}

// Published is the result of Publish.
type Published struct {
	ArticleID  string     `json:"id"`
	Deliveries []Enqueued `json:"deliveries"`
}

type taskPayload struct {
	ArticleID string        `json:"a"`
	Channel   channels.Name `json:"c"`
	Revision  int           `json:"r"`
	Gen       int           `json:"g,omitempty"`
}

const taskType = "herald:deliver"

// Publish records the article and one delivery per target, then enqueues one task per delivery.
// The article must already be normalised and valid. Records are written atomically first, so a
// failure while enqueueing loses nothing: the sweeper (and a repeated publish) enqueue what is
// missing.
func (b *Broker) Publish(ctx context.Context, a *article.Article, targets []Target) (*Published, error) {
	if a.ID == "" {
		return nil, errors.New("queue: publishing: article has no id")
	}
	if len(targets) == 0 {
		return nil, errors.New("queue: publishing: no channels to deliver to")
	}
	body, err := json.Marshal(a)
	if err != nil {
		return nil, fmt.Errorf("queue: encoding article: %w", err)
	}
	now := b.opts.Now()
	ixKey, ixField := b.urlIndex(a)
	keys := []string{articleKey(a.ID), pendingKey, logKey, ixKey}
	urgent := "0"
	if a.Priority >= b.opts.UrgentPriority {
		urgent = "1"
	}
	args := []any{encodeArticle(body), a.ID, nowMS(now), b.opts.LogMaxLen, int64(b.opts.Retention / time.Second), urgent,
		ixField, int64(0)}
	if ixField != "" {
		args[7] = b.urlBucketTTL(ixKey, now)
	}
	for _, t := range targets {
		keys = append(keys, ledgerKey(a.ID, t.Name))
		args = append(args, string(t.Name), string(t.Kind))
	}
	res, err := recordScript.Run(ctx, b.rdb, keys, args...).Slice()
	if err != nil {
		return nil, fmt.Errorf("queue: recording article %s: %w", a.ID, err)
	}
	out := &Published{ArticleID: a.ID}
	for i, t := range targets {
		st := State(fmt.Sprint(res[5*i]))
		rev := int(toInt64(res[5*i+1]))
		urg := fmt.Sprint(res[5*i+3]) == "1"
		gen := int(toInt64(res[5*i+4]))
		e := Enqueued{Channel: t.Name, Kind: t.Kind, Status: st, TaskID: taskID(a.ID, t.Name, rev, gen), Duplicate: toInt64(res[5*i+2]) == 0, Urgent: urg}
		if !st.Final() {
			if err := b.enqueue(ctx, a.ID, t.Name, rev, gen, urg); err != nil {
				return out, err
			}
		}
		out.Deliveries = append(out.Deliveries, e)
	}
	return out, nil
}

func toInt64(v any) int64 {
	switch n := v.(type) {
	case int64:
		return n
	}
	return 0
}

// enqueue adds the task of one delivery revision and generation (an existing task with the same
// id is success), then wakes the channel's idle workers in every process.
func (b *Broker) enqueue(ctx context.Context, articleID string, ch channels.Name, rev, gen int, urgent bool) error {
	payload, _ := json.Marshal(taskPayload{ArticleID: articleID, Channel: ch, Revision: rev, Gen: gen})
	id := taskID(articleID, ch, rev, gen)
	opts := []asynq.Option{
		asynq.Queue(asynqQueue(ch, urgent)),
		asynq.TaskID(id),
		// Attempts are counted by our ledger; asynq's counter only guards against a runaway loop.
		asynq.MaxRetry(10_000),
		asynq.Timeout(b.opts.TaskTimeout),
		// No retention: a task completes only when its ledger record is final (or stale), and
		// a publish never enqueues a final delivery again, so a finished task's id need not be
		// kept — which saves about 500 bytes of Redis per delivery.
	}
	_, err := b.client.EnqueueContext(ctx, asynq.NewTask(taskType, payload), opts...)
	if errors.Is(err, asynq.ErrTaskIDConflict) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("queue: enqueueing %s: %w", id, err)
	}
	// A lost wake-up costs latency, not the delivery: idle workers look again within IdleWake.
	_ = b.rdb.Publish(ctx, wakeChannel, string(ch)).Err()
	return nil
}

// Deliveries returns every delivery of an article, sorted by channel name.
func (b *Broker) Deliveries(ctx context.Context, articleID string) ([]Delivery, error) {
	names, err := b.articleChannels(ctx, articleID)
	if err != nil {
		return nil, err
	}
	return b.deliveriesOn(ctx, articleID, names)
}

// deliveriesOn reads an article's delivery records on the named channels (one round trip).
func (b *Broker) deliveriesOn(ctx context.Context, articleID string, names []string) ([]Delivery, error) {
	pipe := b.rdb.Pipeline()
	cmds := make([]*redis.MapStringStringCmd, len(names))
	for i, n := range names {
		cmds[i] = pipe.HGetAll(ctx, ledgerKey(articleID, channels.Name(n)))
	}
	if _, err := pipe.Exec(ctx); err != nil {
		return nil, fmt.Errorf("queue: reading deliveries of %s: %w", articleID, err)
	}
	out := make([]Delivery, 0, len(names))
	for i, c := range cmds {
		if d, ok := parseDelivery(c.Val(), articleID, channels.Name(names[i])); ok {
			out = append(out, d)
		}
	}
	return out, nil
}

// Delivery returns one delivery record.
func (b *Broker) Delivery(ctx context.Context, articleID string, ch channels.Name) (Delivery, error) {
	d, ok, err := getDelivery(ctx, b.rdb, articleID, ch)
	if err != nil {
		return Delivery{}, err
	}
	if !ok {
		return Delivery{}, fmt.Errorf("queue: delivery %s: %w", deliveryMember(articleID, ch), ErrNotFound)
	}
	return d, nil
}

// Requeue is an admin action on a final delivery: mode "retry" re-sends a failed or unknown
// delivery under the same revision; "repost" posts again under a new revision, even if sent.
// Either way the new task has an id never used before, so nothing can leave it stuck. by names
// who asked: the delivery log's entry carries it, as a mark sent's or a drop's does.
func (b *Broker) Requeue(ctx context.Context, articleID string, ch channels.Name, mode, by string) (Delivery, error) {
	return b.requeue(ctx, articleID, ch, mode, by, false)
}

func (b *Broker) requeue(ctx context.Context, articleID string, ch channels.Name, mode, by string, onlyUnknown bool) (Delivery, error) {
	if mode != "retry" && mode != "repost" {
		return Delivery{}, fmt.Errorf("queue: requeue mode %q: want retry or repost", mode)
	}
	only := ""
	if onlyUnknown {
		only = "unknown"
	}
	member := deliveryMember(articleID, ch)
	res, err := requeueScript.Run(ctx, b.rdb, []string{ledgerKey(articleID, ch), pendingKey, logKey, unknownKey(ch)},
		mode, nowMS(b.opts.Now()), b.opts.LogMaxLen, member, randomToken(), only, by).Slice()
	if err != nil {
		return Delivery{}, fmt.Errorf("queue: requeueing %s: %w", member, err)
	}
	switch r := fmt.Sprint(res[0]); r {
	case "ok":
	case "missing":
		return Delivery{}, fmt.Errorf("queue: delivery %s: %w", member, ErrNotFound)
	case "sent":
		return Delivery{}, conflictf("queue: delivery %s was sent; use repost to post it again", member)
	case "retracted":
		// A retry keeps the revision: it must not quietly bring back a post that was taken down.
		return Delivery{}, conflictf("queue: delivery %s was retracted; use repost to post it again", member)
	case "not-unknown":
		return Delivery{}, fmt.Errorf("queue: delivery %s: %w", member, errNotUnknown)
	case "editing":
		return Delivery{}, conflictf("queue: delivery %s is being corrected right now; try again when the correction has answered", member)
	default:
		return Delivery{}, conflictf("queue: delivery %s is still in progress", member)
	}
	rev, urgent, gen := int(toInt64(res[1])), fmt.Sprint(res[2]) == "1", int(toInt64(res[3]))
	// The ledger is already pending, so nothing is lost if this enqueue fails: the sweeper
	// enqueues the same new id.
	if err := b.enqueue(ctx, articleID, ch, rev, gen, urgent); err != nil {
		return Delivery{}, err
	}
	return b.Delivery(ctx, articleID, ch)
}

var errNotUnknown = errors.New("not unknown")

// conflictf is a requeue the delivery's state refuses: errors.Is(err, ErrConflict) holds, so a
// caller tells it from Redis failing (the API's 409 from its 503), and the message says what to
// do instead.
func conflictf(format string, args ...any) error {
	return conflictError{msg: fmt.Sprintf(format, args...)}
}

type conflictError struct{ msg string }

func (e conflictError) Error() string        { return e.msg }
func (e conflictError) Is(target error) bool { return target == ErrConflict }

// RetryUnknown retries every unknown delivery of a channel (after an outage an admin has
// checked the channel by hand: what is missing is re-sent). It returns how many it requeued.
// A delivery that left unknown meanwhile is skipped. by names who asked (Requeue).
func (b *Broker) RetryUnknown(ctx context.Context, ch channels.Name, by string) (n int, err error) {
	members, err := b.rdb.SMembers(ctx, unknownKey(ch)).Result()
	if err != nil {
		return 0, fmt.Errorf("queue: listing unknown deliveries of %s: %w", ch, err)
	}
	if err := b.publishOrder(ctx, ch, members); err != nil {
		return 0, err
	}
	suffix := ":" + string(ch)
	for _, m := range members {
		art, ok := strings.CutSuffix(m, suffix)
		if !ok {
			continue
		}
		_, err := b.requeue(ctx, art, ch, "retry", by, true)
		switch {
		case err == nil:
			n++
		case errors.Is(err, ErrNotFound), errors.Is(err, errNotUnknown):
			b.rdb.SRem(ctx, unknownKey(ch), m)
		default:
			return n, err
		}
	}
	return n, nil
}

// publishOrder sorts a channel's delivery members ("<article>:<channel>") in the order their
// records were created: by the id of each record's first delivery-log entry (written by the
// publish, on the one Redis clock, so across processes too), else its created_at. A bulk retry
// then re-enqueues them in publish order, the order the channel's lane sends in; sorted as
// strings, n10 would go before n9.
func (b *Broker) publishOrder(ctx context.Context, ch channels.Name, members []string) error {
	suffix := ":" + string(ch)
	pipe := b.rdb.Pipeline()
	recs := make([]*redis.MapStringStringCmd, len(members))
	for i, m := range members {
		recs[i] = pipe.HGetAll(ctx, ledgerKey(strings.TrimSuffix(m, suffix), ch))
	}
	if _, err := pipe.Exec(ctx); err != nil {
		return fmt.Errorf("queue: reading unknown deliveries of %s: %w", ch, err)
	}
	type key struct{ ms, seq uint64 }
	less := func(a, c key) bool { return a.ms < c.ms || a.ms == c.ms && a.seq < c.seq }
	keys := make(map[string]key, len(members))
	for i, m := range members {
		rec := recs[i].Val()
		created, _ := strconv.ParseUint(rec["created_at"], 10, 64)
		k, found := key{ms: created}, false
		for f := range rec {
			id, ok := logIDFromField(f)
			if !ok {
				continue
			}
			ms, seq, _ := strings.Cut(id, "-")
			var l key
			l.ms, _ = strconv.ParseUint(ms, 10, 64)
			l.seq, _ = strconv.ParseUint(seq, 10, 64)
			if !found || less(l, k) {
				k, found = l, true
			}
		}
		keys[m] = k
	}
	sort.SliceStable(members, func(i, j int) bool {
		a, c := keys[members[i]], keys[members[j]]
		if a != c {
			return less(a, c)
		}
		return members[i] < members[j]
	})
	return nil
}

// PauseInfo describes a paused channel.
type PauseInfo struct {
	Channel channels.Name `json:"channel"`
	Since   time.Time     `json:"since"`
	Reason  string        `json:"reason,omitempty"`
	// By is who paused it: an admin's name, or "herald" when a worker paused it itself (a
	// revoked token, a bot removed from its chat).
	By string `json:"by,omitempty"`
}

// PausedByHerald is PauseInfo.By when a worker paused the channel on a PauseError.
const PausedByHerald = "herald"

// Pause stops deliveries to a channel in every process until Resume. Queued deliveries wait.
func (b *Broker) Pause(ctx context.Context, ch channels.Name, reason string) error {
	return b.PauseBy(ctx, ch, reason, "")
}

// PauseBy is Pause that records who paused the channel.
func (b *Broker) PauseBy(ctx context.Context, ch channels.Name, reason, by string) error {
	rec, _ := json.Marshal(PauseInfo{Channel: ch, Since: b.opts.Now().UTC(), Reason: reason, By: by})
	if err := pauseScript.Run(ctx, b.rdb, pauseKeys(ch), "pause", string(ch), rec).Err(); err != nil {
		return fmt.Errorf("queue: pausing %s: %w", ch, err)
	}
	return nil
}

// Resume lets a paused channel deliver again.
func (b *Broker) Resume(ctx context.Context, ch channels.Name) error {
	if err := pauseScript.Run(ctx, b.rdb, pauseKeys(ch), "resume", string(ch)).Err(); err != nil {
		return fmt.Errorf("queue: resuming %s: %w", ch, err)
	}
	// Every parked worker, not one: a parked worker holds one of the channel's in-flight slots,
	// and the backlog of a paused channel needs them all.
	_ = b.rdb.Publish(ctx, wakeChannel, wakeAllPrefix+string(ch)).Err()
	return nil
}

// pauseKeys are the keys pauseScript changes: the pause records, then asynq's pause flag of each
// of the channel's queues (asynq:{<queue>}:paused, what Inspector.PauseQueue sets).
func pauseKeys(ch channels.Name) []string {
	keys := []string{pausedKey}
	for _, q := range asynqQueues(ch) {
		keys = append(keys, asynqPausedKey(q))
	}
	return keys
}

// pauseScript pauses or resumes a channel in one step: our record (which a worker that already
// dequeued a task checks, and herald channels shows) and asynq's pause of the channel's queues
// (which stops every server from dequeuing them) change together. In two steps a resume could
// land between a pause's record and its queue pause, leaving a channel shown as not paused
// whose queues stay paused, its backlog waiting for ever. A pause of a paused channel keeps the
// first record (and pauses any queue left unpaused).
//
//	KEYS[1] paused hash, KEYS[2..] asynq pause flags; ARGV[1] "pause" or "resume",
//	ARGV[2] channel, ARGV[3] pause record
var pauseScript = redis.NewScript(`
if ARGV[1] == "resume" then
  redis.call("HDEL", KEYS[1], ARGV[2])
  for i = 2, #KEYS do redis.call("DEL", KEYS[i]) end
  return 1
end
redis.call("HSETNX", KEYS[1], ARGV[2], ARGV[3])
local t = redis.call("TIME")
for i = 2, #KEYS do redis.call("SET", KEYS[i], t[1], "NX") end
return 1
`)

// Paused lists paused channels.
func (b *Broker) Paused(ctx context.Context) ([]PauseInfo, error) {
	m, err := b.rdb.HGetAll(ctx, pausedKey).Result()
	if err != nil {
		return nil, fmt.Errorf("queue: listing paused channels: %w", err)
	}
	out := make([]PauseInfo, 0, len(m))
	for _, v := range m {
		var p PauseInfo
		if json.Unmarshal([]byte(v), &p) == nil {
			out = append(out, p)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Channel < out[j].Channel })
	return out, nil
}

// ChannelStats counts a channel's tasks waiting in the queue (urgent and normal together).
type ChannelStats struct {
	Channel   channels.Name `json:"channel"`
	Pending   int           `json:"pending"`
	Urgent    int           `json:"urgent"` // of Pending, how many are urgent
	Active    int           `json:"active"`
	Scheduled int           `json:"scheduled"`
	Retry     int           `json:"retry"`
	Paused    bool          `json:"paused"`
}

// Stats reads asynq's queue counters for a channel (zero when it has never been used).
func (b *Broker) Stats(ch channels.Name) (ChannelStats, error) {
	// GetQueueInfo's not-found error is not exported in a form errors.Is can read; ask for the
	// list of queues instead.
	qs, err := b.insp.Queues()
	if err != nil {
		return ChannelStats{}, fmt.Errorf("queue: stats of %s: %w", ch, err)
	}
	return b.statsIn(ch, qs)
}

// statsIn is Stats with asynq's list of queues already read, for callers that look at several
// channels.
func (b *Broker) statsIn(ch channels.Name, qs []string) (ChannelStats, error) {
	st := ChannelStats{Channel: ch}
	for _, q := range asynqQueues(ch) {
		if !slices.Contains(qs, q) {
			continue
		}
		qi, err := b.insp.GetQueueInfo(q)
		if err != nil {
			return ChannelStats{}, fmt.Errorf("queue: stats of %s: %w", ch, err)
		}
		st.Pending += qi.Pending
		st.Active += qi.Active
		st.Scheduled += qi.Scheduled
		st.Retry += qi.Retry
		st.Paused = st.Paused || qi.Paused
		if q == asynqQueue(ch, true) {
			st.Urgent = qi.Pending
		}
	}
	return st, nil
}

// ArticleStatus is an article with its per-channel delivery records (GET /v1/articles/{id},
// herald status).
type ArticleStatus struct {
	ID         string     `json:"id"`
	URL        string     `json:"url,omitempty"`
	Title      string     `json:"title,omitempty"`
	Deliveries []Delivery `json:"deliveries"`
}

// Status gathers an article's delivery records; ErrNotFound when there are none.
func (b *Broker) Status(ctx context.Context, id string) (*ArticleStatus, error) {
	// One read of the article gives its channels and its title.
	names, v, err := b.storedArticle(ctx, id)
	if err == nil && len(names) == 0 {
		err = fmt.Errorf("queue: article %s: %w", id, ErrNotFound)
	}
	if err != nil {
		return nil, err
	}
	ds, err := b.deliveriesOn(ctx, id, names)
	if err != nil {
		return nil, err
	}
	st := &ArticleStatus{ID: id, Deliveries: ds}
	if a, err := decodeStoredArticle(id, v); err == nil {
		st.URL, st.Title = a.URL, a.Title
	}
	return st, nil
}
