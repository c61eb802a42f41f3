package stack

import (
	"context"
	"fmt"
	"regexp"
	"strconv"
	"sync"
	"time"
)

// Marker is the tag the harnesses put in an article's title, "[h-<phase>-<n>]", so a post the
// fakes recorded can be traced back to the article and the publish order.
func Marker(phase string, n int) string { return fmt.Sprintf("[h-%s-%06d]", phase, n) }

var markerRE = regexp.MustCompile(`\[h-([a-z0-9]+)-(\d+)\]`)

// ParseMarker finds the marker in a post's text.
func ParseMarker(text string) (phase string, n int, ok bool) {
	m := markerRE.FindStringSubmatch(text)
	if m == nil {
		return "", 0, false
	}
	n, _ = strconv.Atoi(m[2])
	return m[1], n, true
}

// Collector follows the fakes' post log and indexes posts by marker.
type Collector struct {
	f      *Fakes
	mu     sync.Mutex
	next   int
	posts  map[string][]Post // marker → posts (more than one is a duplicate)
	counts map[string]int    // phase → distinct markers posted
	all    []Post
	change chan struct{}
	stop   context.CancelFunc
	done   chan struct{}
}

// Collect starts following the fakes' posts (every 10 ms) until Stop.
func (f *Fakes) Collect() *Collector {
	ctx, cancel := context.WithCancel(context.Background())
	c := &Collector{f: f, posts: map[string][]Post{}, counts: map[string]int{}, change: make(chan struct{}), stop: cancel, done: make(chan struct{})}
	go c.loop(ctx)
	return c
}

func (c *Collector) loop(ctx context.Context) {
	defer close(c.done)
	t := time.NewTicker(10 * time.Millisecond)
	defer t.Stop()
	for {
		c.poll()
		select {
		case <-ctx.Done():
			c.poll()
			return
		case <-t.C:
		}
	}
}

func (c *Collector) poll() {
	c.mu.Lock()
	since := c.next
	c.mu.Unlock()
	posts, next, err := c.f.Posts(since)
	if err != nil || len(posts) == 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, p := range posts {
		c.all = append(c.all, p)
		if ph, n, ok := ParseMarker(p.Text); ok {
			k := Marker(ph, n)
			if len(c.posts[k]) == 0 {
				c.counts[ph]++
			}
			c.posts[k] = append(c.posts[k], p)
		}
	}
	c.next = next
	close(c.change)
	c.change = make(chan struct{})
}

// Stop stops following.
func (c *Collector) Stop() { c.stop(); <-c.done }

// Reset forgets what was collected (call after Fakes.Reset).
func (c *Collector) Reset() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.next, c.posts, c.counts, c.all = 0, map[string][]Post{}, map[string]int{}, nil
}

// First is the first post with the marker.
func (c *Collector) First(marker string) (Post, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	ps := c.posts[marker]
	if len(ps) == 0 {
		return Post{}, false
	}
	return ps[0], true
}

// ByMarker returns a copy of the index.
func (c *Collector) ByMarker() map[string][]Post {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make(map[string][]Post, len(c.posts))
	for k, v := range c.posts {
		out[k] = append([]Post(nil), v...)
	}
	return out
}

// All returns every post seen, in the fakes' order.
func (c *Collector) All() []Post {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]Post(nil), c.all...)
}

// Count is how many distinct markers of phase were posted.
func (c *Collector) Count(phase string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.counts[phase]
}

// WaitFor waits until cond holds (checked on every new batch of posts) or the deadline.
func (c *Collector) WaitFor(deadline time.Time, cond func() bool) bool {
	for {
		c.mu.Lock()
		ch := c.change
		c.mu.Unlock()
		if cond() {
			return true
		}
		d := time.Until(deadline)
		if d <= 0 {
			return false
		}
		select {
		case <-ch:
		case <-time.After(min(d, 250*time.Millisecond)):
		}
	}
}
