package creds

import (
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/ossmount/ossmount/test/mounttest"
)

// fakeClock is simulated time: it moves only when a test advances it, and
// then fires the timers that have come due.
type fakeClock struct {
	mu     sync.Mutex // guards the fields below
	now    time.Time
	timers []*fakeTimer // pending, in creation order
}

type fakeTimer struct {
	at time.Time
	c  chan time.Time // buffered: firing never blocks
}

var _ Clock = (*fakeClock)(nil)

func newFakeClock() *fakeClock { return &fakeClock{now: time.Now()} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) NewTimer(d time.Duration) (<-chan time.Time, func() bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	t := &fakeTimer{at: c.now.Add(d), c: make(chan time.Time, 1)}
	if d <= 0 {
		t.c <- c.now
		return t.c, func() bool { return false }
	}
	c.timers = append(c.timers, t)
	return t.c, func() bool {
		c.mu.Lock()
		defer c.mu.Unlock()
		i := slices.Index(c.timers, t)
		if i >= 0 {
			c.timers = slices.Delete(c.timers, i, i+1)
		}
		return i >= 0
	}
}

// Advance moves the clock by d and fires every timer due by then.
func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
	c.timers = slices.DeleteFunc(c.timers, func(t *fakeTimer) bool {
		if t.at.After(c.now) {
			return false
		}
		t.c <- c.now
		return true
	})
}

// next is the earliest pending timer's deadline.
func (c *fakeClock) next() (time.Time, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.timers) == 0 {
		return time.Time{}, false
	}
	return slices.MinFunc(c.timers, func(a, b *fakeTimer) int { return a.at.Compare(b.at) }).at, true
}

// fireNext waits (on the real clock, bounded) until a timer is pending,
// typically the refresher parked until its next renewal or retry, and
// advances the clock to it. It returns how far the clock moved.
func (c *fakeClock) fireNext(t *testing.T) time.Duration {
	t.Helper()
	var at time.Time
	mounttest.Await(t, "a pending timer", func() bool {
		var ok bool
		at, ok = c.next()
		return ok
	})
	d := max(at.Sub(c.Now()), 0)
	c.Advance(d)
	return d
}
