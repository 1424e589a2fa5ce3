package fs

import (
	"context"
	"net/http"
	"syscall"
	"testing"

	fusefs "github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"
)

// openForTest looks "f" up in a tree over objects and opens it.
func openForTest(t *testing.T, objects map[string]string) (*FS, *fakeStore, *fileNode, *fileHandle) {
	t.Helper()
	f, store, _ := newTestFS(t, objects, Config{})
	fusefs.NewNodeFS(f.Root(), &fusefs.Options{}) // a bridge without a mount: notifications answer ENOSYS
	var out fuse.EntryOut
	child, errno := f.root.Lookup(context.Background(), "f", &out)
	if errno != 0 {
		t.Fatalf("lookup: %v", errno)
	}
	node := child.Operations().(*fileNode)
	fh, _, errno := node.Open(context.Background(), syscall.O_RDONLY)
	if errno != 0 {
		t.Fatalf("open: %v", errno)
	}
	t.Cleanup(func() { fh.(*fileHandle).Release(context.Background()) })
	return f, store, node, fh.(*fileHandle)
}

// A read answers only errnos read(2) gives on a local file: an object
// replaced (412) or deleted (404) is ESTALE, access refused by OSS is EIO.
func TestHandleReadErrnos(t *testing.T) {
	for _, tc := range []struct {
		name   string
		change func(store *fakeStore)
		want   syscall.Errno
	}{
		{"replaced", func(s *fakeStore) { s.put("f", []byte("new")) }, syscall.ESTALE},
		{"deleted", func(s *fakeStore) { s.del("f") }, syscall.ESTALE},
		{"access denied", func(s *fakeStore) {
			s.setInject(func(op, key string) error { return serviceError(op, key, http.StatusForbidden, "AccessDenied") })
		}, syscall.EIO},
		{"token rejected", func(s *fakeStore) {
			s.setInject(func(op, key string) error { return serviceError(op, key, http.StatusForbidden, "InvalidAccessKeyId") })
		}, syscall.EIO},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, store, _, h := openForTest(t, map[string]string{"f": "old data"})
			tc.change(store)
			if _, errno := h.Read(context.Background(), make([]byte, 8), 0); errno != tc.want {
				t.Fatalf("read: %v, want %v", errno, tc.want)
			}
		})
	}
}

// An ESTALE drops the name's cache entry, so the next open resolves the
// new version at once; the stale handle keeps failing, and fstat through
// it still answers its pinned version (never ENOENT).
func TestHandleStaleDropsCacheEntry(t *testing.T) {
	f, store, node, h := openForTest(t, map[string]string{"f": "old data"})
	store.del("f")
	store.put("f", []byte("brand new content"))
	if _, errno := h.Read(context.Background(), make([]byte, 8), 0); errno != syscall.ESTALE {
		t.Fatalf("read of the replaced object: %v, want ESTALE", errno)
	}
	if _, ok := f.t.cache.get("f"); ok {
		t.Fatal("the cache still holds the replaced version after the ESTALE")
	}
	fh, _, errno := node.Open(context.Background(), syscall.O_RDONLY)
	if errno != 0 {
		t.Fatalf("reopen: %v", errno)
	}
	defer fh.(*fileHandle).Release(context.Background())
	res, errno := fh.(*fileHandle).Read(context.Background(), make([]byte, 64), 0)
	if b, _ := res.Bytes(nil); errno != 0 || string(b) != "brand new content" {
		t.Fatalf("read after reopen: %q, %v", b, errno)
	}
	if _, errno := h.Read(context.Background(), make([]byte, 8), 0); errno != syscall.ESTALE {
		t.Errorf("second read of the stale handle: %v, want ESTALE", errno)
	}
	store.del("f")
	var out fuse.AttrOut
	if errno := node.Getattr(context.Background(), h, &out); errno != 0 || out.Size != uint64(len("old data")) {
		t.Errorf("fstat of the stale handle after the delete: size %d, %v; want its pinned size %d", out.Size, errno, len("old data"))
	}
}
