package fs

import (
	"context"
	"syscall"
	"testing"

	fusefs "github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"
)

// The kernel answers most writes on an "ro" mount itself; this calls the
// nodes directly so that the nodes' own answers are checked too.
func TestNodesAnswerEROFS(t *testing.T) {
	f, _, _ := newTestFS(t, map[string]string{"f": "data"}, Config{})
	fusefs.NewNodeFS(f.Root(), &fusefs.Options{}) // attaches the root to a bridge without mounting
	ctx := context.Background()
	d := f.root
	var out fuse.EntryOut
	child, errno := d.Lookup(ctx, "f", &out)
	if errno != 0 {
		t.Fatalf("lookup: %v", errno)
	}
	file := child.Operations().(*fileNode)

	ops := []struct {
		name string
		op   func() syscall.Errno
	}{
		{"create", func() syscall.Errno { _, _, _, e := d.Create(ctx, "n", 0, 0o644, &out); return e }},
		{"mkdir", func() syscall.Errno { _, e := d.Mkdir(ctx, "n", 0o755, &out); return e }},
		{"mknod", func() syscall.Errno { _, e := d.Mknod(ctx, "n", 0o644, 0, &out); return e }},
		{"unlink", func() syscall.Errno { return d.Unlink(ctx, "f") }},
		{"rmdir", func() syscall.Errno { return d.Rmdir(ctx, "f") }},
		{"rename", func() syscall.Errno { return d.Rename(ctx, "f", d, "g", 0) }},
		{"symlink", func() syscall.Errno { _, e := d.Symlink(ctx, "f", "l", &out); return e }},
		{"link", func() syscall.Errno { _, e := d.Link(ctx, file, "h", &out); return e }},
		{"tmpfile", func() syscall.Errno { _, _, _, e := d.Tmpfile(ctx, 0, 0o644, &out); return e }},
		{"dir setattr", func() syscall.Errno { return d.Setattr(ctx, nil, &fuse.SetAttrIn{}, &fuse.AttrOut{}) }},
		{"dir setxattr", func() syscall.Errno { return d.Setxattr(ctx, "user.a", nil, 0) }},
		{"dir removexattr", func() syscall.Errno { return d.Removexattr(ctx, "user.a") }},
		{"file setattr", func() syscall.Errno { return file.Setattr(ctx, nil, &fuse.SetAttrIn{}, &fuse.AttrOut{}) }},
		{"file setxattr", func() syscall.Errno { return file.Setxattr(ctx, "user.a", nil, 0) }},
		{"file removexattr", func() syscall.Errno { return file.Removexattr(ctx, "user.a") }},
		{"write", func() syscall.Errno { _, e := file.Write(ctx, nil, []byte("x"), 0); return e }},
		{"allocate", func() syscall.Errno { return file.Allocate(ctx, nil, 0, 10, 0) }},
		{"open for writing", func() syscall.Errno { _, _, e := file.Open(ctx, syscall.O_WRONLY); return e }},
		{"open read-write", func() syscall.Errno { _, _, e := file.Open(ctx, syscall.O_RDWR); return e }},
		{"open with truncate", func() syscall.Errno { _, _, e := file.Open(ctx, syscall.O_RDONLY|syscall.O_TRUNC); return e }},
	}
	for _, c := range ops {
		t.Run(c.name, func(t *testing.T) {
			if got := c.op(); got != syscall.EROFS {
				t.Errorf("got %v, want EROFS", got)
			}
		})
	}
	if _, _, errno := file.Open(ctx, syscall.O_RDONLY); errno != 0 {
		t.Errorf("read-only open: %v", errno)
	}
}

// An open after a listing pins the listed ETag with no HEAD, and keeps the
// kernel's page cache only while the ETag is unchanged.
func TestOpenPinsListedETag(t *testing.T) {
	f, store, clock := newTestFS(t, map[string]string{"d/f": "data"}, Config{})
	fusefs.NewNodeFS(f.Root(), &fusefs.Options{})
	ctx := context.Background()
	listDir(t, f, "")
	listDir(t, f, "d/")
	store.resetCounts()

	var out fuse.EntryOut
	dirInode, errno := f.root.Lookup(ctx, "d", &out)
	if errno != 0 {
		t.Fatal(errno)
	}
	fileInode, errno := dirInode.Operations().(*dirNode).Lookup(ctx, "f", &out)
	if errno != 0 {
		t.Fatal(errno)
	}
	file := fileInode.Operations().(*fileNode)
	fh, flags, errno := file.Open(ctx, syscall.O_RDONLY)
	if errno != 0 || flags&fuse.FOPEN_KEEP_CACHE != 0 {
		t.Fatalf("first open: flags %x, %v", flags, errno)
	}
	if n := store.total(); n != 0 {
		t.Errorf("lookup+open after a listing cost %d requests, want 0", n)
	}
	res, errno := fh.(*fileHandle).Read(ctx, make([]byte, 10), 0)
	if errno != 0 {
		t.Fatal(errno)
	}
	if b, _ := res.Bytes(nil); string(b) != "data" {
		t.Errorf("read %q", b)
	}
	if store.count("get") != 1 || store.count("head") != 0 {
		t.Errorf("read cost %d GET, %d HEAD; want 1, 0", store.count("get"), store.count("head"))
	}

	if _, flags, _ = file.Open(ctx, syscall.O_RDONLY); flags&fuse.FOPEN_KEEP_CACHE == 0 {
		t.Error("second open of an unchanged object does not keep the page cache")
	}
	store.put("d/f", []byte("changed"))
	clock.advance(DefaultMetadataTTL)
	if _, flags, _ = file.Open(ctx, syscall.O_RDONLY); flags&fuse.FOPEN_KEEP_CACHE != 0 {
		t.Error("open of a changed object keeps the stale page cache")
	}
}
