package e2e

import (
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"

	"github.com/ossmount/ossmount/test/emulator"
)

// manyObjects puts n random objects of size bytes into bucket.
func manyObjects(e *env, bucket string, n, size int, seed uint64) map[string][]byte {
	tree := map[string][]byte{}
	r := rand.New(rand.NewPCG(seed, 3))
	for i := range n {
		data := make([]byte, size)
		for j := range data {
			data[j] = byte(r.Uint32())
		}
		key := fmt.Sprintf("part-%03d", i)
		e.emu.PutObject(bucket, key, data)
		tree[key] = data
	}
	return tree
}

// duBytes runs du on dir and returns the bytes it reports.
func duBytes(t *testing.T, dir string) int64 {
	out, err := exec.Command("du", "-s", "--block-size=1", dir).Output()
	if err != nil {
		return 0 // a file vanished under du: sample again
	}
	n, err := strconv.ParseInt(strings.Fields(string(out))[0], 10, 64)
	if err != nil {
		t.Errorf("du output %q: %v", out, err)
	}
	return n
}

// mountTmpfs mounts a tmpfs of size at a new directory, unmounted when the
// test ends (register it before the ossmount mount, so it goes after).
func mountTmpfs(t *testing.T, size string) string {
	t.Helper()
	dir := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size="+size+",mode=0700", "tmpfs", dir).CombinedOutput(); err != nil {
		t.Fatalf("mounting a tmpfs: %v: %s", err, out)
	}
	t.Cleanup(func() {
		if out, err := exec.Command("umount", dir).CombinedOutput(); err != nil {
			t.Errorf("umount tmpfs: %v: %s", err, out)
		}
	})
	return dir
}

// usedBytes is what the file system at dir has allocated: one atomic
// reading, unlike du, whose walk counts a file twice when it is renamed
// or replaced from a directory du has visited into one it has not.
func usedBytes(t *testing.T, dir string) int64 {
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		t.Errorf("statfs %s: %v", dir, err)
	}
	return int64(st.Blocks-st.Bfree) * st.Bsize
}

// The disk space of the cache stays within --cache-size at every moment of
// a read workload five times larger: sampled continuously on a tmpfs that
// holds only the cache (tmpfs directories take no blocks), and checked
// with du once the writes have landed.
func TestDiskCacheSizeLimitHolds(t *testing.T) {
	e := startEmulator(t, emulator.Config{})
	tree := manyObjects(e, "dcache", 20, 2<<20, 11)
	dir := mountTmpfs(t, "64m")
	const limit = 8 << 20
	mnt, logFile := e.mount("dcache", "--cache-dir", dir, "--cache-size", "8MiB")

	var stop atomic.Bool
	var worst, samples atomic.Int64
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for !stop.Load() {
			samples.Add(1)
			if n := usedBytes(t, dir); n > worst.Load() {
				worst.Store(n)
			}
		}
	}()
	for range 2 {
		checkTree(t, mnt, tree)
	}
	unmountAndWait(t, mnt, logFile) // the queued writes land
	stop.Store(true)
	wg.Wait()
	du := duBytes(t, dir)
	t.Logf("allocated peaked at %d bytes over %d samples, du after %d, for --cache-size %d\n%s",
		worst.Load(), samples.Load(), du, limit, grepLines(readFile(t, logFile), "disk cache"))
	if worst.Load() > limit || du > limit {
		t.Fatalf("the cache dir reached %d bytes (du after: %d), over --cache-size %d", worst.Load(), du, limit)
	}
	if worst.Load() < limit/2 {
		t.Fatalf("the cache peaked at %d bytes: it hardly filled, the test proves nothing", worst.Load())
	}

	// On a disk file system, du of the cache dir (directories included)
	// after the same workload.
	disk := t.TempDir()
	mnt, logFile = e.mount("dcache", "--cache-dir", disk, "--cache-size", "8MiB")
	checkTree(t, mnt, tree)
	unmountAndWait(t, mnt, logFile)
	if du := duBytes(t, disk); du > limit || du < limit/2 {
		t.Fatalf("du of a cache dir on disk: %d bytes, want between half and all of --cache-size %d", du, limit)
	}
}

// A cache directory on a tiny tmpfs (smaller than --cache-size) fills up;
// every read still succeeds with the source's bytes, and the log says why
// the cache keeps less.
func TestDiskCacheFullDiskNeverFailsARead(t *testing.T) {
	e := startEmulator(t, emulator.Config{})
	tree := manyObjects(e, "dcache", 16, 3<<20, 12)
	dir := mountTmpfs(t, "8m")
	mnt, logFile := e.mount("dcache", "-o", "cache_dir="+dir+",cache_size=64MiB")
	for range 2 {
		checkTree(t, mnt, tree)
	}
	unmountAndWait(t, mnt, logFile)
	log := readFile(t, logFile)
	if !strings.Contains(log, "the file system is full") {
		t.Fatalf("no warning about the full disk:\n%s", tail(log, 3000))
	}
	if n := strings.Count(log, "the file system is full"); n != 1 {
		t.Fatalf("the full-disk warning was logged %d times, want once", n)
	}
	if _, err := os.Stat(filepath.Join(dir, "blocks")); err != nil {
		t.Fatal(err)
	}
}

func grepLines(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
