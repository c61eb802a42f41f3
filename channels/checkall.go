package channels

import (
	"context"
	"sort"
	"sync"
	"time"
)

// Check statuses.
const (
	CheckOK          = "ok"
	CheckFailed      = "failed"
	CheckUnsupported = "not_supported" // the channel does not implement Checker
	CheckPending     = "checking"
)

// CheckResult is the answer of one channel's Checker.
type CheckResult struct {
	Channel   Name      `json:"channel"`
	Kind      Kind      `json:"kind"`
	Status    string    `json:"status"`
	Error     string    `json:"error,omitempty"`
	CheckedAt time.Time `json:"checked_at,omitzero"`
}

// CheckAll runs every channel's Checker in parallel, each bounded by timeout, and returns the
// results sorted by channel name. It never fails: a failed check is a result.
func CheckAll(ctx context.Context, chs []Channel, timeout time.Duration) []CheckResult {
	out := make([]CheckResult, len(chs))
	var wg sync.WaitGroup
	for i, ch := range chs {
		out[i] = CheckResult{Channel: ch.Name(), Kind: ch.Kind(), Status: CheckUnsupported}
		c, ok := ch.(Checker)
		if !ok {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			cctx, cancel := context.WithTimeout(ctx, timeout)
			defer cancel()
			err := c.Check(cctx)
			out[i].CheckedAt = time.Now().UTC()
			out[i].Status = CheckOK
			if err != nil {
				out[i].Status, out[i].Error = CheckFailed, err.Error()
			}
		}()
	}
	wg.Wait()
	sort.Slice(out, func(i, j int) bool { return out[i].Channel < out[j].Channel })
	return out
}
