package e2e

import (
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/ossmount/ossmount/test/emulator"
)

// openAndStart opens key under mnt and reads its first MiB, so the handle
// is pinned to the version there now and its read-ahead has begun.
func openAndStart(t *testing.T, mnt, key string) *os.File {
	t.Helper()
	f, err := os.Open(filepath.Join(mnt, key))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	if _, err := f.ReadAt(make([]byte, 1<<20), 0); err != nil {
		t.Fatalf("first read of %s: %v", key, err)
	}
	return f
}

// readFar reads one page 60 MiB into f, past the read-ahead of a first
// MiB, so the handle must ask OSS (If-Match on its pinned ETag).
func readFar(f *os.File) error {
	_, err := f.ReadAt(make([]byte, 4096), 60<<20)
	return err
}

// With the default 1-minute --metadata-ttl, an object replaced while open
// fails the open handle with ESTALE, and the next open, at once, reads the
// new version with its new size: the ESTALE dropped what the mount (and
// the kernel) believed about the name.
func TestReplacedObjectReopensAtOnce(t *testing.T) {
	e := startEmulator(t, emulator.Config{})
	e.emu.CreateBucket("repl", false)
	e.emu.AddGenerated("repl", emulator.Generated{Keys: []string{"d/obj.bin"}, Size: 64 << 20, Seed: 1})
	mnt, logFile := e.mount("repl")
	p := filepath.Join(mnt, "d/obj.bin")
	old := openAndStart(t, mnt, "d/obj.bin")

	e.emu.PutObject("repl", "d/obj.bin", []byte("version two"))
	if err := readFar(old); !errors.Is(err, syscall.ESTALE) {
		t.Fatalf("read of the open handle after the replace: %v, want ESTALE", err)
	}
	// Checked before the new open: after it, the kernel knows the new size
	// and holds the new pages for the inode, whichever descriptor reads.
	if _, err := old.ReadAt(make([]byte, 4096), 40<<20); !errors.Is(err, syscall.ESTALE) {
		t.Errorf("the old handle read again: %v, want ESTALE still", err)
	}
	got, err := os.ReadFile(p)
	if err != nil || string(got) != "version two" {
		t.Fatalf("new open after the ESTALE: %d bytes (%q...), %v; want %q at once, not after the metadata TTL\nlog tail:\n%s",
			len(got), got[:min(len(got), 16)], err, "version two", tail(readFile(t, logFile), 2000))
	}
	if st, err := os.Stat(p); err != nil || st.Size() != int64(len("version two")) {
		t.Errorf("stat after the ESTALE: %v, %v; want the new size %d", st, err, len("version two"))
	}
}

// read(2) of an open file whose object was deleted fails with ESTALE (a
// local file system never answers ENOENT to read), fstat of it still
// answers (as for an unlinked open file), and a new open finds no file.
func TestDeletedObjectReadsESTALE(t *testing.T) {
	e := startEmulator(t, emulator.Config{})
	e.emu.CreateBucket("del", false)
	e.emu.PutObject("del", "gone.bin", make([]byte, 64<<20)) // a generated object cannot be deleted
	mnt, _ := e.mount("del")
	f := openAndStart(t, mnt, "gone.bin")

	e.emu.DeleteObject("del", "gone.bin")
	if err := readFar(f); !errors.Is(err, syscall.ESTALE) {
		t.Fatalf("read of an open file whose object was deleted: %v, want ESTALE", err)
	}
	if st, err := f.Stat(); err != nil || st.Size() != 64<<20 {
		t.Errorf("fstat of the open file after the delete: %v, %v; want its pinned size", st, err)
	}
	if err := readFar(f); !errors.Is(err, syscall.ESTALE) {
		t.Errorf("second read: %v, want ESTALE", err)
	}
	if _, err := os.Open(filepath.Join(mnt, "gone.bin")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("new open of the deleted object: %v, want ENOENT", err)
	}
}
