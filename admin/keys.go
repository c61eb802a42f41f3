package admin

import "net/url"

// Redis keys of the admin bot, built in one place. Per-bot keys carry the bot's id, so two
// bots on one Redis never share offsets.
const keyPrefix = "herald:admin:"

func offsetKey(botID int64) string      { return keyPrefix + "offset:" + itoa(botID) }
func pollerLeaseKey(botID int64) string { return keyPrefix + "poller:" + itoa(botID) }
func updateKey(botID int64, updateID int) string {
	return keyPrefix + "upd:" + itoa(botID) + ":" + itoa(int64(updateID))
}

// callbackKey holds what a button does; callbackUsedKey is set (NX) by the one press that
// acts.
func callbackKey(token string) string     { return keyPrefix + "cb:" + token }
func callbackUsedKey(token string) string { return keyPrefix + "cb:" + token + ":used" }

// refusedKey counts a stranger's attempts in an hour: the refusal is said at the first, the
// first refusedAudited are audited.
func refusedKey(userID int64) string { return keyPrefix + "refused:" + itoa(userID) }

// Alert digest: pending items (a list of JSON), when the oldest arrived, when the last digest
// went out, the lease of the process that sends digests, and the consumer group on the log.
const (
	digestKey      = keyPrefix + "digest"
	digestFirstKey = keyPrefix + "digest:first"
	digestLastKey  = keyPrefix + "digest:last"
	digestLeaseKey = keyPrefix + "digest:lease"
	alertGroup     = "herald-admin-alerts"
)

// pauseAlertKey remembers that one pause (channel, since) was alerted.
func pauseAlertKey(ch string, sinceMS int64) string {
	return keyPrefix + "pause-alerted:" + ch + ":" + itoa(sinceMS)
}

// feedAlertKey remembers that one streak of failures of a feed (since its last success) was
// alerted.
func feedAlertKey(feed string, lastSuccessMS int64) string {
	return keyPrefix + "feed-alerted:" + feed + ":" + itoa(lastSuccessMS)
}

func parseURL(s string) (*url.URL, error) { return url.Parse(s) }
