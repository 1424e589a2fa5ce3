package fs

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/ossmount/ossmount/test/mounttest"
)

// mountForTest mounts f at a new temporary directory and unmounts it when
// the test ends, also when it fails. Missing FUSE fails, never skips.
func mountForTest(t testing.TB, f *FS) string {
	t.Helper()
	if err := mounttest.CheckFUSE(); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	srv, err := Mount(dir, f, f.MountOptions("ossmount-test", false, false))
	if err != nil {
		t.Fatalf("mount: %v", err)
	}
	t.Cleanup(func() {
		// Retried while busy: a test's file may still be closing.
		var err error
		if !mounttest.WaitFor(mounttest.HangGuard, func() bool { err = srv.Unmount(); return err == nil }) {
			t.Errorf("hang guard: unmount %s still failing after %v: %v", dir, mounttest.HangGuard, err)
		}
	})
	return dir
}

// variedObjects is a bucket with markers, shadowing, invalid keys, empty
// and binary files, unicode and deep paths.
func variedObjects() map[string]string {
	objs := map[string]string{
		"top.txt":                         "top level",
		"empty":                           "",
		"docs/":                           "",
		"docs/readme.md":                  "# readme\n",
		"docs/name":                       "hidden: docs/name/ exists",
		"docs/name.txt":                   "sorts between name and name/",
		"docs/name-1":                     "also between",
		"docs/name/inner":                 "inner",
		"markers/only/":                   "",
		"markers/with/":                   "",
		"markers/with/child":              "child",
		"deep/a/b/c/d/e/f.bin":            "\x00\x01\x02binary\xff",
		"unicode/文件.txt":                  "中文",
		"unicode/space name":              "spaces",
		"bad//empty-segment":              "skipped",
		"bad/./dot":                       "skipped",
		"bad/../dotdot":                   "skipped",
		"bad/nul\x00byte":                 "skipped",
		"bad/" + strings.Repeat("x", 256): "skipped",
		"bad/fine":                        "fine",
	}
	var big strings.Builder
	for i := range 300_000 {
		fmt.Fprintf(&big, "line %d\n", i)
	}
	objs["big/file"] = big.String()
	return objs
}

type nodeInfo struct {
	dir   bool
	size  int64
	mtime time.Time
}

// expectedTree computes what a mount must show for objects: an independent
// model of the rules in DESIGN.md "Names and keys".
func expectedTree(store *fakeStore, objects map[string]string) map[string]nodeInfo {
	want := map[string]nodeInfo{}
	for key := range objects {
		segs := strings.Split(key, "/")
		isMarker := strings.HasSuffix(key, "/")
		if isMarker {
			segs = segs[:len(segs)-1]
		}
		if slices.ContainsFunc(segs, func(s string) bool { return !validName(s) }) {
			continue
		}
		for i := 1; i < len(segs); i++ {
			want[strings.Join(segs[:i], "/")] = nodeInfo{dir: true}
		}
		if isMarker {
			want[strings.Join(segs, "/")] = nodeInfo{dir: true}
		}
	}
	for key := range objects {
		if strings.HasSuffix(key, "/") {
			continue
		}
		if _, ok := want[key]; ok {
			continue // a directory wins
		}
		if slices.ContainsFunc(strings.Split(key, "/"), func(s string) bool { return !validName(s) }) {
			continue
		}
		o, _ := store.object(key)
		want[key] = nodeInfo{size: int64(len(o.data)), mtime: o.mtime}
	}
	return want
}

func walkMount(t *testing.T, root string) map[string]nodeInfo {
	t.Helper()
	got := map[string]nodeInfo{}
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if p == root {
			return nil
		}
		fi, err := os.Lstat(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		got[rel] = nodeInfo{dir: fi.IsDir(), size: sizeIfFile(fi), mtime: mtimeIfFile(fi)}
		return nil
	})
	if err != nil {
		t.Fatalf("walk: %v", err)
	}
	return got
}

func sizeIfFile(fi os.FileInfo) int64 {
	if fi.IsDir() {
		return 0
	}
	return fi.Size()
}

func mtimeIfFile(fi os.FileInfo) time.Time {
	if fi.IsDir() {
		return time.Time{}
	}
	return fi.ModTime().UTC()
}

func TestMountTreeAndContents(t *testing.T) {
	objects := variedObjects()
	f, store, _ := newTestFS(t, objects, Config{UID: 1234, GID: 5678})
	mnt := mountForTest(t, f)

	want := expectedTree(store, objects)
	got := walkMount(t, mnt)
	for p, w := range want {
		g, ok := got[p]
		if !ok {
			t.Errorf("missing %q", p)
			continue
		}
		if g.dir != w.dir || g.size != w.size || !g.mtime.Equal(w.mtime) {
			t.Errorf("%q: got %+v, want %+v", p, g, w)
		}
	}
	for p := range got {
		if _, ok := want[p]; !ok {
			t.Errorf("unexpected %q", p)
		}
	}
	for p, w := range want {
		if w.dir {
			continue
		}
		b, err := os.ReadFile(filepath.Join(mnt, p))
		if err != nil {
			t.Errorf("read %q: %v", p, err)
			continue
		}
		if string(b) != objects[p] {
			t.Errorf("%q: content differs (%d bytes, want %d)", p, len(b), len(objects[p]))
		}
	}

	t.Run("attributes", func(t *testing.T) {
		var st syscall.Stat_t
		if err := syscall.Lstat(filepath.Join(mnt, "big/file"), &st); err != nil {
			t.Fatal(err)
		}
		size := int64(len(objects["big/file"]))
		if st.Mode != syscall.S_IFREG|0o444 || st.Uid != 1234 || st.Gid != 5678 || st.Nlink != 1 ||
			st.Blocks != (size+511)/512 || st.Blksize != blockSize {
			t.Errorf("file stat %+v", st)
		}
		var st2 syscall.Stat_t
		if err := syscall.Lstat(filepath.Join(mnt, "big/file"), &st2); err != nil || st2.Ino != st.Ino {
			t.Errorf("inode not stable: %d then %d (%v)", st.Ino, st2.Ino, err)
		}
		if err := syscall.Lstat(filepath.Join(mnt, "docs"), &st); err != nil {
			t.Fatal(err)
		}
		if st.Mode != syscall.S_IFDIR|0o555 || st.Nlink != 2 {
			t.Errorf("dir stat %+v", st)
		}
	})
	t.Run("statfs", func(t *testing.T) {
		var sfs syscall.Statfs_t
		if err := syscall.Statfs(mnt, &sfs); err != nil {
			t.Fatal(err)
		}
		if sfs.Blocks == 0 || sfs.Bsize == 0 || sfs.Namelen != maxNameLen {
			t.Errorf("statfs %+v", sfs)
		}
	})
	t.Run("random reads", func(t *testing.T) {
		fh, err := os.Open(filepath.Join(mnt, "big/file"))
		if err != nil {
			t.Fatal(err)
		}
		defer fh.Close()
		src := objects["big/file"]
		for _, off := range []int64{1 << 20, 17, int64(len(src)) - 10, 3 << 19} {
			buf := make([]byte, 100)
			n, err := fh.ReadAt(buf, off)
			if err != nil && n != min(100, len(src)-int(off)) {
				t.Fatalf("ReadAt %d: %d, %v", off, n, err)
			}
			if string(buf[:n]) != src[off:off+int64(n)] {
				t.Errorf("ReadAt %d: wrong bytes", off)
			}
		}
	})
	if st := f.Stats(); st.SkippedKeys == 0 {
		t.Errorf("stats %+v: want skipped keys counted", st)
	}
}

func TestMountReadOnly(t *testing.T) {
	f, _, _ := newTestFS(t, map[string]string{"f": "data", "d/x": "x"}, Config{})
	mnt := mountForTest(t, f)
	p := func(s string) string { return filepath.Join(mnt, s) }
	ops := []struct {
		name string
		op   func() error
	}{
		{"write file", func() error { return os.WriteFile(p("f"), []byte("x"), 0o644) }},
		{"create file", func() error { return os.WriteFile(p("new"), []byte("x"), 0o644) }},
		{"open for append", func() error {
			fh, err := os.OpenFile(p("f"), os.O_WRONLY|os.O_APPEND, 0)
			if err == nil {
				fh.Close()
			}
			return err
		}},
		{"mkdir", func() error { return os.Mkdir(p("nd"), 0o755) }},
		{"remove file", func() error { return os.Remove(p("f")) }},
		{"remove dir", func() error { return syscall.Rmdir(p("d")) }},
		{"rename", func() error { return os.Rename(p("f"), p("g")) }},
		{"chmod", func() error { return os.Chmod(p("f"), 0o600) }},
		{"chown", func() error { return os.Chown(p("f"), 1, 1) }},
		{"utimes", func() error { return os.Chtimes(p("f"), time.Now(), time.Now()) }},
		{"symlink", func() error { return os.Symlink("f", p("l")) }},
		{"link", func() error { return os.Link(p("f"), p("h")) }},
		{"truncate", func() error { return os.Truncate(p("f"), 0) }},
		{"mknod", func() error { return syscall.Mknod(p("fifo"), syscall.S_IFIFO|0o644, 0) }},
		{"setxattr", func() error { return syscall.Setxattr(p("f"), "user.x", []byte("v"), 0) }},
		{"removexattr", func() error { return syscall.Removexattr(p("f"), "user.x") }},
	}
	for _, c := range ops {
		t.Run(c.name, func(t *testing.T) {
			if err := c.op(); !errors.Is(err, syscall.EROFS) {
				t.Errorf("got %v, want EROFS", err)
			}
		})
	}
	if b, err := os.ReadFile(p("f")); err != nil || string(b) != "data" {
		t.Errorf("file changed: %q %v", b, err)
	}
}

func TestMountListingCosts(t *testing.T) {
	objects := map[string]string{}
	for i := range 10_000 {
		objects[fmt.Sprintf("big/obj-%05d", i)] = "x"
	}
	f, store, _ := newTestFS(t, objects, Config{})
	mnt := mountForTest(t, f)
	dir := filepath.Join(mnt, "big")
	if _, err := os.Stat(dir); err != nil {
		t.Fatal(err)
	}
	lsl := func() int {
		t.Helper()
		entries, err := os.ReadDir(dir)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range entries {
			if _, err := os.Lstat(filepath.Join(dir, e.Name())); err != nil {
				t.Fatal(err)
			}
		}
		return len(entries)
	}

	store.resetCounts()
	if n := lsl(); n != 10_000 {
		t.Fatalf("listed %d entries, want 10000", n)
	}
	if l, h, total := store.count("list"), store.count("head"), store.total(); l != 10 || h != 0 || total != 10 {
		t.Errorf("ls -l of 10,000 objects: %d LIST, %d HEAD, %d requests; want 10, 0, 10", l, h, total)
	}
	store.resetCounts()
	if n := lsl(); n != 10_000 {
		t.Fatalf("second listing: %d entries", n)
	}
	if n := store.total(); n != 0 {
		t.Errorf("repeating ls -l within the TTL cost %d requests, want 0", n)
	}

	t.Run("negative lookup in a listed directory", func(t *testing.T) {
		// The complete listing, younger than NegativeTTL, says it is absent.
		store.resetCounts()
		if _, err := os.Stat(filepath.Join(dir, "missing")); !errors.Is(err, fs.ErrNotExist) {
			t.Fatalf("got %v, want ENOENT", err)
		}
		if n := store.total(); n != 0 {
			t.Errorf("a name a complete listing lacks cost %d requests, want 0", n)
		}
	})
	t.Run("negative lookup", func(t *testing.T) {
		store.resetCounts()
		for range 2 {
			if _, err := os.Stat(filepath.Join(mnt, "missing")); !errors.Is(err, fs.ErrNotExist) {
				t.Fatalf("got %v, want ENOENT", err)
			}
		}
		if l, h := store.count("list"), store.count("head"); l != 1 || h != 1 {
			t.Errorf("two lookups of a missing name: %d LIST + %d HEAD, want one round (1 + 1)", l, h)
		}
	})
}

func TestMountParallelWalkAndRead(t *testing.T) {
	objects := map[string]string{}
	for d := range 8 {
		for i := range 40 {
			objects[fmt.Sprintf("d%d/sub%d/f%03d", d, i%3, i)] = strings.Repeat(fmt.Sprintf("%d-%d;", d, i), 50*i+1)
		}
	}
	f, store, _ := newTestFS(t, objects, Config{})
	mnt := mountForTest(t, f)
	want := expectedTree(store, objects)

	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for w := range 16 {
		wg.Go(func() {
			err := filepath.WalkDir(mnt, func(p string, d fs.DirEntry, err error) error {
				if err != nil || d.IsDir() {
					return err
				}
				rel, _ := filepath.Rel(mnt, p)
				b, err := os.ReadFile(p)
				if err != nil {
					return err
				}
				if string(b) != objects[rel] {
					return fmt.Errorf("worker %d: %s: wrong content", w, rel)
				}
				return nil
			})
			if err != nil {
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if got := walkMount(t, mnt); len(got) != len(want) {
		t.Errorf("walk found %d nodes, want %d", len(got), len(want))
	}
}

func TestMountReplacedWhileOpen(t *testing.T) {
	oldData := bytes.Repeat([]byte("old-"), 2<<20) // 8 MiB
	newData := bytes.Repeat([]byte("NEW!"), 2<<20)
	f, store, _ := newTestFS(t, map[string]string{"d/obj": string(oldData)},
		Config{MetadataTTL: 300 * time.Millisecond, NegativeTTL: 100 * time.Millisecond, Now: time.Now})
	mnt := mountForTest(t, f)
	p := filepath.Join(mnt, "d/obj")

	fh, err := os.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	buf := make([]byte, 4096)
	if _, err := fh.ReadAt(buf, 0); err != nil || !bytes.Equal(buf, oldData[:4096]) {
		t.Fatalf("first read: %v", err)
	}

	store.put("d/obj", newData)
	_, err = fh.ReadAt(buf, 6<<20)
	if !errors.Is(err, syscall.ESTALE) {
		t.Fatalf("read after replace: got %v, want ESTALE", err)
	}
	if f.Stats().StaleReads != 1 {
		t.Errorf("stale reads %d, want 1", f.Stats().StaleReads)
	}

	// After the TTL a new open reads the new content.
	mounttest.Await(t, "the new content", func() bool {
		b, err := os.ReadFile(p)
		return err == nil && bytes.Equal(b, newData)
	})

	// And a listing after the TTL shows a new object.
	if _, err := os.ReadDir(filepath.Join(mnt, "d")); err != nil {
		t.Fatal(err)
	}
	store.put("d/added", []byte("a"))
	mounttest.Await(t, "the new entry in readdir", func() bool {
		entries, err := os.ReadDir(filepath.Join(mnt, "d"))
		return err == nil && len(entries) == 2
	})
}
