package fs

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"syscall"

	fusefs "github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"

	"github.com/ossmount/ossmount/oss"
)

// fileHandle is one open of an object, pinned to the version (ETag, size,
// mtime) seen at open. Safe for concurrent reads (the kernel sends them in
// parallel).
type fileHandle struct {
	t     *tree
	node  *fileNode // the inode, whose kernel attributes a stale read invalidates
	info  oss.ObjectInfo
	r     objectReader
	stale atomic.Bool // the object changed or went away: every read fails with ESTALE
}

var (
	_ fusefs.FileReader   = (*fileHandle)(nil)
	_ fusefs.FileFlusher  = (*fileHandle)(nil)
	_ fusefs.FileReleaser = (*fileHandle)(nil)
)

func newFileHandle(t *tree, node *fileNode, info oss.ObjectInfo) *fileHandle {
	return &fileHandle{
		t: t, node: node, info: info,
		r: newPrefetcher(t.store, info.Key, info.ETag, info.Size, t.budget, t.prefetch),
	}
}

// Read fills dest from the pinned version of the object. It answers only
// errnos read(2) gives on a local file: ESTALE when the object was
// replaced or deleted (as NFS does for a file removed under an open
// descriptor), EIO when OSS refuses access (read(2) never answers EACCES;
// the log says what happened), EINTR when interrupted.
func (h *fileHandle) Read(ctx context.Context, dest []byte, off int64) (fuse.ReadResult, syscall.Errno) {
	if h.stale.Load() {
		return nil, syscall.ESTALE
	}
	if off < 0 {
		return nil, syscall.EINVAL
	}
	if off >= h.info.Size {
		return fuse.ReadResultData(nil), 0
	}
	p := dest[:min(int64(len(dest)), h.info.Size-off)]
	res, err := h.read(ctx, p, off)
	switch {
	case err == nil:
		return res, 0
	case errors.Is(err, oss.ErrPreconditionFailed), errors.Is(err, oss.ErrNotFound):
		h.markStale(err)
		return nil, syscall.ESTALE
	case errors.Is(err, oss.ErrAccessDenied), errors.Is(err, oss.ErrCredentials):
		return nil, h.t.fail("read", h.info.Key, fmt.Errorf("%w: %w", syscall.EIO, err))
	default:
		return nil, h.t.fail("read", h.info.Key, err)
	}
}

// markStale fails this handle from now on and, once, drops what the
// mount and the kernel believe about the name, so that the next open
// resolves it afresh (a new version, or no file) instead of waiting for
// the metadata TTL.
func (h *fileHandle) markStale(err error) {
	if h.stale.Swap(true) {
		return
	}
	h.t.stale.Add(1)
	h.t.cache.forget(h.info.Key, h.info.ETag)
	// Attributes only (offset -1): invalidating pages here could deadlock
	// on the page this READ is filling; the next open drops them anyway,
	// since its ETag differs from the pinned one.
	h.node.NotifyContent(-1, 0)
	what := "changed"
	if errors.Is(err, oss.ErrNotFound) {
		what = "was deleted"
	}
	h.t.log.Warn("object "+what+" while open; this handle now fails with ESTALE, reopen to read the new version",
		"op", "read", "key", h.info.Key, "etag", h.info.ETag, "request_id", requestID(err))
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
