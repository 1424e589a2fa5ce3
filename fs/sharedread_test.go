package fs

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/ossmount/ossmount/oss"
	"github.com/ossmount/ossmount/test/mounttest"
)

// newTestReadSharer serves one random object "obj" of size bytes from a
// gated fake store; grace is long, so nothing expires during a test.
func newTestReadSharer(t *testing.T, size int, pool int64) (*readSharer, *gatedStore, *fakeStore, []byte, string) {
	t.Helper()
	data := make([]byte, size)
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range data {
		data[i] = byte(rng.Uint32())
	}
	fake := newFakeStore()
	fake.put("obj", data)
	o, _ := fake.object("obj")
	g := &gatedStore{Store: fake}
	return newReadSharer(g, newReadBudget(pool), time.Minute, time.Now), g, fake, data, o.etag
}

// readRange reads [off, off+n) through s and checks the bytes.
func readRange(s *readSharer, etag string, data []byte, off, n int64) error {
	body, err := s.GetRange(context.Background(), "obj", etag, off, n)
	if err != nil {
		return err
	}
	defer body.Close()
	got, err := io.ReadAll(body)
	if err != nil {
		return err
	}
	if !bytes.Equal(got, data[off:off+n]) {
		return fmt.Errorf("range [%d, %d): wrong bytes", off, off+n)
	}
	return nil
}

func mustRead(t *testing.T, s *readSharer, etag string, data []byte, off, n int64) {
	t.Helper()
	if err := readRange(s, etag, data, off, n); err != nil {
		t.Fatal(err)
	}
}

// A lone reader's requests pass through: the store's own body, nothing
// buffered.
func TestSharedReadsLoneReaderPassesThrough(t *testing.T) {
	s, _, _, data, etag := newTestReadSharer(t, 4<<20, 64<<20)
	for off := int64(0); off < 4<<20; off += 1 << 20 {
		body, err := s.GetRange(context.Background(), "obj", etag, off, 1<<20)
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := body.(*sharedBody); ok {
			t.Errorf("request at %d was shared; a lone reader's should pass through", off)
		}
		got, _ := io.ReadAll(body)
		body.Close()
		if !bytes.Equal(got, data[off:off+1<<20]) {
			t.Errorf("wrong bytes at %d", off)
		}
	}
	if used, _, _ := s.pool.stats(); used != 0 {
		t.Errorf("pool holds %d bytes for a lone reader", used)
	}
}

// A lone reader whose requests overlap with other boundaries (exact reads
// over its own read-ahead parts) is not taken for two readers.
func TestSharedReadsOverlapOfOneReaderIsNotShared(t *testing.T) {
	s, _, _, data, etag := newTestReadSharer(t, 4<<20, 64<<20)
	mustRead(t, s, etag, data, 0, 1<<20)
	mustRead(t, s, etag, data, 512<<10, 1<<20)
	mustRead(t, s, etag, data, 256<<10, 128<<10)
	if used, peak, _ := s.pool.stats(); used != 0 || peak != 0 {
		t.Errorf("pool used %d (peak %d) for one reader's overlapping requests", used, peak)
	}
}

// A second request for a range already asked for turns sharing on; later
// requests join what is in flight or kept, whatever their boundaries, and
// only the gaps are fetched.
func TestSharedReadsJoinAndFillGaps(t *testing.T) {
	s, g, fake, data, etag := newTestReadSharer(t, 4<<20, 64<<20)
	mustRead(t, s, etag, data, 0, 1<<20) // passes through
	mustRead(t, s, etag, data, 0, 1<<20) // overlaps: shared, fetched into a range
	mustRead(t, s, etag, data, 256<<10, 256<<10)
	mustRead(t, s, etag, data, 0, 1<<20)
	if n := fake.count("get"); n != 2 {
		t.Errorf("%d GETs after joins, want 2", n)
	}
	mustRead(t, s, etag, data, 512<<10, 1<<20) // half kept, half a new range
	if n := fake.count("get"); n != 3 {
		t.Errorf("%d GETs, want 3", n)
	}
	if b, _ := g.stats(); b != 2<<20+512<<10 {
		t.Errorf("store sent %d bytes, want %d", b, 2<<20+512<<10)
	}
}

// Eight readers reading one object at once in parts of different sizes
// (so part boundaries differ) fetch every byte once and all get the right
// bytes.
func TestSharedReadsConcurrentReaders(t *testing.T) {
	const size = 8 << 20
	s, g, _, data, etag := newTestReadSharer(t, size, 64<<20)
	mustRead(t, s, etag, data, 0, 1)
	mustRead(t, s, etag, data, 0, 1) // sharing on
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for i := range 8 {
		wg.Go(func() {
			part := int64(128<<10) << (i % 4)
			off := int64(i) * 4096 // misaligned starts
			if off > 0 {
				if err := readRange(s, etag, data, 0, off); err != nil {
					errs <- err
					return
				}
			}
			for ; off < size; off += part {
				if err := readRange(s, etag, data, off, min(part, size-off)); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if b, _ := g.stats(); b != size+1 {
		t.Errorf("store sent %d bytes for 8 readers of %d, want each byte once (%d)", b, size, size+1)
	}
}

// startShared puts the version in shared mode and holds the store's
// answers; it returns a function that starts GetRange(off, n) on ctx.
func startShared(t *testing.T, s *readSharer, g *gatedStore, data []byte, etag string) {
	t.Helper()
	mustRead(t, s, etag, data, 0, 1)
	mustRead(t, s, etag, data, 0, 1)
	g.hold()
}

type getResult struct {
	data []byte
	err  error
}

func goGet(ctx context.Context, s *readSharer, etag string, off, n int64) chan getResult {
	ch := make(chan getResult, 1)
	go func() {
		body, err := s.GetRange(ctx, "obj", etag, off, n)
		if err != nil {
			ch <- getResult{err: err}
			return
		}
		defer body.Close()
		b, err := io.ReadAll(body)
		ch <- getResult{b, err}
	}()
	return ch
}

// readersAt is how many bodies read the range starting at off.
func readersAt(s *readSharer, etag string, off int64) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	o := s.objects[version{"obj", etag}]
	if o == nil {
		return 0
	}
	if f := o.covering(off); f != nil {
		return f.readers
	}
	return 0
}

// A failed GET (here 412: the object changed) reaches every reader that
// joined it, and is not kept: the next request asks again.
func TestSharedReadsErrorReachesEveryReader(t *testing.T) {
	s, g, fake, data, etag := newTestReadSharer(t, 4<<20, 64<<20)
	startShared(t, s, g, data, etag)
	fake.setInject(func(op, key string) error {
		return serviceError(op, key, 412, "PreconditionFailed")
	})
	var chans []chan getResult
	for range 4 {
		chans = append(chans, goGet(context.Background(), s, etag, 1<<20, 1<<20))
	}
	mounttest.Await(t, "4 readers to join", func() bool { return readersAt(s, etag, 1<<20) == 4 })
	g.release()
	for i, ch := range chans {
		if r := <-ch; !errors.Is(r.err, oss.ErrPreconditionFailed) {
			t.Errorf("reader %d: %v, want ErrPreconditionFailed", i, r.err)
		}
	}
	if n := fake.count("get"); n != 3 {
		t.Errorf("%d GETs, want 3 (2 to start sharing, 1 shared)", n)
	}
	if n := readersAt(s, etag, 1<<20); n != 0 {
		t.Errorf("failed range still joinable with %d readers", n)
	}
}

// One reader giving up does not cancel the fetch the others wait for; a
// reader that never reads does not stall one that does; the last reader
// leaving a range in flight cancels its fetch.
func TestSharedReadsCancellation(t *testing.T) {
	s, g, _, data, etag := newTestReadSharer(t, 4<<20, 64<<20)
	startShared(t, s, g, data, etag)
	ctx1, cancel1 := context.WithCancel(context.Background())
	r1 := goGet(ctx1, s, etag, 1<<20, 1<<20)
	r2 := goGet(context.Background(), s, etag, 1<<20, 1<<20)
	idle := make(chan io.ReadCloser, 1) // a reader that joins and never reads
	go func() {
		body, err := s.GetRange(context.Background(), "obj", etag, 1<<20, 1<<20)
		if err != nil {
			t.Error(err)
		}
		idle <- body
	}()
	mounttest.Await(t, "3 readers to join", func() bool { return readersAt(s, etag, 1<<20) == 3 })
	cancel1()
	if r := <-r1; !errors.Is(r.err, context.Canceled) {
		t.Errorf("cancelled reader: %v, want context.Canceled", r.err)
	}
	g.release()
	if r := <-r2; r.err != nil || !bytes.Equal(r.data, data[1<<20:2<<20]) {
		t.Errorf("remaining reader: %d bytes, %v", len(r.data), r.err)
	}
	if _, c := g.stats(); c != 0 {
		t.Errorf("%d store requests cancelled, want 0", c)
	}
	if body := <-idle; body != nil {
		body.Close()
	}

	g.hold()
	ctx3, cancel3 := context.WithCancel(context.Background())
	r3 := goGet(ctx3, s, etag, 3<<20, 1<<20)
	mounttest.Await(t, "the reader to join", func() bool { return readersAt(s, etag, 3<<20) == 1 })
	cancel3()
	<-r3
	mounttest.Await(t, "the abandoned fetch to be cancelled", func() bool { _, c := g.stats(); return c == 1 })
	g.release()
}

// Many readers asking random overlapping ranges, some giving up early,
// through a pool too small for all of them (so ranges are evicted and
// requests pass through): every byte read is right and, once all bodies
// are closed and ranges expired, the pool is empty.
func TestSharedReadsStress(t *testing.T) {
	const size = 4 << 20
	s, _, _, data, etag := newTestReadSharer(t, size, 2<<20)
	s.grace = 10 * time.Millisecond
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(i), 7))
			for range 50 {
				off := int64(rng.IntN(16)) * 256 << 10
				n := min(int64(1+rng.IntN(4))*256<<10-int64(rng.IntN(2))*4096, size-off)
				ctx, cancel := context.WithCancel(context.Background())
				body, err := s.GetRange(ctx, "obj", etag, off, n)
				if err != nil {
					t.Error(err)
					cancel()
					return
				}
				want := n
				if rng.IntN(4) == 0 {
					want = n / 2 // this one stops half way
				}
				got := make([]byte, want)
				_, err = io.ReadFull(body, got)
				body.Close()
				cancel()
				if err != nil || !bytes.Equal(got, data[off:off+want]) {
					t.Errorf("[%d, +%d): wrong bytes or %v", off, want, err)
					return
				}
			}
		})
	}
	wg.Wait()
	mounttest.Await(t, "the shared ranges to be freed", func() bool {
		s.mu.Lock()
		s.sweepLocked(s.now().Add(time.Hour))
		s.mu.Unlock()
		used, _, _ := s.pool.stats()
		return used == 0
	})
}
