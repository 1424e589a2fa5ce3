package fs

import (
	"syscall"
	"time"

	"github.com/hanwen/go-fuse/v2/fuse"
)

// blockSize is st_blksize: cp, cat and friends size their reads by it.
const blockSize = 1 << 20

// fileAttr fills the attributes of the file key from what a listing or
// HEAD said.
func (t *tree) fileAttr(key string, info objectMeta, out *fuse.Attr) {
	size := max(info.Size, 0)
	out.Ino = inodeNumber(key)
	out.Mode = syscall.S_IFREG | t.fileMode
	out.Size = uint64(size)
	out.Blocks = uint64((size + 511) / 512)
	out.Blksize = blockSize
	out.Nlink = 1
	out.Owner = fuse.Owner{Uid: t.uid, Gid: t.gid}
	mtime := info.LastModified
	if mtime.IsZero() {
		mtime = t.mountTime
	}
	out.SetTimes(&mtime, &mtime, &mtime)
}

// dirAttr fills the attributes of the directory with the given prefix.
// Directories have no timestamps in OSS: mtime is the newest mtime among
// the entries its listings showed (dirNode.mtime), or the mount time
// where no listing has shown one (zero mtime).
func (t *tree) dirAttr(prefix string, mtime time.Time, out *fuse.Attr) {
	out.Ino = inodeNumber(prefix)
	if prefix == "" {
		out.Ino = 1
	}
	out.Mode = syscall.S_IFDIR | t.dirMode
	out.Size = 4096
	out.Blocks = 8
	out.Blksize = blockSize
	out.Nlink = 2
	out.Owner = fuse.Owner{Uid: t.uid, Gid: t.gid}
	if mtime.IsZero() {
		mtime = t.mountTime
	}
	out.SetTimes(&mtime, &mtime, &mtime)
}

// setTimeouts makes the kernel keep an entry exactly as long as the cache.
func setTimeouts(out *fuse.EntryOut, d time.Duration) {
	out.SetEntryTimeout(d)
	out.SetAttrTimeout(d)
}
