package fs

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/bits"
	"sync"

	"github.com/hanwen/go-fuse/v2/fuse"
)

var errReaderClosed = errors.New("fs: reader closed")

// initialWindow is the read-ahead of a sequential run that just started;
// the window is four times the bytes read in the run, up to the handle's
// limit, so a short read costs little and a long one soon has many parts
// in flight.
const initialWindow = 1 << 20

// forwardSlack is how far past the window a read may start and still
// continue the run: the kernel sends its own read-ahead (1 MiB, see
// Mount) as several concurrent reads that arrive in any order.
const forwardSlack = 4 << 20

// prefetchConfig sizes the read-ahead of one handle.
type prefetchConfig struct {
	maxPart    int64 // largest part: one ranged GET
	maxWindow  int64 // most bytes a handle requests ahead of its reader
	backWindow int64 // bytes kept behind the reader: the kernel re-reads slightly behind
}

// prefetcher reads one pinned object version for one open handle. A read
// that continues the previous one starts a sequential run: the window
// ahead of the reader is split into parts, each fetched by its own ranged
// GET (If-Match on the pinned ETag) into a buffer from the global budget,
// and reads copy from the parts in order while they complete in any order.
// Reads elsewhere are exact ranged GETs straight into the caller's buffer;
// two of those in a row drop the window, one alone keeps it.
//
// Parts run on a context owned by the prefetcher, cancelled by Close; a
// read's ctx only bounds its wait (an interrupt, also Go's preemption
// signal in a Go reader, cancels that wait and nothing else). A FLUSH
// pauses the window instead of cancelling it (Flush).
//
// ReadView is safe for concurrent use; an error matching
// oss.ErrPreconditionFailed means the object changed since it was pinned,
// and a cancelled ctx makes it return an error matching ctx.Err(). Close
// releases everything and makes later reads fail.
type prefetcher struct {
	store Store
	key   string
	// obj is the version the handle pinned at open: every GET carries
	// If-Match obj.ETag, reads stop at obj.Size, and the handle's
	// attributes come from it.
	obj    objectMeta
	budget *readBudget
	cfg    prefetchConfig
	ctx    context.Context // owns the part fetches
	cancel context.CancelFunc
	wg     sync.WaitGroup // part fetches

	mu       sync.Mutex // guards the fields below and parts' refs/readers; never held across I/O
	parts    []*part    // the window: contiguous, ascending
	next     int64      // end of the window: where the next part starts
	runStart int64      // where the current sequential run began
	high     int64      // highest end of a read in the run
	lastEnd  int64      // end of the latest read
	misses   int        // consecutive reads outside the window
	held     int64      // budget bytes held by parts (until released)
	joined   bool       // counted as active in the budget
	paused   bool       // after a FLUSH: no new part starts (Flush)
	closer   uint32     // the thread whose close paused the window
	closed   bool
}

// part is one ranged GET of the window. buf and err are written by the
// fetch before done is closed and only read after.
type part struct {
	off, end int64
	buf      []byte
	err      error
	done     chan struct{}
	cancel   context.CancelFunc
	refs     int // window + running fetch + readers; the buffer goes back at 0
	readers  int // reads waiting on or copying from it
}

func newPrefetcher(store Store, key string, obj objectMeta, budget *readBudget, cfg prefetchConfig) *prefetcher {
	ctx, cancel := context.WithCancel(context.Background())
	return &prefetcher{store: store, key: key, obj: obj, budget: budget, cfg: cfg, ctx: ctx, cancel: cancel}
}

// plan reads [off, off+len(p)): by an exact GET into p (it returns no
// parts), or by returning the window's parts that cover it, all complete
// and pinned; the caller unpins them once it has their bytes.
func (r *prefetcher) plan(ctx context.Context, p []byte, off int64) ([]*part, error) {
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return nil, errReaderClosed
	}
	parts := r.planLocked(off, off+int64(len(p)), callerOf(ctx))
	r.mu.Unlock()
	if parts == nil {
		return nil, r.get(ctx, p, off)
	}
	if err := r.wait(ctx, parts); err != nil {
		r.unpin(parts)
		return nil, err
	}
	if n := parts[len(parts)-1].end - off; n < int64(len(p)) || parts[0].off > off {
		r.unpin(parts)
		return nil, fmt.Errorf("fs: read %q at %d: parts cover %d of %d bytes", r.key, off, n, len(p))
	}
	return parts, nil
}

// callerOf is the thread a FUSE request comes from (0 when unknown).
func callerOf(ctx context.Context) uint32 {
	if c, ok := fuse.FromContext(ctx); ok {
		return c.Pid
	}
	return 0
}

// planLocked decides how [off, end) is read for thread caller: it returns
// the parts that cover it (each with a reader reference), after moving the
// window, or nil for an exact GET.
func (r *prefetcher) planLocked(off, end int64, caller uint32) []*part {
	if r.paused && caller != r.closer {
		r.paused = false // another thread reads: the descriptor it uses is alive
	}
	inWindow := len(r.parts) > 0 && off >= r.parts[0].off && off <= r.next+r.windowLocked()+forwardSlack
	if !inWindow && off == r.lastEnd {
		// The read continues the previous one (or is the first, at 0).
		r.dropLocked(0)
		r.runStart, r.high, r.next = off, off, off
		inWindow = true
	}
	r.lastEnd = end
	if !inWindow {
		// A re-read just behind the window is served exactly and leaves
		// it alone; a second read elsewhere in a row drops it.
		behind := len(r.parts) > 0 && off < r.parts[0].off && off >= r.parts[0].off-4*r.cfg.backWindow
		if !behind {
			if r.misses++; r.misses >= 2 {
				r.dropLocked(0)
			}
		}
		return nil
	}
	r.misses = 0
	r.high = max(r.high, end)
	keep := min(off, r.high-r.cfg.backWindow)
	for len(r.parts) > 0 && r.parts[0].end <= keep {
		r.releaseLocked(r.parts[0])
		r.parts[0] = nil
		r.parts = r.parts[1:]
	}
	if len(r.parts) == 0 {
		r.next = off
	}
	if r.paused && end > r.next {
		r.paused = false // a read past the window: the reader is alive
	}
	if !r.paused {
		r.fillLocked(end)
	}
	if r.next < end {
		return nil // no budget for the parts this read needs
	}
	var out []*part
	for _, pt := range r.parts {
		if pt.end > off && pt.off < end {
			pt.refs++
			pt.readers++
			out = append(out, pt)
		}
	}
	return out
}

// windowLocked is how far ahead of the reader parts are requested: four
// times the bytes read in the run, within the handle's share of the budget.
func (r *prefetcher) windowLocked() int64 {
	limit := min(r.cfg.maxWindow, r.budget.share())
	return max(min(4*(r.high-r.runStart), limit), min(initialWindow, limit), 0)
}

// partSize for a window: an eighth of it as a power of two, so about eight
// parts are in flight, between minPartSize and the configured maximum.
func (r *prefetcher) partSize(window int64) int64 {
	n := int64(minPartSize)
	if w := window / 8; w > n {
		n = 1 << (bits.Len64(uint64(w)) - 1)
	}
	return min(n, max(r.cfg.maxPart, minPartSize))
}

// fillLocked starts parts until the window reaches window bytes past the
// reader, the handle holds its share, or the budget runs out. Parts that
// the read ending at end needs are started even beyond the handle's share.
func (r *prefetcher) fillLocked(end int64) {
	window := r.windowLocked()
	target := min(r.obj.Size, max(end, r.high+window))
	size := r.partSize(window)
	for r.next < target {
		n := min(size, r.obj.Size-r.next)
		if r.next >= end && r.held+int64(classSize(int(n))) > window+r.cfg.backWindow {
			return
		}
		buf, ok := r.budget.acquire(int(n))
		if !ok {
			return
		}
		if !r.joined {
			r.joined = true
			r.budget.join()
		}
		r.held += int64(cap(buf))
		r.parts = append(r.parts, r.startLocked(r.next, buf))
		r.next += n
	}
}

// startLocked starts the fetch of one part into buf.
func (r *prefetcher) startLocked(off int64, buf []byte) *part {
	ctx, cancel := context.WithCancel(r.ctx)
	pt := &part{off: off, end: off + int64(len(buf)), buf: buf, done: make(chan struct{}), cancel: cancel, refs: 2}
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		pt.err = r.get(ctx, pt.buf, pt.off)
		cancel()
		close(pt.done)
		r.mu.Lock()
		r.unrefLocked(pt)
		r.mu.Unlock()
	}()
	return pt
}

// wait waits for parts in order. A failed part fails this read and is
// dropped with the window after it, so the next read retries it.
func (r *prefetcher) wait(ctx context.Context, parts []*part) error {
	for _, pt := range parts {
		select {
		case <-pt.done:
		case <-ctx.Done():
			return ctx.Err()
		}
		if pt.err != nil {
			r.mu.Lock()
			if i := r.indexLocked(pt); i >= 0 {
				r.dropLocked(i)
			}
			r.mu.Unlock()
			return pt.err
		}
	}
	return nil
}

// unpin drops the reader references plan took.
func (r *prefetcher) unpin(parts []*part) {
	r.mu.Lock()
	for _, pt := range parts {
		pt.readers--
		r.unrefLocked(pt)
	}
	r.mu.Unlock()
}

func (r *prefetcher) indexLocked(pt *part) int {
	for i, q := range r.parts {
		if q == pt {
			return i
		}
	}
	return -1
}

// dropLocked removes parts[i:] from the window, cancelling the fetches no
// read waits for.
func (r *prefetcher) dropLocked(i int) {
	if i >= len(r.parts) {
		return
	}
	r.next = r.parts[i].off
	for j := i; j < len(r.parts); j++ {
		r.releaseLocked(r.parts[j])
		r.parts[j] = nil
	}
	r.parts = r.parts[:i]
}

// releaseLocked takes a part out of the window.
func (r *prefetcher) releaseLocked(pt *part) {
	if pt.readers == 0 {
		pt.cancel()
	}
	r.unrefLocked(pt)
}

func (r *prefetcher) unrefLocked(pt *part) {
	if pt.refs--; pt.refs == 0 {
		r.held -= int64(cap(pt.buf))
		r.budget.release(pt.buf)
		pt.buf = nil
	}
}

// get fills p with the bytes at off by one ranged GET.
func (r *prefetcher) get(ctx context.Context, p []byte, off int64) error {
	body, err := r.store.GetRange(ctx, r.key, r.obj.ETag, off, int64(len(p)))
	if err != nil {
		return fmt.Errorf("fs: get %q at %d: %w", r.key, off, err)
	}
	defer body.Close()
	if _, err := io.ReadFull(body, p); err != nil {
		if ctx.Err() != nil {
			err = ctx.Err()
		} else if errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF // the range ended early: a truncated body
		}
		return fmt.Errorf("fs: read %q at %d: %w", r.key, off, err)
	}
	return nil
}

// Flush says that thread closer closed a descriptor of the open file. A FLUSH comes with every close(2) of a
// descriptor of the open file: a dup or a forked child closing its copy
// while another descriptor reads on, or the reader itself dying (cat ^C).
// The two look alike, so Flush cancels nothing: the parts in flight
// finish and serve reads. It only pauses the window: reads of the thread
// that closed, which may be the kernel's read-ahead of a dead process
// (they outlive it, and RELEASE waits for them), start no new part while
// the window covers them. The pause ends at the first read from another
// thread, or the first read past the window, which a dead process's
// leftover reads do not reach once the window is larger than the kernel's
// read-ahead. So a killed reader costs at most the parts already in
// flight (within the window), and RELEASE cancels those.
func (r *prefetcher) Flush(closer uint32) {
	r.mu.Lock()
	r.paused, r.closer = true, closer
	r.mu.Unlock()
}

// Close cancels the fetches and waits for
// them; buffers go back to the budget once no read uses them.
func (r *prefetcher) Close() error {
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return nil
	}
	r.closed = true
	r.dropLocked(0)
	joined := r.joined
	r.mu.Unlock()
	r.cancel()
	r.wg.Wait()
	if joined {
		r.budget.leave()
	}
	return nil
}
