package queue

import "herald/channels"

// Redis key names, built in one place. Per-delivery keys carry a hash tag so a delivery's keys
// would live in one slot; asynq itself needs a single primary (no Cluster), see DESIGN.md.
const keyPrefix = "herald:"

func ledgerKey(articleID string, ch channels.Name) string {
	return keyPrefix + "dlv:{" + articleID + ":" + string(ch) + "}"
}

// articleKey is an article's one string: the channels it was routed to, then the article
// (articles.go).
func articleKey(articleID string) string { return keyPrefix + "art:{" + articleID + "}" }

// pendingKey is a sorted set of non-final deliveries ("<article>:<channel>", scored by creation
// time in ms); the sweeper re-enqueues any whose task went missing.
const pendingKey = keyPrefix + "pending"

// logKey is the delivery log stream: one entry per state change.
const logKey = keyPrefix + "log"

// pausedKey is a hash channel → pause record.
const pausedKey = keyPrefix + "paused"

func notBeforeKey(ch channels.Name) string { return keyPrefix + "nb:{" + string(ch) + "}" }

// scheduleKey holds a channel's GCRA schedule (the theoretical arrival time, ms).
func scheduleKey(ch channels.Name) string { return keyPrefix + "gcra:{" + string(ch) + "}" }

// groupScheduleKey is the schedule shared by the channels of one rate group (one bot token).
func groupScheduleKey(group string) string { return keyPrefix + "gcra:group:{" + group + "}" }

// wakeChannel is the pub/sub channel a publish signals on, so an idle worker starts at once
// instead of polling; the message is the herald channel's name.
const wakeChannel = keyPrefix + "wake"

// wakeAllPrefix marks a wake-up for every parked worker of a channel (a resume: its whole
// backlog is waiting) rather than for one (a publish: one new delivery).
const wakeAllPrefix = "*"

// asynqQueue is the asynq queue of one channel: one queue per channel lets asynq pause a
// channel for every process at once. Urgent articles (priority ≥ Options.UrgentPriority) go to
// the channel's second queue, which workers drain first.
func asynqQueue(ch channels.Name, urgent bool) string {
	if urgent {
		return "ch:" + string(ch) + ":urgent"
	}
	return "ch:" + string(ch)
}

// bellQueue holds the channel's idle-worker bells (see Worker.bell); it is served last.
func bellQueue(ch channels.Name) string { return "ch:" + string(ch) + ":bell" }

// asynqPausedKey is asynq's pause flag of queue q (what Inspector.PauseQueue sets).
func asynqPausedKey(q string) string { return "asynq:{" + q + "}:paused" }

// asynqQueues are both queues of a channel.
func asynqQueues(ch channels.Name) []string {
	return []string{asynqQueue(ch, true), asynqQueue(ch, false)}
}

func deliveryMember(articleID string, ch channels.Name) string { return articleID + ":" + string(ch) }

// TaskID is the asynq task id of one delivery revision: publishing the same article twice maps
// to the same id, so asynq refuses the second enqueue. It is also the key a deduplicating
// platform sees, the same for every attempt of the revision.
func TaskID(articleID string, ch channels.Name, revision int) string {
	return articleID + ":" + string(ch) + ":" + itoa(revision)
}

// taskID is the id of one task of a delivery revision: generation 0 is the publish's (TaskID),
// every admin retry or repost bumps the generation, so its task id was never used before —
// asynq keeps a finished task's id for a day and would refuse it.
func taskID(articleID string, ch channels.Name, revision, gen int) string {
	if gen == 0 {
		return TaskID(articleID, ch, revision)
	}
	return TaskID(articleID, ch, revision) + "." + itoa(gen)
}

// unknownKey indexes a channel's unknown deliveries (members "<article>:<channel>") for the
// bulk retry; a hint checked against each record, never the truth.
func unknownKey(ch channels.Name) string { return keyPrefix + "unk:{" + string(ch) + "}" }
