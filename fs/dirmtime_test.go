package fs

import (
	"context"
	"testing"

	"github.com/hanwen/go-fuse/v2/fuse"
)

// TestDirectoryMtime: a directory shows the mount time until a listing
// shows entries, then the newest entry's mtime, and never goes back.
func TestDirectoryMtime(t *testing.T) {
	f, store, clock := newTestFS(t, map[string]string{"d/sub/x": "1"}, Config{})
	store.put("a", []byte("1"))
	store.put("b", []byte("2")) // the newest: the fake store's mtimes grow
	newest := func() int64 { o, _ := store.object("b"); return o.mtime.Unix() }()
	ctx := context.Background()
	getattr := func() uint64 {
		var out fuse.AttrOut
		if errno := f.root.Getattr(ctx, nil, &out); errno != 0 {
			t.Fatal(errno)
		}
		return out.Mtime
	}
	if got := getattr(); got != uint64(clock.Now().Unix()) {
		t.Fatalf("before a listing: mtime %d, want the mount time %d", got, clock.Now().Unix())
	}
	h, _, _ := f.root.OpendirHandle(ctx, 0)
	for {
		de, errno := h.(*dirHandle).Readdirent(ctx)
		if errno != 0 {
			t.Fatal(errno)
		}
		if de == nil {
			break
		}
	}
	h.(*dirHandle).Releasedir(ctx, 0)
	if got := getattr(); got != uint64(newest) {
		t.Fatalf("after a listing: mtime %d, want the newest entry's %d", got, newest)
	}
	f.root.saw(clock.Now().AddDate(-10, 0, 0))
	if got := getattr(); got != uint64(newest) {
		t.Fatalf("an older page moved mtime back to %d", got)
	}
}
