package diskcache

import (
	"bytes"
	"context"
	"errors"
	"io"
	"math/rand/v2"
	"sync"
	"testing"

	"github.com/ossmount/ossmount/oss"
	"github.com/ossmount/ossmount/test/mounttest"
)

const testBlock = 4096

// newTestCache makes a cache of size bytes over store in a new directory.
func newTestCache(t *testing.T, store Store, dir string, size int64) *Cache {
	t.Helper()
	c, err := New(Config{Dir: dir, Size: size, Bucket: "bkt", BlockSize: testBlock}, store)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func randomData(n int, seed uint64) []byte {
	r := rand.New(rand.NewPCG(seed, 1))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

// readRange reads [off, off+n) through the cache.
func readRange(t *testing.T, c *Cache, key, etag string, off, n int64) []byte {
	t.Helper()
	body, err := c.GetRange(context.Background(), key, etag, off, n)
	if err != nil {
		t.Fatalf("GetRange(%q, %d, %d): %v", key, off, n, err)
	}
	defer body.Close()
	got, err := io.ReadAll(body)
	if err != nil {
		t.Fatalf("reading %q at %d: %v", key, off, err)
	}
	return got
}

// settle waits until no block waits for the disk.
func settle(t *testing.T, c *Cache) {
	t.Helper()
	mounttest.Await(t, "every block written to disk", func() bool {
		c.mu.Lock()
		defer c.mu.Unlock()
		return len(c.flights) == 0
	})
}

func TestReadsEqualSourceAndHitSecondTime(t *testing.T) {
	store := newFakeStore()
	data := randomData(3*testBlock+1000, 1)
	etag := store.put("a/obj", data)
	c := newTestCache(t, store, t.TempDir(), 4<<20)

	if got := readRange(t, c, "a/obj", etag, 0, int64(len(data))); !bytes.Equal(got, data) {
		t.Fatal("first read differs from the source")
	}
	if g := store.gets.Load(); g != 1 {
		t.Fatalf("first read: %d GETs, want 1 for the whole run of blocks", g)
	}
	settle(t, c)
	if st := c.Stats(); st.Blocks != 4 || st.Misses != 4 {
		t.Fatalf("after the first read: %+v, want 4 blocks on disk from 4 misses", st)
	}
	cases := []struct{ off, n int64 }{
		{0, int64(len(data))}, {0, 1}, {testBlock - 1, 2}, {testBlock, testBlock}, {100, 2 * testBlock},
		{3 * testBlock, 1000}, {3*testBlock + 999, 50}, {int64(len(data)), 10}, {int64(len(data)) + 5000, 10}, {5, -1},
	}
	for _, tc := range cases {
		want := data[min(tc.off, int64(len(data))):]
		if tc.n >= 0 {
			want = want[:min(tc.n, int64(len(want)))]
		}
		if got := readRange(t, c, "a/obj", etag, tc.off, tc.n); !bytes.Equal(got, want) {
			t.Errorf("range %d+%d: got %d bytes, want %d equal to the source", tc.off, tc.n, len(got), len(want))
		}
	}
	// Only the range past the end (which fs never asks for) cost a GET: the
	// cache does not know the size, so a block past the last one misses.
	if g := store.gets.Load(); g != 2 {
		t.Fatalf("cached reads sent %d GETs in all, want 2", g)
	}
	if st := c.Stats(); st.Hits == 0 || st.Bad != 0 {
		t.Fatalf("stats %+v: want hits and nothing bad", st)
	}
}

func TestRandomRangesMatchSource(t *testing.T) {
	store := newFakeStore()
	data := randomData(20*testBlock+123, 2)
	etag := store.put("obj", data)
	c := newTestCache(t, store, t.TempDir(), 4<<20)
	r := rand.New(rand.NewPCG(3, 4))
	for i := range 300 {
		off := r.Int64N(int64(len(data)) + 10)
		n := r.Int64N(3 * testBlock)
		want := data[min(off, int64(len(data))):]
		want = want[:min(n, int64(len(want)))]
		if got := readRange(t, c, "obj", etag, off, n); !bytes.Equal(got, want) {
			t.Fatalf("read %d: range %d+%d differs from the source", i, off, n)
		}
	}
	if g := store.gets.Load(); g > 21 {
		t.Fatalf("%d GETs for 21 blocks: blocks were fetched more than once", g)
	}
}

func TestNewETagMissesOldETagKeepsItsBytes(t *testing.T) {
	store := newFakeStore()
	old := randomData(2*testBlock, 5)
	oldTag := store.put("k", old)
	c := newTestCache(t, store, t.TempDir(), 4<<20)
	readRange(t, c, "k", oldTag, 0, int64(len(old)))
	settle(t, c)

	replaced := randomData(2*testBlock, 6)
	newTag := store.put("k", replaced)
	before := store.gets.Load()
	if got := readRange(t, c, "k", newTag, 0, int64(len(replaced))); !bytes.Equal(got, replaced) {
		t.Fatal("after replacing the object the cache served bytes other than the new content")
	}
	if store.gets.Load() != before+1 {
		t.Fatalf("a new ETag must miss: %d GETs, want %d", store.gets.Load(), before+1)
	}
	// A handle that pinned the old ETag still gets the old version, whole:
	// never a mix.
	if got := readRange(t, c, "k", oldTag, 0, int64(len(old))); !bytes.Equal(got, old) {
		t.Fatal("the old version's blocks changed")
	}
}

func TestStoreErrorsReachTheCaller(t *testing.T) {
	store := newFakeStore()
	data := randomData(2*testBlock, 7)
	store.put("k", data)
	c := newTestCache(t, store, t.TempDir(), 4<<20)
	body, err := c.GetRange(context.Background(), "k", "\"stale\"", 0, 10)
	if err == nil {
		_, err = io.ReadAll(body)
		body.Close()
	}
	if !errors.Is(err, oss.ErrPreconditionFailed) {
		t.Fatalf("wrong ETag: err %v, want ErrPreconditionFailed", err)
	}
}

func TestCutBodyIsAnErrorNotAShortObject(t *testing.T) {
	store := newFakeStore()
	data := randomData(3*testBlock, 8)
	etag := store.put("k", data)
	c := newTestCache(t, store, t.TempDir(), 4<<20)
	store.cutAt = testBlock + 100
	body, err := c.GetRange(context.Background(), "k", etag, 0, int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	_, err = io.ReadAll(body)
	body.Close()
	if !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("cut body: err %v, want one wrapping io.ErrUnexpectedEOF", err)
	}
	settle(t, c)
	store.cutAt = 0
	if got := readRange(t, c, "k", etag, 0, int64(len(data))); !bytes.Equal(got, data) {
		t.Fatal("after a cut body the cache serves bytes other than the source")
	}
}

func TestConcurrentReadersShareOneDownload(t *testing.T) {
	store := newFakeStore()
	data := randomData(4*testBlock, 9)
	etag := store.put("k", data)
	c := newTestCache(t, store, t.TempDir(), 4<<20)
	store.gate = make(chan struct{})
	const readers = 8
	var wg sync.WaitGroup
	errs := make(chan error, readers)
	for range readers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			body, err := c.GetRange(context.Background(), "k", etag, 0, int64(len(data)))
			if err == nil {
				var got []byte
				got, err = io.ReadAll(body)
				body.Close()
				if err == nil && !bytes.Equal(got, data) {
					err = errors.New("bytes differ from the source")
				}
			}
			errs <- err
		}()
	}
	// Hold the first download until the other readers are waiting for it.
	if !mounttest.WaitFor(mounttest.HangGuard, func() bool { return store.gets.Load() > 0 && c.waiting.Load() >= readers-1 }) {
		t.Fatalf("hang guard: readers never queued: %d GETs, %d waiting", store.gets.Load(), c.waiting.Load())
	}
	close(store.gate)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if g := store.gets.Load(); g != 1 {
		t.Fatalf("%d readers of a missing range sent %d GETs, want 1", readers, g)
	}
}

func TestCancelledDownloaderHandsBlocksToWaiters(t *testing.T) {
	store := newFakeStore()
	data := randomData(2*testBlock, 10)
	etag := store.put("k", data)
	c := newTestCache(t, store, t.TempDir(), 4<<20)
	store.gate = make(chan struct{})
	ctx, cancel := context.WithCancel(context.Background())
	firstErr := make(chan error, 1)
	go func() {
		first, err := c.GetRange(ctx, "k", etag, 0, int64(len(data)))
		if err == nil {
			_, err = io.ReadAll(first)
			first.Close()
		}
		firstErr <- err
	}()
	mounttest.Await(t, "the first reader's GET", func() bool { return store.gets.Load() > 0 })
	second := make(chan []byte, 1)
	go func() { second <- readRange(t, c, "k", etag, 0, int64(len(data))) }()
	mounttest.Await(t, "the second reader to wait", func() bool { return c.waiting.Load() > 0 })
	cancel()
	if err := <-firstErr; !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled reader: %v, want context.Canceled", err)
	}
	close(store.gate)
	if got := <-second; !bytes.Equal(got, data) {
		t.Fatal("the waiter got bytes other than the source")
	}
}
