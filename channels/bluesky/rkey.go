package bluesky

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"regexp"
	"time"
)

// Record keys make a retry safe. createRecord takes the record key (rkey) of the new post;
// herald derives it from the delivery's Message.Key (the same on every retry of one revision,
// a new one on a repost), so a second createRecord for a post that already went out finds the
// key taken instead of making a second post, and herald reads the post back with getRecord.
//
// app.bsky.feed.post keys must be TIDs (the lexicon's "key": "tid"; the PDS validates it, and
// the AppView does not index posts under other keys): 13 characters of base32-sortable, a
// 64-bit number whose top bit is 0, then 53 bits of microseconds since 1970 and a 10-bit clock
// id. herald's TIDs take both parts from SHA-256 of the key. The timestamp part is put in
// 2020-01-01 … mid-2024 (47 bits of microseconds): TIDs are not trusted as times (the spec says
// so; the AppView orders posts by createdAt), and keeping them in the past keeps them clear of
// the TIDs a PDS or app makes from its clock now. 57 bits from the hash make a collision of
// two deliveries unlikely (a chance of about 4 in a million after a million posts on one
// account), and a collision is caught: a record found under the key is accepted only when its
// text is this post's.
//
// A key comes back after the retention: herald forgets a delivery's record then, and an article
// published again starts at revision 1 once more, with the same Message.Key. Its first record
// key then holds the earlier delivery's post (or its collision check would fail a new text), so
// a key's posts have generations: createRecord goes to the first key (generation 0), and when
// the post found there was created more than the retention (and a day) ago it belongs to an
// earlier delivery, and the next generation's key is tried, up to maxKeyGenerations. A retry of
// this delivery walks the same keys and stops at the one holding its post, so it stays
// idempotent: a delivery's own attempts are never older than the retention, short of one kept
// waiting (paused) longer than that after an attempt whose answer was lost.
// Specs: https://atproto.com/specs/record-key#record-key-type-tid,
// https://atproto.com/specs/tid
const (
	tidAlphabet = "234567abcdefghijklmnopqrstuvwxyz"
	// tidBase is 2020-01-01T00:00:00Z in microseconds since 1970.
	tidBase = 1577836800 * 1_000_000
)

var tidRE = regexp.MustCompile(`^[234567abcdefghij][234567abcdefghijklmnopqrstuvwxyz]{12}$`)

// ValidTID reports whether s has TID syntax (the spec's reference regex).
func ValidTID(s string) bool { return tidRE.MatchString(s) }

// RecordKey is the TID herald uses for the post made for key (a Message.Key, with the post's
// index when a message has several posts).
func RecordKey(key string) string {
	sum := sha256.Sum256([]byte("herald bluesky rkey\x00" + key))
	micros := uint64(tidBase) + binary.BigEndian.Uint64(sum[0:8])>>17 // 47 bits
	clock := uint64(binary.BigEndian.Uint16(sum[8:10]) & 0x3ff)
	return encodeTID(micros<<10 | clock)
}

// encodeTID writes v (top bit 0) as 13 base32-sortable characters, most significant first.
func encodeTID(v uint64) string {
	var b [13]byte
	for i := len(b) - 1; i >= 0; i-- {
		b[i] = tidAlphabet[v&31]
		v >>= 5
	}
	return string(b[:])
}

// tidMicros is the timestamp part of a TID (tests).
func tidMicros(s string) uint64 {
	var v uint64
	for i := 0; i < len(s); i++ {
		for j := 0; j < len(tidAlphabet); j++ {
			if tidAlphabet[j] == s[i] {
				v = v<<5 | uint64(j)
			}
		}
	}
	return v >> 10
}

const (
	// earlierMargin is added to the retention before a post is taken for an earlier delivery's:
	// a delivery parked unknown can be retried until its record expires, a little over the
	// retention after its attempt.
	earlierMargin = 24 * time.Hour
	// maxKeyGenerations bounds the keys one post tries (an article published again after the
	// retention, again and again).
	maxKeyGenerations = 16
)

// earlierPostError is a post under a delivery's record key made by an earlier delivery of the
// same key, before the retention: the delivery's next key is tried.
type earlierPostError struct {
	uri       string
	createdAt time.Time
	retention time.Duration
}

func (e *earlierPostError) Error() string {
	return fmt.Sprintf("the record key holds %s, made %s, before the retention (%s): an earlier delivery's post",
		e.uri, e.createdAt.UTC().Format(time.RFC3339), e.retention)
}
