package fs

import (
	"context"
	"syscall"

	fusefs "github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"
)

// Every operation that would modify the tree answers EROFS. The mount is
// also read-only ("ro"), so the kernel usually answers first; these keep
// the contract when it does not (and when nodes are called directly).

var (
	_ fusefs.NodeCreater       = (*dirNode)(nil)
	_ fusefs.NodeMkdirer       = (*dirNode)(nil)
	_ fusefs.NodeMknoder       = (*dirNode)(nil)
	_ fusefs.NodeUnlinker      = (*dirNode)(nil)
	_ fusefs.NodeRmdirer       = (*dirNode)(nil)
	_ fusefs.NodeRenamer       = (*dirNode)(nil)
	_ fusefs.NodeSymlinker     = (*dirNode)(nil)
	_ fusefs.NodeLinker        = (*dirNode)(nil)
	_ fusefs.NodeTmpfiler      = (*dirNode)(nil)
	_ fusefs.NodeSetattrer     = (*dirNode)(nil)
	_ fusefs.NodeSetxattrer    = (*dirNode)(nil)
	_ fusefs.NodeRemovexattrer = (*dirNode)(nil)

	_ fusefs.NodeSetattrer      = (*fileNode)(nil)
	_ fusefs.NodeSetxattrer     = (*fileNode)(nil)
	_ fusefs.NodeRemovexattrer  = (*fileNode)(nil)
	_ fusefs.NodeWriter         = (*fileNode)(nil)
	_ fusefs.NodeAllocater      = (*fileNode)(nil)
	_ fusefs.NodeCopyFileRanger = (*fileNode)(nil)
)

func (d *dirNode) Create(ctx context.Context, name string, flags, mode uint32, out *fuse.EntryOut) (*fusefs.Inode, fusefs.FileHandle, uint32, syscall.Errno) {
	return nil, nil, 0, syscall.EROFS
}

func (d *dirNode) Mkdir(ctx context.Context, name string, mode uint32, out *fuse.EntryOut) (*fusefs.Inode, syscall.Errno) {
	return nil, syscall.EROFS
}

func (d *dirNode) Mknod(ctx context.Context, name string, mode, dev uint32, out *fuse.EntryOut) (*fusefs.Inode, syscall.Errno) {
	return nil, syscall.EROFS
}

func (d *dirNode) Unlink(ctx context.Context, name string) syscall.Errno { return syscall.EROFS }

func (d *dirNode) Rmdir(ctx context.Context, name string) syscall.Errno { return syscall.EROFS }

func (d *dirNode) Rename(ctx context.Context, name string, newParent fusefs.InodeEmbedder, newName string, flags uint32) syscall.Errno {
	return syscall.EROFS
}

func (d *dirNode) Symlink(ctx context.Context, target, name string, out *fuse.EntryOut) (*fusefs.Inode, syscall.Errno) {
	return nil, syscall.EROFS
}

func (d *dirNode) Link(ctx context.Context, target fusefs.InodeEmbedder, name string, out *fuse.EntryOut) (*fusefs.Inode, syscall.Errno) {
	return nil, syscall.EROFS
}

func (d *dirNode) Tmpfile(ctx context.Context, flags, mode uint32, out *fuse.EntryOut) (*fusefs.Inode, fusefs.FileHandle, uint32, syscall.Errno) {
	return nil, nil, 0, syscall.EROFS
}

func (d *dirNode) Setattr(ctx context.Context, f fusefs.FileHandle, in *fuse.SetAttrIn, out *fuse.AttrOut) syscall.Errno {
	return syscall.EROFS
}

func (d *dirNode) Setxattr(ctx context.Context, attr string, data []byte, flags uint32) syscall.Errno {
	return syscall.EROFS
}

func (d *dirNode) Removexattr(ctx context.Context, attr string) syscall.Errno { return syscall.EROFS }

func (n *fileNode) Setattr(ctx context.Context, f fusefs.FileHandle, in *fuse.SetAttrIn, out *fuse.AttrOut) syscall.Errno {
	return syscall.EROFS
}

func (n *fileNode) Setxattr(ctx context.Context, attr string, data []byte, flags uint32) syscall.Errno {
	return syscall.EROFS
}

func (n *fileNode) Removexattr(ctx context.Context, attr string) syscall.Errno { return syscall.EROFS }

func (n *fileNode) Write(ctx context.Context, f fusefs.FileHandle, data []byte, off int64) (uint32, syscall.Errno) {
	return 0, syscall.EROFS
}

func (n *fileNode) Allocate(ctx context.Context, f fusefs.FileHandle, off, size uint64, mode uint32) syscall.Errno {
	return syscall.EROFS
}

func (n *fileNode) CopyFileRange(ctx context.Context, fhIn fusefs.FileHandle, offIn uint64, out *fusefs.Inode,
	fhOut fusefs.FileHandle, offOut, length uint64, flags uint64) (uint32, syscall.Errno) {
	return 0, syscall.EROFS
}
