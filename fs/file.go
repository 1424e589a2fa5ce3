package fs

import (
	"context"
	"sync/atomic"
	"syscall"

	fusefs "github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"
)

// fileNode is one object. Its metadata lives in the metadata cache, not
// in the node: go-fuse keeps one node per inode number for as long as the
// kernel remembers it, while the object behind the name may change.
// The kernel keeps a node per name a listing showed, so the node is kept
// small: the pinned ETag is a pointer, set only by an open.
type fileNode struct {
	fusefs.Inode
	t        *tree
	path     string                 // the object key (shared with the cache and the name)
	lastETag atomic.Pointer[string] // ETag pinned by the previous open; nil before the first
}

var (
	_ fusefs.NodeGetattrer  = (*fileNode)(nil)
	_ fusefs.NodeOpener     = (*fileNode)(nil)
	_ fusefs.NodeGetxattrer = (*fileNode)(nil)
)

// writeFlags are open flags that would modify the file.
const writeFlags = syscall.O_WRONLY | syscall.O_RDWR | syscall.O_TRUNC | syscall.O_APPEND | syscall.O_CREAT

// stat returns what the cache (or, when stale, the store) says the object
// is now; a name that is no longer a file is ENOENT.
func (n *fileNode) stat(ctx context.Context, op string) (entry, syscall.Errno) {
	e, err := n.t.lookup(ctx, n.path)
	if err != nil {
		return entry{}, n.t.fail(op, n.path, err)
	}
	if e.kind != kindFile {
		return entry{}, syscall.ENOENT
	}
	return e, 0
}

// Getattr answers from the cache; only an expired entry costs requests.
// Asked through an open file (fstat, or the kernel checking the size
// before a read), it answers the version that file reads, as a local file
// system answers for an open file that was unlinked or renamed over:
// never ENOENT.
func (n *fileNode) Getattr(ctx context.Context, f fusefs.FileHandle, out *fuse.AttrOut) syscall.Errno {
	if h, ok := f.(*fileHandle); ok {
		n.t.fileAttr(h.r.key, h.r.obj, &out.Attr)
		if !h.stale.Load() {
			// Another version may be current: cache this one no longer
			// than the name's entry.
			if e, ok := n.t.cache.get(n.path); ok && e.kind == kindFile && e.info.ETag == h.r.obj.ETag {
				out.SetTimeout(n.t.cache.ttlLeft(e))
			}
		}
		return 0
	}
	e, errno := n.stat(ctx, "getattr")
	if errno != 0 {
		return errno
	}
	n.t.fileAttr(n.path, e.info, &out.Attr)
	out.SetTimeout(n.t.cache.ttlLeft(e))
	return 0
}

// Open pins the ETag the cache holds (from a listing, a lookup or a HEAD),
// so a file seen in a listing is read with no HEAD. The kernel keeps its
// page cache only if the ETag is the one pinned by the previous open.
func (n *fileNode) Open(ctx context.Context, flags uint32) (fusefs.FileHandle, uint32, syscall.Errno) {
	if flags&writeFlags != 0 {
		return nil, 0, syscall.EROFS
	}
	e, errno := n.stat(ctx, "open")
	if errno != 0 {
		return nil, 0, errno
	}
	etag := e.info.ETag
	last := n.lastETag.Swap(&etag)
	keep := last != nil && *last != "" && *last == etag
	var fuseFlags uint32
	if keep {
		fuseFlags = fuse.FOPEN_KEEP_CACHE
	}
	return newFileHandle(n.t, n, e.info), fuseFlags, 0
}

// Getxattr answers ENOSYS: the kernel then marks the whole mount as
// without xattrs and stops asking, so `ls -l` (an lgetxattr and a getxattr
// per entry) costs no round trips. ENODATA would be asked again each time.
// Object metadata is not exposed as xattrs.
func (n *fileNode) Getxattr(ctx context.Context, attr string, dest []byte) (uint32, syscall.Errno) {
	return 0, syscall.ENOSYS
}
