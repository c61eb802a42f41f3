package queue

import (
	"context"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
)

// countScript counts one event in a fixed window and, in the same step, gives the counter its
// window when it has none: the window starts at the first event, and a counter whose expiry
// was lost (INCR and EXPIRE sent apart, the second failing) cannot stay for ever. (EXPIRE NX
// would need Redis 7.)
//
//	KEYS[1] the counter, ARGV[1] the window in ms. Returns the event's number in its window.
var countScript = redis.NewScript(`
local n = redis.call("INCR", KEYS[1])
if redis.call("PTTL", KEYS[1]) < 0 then redis.call("PEXPIRE", KEYS[1], ARGV[1]) end
return n
`)

// CountInWindow counts one event at key in a window of the given length that starts at its
// first event, and returns the event's number in it: the dashboard's wrong-token lockout and
// the admin bot's answers to strangers.
func CountInWindow(ctx context.Context, rdb redis.UniversalClient, key string, window time.Duration) (int64, error) {
	n, err := countScript.Run(ctx, rdb, []string{key}, window.Milliseconds()).Int64()
	if err != nil {
		return 0, fmt.Errorf("queue: counting at %s: %w", key, err)
	}
	return n, nil
}
