package queue

import "herald/channels"

// Redis key names, built in one place. Per-delivery keys carry a hash tag so a delivery's keys
// would live in one slot; asynq itself needs a single primary (no Cluster), see DESIGN.md.
const keyPrefix = "herald:"

func ledgerKey(articleID string, ch channels.Name) string {
	return keyPrefix + "dlv:{" + articleID + ":" + string(ch) + "}"
}

func articleKey(articleID string) string { return keyPrefix + "art:{" + articleID + "}" }

// articleChannelsKey is the set of channel names an article was routed to.
func articleChannelsKey(articleID string) string { return keyPrefix + "art:{" + articleID + "}:ch" }

// pendingKey is a sorted set of non-final deliveries ("<article>:<channel>", scored by creation
// time in ms); the sweeper re-enqueues any whose task went missing.
const pendingKey = keyPrefix + "pending"

// logKey is the delivery log stream: one entry per state change.
const logKey = keyPrefix + "log"

// pausedKey is a hash channel → pause record.
const pausedKey = keyPrefix + "paused"

func notBeforeKey(ch channels.Name) string { return keyPrefix + "nb:{" + string(ch) + "}" }

func rateKey(ch channels.Name) string { return keyPrefix + "rl:{" + string(ch) + "}" }

// asynqQueue is the asynq queue of one channel: one queue per channel lets asynq pause a
// channel for every process at once. Urgent articles (priority ≥ Options.UrgentPriority) go to
// the channel's second queue, which workers drain first.
func asynqQueue(ch channels.Name, urgent bool) string {
	if urgent {
		return "ch:" + string(ch) + ":urgent"
	}
	return "ch:" + string(ch)
}

// asynqQueues are both queues of a channel.
func asynqQueues(ch channels.Name) []string {
	return []string{asynqQueue(ch, true), asynqQueue(ch, false)}
}

func deliveryMember(articleID string, ch channels.Name) string { return articleID + ":" + string(ch) }

// TaskID is the asynq task id of one delivery revision: publishing the same article twice maps
// to the same id, so asynq refuses the second enqueue.
func TaskID(articleID string, ch channels.Name, revision int) string {
	return articleID + ":" + string(ch) + ":" + itoa(revision)
}
