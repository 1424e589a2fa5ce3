package e2e

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"syscall"
	"testing"
	"time"

	"github.com/ossmount/ossmount/test/emulator"
	"github.com/ossmount/ossmount/test/mounttest"
)

// An object replaced while a handle is open: reads on that handle return
// the old bytes or ESTALE, never bytes of the new version.
func TestReplacedWhileOpenIsStale(t *testing.T) {
	e := startEmulator(t, emulator.Config{})
	const size = 32 << 20
	oldData, newData := bytes.Repeat([]byte{'o'}, size), bytes.Repeat([]byte{'N'}, size)
	e.emu.PutObject("change", "obj.bin", oldData)
	mnt, logFile := e.mount("change", "--metadata-ttl", "1s")
	f, err := os.Open(filepath.Join(mnt, "obj.bin"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	buf := make([]byte, 64<<10)
	if _, err := f.ReadAt(buf, 0); err != nil {
		t.Fatal(err)
	}
	e.emu.PutObject("change", "obj.bin", newData)

	// Random reads far from what was fetched need new GETs, pinned to the old
	// ETag: they must fail with ESTALE, and any byte returned must be old.
	stale := 0
	for _, off := range []int64{20 << 20, 28 << 20, 12 << 20, 31 << 20, 4 << 20} {
		n, err := f.ReadAt(buf, off)
		if i := bytes.IndexByte(buf[:n], 'N'); i >= 0 {
			t.Fatalf("read at %d returned bytes of the new version (at +%d): mixed content", off, i)
		}
		if bytes.Count(buf[:n], []byte{'o'}) != n {
			t.Fatalf("read at %d returned bytes of neither version", off)
		}
		switch {
		case errors.Is(err, syscall.ESTALE):
			stale++
		case err != nil:
			t.Fatalf("read at %d: %v, want old bytes or ESTALE", off, err)
		}
	}
	c := e.emu.Counters()
	t.Logf("%d of 5 reads after the replacement gave ESTALE; %d GETs answered 412", stale, c.ByStatus["GetObject 412"])
	if stale == 0 {
		t.Fatalf("no read noticed the replacement (all served old bytes from a new request?)\nlog tail:\n%s", tail(readFile(t, logFile), 3000))
	}
	// A new open sees the new version (at once: the ESTALE dropped the
	// cached ETag; polled only in case no read of the loop hit OSS).
	if !mounttest.WaitFor(mounttest.HangGuard, func() bool {
		got, err := os.ReadFile(filepath.Join(mnt, "obj.bin"))
		return err == nil && bytes.Equal(got, newData)
	}) {
		t.Fatal("the new version never became readable through a new open")
	}
}

// A deleted object disappears, and a new one appears, once the metadata and
// negative TTLs have passed.
func TestChangesVisibleAfterTTL(t *testing.T) {
	e := startWithObjects(t, "ttl", map[string]string{
		"dir/old.txt":  "old",
		"dir/keep.txt": "keep",
	})
	const ttl = 2 * time.Second
	mnt, _ := e.mount("ttl", "--metadata-ttl", ttl.String(), "--negative-ttl", ttl.String())
	names := func() []string {
		entries, err := os.ReadDir(filepath.Join(mnt, "dir"))
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, de := range entries {
			out = append(out, de.Name())
		}
		return out
	}
	if _, err := os.Stat(filepath.Join(mnt, "dir", "new.txt")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("stat of a missing name: %v", err)
	}
	if got := names(); !slices.Equal(got, []string{"keep.txt", "old.txt"}) {
		t.Fatalf("listing: %v", got)
	}

	e.emu.DeleteObject("ttl", "dir/old.txt")
	e.emu.PutObject("ttl", "dir/new.txt", []byte("new"))
	changed := time.Now()
	cases := []struct {
		what string
		cond func() bool
	}{
		{"deleted object gone from stat", func() bool {
			_, err := os.Stat(filepath.Join(mnt, "dir", "old.txt"))
			return errors.Is(err, os.ErrNotExist)
		}},
		{"new object visible to stat", func() bool {
			got, err := os.ReadFile(filepath.Join(mnt, "dir", "new.txt"))
			return err == nil && string(got) == "new"
		}},
		{"listing updated", func() bool { return slices.Equal(names(), []string{"keep.txt", "new.txt"}) }},
	}
	for _, tc := range cases {
		// Time under test: the change shows once the TTL has passed. The
		// margin (10 s, five TTLs) covers the kernel's own entry timeout
		// and scheduling on a loaded machine; the time observed is logged.
		if !mounttest.WaitFor(ttl+10*time.Second, tc.cond) {
			t.Errorf("%s: not after %v (TTL %v); listing %v", tc.what, time.Since(changed).Round(time.Millisecond), ttl, names())
			continue
		}
		t.Logf("%s after %v (TTL %v)", tc.what, time.Since(changed).Round(time.Millisecond), ttl)
	}
}
