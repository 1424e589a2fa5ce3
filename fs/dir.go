package fs

import (
	"context"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	fusefs "github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"
)

// dirNode is a directory: a prefix ending in "/" ("" for the bucket root).
type dirNode struct {
	fusefs.Inode
	t      *tree
	prefix string
	// huge: a listing handed out more than hugeDirEntries names, so the
	// kernel is asked not to keep nodes for its files (see dirHandle).
	huge atomic.Bool

	mu sync.Mutex // guards the fields below
	// listedUntil: a listing that started at (listedUntil - TTL) was read to
	// the end, so the kernel's readdir cache may be reused until then.
	listedUntil time.Time
	// kernelCached: the kernel may hold a readdir cache for this directory.
	kernelCached bool
	// mtime is the newest mtime among the entries its listings showed;
	// zero until one did (the directory then shows the mount time).
	mtime time.Time
}

var (
	_ fusefs.NodeLookuper       = (*dirNode)(nil)
	_ fusefs.NodeGetattrer      = (*dirNode)(nil)
	_ fusefs.NodeOpendirHandler = (*dirNode)(nil)
	_ fusefs.NodeStatfser       = (*dirNode)(nil)
	_ fusefs.NodeGetxattrer     = (*dirNode)(nil)
)

func newDirNode(t *tree, prefix string) *dirNode { return &dirNode{t: t, prefix: prefix} }

// Lookup resolves one name in this directory (cache first).
func (d *dirNode) Lookup(ctx context.Context, name string, out *fuse.EntryOut) (*fusefs.Inode, syscall.Errno) {
	if !validName(name) {
		if len(name) > maxNameLen {
			return nil, syscall.ENAMETOOLONG
		}
		return nil, syscall.ENOENT
	}
	path := d.prefix + name
	e, err := d.t.lookup(ctx, path)
	if err != nil {
		return nil, d.t.fail("lookup", path, err)
	}
	if e.kind == kindMissing {
		return nil, syscall.ENOENT // the kernel caches it for NegativeTimeout
	}
	return d.child(ctx, name, e, out), 0
}

// child makes (or, through the stable inode number, lets go-fuse reuse)
// the node for a name whose entry is known, and fills out. In a huge
// directory a file's node is handed to the pruner, which asks the kernel
// to drop it once unused, so that `ls -l` of a million names does not
// leave a million nodes behind; the next use is a LOOKUP answered from
// the metadata cache.
func (d *dirNode) child(ctx context.Context, name string, e entry, out *fuse.EntryOut) *fusefs.Inode {
	path := d.prefix + name
	setTimeouts(out, d.t.cache.ttlLeft(e))
	if e.kind == kindDir {
		prefix := path + "/"
		var mtime time.Time
		if c := d.GetChild(name); c != nil {
			if old, ok := c.Operations().(*dirNode); ok {
				mtime = old.modTime() // the node go-fuse keeps
			}
		}
		d.t.dirAttr(prefix, mtime, &out.Attr)
		return d.NewInode(ctx, newDirNode(d.t, prefix),
			fusefs.StableAttr{Mode: syscall.S_IFDIR, Ino: out.Attr.Ino})
	}
	if e.kind == kindSymlink {
		n := &symlinkNode{t: d.t, path: path}
		if c := d.GetChild(name); c != nil {
			if old, ok := c.Operations().(*symlinkNode); ok {
				n = old // knows the target's length
			}
		}
		n.symlinkAttr(e, &out.Attr)
		return d.NewInode(ctx, n, fusefs.StableAttr{Mode: syscall.S_IFLNK, Ino: out.Attr.Ino})
	}
	d.t.fileAttr(path, e.info, &out.Attr)
	node := d.NewInode(ctx, &fileNode{t: d.t, path: path},
		fusefs.StableAttr{Mode: syscall.S_IFREG, Ino: out.Attr.Ino})
	if d.huge.Load() {
		d.t.pruner.add(d, name, node)
	}
	return node
}

// Getattr of a directory needs no request: directories have no metadata.
func (d *dirNode) Getattr(ctx context.Context, f fusefs.FileHandle, out *fuse.AttrOut) syscall.Errno {
	d.t.dirAttr(d.prefix, d.modTime(), &out.Attr)
	return 0
}

// OpendirHandle opens a listing. The kernel's readdir cache
// (FOPEN_CACHE_DIR) is reused while a complete listing is younger than
// the metadata TTL; when it is older, the kernel's copy is dropped first,
// so a repeated `ls` within the TTL costs no request and one after it
// lists afresh.
func (d *dirNode) OpendirHandle(ctx context.Context, flags uint32) (fusefs.FileHandle, uint32, syscall.Errno) {
	now := d.t.cache.now()
	d.mu.Lock()
	fresh := now.Before(d.listedUntil)
	invalidate := !fresh && d.kernelCached
	d.kernelCached = true
	d.mu.Unlock()
	if invalidate {
		// Drops the pages of the kernel's readdir cache; go-fuse always
		// sends FOPEN_KEEP_CACHE along with FOPEN_CACHE_DIR.
		if errno := d.NotifyContent(0, 0); errno != 0 && errno != syscall.ENOENT {
			d.t.log.Debug("readdir cache invalidation failed", "prefix", d.prefix, "errno", errno.Error())
		}
	}
	return &dirHandle{d: d, stream: d.newStream()}, fuse.FOPEN_CACHE_DIR | fuse.FOPEN_KEEP_CACHE, 0
}

// saw records the newest mtime of a page of d's listing: d's mtime only
// moves forward, so a listing never makes a directory look older.
func (d *dirNode) saw(mtime time.Time) {
	d.mu.Lock()
	if mtime.After(d.mtime) {
		d.mtime = mtime
	}
	d.mu.Unlock()
}

// modTime is d's mtime; zero until a listing showed one.
func (d *dirNode) modTime() time.Time {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.mtime
}

// listed records that a listing started at start was read to the end.
func (d *dirNode) listed(start time.Time) {
	until := expiry(start, d.t.cache.posTTL)
	d.mu.Lock()
	if until.After(d.listedUntil) {
		d.listedUntil = until
	}
	d.mu.Unlock()
}

// Statfs reports a large, empty, read-only filesystem so that df works.
func (d *dirNode) Statfs(ctx context.Context, out *fuse.StatfsOut) syscall.Errno {
	const bsize = 4096
	const blocks = 1 << 38 // 1 PiB of 4 KiB blocks
	out.Bsize = bsize
	out.Frsize = bsize
	out.Blocks = blocks
	out.Bfree = blocks
	out.Bavail = blocks
	out.Files = 1 << 30
	out.Ffree = 1 << 30
	out.NameLen = maxNameLen
	return 0
}

// Getxattr answers ENOSYS: the kernel then marks the whole mount as
// without xattrs and stops asking, so `ls -l` (an lgetxattr and a getxattr
// per entry) costs no round trips. ENODATA would be asked again each time.
// Object metadata is not exposed as xattrs.
func (d *dirNode) Getxattr(ctx context.Context, attr string, dest []byte) (uint32, syscall.Errno) {
	return 0, syscall.ENOSYS
}
