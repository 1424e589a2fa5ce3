package e2e

import (
	"bytes"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"testing"

	"github.com/ossmount/ossmount/test/emulator"
	"github.com/ossmount/ossmount/test/mounttest"
)

// The disk cache (issue 13): whatever happens to the cache directory or the
// daemon, a read returns the source's bytes.

// cacheTree puts objects of awkward sizes around the 256 KiB block into
// bucket and returns them by key.
func cacheTree(e *env, bucket string, seed uint64) map[string][]byte {
	sizes := []int{0, 1, 256<<10 - 1, 256 << 10, 256<<10 + 1, 3<<20 + 5, 9 << 20}
	tree := map[string][]byte{}
	r := rand.New(rand.NewPCG(seed, 7))
	for i, size := range sizes {
		data := make([]byte, size)
		for j := range data {
			data[j] = byte(r.Uint32())
		}
		key := fmt.Sprintf("d%d/obj-%d.bin", i%2, i)
		e.emu.PutObject(bucket, key, data)
		tree[key] = data
	}
	return tree
}

// checkTree reads every object of tree through mnt and fails on any
// difference.
func checkTree(t *testing.T, mnt string, tree map[string][]byte) {
	t.Helper()
	for key, want := range tree {
		got, err := os.ReadFile(filepath.Join(mnt, key))
		if err != nil {
			t.Fatalf("reading %s: %v", key, err)
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("%s: %d bytes differ from the source (%d bytes)", key, len(got), len(want))
		}
	}
}

// cacheFiles lists the block files in a cache directory, sorted.
func cacheFiles(t *testing.T, dir string) []string {
	t.Helper()
	var files []string
	err := filepath.WalkDir(filepath.Join(dir, "blocks"), func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			files = append(files, p)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(files)
	return files
}

func gets(e *env) int { return e.emu.Counters().Requests["GetObject"] }

// A remount with the same cache directory reads unchanged objects from
// disk (no GET), and a replaced object's new content, never the cached one.
func TestDiskCacheRemountReusesAndReplacedObjectMisses(t *testing.T) {
	e := startEmulator(t, emulator.Config{})
	tree := cacheTree(e, "dcache", 1)
	dir := filepath.Join(t.TempDir(), "cache")
	mnt, logFile := e.mount("dcache", "--cache-dir", dir, "--cache-size", "64MiB")
	checkTree(t, mnt, tree)
	unmountAndWait(t, mnt, logFile) // Close drains the write queue

	if n := len(cacheFiles(t, dir)); n != 1+1+1+2+13+36 {
		t.Fatalf("%d block files after reading the tree, want 54 (every non-empty block)", n)
	}
	e.emu.ResetCounters()
	mnt, logFile = e.mount("dcache", "--cache-dir", dir, "--cache-size", "64MiB")
	checkTree(t, mnt, tree)
	if g := gets(e); g != 0 {
		t.Fatalf("after a remount, reading cached objects sent %d GETs, want 0", g)
	}
	unmountAndWait(t, mnt, logFile)

	// Replace two objects with new content of the same size; the next mount
	// must show the new bytes although the old version's blocks are cached.
	r := rand.New(rand.NewPCG(99, 1))
	for _, key := range []string{"d1/obj-5.bin", "d0/obj-6.bin"} {
		data := make([]byte, len(tree[key]))
		for j := range data {
			data[j] = byte(r.Uint32())
		}
		e.emu.PutObject("dcache", key, data)
		tree[key] = data
	}
	e.emu.ResetCounters()
	mnt, _ = e.mount("dcache", "--cache-dir", dir, "--cache-size", "64MiB")
	checkTree(t, mnt, tree)
	if g := gets(e); g == 0 {
		t.Fatal("replaced objects were served without a GET: from the old version's blocks")
	}
}

// A second mount on a cache directory in use is refused with a clear error.
func TestDiskCacheDirInUseIsRefused(t *testing.T) {
	e := startWithObjects(t, "dcache", map[string]string{"a": "a"})
	dir := t.TempDir()
	e.mount("dcache", "-o", "cache_dir="+dir+",cache_size=32MiB")
	mnt2 := t.TempDir()
	args := []string{"--path-style", "--cache-dir", dir, "dcache", mnt2}
	_, stderr, err := run(t, e.baseEnv(), args...)
	t.Cleanup(func() { mounttest.Unmount(mnt2, 0) })
	if err == nil || !strings.Contains(stderr, "in use by another ossmount") {
		t.Fatalf("second mount on a cache dir in use: err %v, stderr %q; want a refusal", err, stderr)
	}
	if mounttest.IsMounted(mnt2) {
		t.Fatal("the refused mount is mounted anyway")
	}
	info, err := os.Stat(filepath.Join(dir, "blocks"))
	if err != nil || info.Mode().Perm() != 0o700 {
		t.Fatalf("blocks dir: %v, mode %v; want 0700", err, info.Mode().Perm())
	}
}

// kill -9 in the middle of an epoch, then a remount on the same cache
// directory: every byte equals the source.
func TestDiskCacheKill9MidEpoch(t *testing.T) {
	e := startEmulator(t, emulator.Config{})
	tree := map[string][]byte{}
	r := rand.New(rand.NewPCG(5, 5))
	for i := range 24 {
		data := make([]byte, 2<<20+i*4099)
		for j := range data {
			data[j] = byte(r.Uint32())
		}
		key := fmt.Sprintf("f%02d", i)
		e.emu.PutObject("dcache", key, data)
		tree[key] = data
	}
	// Slow enough that the kill lands while blocks are being fetched and written.
	e.emu.SetFaults(emulator.Faults{BandwidthPerConn: 20_000_000})
	dir := t.TempDir()
	mnt, logFile := e.mount("dcache", "--cache-dir", dir, "--cache-size", "256MiB")
	pid := daemonPID(t, logFile)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for key := range tree {
			os.ReadFile(filepath.Join(mnt, key)) // fails once the daemon dies
		}
	}()
	if !mounttest.WaitFor(mounttest.HangGuard, func() bool { return len(cacheFiles(t, dir)) >= 20 }) {
		t.Fatal("hang guard: no blocks were cached")
	}
	syscall.Kill(pid, syscall.SIGKILL)
	mounttest.WaitFor(mounttest.HangGuard, func() bool { return !mounttest.ProcessAlive(pid) })
	<-done
	cached := len(cacheFiles(t, dir))
	if cached >= 24*9 {
		t.Fatalf("the kill came after the epoch (%d blocks cached)", cached)
	}
	e.emu.SetFaults(emulator.Faults{})

	logFile2 := filepath.Join(t.TempDir(), "remount.log")
	args := []string{"--path-style", "--log-file", logFile2, "--cache-dir", dir, "--cache-size", "256MiB", "dcache", mnt}
	if _, stderr, err := run(t, e.baseEnv(), args...); err != nil {
		t.Fatalf("remount after kill -9: %v\n%s\nlog:\n%s", err, stderr, readFile(t, logFile2))
	}
	t.Cleanup(func() { unmountAndWait(t, mnt, logFile2) })
	e.emu.ResetCounters()
	checkTree(t, mnt, tree)
	t.Logf("%d blocks cached at the kill; the second epoch sent %d GETs", cached, gets(e))
}

// Cache files truncated, flipped, deleted or swapped behind the cache's
// back never yield a wrong byte: they are detected, dropped and fetched
// again.
func TestDiskCacheDamagedFilesNeverServeWrongBytes(t *testing.T) {
	e := startEmulator(t, emulator.Config{})
	tree := cacheTree(e, "dcache", 3)
	dir := t.TempDir()
	mnt, logFile := e.mount("dcache", "--cache-dir", dir)
	checkTree(t, mnt, tree)
	unmountAndWait(t, mnt, logFile)

	files := cacheFiles(t, dir)
	for i, p := range files {
		var err error
		switch i % 5 {
		case 0:
			err = os.Truncate(p, int64(i*37%300))
		case 1:
			err = flipByte(p, int64(64+i*1013))
		case 2:
			err = os.Remove(p)
		case 3:
			if i+1 < len(files) {
				err = copyFile(files[i+1], p) // a valid block of another object or index
			}
		case 4: // left intact
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	e.emu.ResetCounters()
	mnt, logFile = e.mount("dcache", "--cache-dir", dir)
	checkTree(t, mnt, tree)
	if g := gets(e); g == 0 {
		t.Fatal("damaged blocks were not fetched again")
	}
	unmountAndWait(t, mnt, logFile)
	if log := readFile(t, logFile); !strings.Contains(log, "damaged disk cache block dropped") {
		t.Fatalf("no warning about damaged blocks in the log:\n%s", tail(log, 3000))
	}
}

func flipByte(path string, at int64) error {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return err
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return err
	}
	at %= info.Size()
	b := make([]byte, 1)
	if _, err := f.ReadAt(b, at); err != nil {
		return err
	}
	b[0] ^= 0x01
	_, err = f.WriteAt(b, at)
	return err
}

func copyFile(from, to string) error {
	data, err := os.ReadFile(from)
	if err != nil {
		return err
	}
	return os.WriteFile(to, data, 0o600)
}

// Cache flags that cannot work fail the mount with a clear line and no
// mount.
func TestDiskCacheBadFlagsGiveClearErrors(t *testing.T) {
	e := startWithObjects(t, "dcache", map[string]string{"a": "a"})
	notDir := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(notDir, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name    string
		args    []string
		mention string
	}{
		{"size without dir", []string{"--cache-size", "10GiB"}, "--cache-size needs --cache-dir"},
		{"not a size", []string{"--cache-dir", t.TempDir(), "--cache-size", "lots"}, "is not a size"},
		{"too small", []string{"--cache-dir", t.TempDir(), "--cache-size", "1MiB"}, "too small"},
		{"dir is a file", []string{"--cache-dir", notDir}, "cache"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			mnt := t.TempDir()
			args := append([]string{"--path-style"}, tc.args...)
			args = append(args, "dcache", mnt)
			_, stderr, err := run(t, e.baseEnv(), args...)
			t.Cleanup(func() { mounttest.Unmount(mnt, 0) })
			if err == nil || !strings.Contains(stderr, tc.mention) {
				t.Fatalf("ossmount %v: err %v, stderr %q; want a failure mentioning %q", tc.args, err, stderr, tc.mention)
			}
			if mounttest.IsMounted(mnt) {
				t.Fatal("mounted anyway")
			}
			t.Logf("stderr: %s", strings.TrimSpace(stderr))
		})
	}
}
