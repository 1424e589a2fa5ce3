package e2e

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ossmount/ossmount/test/emulator"
	"github.com/ossmount/ossmount/test/mounttest"
)

// TestDotEntriesListed: every directory lists "." and ".." first, as a
// local file system does, under READDIR (ls -f) and READDIRPLUS (ls -la),
// and find walks the tree with them present.
func TestDotEntriesListed(t *testing.T) {
	e := startWithObjects(t, "dots", map[string]string{
		"a.txt":     "a",
		"d/b.txt":   "b",
		"d/e/c.txt": "c",
	})
	mnt, _ := e.mount("dots")

	for dir, want := range map[string]string{".": ". .. a.txt d", "d": ". .. b.txt e", "d/e": ". .. c.txt"} {
		got := strings.Join(strings.Fields(sh(t, mnt, "ls -a1 "+dir)), " ")
		if got != want {
			t.Errorf("ls -a %s = %q, want %q", dir, got, want)
		}
		// -f: the order readdir returns, unsorted; "." and ".." come first.
		raw := strings.Fields(sh(t, mnt, "ls -f1 "+dir))
		if len(raw) < 2 || raw[0] != "." || raw[1] != ".." {
			t.Errorf("ls -f %s = %q, want . and .. first", dir, raw)
		}
		// READDIRPLUS: both shown as directories.
		long := sh(t, mnt, "ls -la "+dir)
		for _, name := range []string{".", ".."} {
			found := false
			for _, line := range strings.Split(long, "\n") {
				f := strings.Fields(line)
				if len(f) > 0 && f[len(f)-1] == name && strings.HasPrefix(line, "d") {
					found = true
				}
			}
			if !found {
				t.Errorf("ls -la %s shows no directory %q:\n%s", dir, name, long)
			}
		}
	}
	got := strings.Fields(sh(t, mnt, "find . | sort"))
	want := []string{".", "./a.txt", "./d", "./d/b.txt", "./d/e", "./d/e/c.txt"}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("find . = %q, want %q", got, want)
	}
	// The inode of "." in a listing is the directory's own.
	if ino := sh(t, mnt, "stat -c %i d"); !strings.Contains(sh(t, mnt, "ls -fai d | head -1"), strings.TrimSpace(ino)+" .") {
		t.Errorf("ls -ai d does not give . the inode %s of d", strings.TrimSpace(ino))
	}
}

// TestSymlinks: OSS symbolic links are symbolic links whose target is the
// relative path inside the mount; dangling links (missing target, target
// outside the mounted prefix, target key that is no path) never resolve,
// not even to a file next to the mountpoint.
func TestSymlinks(t *testing.T) {
	e := startEmulator(t, emulator.Config{})
	const b = "links"
	e.emu.PutObject(b, "m/data/real.txt", []byte("target bytes"))
	e.emu.PutObject(b, "secret.txt", []byte("outside the prefix"))
	e.emu.AddSymlink(b, "m/data/link", "m/data/real.txt")
	e.emu.AddSymlink(b, "m/top", "m/data/real.txt")
	e.emu.AddSymlink(b, "m/data/sub/up", "m/data/real.txt")
	e.emu.AddSymlink(b, "m/dirlink", "m/data/")
	e.emu.AddSymlink(b, "m/data/dangling", "m/data/missing.txt")
	e.emu.AddSymlink(b, "m/data/outside", "secret.txt")
	e.emu.AddSymlink(b, "m/data/tricky", "m/data/../../secret.txt")
	// The reserved name dangling links read through is never shown, even
	// when the bucket has it.
	e.emu.PutObject(b, "m/.ossmount-outside-mount/secret.txt", []byte("WRONG BYTES"))
	mnt, _ := e.mount(b + ":/m/")
	// A link that escaped the mount would find these next to it.
	for _, p := range []string{filepath.Join(filepath.Dir(mnt), "secret.txt"), filepath.Join(mnt, "..", "..", "secret.txt")} {
		if err := os.WriteFile(p, []byte("WRONG BYTES"), 0o644); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { os.Remove(p) })
	}

	// Cold lookups first (no listing yet): HEAD says what each name is.
	for link, want := range map[string]string{"data/link": "real.txt", "data/dangling": "missing.txt"} {
		got, err := os.Readlink(filepath.Join(mnt, link))
		if err != nil || got != want {
			t.Errorf("cold readlink %s = %q, %v; want %q", link, got, err, want)
		}
	}

	for link, want := range map[string]string{
		"data/link": "real.txt", "top": "data/real.txt", "data/sub/up": "../real.txt", "dirlink": "data",
		"data/dangling": "missing.txt",
	} {
		if got := strings.TrimSpace(sh(t, mnt, "readlink "+link)); got != want {
			t.Errorf("readlink %s = %q, want %q", link, got, want)
		}
		if got := strings.TrimSpace(sh(t, mnt, "stat -c %F "+link)); got != "symbolic link" {
			t.Errorf("stat -c %%F %s = %q", link, got)
		}
	}
	for _, link := range []string{"data/link", "top", "data/sub/up"} {
		if got := sh(t, mnt, "cat "+link); got != "target bytes" {
			t.Errorf("cat %s = %q, want the target's bytes", link, got)
		}
	}
	if got := strings.Fields(sh(t, mnt, "ls dirlink/")); strings.Join(got, " ") != "dangling link outside real.txt sub tricky" {
		t.Errorf("ls dirlink/ = %q", got)
	}
	long := sh(t, mnt, "ls -l data")
	if !strings.Contains(long, "link -> real.txt") || !hasLineStarting(long, "l", "link -> real.txt") {
		t.Errorf("ls -l data does not show link as a symbolic link:\n%s", long)
	}

	for _, link := range []string{"data/dangling", "data/outside", "data/tricky"} {
		p := filepath.Join(mnt, link)
		target, err := os.Readlink(p)
		if err != nil {
			t.Errorf("readlink %s: %v", link, err)
			continue
		}
		data, err := os.ReadFile(p)
		if !errors.Is(err, syscall.ENOENT) {
			t.Errorf("%s -> %q: read %q, %v; want ENOENT (a dangling link)", link, target, data, err)
		}
		if fi, err := os.Lstat(p); err != nil || fi.Mode()&os.ModeSymlink == 0 {
			t.Errorf("lstat %s: %v %v, want a symbolic link", link, fi, err)
		}
		if rel := filepath.Join(filepath.Dir(link), target); filepath.IsAbs(target) || rel == ".." || strings.HasPrefix(rel, "../") {
			t.Errorf("%s -> %q climbs out of the mount", link, target)
		}
	}
	if got, _ := os.Readlink(filepath.Join(mnt, "data/outside")); got != "../.ossmount-outside-mount/secret.txt" {
		t.Errorf("readlink data/outside = %q, want ../.ossmount-outside-mount/secret.txt", got)
	}
	if _, err := os.Stat(filepath.Join(mnt, ".ossmount-outside-mount")); !errors.Is(err, syscall.ENOENT) {
		t.Errorf("the reserved name resolves: %v", err)
	}
	if got := sh(t, mnt, "ls -A"); strings.Contains(got, "ossmount-outside-mount") {
		t.Errorf("ls -A shows the reserved name:\n%s", got)
	}
}

func hasLineStarting(text, prefix, contains string) bool {
	for _, line := range strings.Split(text, "\n") {
		if strings.HasPrefix(line, prefix) && strings.Contains(line, contains) {
			return true
		}
	}
	return false
}

// TestDirectoryMtime: a directory shows the newest mtime among the
// entries a listing showed, and the mount time where no listing has shown
// one (only subdirectories, or not listed yet).
func TestDirectoryMtime(t *testing.T) {
	root := t.TempDir()
	old := time.Date(2021, 1, 2, 3, 4, 5, 0, time.UTC)
	newer := time.Date(2022, 3, 4, 5, 6, 7, 0, time.UTC)
	top := time.Date(2020, 6, 7, 8, 9, 10, 0, time.UTC)
	files := map[string]time.Time{"mtimes/d/old.txt": old, "mtimes/d/new.txt": newer, "mtimes/top.txt": top, "mtimes/e/f/x.txt": newer}
	for p, mt := range files {
		full := filepath.Join(root, p)
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(p), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(full, mt, mt); err != nil {
			t.Fatal(err)
		}
	}
	e := startEmulator(t, emulator.Config{})
	if err := e.emu.AddDirectory(root); err != nil {
		t.Fatal(err)
	}
	before := time.Now().Add(-time.Second).Unix()
	mnt, _ := e.mount("mtimes", "--metadata-ttl", "1s")
	after := time.Now().Unix() + 1

	mtime := func(dir string) int64 {
		v, err := strconv.ParseInt(strings.TrimSpace(sh(t, mnt, "stat -c %Y "+dir)), 10, 64)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	if m := mtime("d"); m < before || m > after {
		t.Errorf("d before any listing: mtime %d, want the mount time (%d..%d)", m, before, after)
	}
	sh(t, mnt, "ls . d e >/dev/null")
	// The kernel keeps a directory's attributes for the metadata TTL (1s).
	for dir, want := range map[string]int64{"d": newer.Unix(), ".": top.Unix()} {
		if !mounttest.WaitFor(mounttest.HangGuard, func() bool { return mtime(dir) == want }) {
			t.Errorf("hang guard: %s after ls: mtime %d, want %d (the newest entry's)", dir, mtime(dir), want)
		}
	}
	if m := mtime("e"); m < before || m > after {
		t.Errorf("e (only a subdirectory) after ls: mtime %d, want the mount time (%d..%d)", m, before, after)
	}
}

// TestSymlinksThroughDiskCache: with --cache-dir the disk cache passes
// GetSymlink through, so links stay links and read the target's bytes.
func TestSymlinksThroughDiskCache(t *testing.T) {
	e := startWithObjects(t, "cached", map[string]string{"d/real.txt": "target bytes"})
	e.emu.AddSymlink("cached", "d/link", "d/real.txt")
	mnt, _ := e.mount("cached", "--cache-dir", t.TempDir())
	if got := strings.TrimSpace(sh(t, mnt, "readlink d/link")); got != "real.txt" {
		t.Errorf("readlink d/link = %q, want real.txt", got)
	}
	if got := sh(t, mnt, "cat d/link"); got != "target bytes" {
		t.Errorf("cat d/link = %q", got)
	}
}

// TestSymlinksFromKeyIndex: with --prefetch-metadata, and with a manifest
// from `ossmount snapshot`, links are still links: the index records
// which objects are symbolic links, so a link never reads as a file that
// holds its target's bytes.
func TestSymlinksFromKeyIndex(t *testing.T) {
	e := startEmulator(t, emulator.Config{})
	e.emu.PutObject("indexed", "d/real.txt", []byte("target bytes"))
	e.emu.AddSymlink("indexed", "d/link", "d/real.txt")
	e.emu.AddSymlink("indexed", "d/dangling", "d/missing.txt")
	manifest := filepath.Join(t.TempDir(), "indexed.manifest")
	if _, stderr, err := run(t, e.baseEnv(), "snapshot", "--path-style", "--output", manifest, "indexed"); err != nil {
		t.Fatalf("snapshot: %v\n%s", err, stderr)
	}
	for _, flags := range [][]string{{"--prefetch-metadata"}, {"--manifest", manifest}} {
		mnt, _ := e.mount("indexed", flags...)
		for _, link := range []string{"d/link", "d/dangling"} {
			if got := strings.TrimSpace(sh(t, mnt, "stat -c %F "+link)); got != "symbolic link" {
				t.Errorf("%v: stat -c %%F %s = %q, want symbolic link", flags, link, got)
			}
		}
		if got := strings.TrimSpace(sh(t, mnt, "readlink d/link")); got != "real.txt" {
			t.Errorf("%v: readlink d/link = %q, want real.txt", flags, got)
		}
		if got := sh(t, mnt, "cat d/link"); got != "target bytes" {
			t.Errorf("%v: cat d/link = %q", flags, got)
		}
		if data, err := os.ReadFile(filepath.Join(mnt, "d/dangling")); !errors.Is(err, syscall.ENOENT) {
			t.Errorf("%v: read d/dangling = %q, %v; want ENOENT", flags, data, err)
		}
	}
}
