package fs

import (
	"log/slog"
	"sync"
	"testing"
	"time"
)

// fakeClock is an injected clock that only moves when told.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func newFakeClock() *fakeClock { return &fakeClock{now: fakeEpoch} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

func newTestCache(limit int64, pos, neg time.Duration, now func() time.Time) *metaCache {
	return newMetaCache(limit, pos, neg, now, slog.New(slog.DiscardHandler))
}

func TestMetaCacheTTL(t *testing.T) {
	clock := newFakeClock()
	c := newTestCache(1<<20, time.Minute, 5*time.Second, clock.Now)
	c.put("f", kindFile, objectMeta{Size: 3}, c.begin())
	c.put("gone", kindMissing, objectMeta{}, c.begin())

	steps := []struct {
		name      string
		advance   time.Duration
		path      string
		wantFresh bool
	}{
		{"positive fresh", 0, "f", true},
		{"negative fresh", 0, "gone", true},
		{"negative before its ttl", 4 * time.Second, "gone", true},
		{"negative at its ttl", time.Second, "gone", false},
		{"positive outlives negative", 0, "f", true},
		{"positive at its ttl", 55 * time.Second, "f", false},
		{"never stored", 0, "x", false},
	}
	for _, s := range steps {
		t.Run(s.name, func(t *testing.T) {
			clock.advance(s.advance)
			e, ok := c.get(s.path)
			if ok != s.wantFresh {
				t.Fatalf("get(%q) fresh = %v, want %v", s.path, ok, s.wantFresh)
			}
			if ok && s.path == "f" && (e.kind != kindFile || e.info.Size != 3) {
				t.Errorf("got %+v", e)
			}
		})
	}
}

func TestMetaCacheOlderAnswerDoesNotOverwrite(t *testing.T) {
	clock := newFakeClock()
	c := newTestCache(1<<20, time.Minute, time.Second, clock.Now)
	older, newer := c.begin(), c.begin()
	c.put("p", kindDir, objectMeta{}, newer)
	got := c.put("p", kindFile, objectMeta{}, older)
	if got.kind != kindDir {
		t.Errorf("put returned %v, want the newer dir entry", got.kind)
	}
	if e, _ := c.get("p"); e.kind != kindDir {
		t.Errorf("older answer replaced a newer one: %v", e.kind)
	}
	// Once the newer entry has expired, any answer is better than none.
	clock.advance(time.Minute)
	c.put("p", kindFile, objectMeta{}, older)
	if e, ok := c.get("p"); !ok || e.kind != kindFile {
		t.Errorf("after expiry: got %v %v, want file", e.kind, ok)
	}
}
