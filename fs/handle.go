package fs

import (
	"context"
	"errors"
	"sync/atomic"
	"syscall"

	fusefs "github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"

	"github.com/ossmount/ossmount/oss"
)

// fileHandle is one open of an object, pinned to the ETag seen at open.
// Safe for concurrent reads (the kernel sends them in parallel).
type fileHandle struct {
	t     *tree
	key   string
	etag  string
	size  int64
	r     objectReader
	stale atomic.Bool // the object changed: every read fails with ESTALE
}

var (
	_ fusefs.FileReader   = (*fileHandle)(nil)
	_ fusefs.FileFlusher  = (*fileHandle)(nil)
	_ fusefs.FileReleaser = (*fileHandle)(nil)
)

func newFileHandle(t *tree, info oss.ObjectInfo) *fileHandle {
	return &fileHandle{
		t: t, key: info.Key, etag: info.ETag, size: info.Size,
		r: newPrefetcher(t.store, info.Key, info.ETag, info.Size, t.budget, t.prefetch),
	}
}

// Read fills dest from the pinned version of the object.
func (h *fileHandle) Read(ctx context.Context, dest []byte, off int64) (fuse.ReadResult, syscall.Errno) {
	if h.stale.Load() {
		return nil, syscall.ESTALE
	}
	if off < 0 {
		return nil, syscall.EINVAL
	}
	if off >= h.size {
		return fuse.ReadResultData(nil), 0
	}
	p := dest[:min(int64(len(dest)), h.size-off)]
	res, err := h.read(ctx, p, off)
	if err != nil {
		if errors.Is(err, oss.ErrPreconditionFailed) {
			if !h.stale.Swap(true) {
				h.t.stale.Add(1)
				h.t.log.Warn("object changed while open; this handle now fails with ESTALE, reopen to read the new version",
					"op", "read", "key", h.key, "etag", h.etag, "request_id", requestID(err))
			}
			return nil, syscall.ESTALE
		}
		return nil, h.t.fail("read", h.key, err)
	}
	return res, 0
}

// read lends the reader's buffers to the reply where it can (saving a
// copy of every byte), else copies into p.
func (h *fileHandle) read(ctx context.Context, p []byte, off int64) (fuse.ReadResult, error) {
	if v, ok := h.r.(viewReader); ok {
		return v.ReadView(ctx, p, off)
	}
	n, err := h.r.ReadAt(ctx, p, off)
	if err != nil {
		return nil, err
	}
	return fuse.ReadResultData(p[:n]), nil
}

// Flush is a close(2) of a descriptor of this open file, not necessarily
// the one that reads (a dup, a forked child exiting): it pauses the
// read-ahead of the closing thread and cancels nothing (prefetcher.Flush).
func (h *fileHandle) Flush(ctx context.Context) syscall.Errno {
	h.r.Flush(callerOf(ctx))
	return 0
}

// Release closes the reader: its GETs in flight are cancelled.
func (h *fileHandle) Release(ctx context.Context) syscall.Errno {
	_ = h.r.Close()
	return 0
}
