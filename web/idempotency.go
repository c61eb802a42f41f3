package web

// Idempotency-Key on retry and repost (IETF draft-ietf-httpapi-idempotency-key-header,
// https://datatracker.ietf.org/doc/draft-ietf-httpapi-idempotency-key-header/): a newsroom
// tool that sends a repost again after a timeout, or a dashboard button pressed twice, must not
// post the story twice. The first request with a key runs; its 2xx answer is kept for
// IdempotencyTTL and replayed to the same key with the same request (Idempotent-Replayed:
// true); the key with another request answers 422, the key while its first request still runs
// 409. An answer other than 2xx is not kept: nothing was done, so the same key may try again.
// One SET NX per call, in the API and the dashboard only (never on the delivery path).

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
	"go.uber.org/zap"
)

const (
	// IdempotencyTTL is how long a request's Idempotency-Key and its answer are kept.
	IdempotencyTTL = 24 * time.Hour
	// idemRunningTTL bounds the mark of a request still running: a process that died while it
	// ran does not hold its key for a day (a requeue takes milliseconds).
	idemRunningTTL = time.Minute
	idemPrefix     = "herald:idem:"
	// MaxIdempotencyKey is the longest key accepted (a UUID is 36 characters).
	MaxIdempotencyKey = 255
)

var (
	errIdemKey     = fmt.Errorf("Idempotency-Key: want 1 to %d printable ASCII characters, such as a UUID, once", MaxIdempotencyKey)
	errIdemOther   = errors.New("this Idempotency-Key was used for another request; use a new key for each request")
	errIdemRunning = errors.New("a request with this Idempotency-Key is still being processed; send it again in a moment")
)

// idemRecord is what Redis keeps under a key: the request it was first used for and, once that
// finished with a 2xx, its answer.
type idemRecord struct {
	Request string `json:"request"`
	Done    bool   `json:"done,omitempty"`
	Status  int    `json:"status,omitempty"`
	Answer  string `json:"answer,omitempty"`
}

// idemAnswer is an answer to keep and replay: a status and a body (the API's JSON, the
// dashboard's message).
type idemAnswer struct {
	Status int
	Body   string
}

// idempotencyKey reads the request's Idempotency-Key header: "" when there is none. The draft
// makes it a Structured Field string ("…"); a bare token, as many clients send it, is the same
// key.
func idempotencyKey(h http.Header) (string, error) {
	vs := h.Values("Idempotency-Key")
	switch len(vs) {
	case 0:
		return "", nil
	case 1:
		return checkIdemKey(unquoteSF(strings.TrimSpace(vs[0])))
	}
	return "", errIdemKey
}

func unquoteSF(v string) string {
	if len(v) >= 2 && v[0] == '"' && v[len(v)-1] == '"' {
		return strings.NewReplacer(`\"`, `"`, `\\`, `\`).Replace(v[1 : len(v)-1])
	}
	return v
}

func checkIdemKey(k string) (string, error) {
	if k == "" || len(k) > MaxIdempotencyKey {
		return "", errIdemKey
	}
	for i := 0; i < len(k); i++ {
		if k[i] < 0x20 || k[i] > 0x7e {
			return "", errIdemKey
		}
	}
	return k, nil
}

func idemRedisKey(k string) string {
	sum := sha256.Sum256([]byte(k))
	return idemPrefix + hex.EncodeToString(sum[:])
}

// once runs do at most once for key: the first call with the key runs it; later calls with
// the same request get its 2xx answer back (replayed), with another request errIdemOther,
// while it runs errIdemRunning. Any other error is Redis's.
//
// do gets a context the client's hang-up does not cancel: the client that timed out is the one
// that sends the key again, so a repost cut off after Redis ran it must still answer 202 and be
// kept, not fail, free its key and be done a second time.
func (s *Server) once(ctx context.Context, key, request string, do func(context.Context) idemAnswer) (ans idemAnswer, replayed bool, err error) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), idemRunningTTL/2)
	defer cancel()
	rdb := s.Broker.Client()
	rkey := idemRedisKey(key)
	running, _ := json.Marshal(idemRecord{Request: request})
	// Twice: the record may expire between a refused SET NX and the GET.
	for range 2 {
		ok, err := rdb.SetNX(ctx, rkey, running, idemRunningTTL).Result()
		if err != nil {
			return ans, false, fmt.Errorf("web: reserving an idempotency key: %w", err)
		}
		if ok {
			ans = do(ctx)
			s.keepAnswer(ctx, rkey, request, ans)
			return ans, false, nil
		}
		raw, err := rdb.Get(ctx, rkey).Bytes()
		if errors.Is(err, redis.Nil) {
			continue
		}
		if err != nil {
			return ans, false, fmt.Errorf("web: reading an idempotency key: %w", err)
		}
		var rec idemRecord
		if err := json.Unmarshal(raw, &rec); err != nil || rec.Request != request {
			return ans, false, errIdemOther
		}
		if !rec.Done {
			return ans, false, errIdemRunning
		}
		return idemAnswer{Status: rec.Status, Body: rec.Answer}, true, nil
	}
	return ans, false, errIdemRunning
}

// keepAnswer stores a 2xx answer for IdempotencyTTL, or frees the key of any other (nothing was
// done).
func (s *Server) keepAnswer(ctx context.Context, rkey, request string, ans idemAnswer) {
	rdb := s.Broker.Client()
	var err error
	if ans.Status >= 200 && ans.Status < 300 {
		rec, _ := json.Marshal(idemRecord{Request: request, Done: true, Status: ans.Status, Answer: ans.Body})
		err = rdb.Set(ctx, rkey, rec, IdempotencyTTL).Err()
	} else {
		err = rdb.Del(ctx, rkey).Err()
	}
	if err != nil {
		s.Logger.Warn("keeping an idempotent request's answer", zap.Error(err))
	}
}
