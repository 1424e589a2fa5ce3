package fs

import (
	"context"
	"errors"
	"strings"
	"sync"
	"syscall"

	fusefs "github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"

	"github.com/ossmount/ossmount/oss"
)

// SymlinkStore is the optional Store method that OSS symbolic links need
// (GetSymlink). *oss.Client implements it; a Store decorator must pass it
// on (diskcache and keyindex do). With a Store that lacks it, readlink of
// every link fails with EIO (logged), never with a made-up target.
type SymlinkStore interface {
	// Symlink returns the target key of the link key; errors as Store's.
	Symlink(ctx context.Context, key string) (string, error)
}

var _ SymlinkStore = (*oss.Client)(nil)

// errNoSymlinkStore says the Store cannot answer GetSymlink.
var errNoSymlinkStore = errors.New("fs: the store does not read symbolic links")

// outsideMount is the first path component, at the mount root, of what a
// link reads as when its target cannot be shown inside the mount (outside
// the mounted prefix, or a key that is no path). The name is reserved:
// validName refuses it, so no listing shows it and Lookup answers ENOENT
// for it without a request. Such a link dangles, never resolving to other
// bytes (not even outside the mount: the path never climbs above the
// mount root), and ls -l says why.
const outsideMount = ".ossmount-outside-mount"

// symlinkNode is an OSS symbolic link. Like fileNode it keeps its
// metadata in the metadata cache; it remembers only the target it last
// read and the ETag it was read for.
type symlinkNode struct {
	fusefs.Inode
	t    *tree
	path string // the link's key

	mu     sync.Mutex // guards the fields below
	etag   string     // ETag of the cache entry the target was read for
	target string     // what Readlink answers; "" until read
}

var (
	_ fusefs.NodeReadlinker = (*symlinkNode)(nil)
	_ fusefs.NodeGetattrer  = (*symlinkNode)(nil)
	_ fusefs.NodeGetxattrer = (*symlinkNode)(nil)
)

// stat returns the cache's entry for the link; a name that is no longer
// a link is ENOENT.
func (n *symlinkNode) stat(ctx context.Context, op string) (entry, syscall.Errno) {
	e, err := n.t.lookup(ctx, n.path)
	if err != nil {
		return entry{}, n.t.fail(op, n.path, err)
	}
	if e.kind != kindSymlink {
		return entry{}, syscall.ENOENT
	}
	return e, 0
}

// Readlink answers the target as a path relative to the link (see
// linkTarget). The target is asked of OSS (GetSymlink) once per version
// of the link the cache knows.
func (n *symlinkNode) Readlink(ctx context.Context) ([]byte, syscall.Errno) {
	e, errno := n.stat(ctx, "readlink")
	if errno != 0 {
		return nil, errno
	}
	n.mu.Lock()
	target, fresh := n.target, n.etag == e.info.ETag && n.target != ""
	n.mu.Unlock()
	if fresh {
		return []byte(target), 0
	}
	ss, ok := n.t.store.(SymlinkStore)
	if !ok {
		return nil, n.t.fail("readlink", n.path, errNoSymlinkStore)
	}
	key, err := ss.Symlink(ctx, n.path)
	if err != nil {
		return nil, n.t.fail("readlink", n.path, err)
	}
	target = linkTarget(n.t.rootPrefix, n.path, key)
	n.mu.Lock()
	n.etag, n.target = e.info.ETag, target
	n.mu.Unlock()
	return []byte(target), 0
}

// Getattr answers from the cache. A link's size is the length of its
// target once read, as on a local disk, and 0 before.
func (n *symlinkNode) Getattr(ctx context.Context, f fusefs.FileHandle, out *fuse.AttrOut) syscall.Errno {
	e, errno := n.stat(ctx, "getattr")
	if errno != 0 {
		return errno
	}
	n.symlinkAttr(e, &out.Attr)
	out.SetTimeout(n.t.cache.ttlLeft(e))
	return 0
}

// symlinkAttr fills a link's attributes: mode lrwxrwxrwx, the link's own
// mtime, the owner of every other node.
func (n *symlinkNode) symlinkAttr(e entry, out *fuse.Attr) {
	n.t.fileAttr(n.path, e.info, out)
	out.Mode = syscall.S_IFLNK | 0o777
	n.mu.Lock()
	size := len(n.target)
	if n.etag != e.info.ETag {
		size = 0
	}
	n.mu.Unlock()
	out.Size = uint64(size)
	out.Blocks = 0
}

// Getxattr answers ENOSYS, as files and directories do.
func (n *symlinkNode) Getxattr(ctx context.Context, attr string, dest []byte) (uint32, syscall.Errno) {
	return 0, syscall.ENOSYS
}

// linkTarget is what the link at key link (inside root, the mounted
// prefix) reads as when OSS says it points at key target: the relative
// path from the link's directory to the target, so that the kernel
// resolves it inside the mount to the target's bytes. A target outside
// root, or one with a component that cannot be a name (empty, ".",
// "..", over 255 bytes), reads as a path under outsideMount at the mount
// root, which never resolves.
func linkTarget(root, link, target string) string {
	linkDir := strings.Split(strings.TrimPrefix(link, root), "/")
	linkDir = linkDir[:len(linkDir)-1]
	up := strings.Repeat("../", len(linkDir))
	rest, ok := strings.CutPrefix(target, root)
	rest = strings.TrimSuffix(rest, "/") // a "dir/" marker names its directory
	var to []string                      // empty: the mount root
	if rest != "" {
		to = strings.Split(rest, "/")
	}
	if !ok || target == "" || !validPath(to) {
		return up + outsideMount + "/" + target
	}
	common := 0
	for common < len(linkDir) && common < len(to) && linkDir[common] == to[common] {
		common++
	}
	rel := strings.TrimSuffix(strings.Repeat("../", len(linkDir)-common)+strings.Join(to[common:], "/"), "/")
	if rel == "" {
		return "." // the link's own directory
	}
	return rel
}

// validPath reports whether every segment is a valid name.
func validPath(segs []string) bool {
	for _, seg := range segs {
		if !validName(seg) {
			return false
		}
	}
	return true
}

var _ SymlinkStore = (*sharedStore)(nil)

// Symlink passes GetSymlink through the read and listing sharer: a link's
// node reads its target once per version, so there is nothing to share.
func (s *sharedStore) Symlink(ctx context.Context, key string) (string, error) {
	ss, ok := s.store.(SymlinkStore)
	if !ok {
		return "", errNoSymlinkStore
	}
	return ss.Symlink(ctx, key)
}
