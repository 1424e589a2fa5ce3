package fs

import (
	"context"
	"strings"
	"syscall"
	"time"

	fusefs "github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"
)

// dirHandle is an open directory. It hands out entries from its stream
// and answers the READDIRPLUS lookup of the entry it just handed out
// from the listing itself, so READDIRPLUS costs no request per entry.
// Past the first hugeDirEntries names of a listing it declines that
// lookup: the entry then goes out with node ID 0, which the kernel takes
// as "no attributes" (fuse_direntplus_link), so neither the kernel nor
// go-fuse makes a node for it; a later stat is a LOOKUP answered from the
// metadata cache. go-fuse calls it from one goroutine at a time.
type dirHandle struct {
	d       *dirNode
	stream  *dirStream
	dots    uint64 // how many of "." and ".." were handed out (they come first)
	last    dirent
	hasLast bool
}

var (
	_ fusefs.FileReaddirenter = (*dirHandle)(nil)
	_ fusefs.FileLookuper     = (*dirHandle)(nil)
	_ fusefs.FileSeekdirer    = (*dirHandle)(nil)
	_ fusefs.FileReleasedirer = (*dirHandle)(nil)
)

// Readdirent returns the next entry, or nil at the end: "." and ".."
// first, as every local file system lists them, then the listing.
func (h *dirHandle) Readdirent(ctx context.Context) (*fuse.DirEntry, syscall.Errno) {
	if h.dots < 2 {
		h.dots++
		de := h.dotEntry(h.dots)
		return &de, 0
	}
	if errno := h.stream.fill(ctx); errno != 0 {
		return nil, errno
	}
	if len(h.stream.buf) == 0 {
		return nil, 0
	}
	h.last, h.hasLast = h.stream.next(), true
	if h.stream.pos > uint64(h.d.t.hugeDir) {
		h.d.huge.Store(true)
	}
	de := direntOut(h.d.prefix, h.last, h.offset())
	return &de, 0
}

// offset is the directory offset after the entries handed out so far.
func (h *dirHandle) offset() uint64 { return h.dots + h.stream.pos }

// hugeDirEntries is how many names of one listing get a node from
// READDIRPLUS: each costs ~400 bytes in go-fuse (Inode, node ID and
// stable-attribute tables, the parent's children map) for as long as the
// kernel keeps the name, more than the metadata cache spends on it. Below
// it, `ls -l` costs no LOOKUP at all; above it, one LOOKUP per name stat'ed,
// answered from memory.
const hugeDirEntries = 100_000

// Lookup serves READDIRPLUS: name is the entry just returned.
func (h *dirHandle) Lookup(ctx context.Context, name string, out *fuse.EntryOut) (*fusefs.Inode, syscall.Errno) {
	if h.hasLast && h.last.name == name && h.last.e.kind != kindMissing && !h.last.recheck {
		if h.stream.pos > uint64(h.d.t.hugeDir) {
			return nil, syscall.EAGAIN // any errno: the entry goes out with node ID 0
		}
		return h.d.child(ctx, name, h.last.e, out), 0
	}
	return h.d.Lookup(ctx, name, out)
}

// Seekdir supports rewinddir and seeks to offsets this handle produced,
// by listing again from the start and skipping (the order is
// deterministic for unchanged data).
func (h *dirHandle) Seekdir(ctx context.Context, off uint64) syscall.Errno {
	if off == h.offset() {
		return 0
	}
	if off < h.offset() {
		if h.stream.pos > 0 {
			h.stream.Close()
			h.stream = h.d.newStream()
		}
		h.dots, h.hasLast = 0, false
	}
	for h.dots < 2 && h.offset() < off {
		h.dots++
	}
	for h.offset() < off {
		if errno := h.stream.fill(ctx); errno != 0 {
			return errno
		}
		if len(h.stream.buf) == 0 {
			return syscall.EINVAL
		}
		h.stream.next()
	}
	return 0
}

// Releasedir stops background fetches.
func (h *dirHandle) Releasedir(ctx context.Context, releaseFlags uint32) {
	h.stream.Close()
}

// dotEntry is "." (n=1) or ".." (n=2) of the directory, at offset n.
// go-fuse gives them no node, also under READDIRPLUS. ".." of the mount
// root is outside the mount; the root's own number stands for it.
func (h *dirHandle) dotEntry(n uint64) fuse.DirEntry {
	t, prefix := h.d.t, h.d.prefix
	ino := func(p string) uint64 { // as dirAttr numbers directories
		var a fuse.Attr
		t.dirAttr(p, time.Time{}, &a)
		return a.Ino
	}
	if n == 1 {
		return fuse.DirEntry{Name: ".", Mode: syscall.S_IFDIR, Ino: ino(prefix), Off: n}
	}
	parent := t.rootPrefix
	if prefix != t.rootPrefix {
		trimmed := strings.TrimSuffix(prefix, "/")
		parent = trimmed[:strings.LastIndexByte(trimmed, '/')+1]
	}
	return fuse.DirEntry{Name: "..", Mode: syscall.S_IFDIR, Ino: ino(parent), Off: n}
}
