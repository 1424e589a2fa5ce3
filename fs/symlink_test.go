package fs

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"syscall"
	"testing"

	"github.com/hanwen/go-fuse/v2/fuse"

	"github.com/ossmount/ossmount/oss"
)

func TestLinkTarget(t *testing.T) {
	const out = outsideMount + "/"
	tests := []struct {
		name, root, link, target, want string
	}{
		{"sibling", "", "a/link", "a/file", "file"},
		{"at root", "", "link", "file", "file"},
		{"down", "", "link", "a/b/file", "a/b/file"},
		{"up and across", "", "a/b/link", "a/c/file", "../c/file"},
		{"up to root", "", "a/b/link", "file", "../../file"},
		{"under a prefix", "p/q/", "p/q/a/link", "p/q/x/file", "../x/file"},
		{"own directory", "", "a/link", "a", "."},
		{"directory marker", "", "a/link", "b/", "../b"},
		{"mount root", "p/", "p/a/link", "p/", ".."},
		{"outside the prefix", "p/", "p/a/link", "q/file", "../" + out + "q/file"},
		{"prefix of the prefix", "p/", "link", "p", out + "p"},
		{"outside from root", "p/", "p/link", "other", out + "other"},
		{"dot-dot segment", "", "a/link", "a/../etc/passwd", "../" + out + "a/../etc/passwd"},
		{"empty segment", "", "link", "a//b", out + "a//b"},
		{"empty target", "", "link", "", out},
		{"long segment", "", "link", strings.Repeat("x", 256), out + strings.Repeat("x", 256)},
		{"itself", "", "a/link", "a/link", "link"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := linkTarget(tc.root, tc.link, tc.target); got != tc.want {
				t.Errorf("linkTarget(%q, %q, %q) = %q, want %q", tc.root, tc.link, tc.target, got, tc.want)
			}
		})
	}
}

// TestOutsideMountIsNoName: the name a dangling link reads through is
// reserved: never a listed or looked-up name, so such a link never resolves.
func TestOutsideMountIsNoName(t *testing.T) {
	if validName(outsideMount) {
		t.Fatalf("validName(%q) = true: a key could shadow the dangling-link marker", outsideMount)
	}
}

// linkStore is a fakeStore with OSS symbolic links: listings mark them,
// HEAD answers the target's metadata (or 404 SymlinkTargetNotExist), and
// Symlink (GetSymlink) is counted as "symlink".
type linkStore struct {
	*fakeStore
	links map[string]string // link key → target key
}

func (s *linkStore) List(ctx context.Context, in oss.ListInput) (oss.ListPage, error) {
	page, err := s.fakeStore.List(ctx, in)
	for i, o := range page.Objects {
		if _, ok := s.links[o.Key]; ok {
			page.Objects[i].ObjectType = oss.ObjectTypeSymlink
		}
	}
	return page, err
}

func (s *linkStore) Head(ctx context.Context, key string) (oss.ObjectInfo, error) {
	target, ok := s.links[key]
	if !ok {
		return s.fakeStore.Head(ctx, key)
	}
	info, err := s.fakeStore.Head(ctx, target)
	if errors.Is(err, oss.ErrNotFound) {
		return oss.ObjectInfo{}, serviceError("head", key, http.StatusNotFound, "SymlinkTargetNotExist")
	}
	info.ObjectType = oss.ObjectTypeSymlink
	return info, err
}

func (s *linkStore) Symlink(ctx context.Context, key string) (string, error) {
	if err := s.begin("symlink", key); err != nil {
		return "", err
	}
	target, ok := s.links[key]
	if !ok {
		return "", serviceError("symlink", key, http.StatusNotFound, "NoSuchKey")
	}
	return target, nil
}

func newLinkFS(t *testing.T, objects, links map[string]string) (*FS, *linkStore) {
	t.Helper()
	fake := newFakeStore()
	for k, v := range objects {
		fake.put(k, []byte(v))
	}
	for k, v := range links {
		fake.put(k, []byte(v)) // the link object itself, as OSS lists it
	}
	store := &linkStore{fakeStore: fake, links: links}
	clock := newFakeClock()
	f, err := New(Config{Now: clock.Now, Prefix: "m/"}, store)
	if err != nil {
		t.Fatal(err)
	}
	return f, store
}

// TestSymlinkKinds: a listing and a lookup both say a link is a link,
// a dangling link included; Readlink asks GetSymlink once per version.
func TestSymlinkKinds(t *testing.T) {
	f, store := newLinkFS(t, map[string]string{"m/d/real.txt": "bytes", "outside.txt": "x"},
		map[string]string{"m/d/link": "m/d/real.txt", "m/d/dangling": "m/d/gone", "m/d/out": "outside.txt"})
	ctx := context.Background()

	// Cold lookups: HEAD.
	for path, want := range map[string]kind{"m/d/link": kindSymlink, "m/d/dangling": kindSymlink, "m/d/real.txt": kindFile, "m/d/nothing": kindMissing} {
		e, err := f.t.lookup(ctx, path)
		if err != nil || e.kind != want {
			t.Errorf("lookup %s: kind %v, %v; want %v", path, e.kind, err, want)
		}
	}

	// A listing: mode S_IFLNK for the links.
	modes := map[string]uint32{}
	for _, de := range readDir(t, openDir(t, f, "m/d/")) {
		modes[de.Name] = de.Mode
	}
	for name, want := range map[string]uint32{"link": syscall.S_IFLNK, "dangling": syscall.S_IFLNK, "out": syscall.S_IFLNK, "real.txt": syscall.S_IFREG} {
		if modes[name] != want {
			t.Errorf("listed %s: mode %o, want %o", name, modes[name], want)
		}
	}

	for path, want := range map[string]string{"m/d/link": "real.txt", "m/d/dangling": "gone", "m/d/out": "../" + outsideMount + "/outside.txt"} {
		n := &symlinkNode{t: f.t, path: path}
		for range 2 {
			got, errno := n.Readlink(ctx)
			if errno != 0 || string(got) != want {
				t.Errorf("Readlink %s = %q, %v; want %q", path, got, errno, want)
			}
		}
		var out fuse.AttrOut
		if errno := n.Getattr(ctx, nil, &out); errno != 0 || out.Mode != syscall.S_IFLNK|0o777 || out.Size != uint64(len(want)) {
			t.Errorf("Getattr %s: mode %o size %d, %v", path, out.Mode, out.Size, errno)
		}
	}
	if got := store.count("symlink"); got != 3 {
		t.Errorf("GetSymlink requests: %d, want 3 (one per link: the target is kept while the link is unchanged)", got)
	}

	// A name that is no longer a link is ENOENT, not a stale target.
	n := &symlinkNode{t: f.t, path: "m/d/real.txt"}
	if _, errno := n.Readlink(ctx); errno != syscall.ENOENT {
		t.Errorf("Readlink of a file: %v, want ENOENT", errno)
	}
}

// TestSymlinkWithoutSymlinkStore: a Store that cannot read links makes a
// link fail with EIO, never answer a made-up target.
func TestSymlinkWithoutSymlinkStore(t *testing.T) {
	f, _, _ := newTestFS(t, map[string]string{"link": "x"}, Config{})
	f.t.cache.put("link", kindSymlink, objectMeta{ETag: `"e"`}, f.t.cache.begin())
	n := &symlinkNode{t: f.t, path: "link"}
	if _, errno := n.Readlink(context.Background()); errno != syscall.EIO {
		t.Fatalf("Readlink without SymlinkStore: %v, want EIO", errno)
	}
}

// TestDotEntriesFirst: a directory handle lists "." and ".." first, and
// Seekdir to any offset it produced lands on the same entry again.
func TestDotEntriesFirst(t *testing.T) {
	f, _, _ := newTestFS(t, map[string]string{"a": "1", "b": "2", "d/c": "3"}, Config{})
	ctx := context.Background()
	h := openDir(t, f, "")
	var names []string
	var offs []uint64
	for {
		de, errno := h.Readdirent(ctx)
		if errno != 0 {
			t.Fatal(errno)
		}
		if de == nil {
			break
		}
		names, offs = append(names, de.Name), append(offs, de.Off)
	}
	if got := strings.Join(names, " "); got != ". .. a b d" {
		t.Fatalf("entries %q, want \". .. a b d\"", got)
	}
	for i, off := range offs {
		if off != uint64(i+1) {
			t.Fatalf("offsets %v, want 1..%d", offs, len(offs))
		}
	}
	for _, from := range []uint64{0, 1, 2, 3, 4} {
		if errno := h.Seekdir(ctx, from); errno != 0 {
			t.Fatalf("Seekdir(%d): %v", from, errno)
		}
		de, errno := h.Readdirent(ctx)
		if errno != 0 || de == nil || de.Name != names[from] {
			t.Fatalf("after Seekdir(%d): %v %v, want %q", from, de, errno, names[from])
		}
	}
	// "." is this directory, ".." of the root is the root itself.
	h.Seekdir(ctx, 0)
	dot, _ := h.Readdirent(ctx)
	dotdot, _ := h.Readdirent(ctx)
	if dot.Ino != 1 || dotdot.Ino != 1 || dot.Mode != syscall.S_IFDIR {
		t.Fatalf(". %+v .. %+v, want the root's inode 1", dot, dotdot)
	}
}
