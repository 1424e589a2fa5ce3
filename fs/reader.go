package fs

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
)

// objectReader reads one pinned version of an object. It is the seam for
// the parallel prefetch engine, which replaces streamReader.
//
// ReadAt fills p from off (the caller keeps off+len(p) within the object)
// and returns len(p) or an error; an error matching
// oss.ErrPreconditionFailed means the object changed since it was pinned.
// A cancelled ctx makes ReadAt return ctx.Err(). ReadAt is safe for
// concurrent use; Close releases everything and makes later reads fail.
type objectReader interface {
	ReadAt(ctx context.Context, p []byte, off int64) (int, error)
	Close() error
}

// seqChunk is the size of the range a sequential read asks for: later
// reads continue from the same body instead of sending a request each.
const seqChunk = 8 << 20

var errReaderClosed = errors.New("fs: reader closed")

// streamReader keeps one open body for sequential reads and issues exact
// ranged reads for random access. Reads that arrive while the body is in
// use by another read fetch their own range.
type streamReader struct {
	store      Store
	key, etag  string
	size       int64
	bodyCtx    context.Context // owns bodies; cancelled by Close
	cancelBody context.CancelFunc

	mu      sync.Mutex    // guards the fields below; never held across I/O
	body    io.ReadCloser // idle open body, or nil
	bodyPos int64         // offset of the next byte body yields
	bodyEnd int64         // end of body's range
	lastEnd int64         // where the latest read ended: a read starting here is sequential
	closed  bool
}

var _ objectReader = (*streamReader)(nil)

func newStreamReader(store Store, key, etag string, size int64) *streamReader {
	ctx, cancel := context.WithCancel(context.Background())
	return &streamReader{store: store, key: key, etag: etag, size: size, bodyCtx: ctx, cancelBody: cancel}
}

// ReadAt implements objectReader.
func (r *streamReader) ReadAt(ctx context.Context, p []byte, off int64) (int, error) {
	total := 0
	for total < len(p) {
		n, err := r.readOnce(ctx, p[total:], off+int64(total))
		total += n
		if err != nil {
			return total, err
		}
	}
	return total, nil
}

// readOnce reads from the idle body if it is positioned at off, else from
// a new range; it returns when p is full or the range ends.
func (r *streamReader) readOnce(ctx context.Context, p []byte, off int64) (int, error) {
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return 0, errReaderClosed
	}
	var body, discard io.ReadCloser
	var end int64
	if r.body != nil && r.bodyPos == off {
		body, end = r.body, r.bodyEnd
	} else {
		discard = r.body
	}
	r.body = nil
	sequential := off == r.lastEnd
	r.mu.Unlock()
	if discard != nil {
		_ = discard.Close()
	}

	if body == nil {
		n := int64(len(p))
		if sequential {
			n = max(n, seqChunk)
		}
		n = min(n, r.size-off)
		if n <= 0 {
			return 0, fmt.Errorf("fs: read %q at %d: %w", r.key, off, io.ErrUnexpectedEOF)
		}
		var err error
		if body, err = r.store.GetRange(r.bodyCtx, r.key, r.etag, off, n); err != nil {
			return 0, fmt.Errorf("fs: get %q at %d: %w", r.key, off, err)
		}
		end = off + n
	}

	// An interrupted caller closes the body, which ends the blocked read.
	stop := context.AfterFunc(ctx, func() { _ = body.Close() })
	got, err := io.ReadFull(body, p[:min(int64(len(p)), end-off)])
	if !stop() {
		return got, ctx.Err()
	}
	if err != nil {
		_ = body.Close()
		if errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF // the range ended early: a truncated body
		}
		return got, fmt.Errorf("fs: read %q at %d: %w", r.key, off, err)
	}
	pos := off + int64(got)

	r.mu.Lock()
	r.lastEnd = pos
	keep := pos < end && r.body == nil && !r.closed
	if keep {
		r.body, r.bodyPos, r.bodyEnd = body, pos, end
	}
	r.mu.Unlock()
	if !keep {
		_ = body.Close()
	}
	return got, nil
}

// Close implements objectReader.
func (r *streamReader) Close() error {
	r.mu.Lock()
	body := r.body
	r.body, r.closed = nil, true
	r.mu.Unlock()
	r.cancelBody()
	if body != nil {
		return body.Close()
	}
	return nil
}
