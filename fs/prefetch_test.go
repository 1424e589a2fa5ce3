package fs

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/ossmount/ossmount/oss"
	"github.com/ossmount/ossmount/test/mounttest"
)

// getRecord is one GetRange a testStore saw.
type getRecord struct{ off, n int64 }

// testStore wraps fakeStore's GetRange with per-request delays, failures
// by offset, GETs held until cancelled, and a record of what was asked.
type testStore struct {
	*fakeStore
	delay func(off int64) time.Duration // nil: none
	fail  func(off, n int64) error      // nil: none; called per GET
	hold  func(off int64) bool          // true: the GET waits for its ctx to end
	mu    sync.Mutex                    // guards the fields below
	gets  []getRecord                   // in order of arrival
	order []int64                       // offsets in order of completion
	held  int                           // GETs waiting in hold
	canc  int                           // GETs that ended because their ctx did
}

func (s *testStore) GetRange(ctx context.Context, key, etag string, off, n int64) (io.ReadCloser, error) {
	s.mu.Lock()
	s.gets = append(s.gets, getRecord{off, n})
	fail := s.fail
	s.mu.Unlock()
	if fail != nil {
		if err := fail(off, n); err != nil {
			return nil, err
		}
	}
	if s.hold != nil && s.hold(off) {
		s.mu.Lock()
		s.held++
		s.mu.Unlock()
		<-ctx.Done()
		s.mu.Lock()
		s.canc++
		s.mu.Unlock()
		return nil, ctx.Err()
	}
	if s.delay != nil {
		t := time.NewTimer(s.delay(off))
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			s.mu.Lock()
			s.canc++
			s.mu.Unlock()
			return nil, ctx.Err()
		}
	}
	body, err := s.fakeStore.GetRange(ctx, key, etag, off, n)
	s.mu.Lock()
	s.order = append(s.order, off)
	s.mu.Unlock()
	return body, err
}

func (s *testStore) records() []getRecord {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]getRecord(nil), s.gets...)
}

func (s *testStore) counts() (held, cancelled int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.held, s.canc
}

var testPrefetch = prefetchConfig{maxPart: 1 << 20, maxWindow: 8 << 20, backWindow: 1 << 20}

func testData(size int) []byte {
	data := make([]byte, size)
	for i := range data {
		data[i] = byte(i*7 + i/251)
	}
	return data
}

// newPrefetchFixture stores key "k" of size bytes and opens a prefetcher
// on it with the given budget; configure st before the first read.
func newPrefetchFixture(t testing.TB, size int, budget *readBudget) (*testStore, *prefetcher, []byte) {
	t.Helper()
	data := testData(size)
	st := &testStore{fakeStore: newFakeStore()}
	st.put("k", data)
	o, _ := st.object("k")
	r := newPrefetcher(st, "k", objectMeta{ETag: o.etag, Size: int64(size)}, budget, testPrefetch)
	t.Cleanup(func() { r.Close() })
	return st, r, data
}

// readAt reads [off, off+len(p)) into p through ReadView, as a handle
// reads, and gives the lent buffers back at once.
func readAt(ctx context.Context, r *prefetcher, p []byte, off int64) (int, error) {
	res, err := r.ReadView(ctx, p, off)
	if err != nil {
		return 0, err
	}
	defer res.Done()
	b, _ := res.Bytes(p)
	return copy(p, b), nil
}

func readAll(t testing.TB, r *prefetcher, data []byte, chunk int) {
	t.Helper()
	buf := make([]byte, chunk)
	for off := 0; off < len(data); off += chunk {
		p := buf[:min(chunk, len(data)-off)]
		n, err := readAt(context.Background(), r, p, int64(off))
		if err != nil || n != len(p) || !bytes.Equal(p, data[off:off+n]) {
			t.Fatalf("read at %d: %d bytes, %v (or wrong bytes)", off, n, err)
		}
	}
}

func TestPrefetchSequentialOutOfOrderParts(t *testing.T) {
	const size = 24 << 20
	st, r, data := newPrefetchFixture(t, size, newReadBudget(64<<20))
	// Within each group of four parts the later ones finish first.
	st.delay = func(off int64) time.Duration {
		return time.Duration(3-(off/minPartSize)%4) * time.Millisecond
	}
	readAll(t, r, data, 128<<10)

	var covered int64
	for _, g := range st.records() {
		covered += g.n
	}
	if covered != size {
		t.Errorf("GETs asked for %d bytes of a %d-byte object read once", covered, size)
	}
	if n := len(st.records()); n > 64 { // 192 reads; parts grow from 256 KiB to 1 MiB
		t.Errorf("%d GETs for 24 MiB read sequentially, want few large parts", n)
	}
	st.mu.Lock()
	inverted := false
	for i := 1; i < len(st.order); i++ {
		inverted = inverted || st.order[i] < st.order[i-1]
	}
	st.mu.Unlock()
	if !inverted {
		t.Error("parts completed in order; the test did not exercise reordering")
	}
}

// Concurrent reads of one handle arrive out of order, like the kernel's
// asynchronous reads; every byte still comes out right.
func TestPrefetchConcurrentReadsOfOneHandle(t *testing.T) {
	const size, chunk, lanes = 16 << 20, 128 << 10, 4
	st, r, data := newPrefetchFixture(t, size, newReadBudget(64<<20))
	st.delay = func(off int64) time.Duration { return time.Duration(off/minPartSize%3) * time.Millisecond }
	for base := 0; base < size; base += chunk * lanes {
		var wg sync.WaitGroup
		for lane := lanes - 1; lane >= 0; lane-- {
			off := base + lane*chunk
			wg.Add(1)
			go func() {
				defer wg.Done()
				p := make([]byte, chunk)
				if _, err := readAt(context.Background(), r, p, int64(off)); err != nil || !bytes.Equal(p, data[off:off+chunk]) {
					t.Errorf("read at %d: %v (or wrong bytes)", off, err)
				}
			}()
		}
		wg.Wait()
	}
	if n := len(st.records()); n > 60 {
		t.Errorf("%d GETs for 16 MiB read by concurrent sequential reads, want the window to serve them", n)
	}
}

func TestPrefetchRandomReadsAreExact(t *testing.T) {
	cases := []struct {
		name   string
		off, n int
	}{
		{"middle", 5_000_000, 100},
		{"near end", 8<<20 - 7, 7},
		{"across parts", 1_234_567, 300_000},
		{"start elsewhere", 3 << 20, 4096},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			st, r, data := newPrefetchFixture(t, 8<<20, newReadBudget(64<<20))
			buf := make([]byte, c.n)
			n, err := readAt(context.Background(), r, buf, int64(c.off))
			if err != nil || !bytes.Equal(buf[:n], data[c.off:c.off+c.n]) {
				t.Fatalf("read: %d %v", n, err)
			}
			if got := st.records(); len(got) != 1 || got[0] != (getRecord{int64(c.off), int64(c.n)}) {
				t.Errorf("GETs %v, want exactly one of [%d +%d)", got, c.off, c.n)
			}
		})
	}
}

// One read elsewhere is exact and keeps the window: reading on where the
// run was costs no second GET for bytes already fetched.
func TestPrefetchRandomReadKeepsWindow(t *testing.T) {
	const far, on = 28 << 20, 4 << 20
	st, r, data := newPrefetchFixture(t, 32<<20, newReadBudget(64<<20))
	readAll(t, r, data[:on], 128<<10) // a run: the window now reaches past 4 MiB
	p := make([]byte, 4096)
	if _, err := readAt(context.Background(), r, p, far); err != nil || !bytes.Equal(p, data[far:far+4096]) {
		t.Fatalf("random read: %v", err)
	}
	p = make([]byte, 64<<10)
	if _, err := readAt(context.Background(), r, p, on); err != nil || !bytes.Equal(p, data[on:on+len(p)]) {
		t.Fatalf("read on: %v", err)
	}
	r.Close() // every fetch has now been recorded
	covering := func(off int64) []getRecord {
		var out []getRecord
		for _, g := range st.records() {
			if g.off <= off && off < g.off+g.n {
				out = append(out, g)
			}
		}
		return out
	}
	if got := covering(far); len(got) != 1 || got[0] != (getRecord{far, 4096}) {
		t.Errorf("GETs covering the random read: %v, want one exact", got)
	}
	if got := covering(on); len(got) != 1 || got[0] == (getRecord{on, 64 << 10}) {
		t.Errorf("GETs covering the read on: %v, want the one read-ahead part fetched before", got)
	}
}

func TestPrefetchBudgetNeverExceeded(t *testing.T) {
	cases := []struct {
		name  string
		limit int64
	}{
		{"shared", 6 << 20},
		{"below one part", 100 << 10}, // no read-ahead at all: exact reads, no deadlock
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			budget := newReadBudget(c.limit)
			const readers, size = 8, 6 << 20
			var wg sync.WaitGroup
			for i := 0; i < readers; i++ {
				st, r, data := newPrefetchFixture(t, size, budget)
				st.delay = func(off int64) time.Duration { return time.Duration(off%3) * time.Millisecond }
				wg.Add(1)
				go func() {
					defer wg.Done()
					defer r.Close()
					readAll(t, r, data, 128<<10)
				}()
			}
			wg.Wait()
			used, peak, _ := budget.stats()
			if peak > c.limit {
				t.Errorf("peak %d bytes in use, budget %d", peak, c.limit)
			}
			if used != 0 {
				t.Errorf("%d bytes still in use after every handle closed", used)
			}
			if c.limit >= minPartSize && peak == 0 {
				t.Error("no read-ahead at all within a usable budget")
			}
			budget.mu.Lock()
			mapped, active := budget.mapped, budget.active
			budget.mu.Unlock()
			if mapped > keepFree || active != 0 {
				t.Errorf("after close: %d bytes mapped (keep at most %d), %d active handles", mapped, keepFree, active)
			}
		})
	}
}

func TestPrefetchCloseCancelsParts(t *testing.T) {
	st, r, data := newPrefetchFixture(t, 32<<20, newReadBudget(64<<20))
	st.hold = func(off int64) bool { return off >= 1<<20 }
	readAll(t, r, data[:512<<10], 128<<10) // starts a run: parts past 1 MiB hang
	if !mounttest.WaitFor(mounttest.HangGuard, func() bool { held, _ := st.counts(); return held > 0 }) {
		t.Fatalf("hang guard: no read-ahead GET started in %v", mounttest.HangGuard)
	}
	r.Close() // waits for the fetches
	held, cancelled := st.counts()
	if cancelled != held {
		t.Errorf("%d GETs in flight at Close, %d saw their ctx cancelled", held, cancelled)
	}
	if _, err := readAt(context.Background(), r, make([]byte, 1), 0); !errors.Is(err, errReaderClosed) {
		t.Errorf("read after Close: %v, want errReaderClosed", err)
	}
	if used, _, _ := r.budget.stats(); used != 0 {
		t.Errorf("%d budget bytes in use after Close", used)
	}
}

// An interrupted read returns at once with EINTR; the handle still works.
func TestPrefetchInterruptedRead(t *testing.T) {
	st, r, data := newPrefetchFixture(t, 8<<20, newReadBudget(64<<20))
	var gate sync.Mutex
	gate.Lock()
	st.fail = func(off, n int64) error {
		if off == 0 {
			gate.Lock() // hold the first part until the read gave up
			gate.Unlock()
		}
		return nil
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := readAt(ctx, r, make([]byte, 4096), 0)
		done <- err
	}()
	cancel()
	err := <-done
	if Errno(err) != syscall.EINTR {
		t.Errorf("interrupted read: %v (errno %v), want EINTR", err, Errno(err))
	}
	gate.Unlock()
	readAll(t, r, data, 256<<10)
}

func TestPrefetchObjectReplacedMidRead(t *testing.T) {
	const size = 16 << 20
	st, r, data := newPrefetchFixture(t, size, newReadBudget(64<<20))
	buf := make([]byte, 128<<10)
	var err error
	off := 0
	for ; off < size; off += len(buf) {
		if off == 1<<20 {
			st.put("k", bytes.Repeat([]byte{0xEE}, size)) // a new version, new ETag
		}
		if _, err = readAt(context.Background(), r, buf, int64(off)); err != nil {
			break
		}
		if !bytes.Equal(buf, data[off:off+len(buf)]) {
			t.Fatalf("read at %d returned bytes of another version", off)
		}
	}
	if !errors.Is(err, oss.ErrPreconditionFailed) || Errno(err) != syscall.ESTALE {
		t.Fatalf("read at %d: %v, want a precondition failure (ESTALE)", off, err)
	}
}

func TestPrefetchFailingPart(t *testing.T) {
	const size, bad = 8 << 20, 3 << 20
	st, r, data := newPrefetchFixture(t, size, newReadBudget(64<<20))
	var failing sync.Mutex // guards on
	on := true
	st.fail = func(off, n int64) error {
		failing.Lock()
		defer failing.Unlock()
		if on && off <= bad && bad < off+n {
			return serviceError("get", "k", http.StatusInternalServerError, "InternalError")
		}
		return nil
	}
	buf := make([]byte, 128<<10)
	off := 0
	for ; off < bad; off += len(buf) {
		if _, err := readAt(context.Background(), r, buf, int64(off)); err != nil {
			t.Fatalf("read at %d before the failing part: %v", off, err)
		}
	}
	_, err := readAt(context.Background(), r, buf, int64(off))
	if Errno(err) != syscall.EIO {
		t.Fatalf("read of the failing part: %v (errno %v), want EIO", err, Errno(err))
	}
	failing.Lock()
	on = false
	failing.Unlock()
	if _, err := readAt(context.Background(), r, buf, int64(off)); err != nil || !bytes.Equal(buf, data[off:off+len(buf)]) {
		t.Fatalf("retry after the failure: %v (or wrong bytes)", err)
	}
}

// shortStore serves bodies that end early.
type shortStore struct{ *fakeStore }

func (s shortStore) GetRange(ctx context.Context, key, etag string, off, n int64) (io.ReadCloser, error) {
	return io.NopCloser(bytes.NewReader(make([]byte, n/2))), nil
}

func TestPrefetchTruncatedBody(t *testing.T) {
	for _, off := range []int64{0, 10} { // through a part, and exact
		r := newPrefetcher(shortStore{newFakeStore()}, "k", objectMeta{ETag: `"e"`, Size: 1000}, newReadBudget(8<<20), testPrefetch)
		_, err := readAt(context.Background(), r, make([]byte, 900), off)
		if !errors.Is(err, io.ErrUnexpectedEOF) || Errno(err) != syscall.EIO {
			t.Errorf("at %d: got %v, want an unexpected-EOF error (EIO)", off, err)
		}
		r.Close()
	}
}

func TestClassSize(t *testing.T) {
	for _, c := range []struct{ n, want int }{
		{1, minPartSize}, {minPartSize, minPartSize}, {minPartSize + 1, 2 * minPartSize}, {3 << 20, 4 << 20}, {4 << 20, 4 << 20},
	} {
		if got := classSize(c.n); got != c.want {
			t.Errorf("classSize(%d) = %d, want %d", c.n, got, c.want)
		}
	}
}

// BenchmarkPrefetchSequential reads 256 MiB in 128 KiB reads (the size
// the kernel sends) from an in-memory store whose GETs take a fixed
// latency plus size at a per-connection bandwidth; MB/s is the
// prefetcher's throughput, allocs its per-read garbage.
func BenchmarkPrefetchSequential(b *testing.B) {
	for _, c := range []struct {
		name    string
		latency time.Duration
		mbps    int64 // per GET; 0: unlimited
	}{{"memory", 0, 0}, {"20ms-50MBps", 20 * time.Millisecond, 50}} {
		b.Run(c.name, func(b *testing.B) {
			const size, chunk = 256 << 20, 128 << 10
			data := testData(size)
			st := &testStore{fakeStore: newFakeStore()}
			st.put("k", data)
			o, _ := st.object("k")
			if c.latency > 0 {
				st.delay = func(off int64) time.Duration {
					return c.latency + time.Duration(int64(DefaultPartSize)*int64(time.Second)/(c.mbps*1e6))
				}
			}
			cfg := prefetchConfig{maxPart: DefaultPartSize, maxWindow: DefaultReadAheadMaxBytes, backWindow: 1 << 20}
			budget := newReadBudget(DefaultReadAheadBudget)
			p := make([]byte, chunk)
			b.SetBytes(size)
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				r := newPrefetcher(st, "k", objectMeta{ETag: o.etag, Size: size}, budget, cfg)
				for off := int64(0); off < size; off += chunk {
					if _, err := readAt(context.Background(), r, p, off); err != nil {
						b.Fatal(err)
					}
				}
				r.Close()
			}
		})
	}
}
