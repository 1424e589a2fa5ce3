package fs

import (
	"context"
	"errors"
	"io"
	"sync"
	"time"
)

// flight is one shared range [off, end) of an object version: one GET
// fills buf, readers copy what has arrived. end is fixed at creation.
type flight struct {
	off, end int64
	opened   chan struct{} // closed once the GET answered (openErr set)
	openErr  error

	mu       sync.Mutex // guards the fields below
	buf      []byte     // from the pool; bytes [0, filled) are final
	filled   int64
	err      error         // why filling stopped before end; io.EOF: the object ended
	progress chan struct{} // closed (and replaced) whenever filled or err changes

	// Guarded by readSharer.mu.
	readers int                // pieces of open bodies on this range
	running bool               // the GET is not over
	listed  bool               // joinable: in its version's ranges
	idleAt  time.Time          // when it was last left complete with no reader
	cancel  context.CancelFunc // the GET's; nil until it starts
}

func newFlight(off int64, buf []byte) *flight {
	return &flight{
		off: off, end: off + int64(len(buf)), buf: buf, listed: true,
		opened: make(chan struct{}), progress: make(chan struct{}),
	}
}

// idle reports a complete range nobody reads (readSharer.mu held).
func (f *flight) idle() bool { return f.listed && !f.running && f.readers == 0 }

// copyFrom fills buf from body, publishing each chunk. The buffer is
// written only by this goroutine and only beyond filled, so readers may
// copy [0, filled) without the lock.
func (f *flight) copyFrom(body io.Reader) error {
	buf := f.buf // the buffer stays while the fetch runs (readSharer.freeIfUnusedLocked)
	var filled int
	for filled < len(buf) {
		n, err := body.Read(buf[filled:])
		filled += n
		if err == io.EOF && filled == len(buf) {
			err = nil
		}
		f.publish(int64(filled), err)
		if err != nil {
			return err
		}
	}
	return nil
}

// publish records progress and wakes the readers.
func (f *flight) publish(filled int64, err error) {
	f.mu.Lock()
	f.filled, f.err = filled, err
	close(f.progress)
	f.progress = make(chan struct{})
	f.mu.Unlock()
}

// readAt copies into p the bytes from pos (below end), waiting on ctx
// for them to arrive.
func (f *flight) readAt(ctx context.Context, p []byte, pos, end int64) (int, error) {
	for {
		f.mu.Lock()
		filled, err, progress, buf := f.off+f.filled, f.err, f.progress, f.buf
		f.mu.Unlock()
		if filled > pos {
			return copy(p, buf[pos-f.off:min(filled, end)-f.off]), nil
		}
		if err != nil {
			return 0, err
		}
		select {
		case <-progress:
		case <-ctx.Done():
			return 0, ctx.Err()
		}
	}
}

// piece is the part [pos, end) of a body that range f serves.
type piece struct {
	f        *flight
	pos, end int64
}

// sharedBody is the body GetRange returns for a shared request: its
// pieces in order. Reads wait on the caller's ctx; Close lets go of the
// ranges (cancelling one nobody else reads).
type sharedBody struct {
	ctx    context.Context
	s      *readSharer
	v      version
	pieces []piece
	closed bool
}

// Read implements io.Reader. A range that ends early (the object is
// shorter) ends the body there: with io.EOF if it is the last piece, as
// a store's body would, else with io.ErrUnexpectedEOF.
func (b *sharedBody) Read(p []byte) (int, error) {
	if b.closed {
		return 0, errors.New("fs: read of a closed body")
	}
	for i := range b.pieces {
		pc := &b.pieces[i]
		if pc.pos >= pc.end {
			continue
		}
		n, err := pc.f.readAt(b.ctx, p, pc.pos, pc.end)
		pc.pos += int64(n)
		if n == 0 && err == io.EOF && i < len(b.pieces)-1 {
			err = io.ErrUnexpectedEOF
		}
		if n > 0 {
			err = nil
		}
		return n, err
	}
	return 0, io.EOF
}

// Close implements io.Closer.
func (b *sharedBody) Close() error {
	b.s.mu.Lock()
	defer b.s.mu.Unlock()
	if b.closed {
		return nil
	}
	b.closed = true
	for _, pc := range b.pieces {
		b.s.leaveLocked(b.v, pc.f)
	}
	return nil
}
