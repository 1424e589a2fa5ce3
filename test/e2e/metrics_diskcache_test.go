package e2e

import (
	"bytes"
	"io/fs"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	dto "github.com/prometheus/client_model/go"

	"github.com/ossmount/ossmount/test/emulator"
	"github.com/ossmount/ossmount/test/mounttest"
)

// With --cache-dir, /metrics counts the disk cache as it is: a first read
// misses every block of the file and fetches each byte once, a second
// read (page cache dropped) hits every block and sends no GET, and the
// bytes gauge equals what the block files take on disk. Without
// --cache-dir there is no disk cache series.
func TestMetricsDiskCacheMatchesDisk(t *testing.T) {
	e := startEmulator(t, emulator.Config{})
	const size, blocks = 2<<20 + 5, 9 // eight 256 KiB blocks and one of 5 bytes
	data := make([]byte, size)
	r := rand.New(rand.NewPCG(5, 15))
	for i := range data {
		data[i] = byte(r.Uint32())
	}
	e.emu.PutObject("dcmetrics", "f.bin", data)
	// tmpfs allocates whole 4 KiB pages and nothing else, so the walk
	// below knows exactly what each block file takes.
	dir := filepath.Join(mountTmpfs(t, "64m"), "cache")
	mnt, logFile := e.mount("dcmetrics", "--cache-dir", dir, "--cache-size", "32MiB", "--metrics-addr", "127.0.0.1:0")
	addr, _ := mountStatus(t, e, mnt)["metrics_addr"].(string)
	series := func() map[string]*dto.MetricFamily {
		t.Helper()
		fams, err := scrape(addr)
		if err != nil {
			t.Fatalf("scrape: %v", err)
		}
		return fams
	}
	// The cache keeps 264 4-KiB blocks of --cache-size for its directories
	// and lock file (diskcache dirReserve).
	if limit := value(series(), "ossmount_disk_cache_limit_bytes"); limit != 32<<20-264*4096 {
		t.Errorf("ossmount_disk_cache_limit_bytes = %v, want --cache-size 32 MiB less 264 x 4 KiB", limit)
	}

	// The lookup first: its LIST's body bytes are not data.
	if _, err := os.Stat(filepath.Join(mnt, "f.bin")); err != nil {
		t.Fatal(err)
	}
	before := e.emu.Counters()
	readAndCompare(t, filepath.Join(mnt, "f.bin"), data)
	// The blocks reach the disk after the read: wait until all have.
	var fams map[string]*dto.MetricFamily
	if !mounttest.WaitFor(mounttest.HangGuard, func() bool {
		fams = series()
		return value(fams, "ossmount_disk_cache_blocks") == blocks
	}) {
		t.Fatalf("ossmount_disk_cache_blocks = %v after the first read, want %d\nlog tail: %s",
			value(fams, "ossmount_disk_cache_blocks"), blocks, tail(readFile(t, logFile), 2000))
	}
	first := e.emu.Counters()
	if sent := first.BytesSent - before.BytesSent; sent != size {
		t.Errorf("the emulator sent %d body bytes for a %d-byte file: each byte should be fetched once", sent, size)
	}
	want := map[string]float64{"hits_total": 0, "misses_total": blocks, "shared_total": 0, "evictions_total": 0,
		"dropped_total": 0, "write_errors_total": 0, "damaged_total": 0}
	checkDiskSeries(t, fams, "first read", want)
	files, allocated := blockFiles(t, dir)
	if files != blocks {
		t.Errorf("%d block files on disk, want %d", files, blocks)
	}
	// The cache charges each file its allocation plus 128 bytes for its
	// directory entry (diskcache fileCost).
	if got, disk := value(fams, "ossmount_disk_cache_bytes"), float64(allocated+128*int64(files)); got != disk {
		t.Errorf("ossmount_disk_cache_bytes = %v, the block files take %v (allocated %d + 128 x %d files)", got, disk, allocated, files)
	}

	dropPageCache(t, filepath.Join(mnt, "f.bin"))
	readAndCompare(t, filepath.Join(mnt, "f.bin"), data)
	fams = series()
	if g := e.emu.Counters().Requests["GetObject"] - first.Requests["GetObject"]; g != 0 {
		t.Errorf("the second read sent %d GETs, want 0", g)
	}
	want["hits_total"] = blocks
	checkDiskSeries(t, fams, "second read", want)
	if got := value(fams, "ossmount_disk_cache_blocks"); got != blocks {
		t.Errorf("ossmount_disk_cache_blocks = %v after the second read, want %d", got, blocks)
	}

	plain, _ := e.mount("dcmetrics", "--metrics-addr", "127.0.0.1:0")
	plainAddr, _ := mountStatus(t, e, plain)["metrics_addr"].(string)
	others, err := scrape(plainAddr)
	if err != nil {
		t.Fatalf("scrape: %v", err)
	}
	for name := range others {
		if strings.HasPrefix(name, "ossmount_disk_cache_") {
			t.Errorf("a mount without --cache-dir exports %s", name)
		}
	}
}

// checkDiskSeries compares the ossmount_disk_cache_ series named in want
// (without the prefix) with their expected values.
func checkDiskSeries(t *testing.T, fams map[string]*dto.MetricFamily, when string, want map[string]float64) {
	t.Helper()
	for name, v := range want {
		if got := value(fams, "ossmount_disk_cache_"+name); got != v || math.IsNaN(got) {
			t.Errorf("after the %s, ossmount_disk_cache_%s = %v, want %v", when, name, got, v)
		}
	}
}

// readAndCompare reads path whole and fails unless it holds want.
func readAndCompare(t *testing.T, path string, want []byte) {
	t.Helper()
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("%s: %d bytes differ from the source's %d", path, len(got), len(want))
	}
}

// blockFiles walks a cache directory's blocks (as du does) and returns how
// many block files it holds and the bytes allocated to them.
func blockFiles(t *testing.T, dir string) (files int, allocated int64) {
	t.Helper()
	err := filepath.WalkDir(filepath.Join(dir, "blocks"), func(p string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		files++
		allocated += info.Sys().(*syscall.Stat_t).Blocks * 512
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return files, allocated
}

// dropPageCache makes the kernel forget the cached pages of path, so that
// the next read goes to the mount (a fresh open of an unchanged object
// keeps them: FOPEN_KEEP_CACHE).
func dropPageCache(t *testing.T, path string) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	const fadvDontneed = 4
	if _, _, e := syscall.Syscall6(syscall.SYS_FADVISE64, f.Fd(), 0, 0, fadvDontneed, 0, 0); e != 0 {
		t.Fatalf("fadvise %s: %v", path, e)
	}
}
