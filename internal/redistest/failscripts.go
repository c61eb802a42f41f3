package redistest

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/redis/go-redis/v9"
)

// FailScripts is a go-redis hook that makes every script call (EVALSHA, EVAL) naming Key fail,
// as a Redis lost between two commands would: the calls before it ran, the one that names Key
// does not. Tests add it to a client of their own to break a bulk action part way.
type FailScripts struct{ Key string }

var _ redis.Hook = FailScripts{}

func (FailScripts) DialHook(next redis.DialHook) redis.DialHook { return next }

func (h FailScripts) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		if n := cmd.Name(); (n == "evalsha" || n == "eval") && strings.Contains(fmt.Sprint(cmd.Args()...), h.Key) {
			err := errors.New("read tcp: connection reset by peer")
			cmd.SetErr(err)
			return err
		}
		return next(ctx, cmd)
	}
}

func (FailScripts) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return next
}
