package fs

import (
	"context"
	"testing"
	"time"
)

// newZeroTTLFS builds an FS over objects with the TTLs given as is (0
// included), not through newTestFS's defaults.
func newTTLFS(t *testing.T, objects map[string]string, pos, neg time.Duration) (*FS, *fakeStore, *fakeClock) {
	t.Helper()
	store := newFakeStore()
	for k, v := range objects {
		store.put(k, []byte(v))
	}
	clock := newFakeClock()
	f, err := New(Config{MetadataTTL: pos, NegativeTTL: neg, Now: clock.Now}, store)
	if err != nil {
		t.Fatal(err)
	}
	return f, store, clock
}

// MetadataTTL 0 and NegativeTTL 0 mean "do not cache": every lookup asks
// the store, and the kernel is told to keep nothing.
func TestZeroTTLDoesNotCache(t *testing.T) {
	f, store, _ := newTTLFS(t, map[string]string{"d/f": "abc"}, 0, 0)
	ctx := context.Background()
	listDir(t, f, "d/")
	store.resetCounts()
	for range 3 {
		if e, err := f.t.lookup(ctx, "d/f"); err != nil || e.kind != kindFile {
			t.Fatalf("lookup: %v %v", e.kind, err)
		}
		if e, err := f.t.lookup(ctx, "d/missing"); err != nil || e.kind != kindMissing {
			t.Fatalf("lookup missing: %v %v", e.kind, err)
		}
	}
	if n := store.count("head"); n != 6 {
		t.Errorf("%d HEADs for 3 lookups of a file and 3 of a missing name, want 6 (nothing cached)", n)
	}
	store.put("d/f", []byte("longer"))
	if e, _ := f.t.lookup(ctx, "d/f"); e.info.Size != 6 {
		t.Errorf("size %d after replacing the object, want 6 at once", e.info.Size)
	}
	opts := f.MountOptions("x", false, false)
	if opts.EntryTimeout != nil || *opts.AttrTimeout != 0 || *opts.NegativeTimeout != 0 {
		t.Errorf("kernel timeouts %v %v %v, want per lookup, 0, 0", opts.EntryTimeout, *opts.AttrTimeout, *opts.NegativeTimeout)
	}
	if e, _ := f.t.lookup(ctx, "d/f"); f.t.cache.ttlLeft(e) != 0 {
		t.Errorf("a lookup's entry timeout is %v, want 0", f.t.cache.ttlLeft(e))
	}
}
