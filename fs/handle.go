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
// mtime) seen at open, which its prefetcher holds (r.key, r.obj). Safe
// for concurrent reads (the kernel sends them in parallel).
type fileHandle struct {
	t     *tree
	node  *fileNode // the inode, whose kernel attributes a stale read invalidates
	r     *prefetcher
	stale atomic.Bool // the object changed or went away: every read fails with ESTALE
}

var (
	_ fusefs.FileReader   = (*fileHandle)(nil)
	_ fusefs.FileFlusher  = (*fileHandle)(nil)
	_ fusefs.FileReleaser = (*fileHandle)(nil)
)

func newFileHandle(t *tree, node *fileNode, obj objectMeta) *fileHandle {
	return &fileHandle{t: t, node: node, r: newPrefetcher(t.store, node.path, obj, t.budget, t.prefetch)}
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
	size := h.r.obj.Size
	if off >= size {
		return fuse.ReadResultData(nil), 0
	}
	// The prefetcher lends its buffers to the reply where it can (saving
	// a copy of every byte), else reads into dest.
	res, err := h.r.ReadView(ctx, dest[:min(int64(len(dest)), size-off)], off)
	switch {
	case err == nil:
		return res, 0
	case errors.Is(err, oss.ErrPreconditionFailed), errors.Is(err, oss.ErrNotFound):
		h.markStale(err)
		return nil, syscall.ESTALE
	case errors.Is(err, oss.ErrAccessDenied), errors.Is(err, oss.ErrCredentials):
		return nil, h.t.fail("read", h.r.key, fmt.Errorf("%w: %w", syscall.EIO, err))
	default:
		return nil, h.t.fail("read", h.r.key, err)
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
	h.t.cache.forget(h.r.key, h.r.obj.ETag)
	// Attributes only (offset -1): invalidating pages here could deadlock
	// on the page this READ is filling; the next open drops them anyway,
	// since its ETag differs from the pinned one.
	h.node.NotifyContent(-1, 0)
	what := "changed"
	if errors.Is(err, oss.ErrNotFound) {
		what = "was deleted"
	}
	h.t.log.Warn("object "+what+" while open; this handle now fails with ESTALE, reopen to read the new version",
		"op", "read", "key", h.r.key, "etag", h.r.obj.ETag, "request_id", requestID(err))
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
	h.r.Close()
	return 0
}
