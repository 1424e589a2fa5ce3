package fs

import (
	"context"
	"sync/atomic"

	"github.com/hanwen/go-fuse/v2/fuse"
)

// ReadView returns the bytes of [off, off+len(p)) (the caller keeps it
// within the object) as a fuse.ReadResult: bytes in read-ahead parts are
// lent to the reply instead of copied, and its Done gives them back
// (go-fuse calls it once the reply is written). Exact GETs go into p.
func (r *prefetcher) ReadView(ctx context.Context, p []byte, off int64) (fuse.ReadResult, error) {
	parts, err := r.plan(ctx, p, off)
	if err != nil {
		return nil, err
	}
	if parts == nil {
		return fuse.ReadResultData(p), nil
	}
	v := &partView{r: r, parts: parts, size: len(p), data: make([][]byte, 0, len(parts))}
	end := off + int64(len(p))
	for _, pt := range parts {
		v.data = append(v.data, pt.buf[max(off, pt.off)-pt.off:min(end, pt.end)-pt.off])
	}
	return v, nil
}

// partView lends the bytes of complete parts to one FUSE reply; go-fuse
// writes them to the kernel with one writev and then calls Done, which
// gives the parts back.
type partView struct {
	r     *prefetcher
	parts []*part
	data  [][]byte
	size  int
	done  atomic.Bool
}

var _ fuse.ReadResult = (*partView)(nil)

func (v *partView) Size() int { return v.size }

// Slices lets go-fuse write the parts' bytes without a copy.
func (v *partView) Slices() ([][]byte, fuse.Status) { return v.data, fuse.OK }

// Bytes is the fallback where go-fuse wants one slice.
func (v *partView) Bytes(buf []byte) ([]byte, fuse.Status) {
	if len(v.data) == 1 {
		return v.data[0], fuse.OK
	}
	if cap(buf) < v.size {
		buf = make([]byte, v.size)
	}
	buf = buf[:v.size]
	n := 0
	for _, d := range v.data {
		n += copy(buf[n:], d)
	}
	return buf, fuse.OK
}

// Done gives the parts back; calls after the first do nothing.
func (v *partView) Done() {
	if !v.done.Swap(true) {
		v.r.unpin(v.parts)
		v.data = nil
	}
}
