package bench

import (
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ossmount/ossmount/diskcache"
	"github.com/ossmount/ossmount/oss"
	"github.com/ossmount/ossmount/test/emulator"
)

// BenchmarkDiskCache: 2 GiB in 2,000 files read by 8 workers over the
// shaped network, with and without --cache-dir; then, after dropping the
// page cache, the second epoch from the disk cache versus the same bytes
// read from plain files on the cache dir's file system; and a 1 GiB file
// read again after dropping the page cache versus a plain local file.
// The second epoch runs on a remount: unmounting is how the bench knows
// every queued block has reached the disk (and shows that a remount
// reuses the cache).
func BenchmarkDiskCache(b *testing.B) {
	emu := startEmulator(b)
	const (
		files     = 2000
		fileSize  = 2 * GiB / files
		workers   = 8
		largeSize = GiB
		largeKey  = "dcl/large"
	)
	emu.AddGenerated(bucket, emulator.Generated{Count: files, KeyFormat: "dc/f%04d", Size: fileSize, Seed: 13})
	emu.AddGenerated(bucket, emulator.Generated{Keys: []string{largeKey}, Size: largeSize, Seed: 14})
	keys := make([]string, files)
	for i := range keys {
		keys[i] = fmt.Sprintf("dc/f%04d", i)
	}
	emu.SetFaults(shaped)
	d := newDirect(emu)
	defer d.close()

	// The local-disk limit: the same bytes as plain files next to the cache.
	local := b.TempDir()
	for _, k := range append([]string{largeKey}, keys...) {
		size, seed := int64(fileSize), int64(13)
		if k == largeKey {
			size, seed = largeSize, 14
		}
		writeLocal(b, filepath.Join(local, k), emulator.GeneratedContent(seed, k, size))
	}
	readEpoch := func(root string) time.Duration {
		b.Helper()
		// A training job lists its dataset; the listing also fills the
		// mount's metadata cache, so that opening a file costs no LIST or
		// HEAD and the epoch measures data, as on local disk.
		if _, err := os.ReadDir(filepath.Join(root, "dc")); err != nil {
			b.Fatal(err)
		}
		dropPageCache(b)
		t, err := timeIt(func() error {
			return forEach(keys, workers, func(k string) error {
				_, err := readSequential(filepath.Join(root, k), fileSize, time.Now().Add(time.Hour))
				return err
			})
		})
		if err != nil {
			b.Fatalf("reading %s: %v", root, err)
		}
		return t
	}
	readLarge := func(root string) time.Duration {
		b.Helper()
		dropPageCache(b)
		t, err := timeIt(func() error {
			_, err := readSequential(filepath.Join(root, largeKey), largeSize, time.Now().Add(time.Hour))
			return err
		})
		if err != nil {
			b.Fatalf("reading the large file under %s: %v", root, err)
		}
		return t
	}
	localEpoch, localLarge := readEpoch(local), readLarge(local)

	m := mountOSS(b, emu, "--metadata-ttl", "10m")
	emu.ResetCounters()
	cpu0 := m.cpu()
	plain := readEpoch(m.dir)
	plainCPU := m.cpu() - cpu0
	m.unmount(b)

	cacheDir := filepath.Join(b.TempDir(), "cache")
	cacheFlags := []string{"--cache-dir", cacheDir, "--cache-size", "4GiB", "--metadata-ttl", "10m"}
	m = mountOSS(b, emu, cacheFlags...)
	emu.ResetCounters()
	cpu0 = m.cpu()
	epoch1 := readEpoch(m.dir)
	epoch1CPU := m.cpu() - cpu0
	epoch1Requests := requests(emu)
	readLarge(m.dir)
	m.unmount(b)
	logCache(b, m.log)

	// Plain epoch 1 again: the machine is shared, so the ratio uses the
	// mean of two runs around the cached one.
	m = mountOSS(b, emu, "--metadata-ttl", "10m")
	cpu0 = m.cpu()
	plain2 := readEpoch(m.dir)
	plainCPU = (plainCPU + m.cpu() - cpu0) / 2
	m.unmount(b)

	m = mountOSS(b, emu, cacheFlags...)
	emu.ResetCounters()
	m.resetPeak()
	cpu0 = m.cpu()
	epoch2 := readEpoch(m.dir)
	epoch2CPU := m.cpu() - cpu0
	epoch2Requests := requests(emu)
	gets := emu.Counters().Requests["GetObject"]
	rss := m.peakRSS()
	emu.ResetCounters()
	large2 := readLarge(m.dir)
	largeRequests := requests(emu)
	m.unmount(b)
	logCache(b, m.log)

	// The cache layer alone, without FUSE: GetRange of every file through
	// diskcache over a store that fails every request.
	etags := listETags(b, d, "dc/")
	layer := readThroughCache(b, cacheDir, keys, etags, fileSize, workers)

	// What FUSE alone costs this machine: the same epoch through a mount
	// without the cache, from an unshaped emulator serving memory.
	emu.SetFaults(emulator.Faults{})
	m = mountOSS(b, emu, "--metadata-ttl", "10m")
	fuseLimit := readEpoch(m.dir)
	m.unmount(b)

	note := fmt.Sprintf("%d GETs", gets)
	r := epoch2.Seconds() / localEpoch.Seconds()
	target, v := atMost(r, 1.25)
	if gets != 0 {
		v = "MISS"
	}
	addRow(row{Scenario: "disk cache: epoch 2, 2 GiB in 2,000 files, 8 workers, after drop_caches", Mount: secs(epoch2),
		Baseline: secs(localEpoch) + " plain local files", Ratio: r, Target: target, Verdict: v,
		Requests: epoch2Requests, RSS: rss, Note: note + fmt.Sprintf(" (must be 0); daemon CPU %.1f s", epoch2CPU)})
	r = layer.Seconds() / localEpoch.Seconds()
	target, v = atMost(r, 1.25)
	addRow(row{Scenario: "disk cache: epoch 2 through the cache layer alone (no FUSE), after drop_caches", Mount: secs(layer),
		Baseline: secs(localEpoch) + " plain local files", Ratio: r, Target: target, Verdict: v, Note: "what the cache costs, FUSE aside"})
	addRow(row{Scenario: "disk cache: epoch 2 vs the FUSE limit (same epoch, no cache, unshaped emulator)", Mount: secs(epoch2),
		Baseline: secs(fuseLimit) + " from emulator memory", Ratio: epoch2.Seconds() / fuseLimit.Seconds(),
		Note: "what a FUSE mount costs here, disk aside"})
	r = epoch1.Seconds() / epoch2.Seconds()
	target, v = atLeast(r, 10)
	addRow(row{Scenario: "disk cache: epoch 1 ÷ epoch 2 (shaped 20 ms, 50 MB/s)", Mount: secs(epoch2) + " epoch 2",
		Baseline: secs(epoch1) + " epoch 1", Ratio: r, Target: target, Verdict: v, Requests: epoch1Requests, Note: "ratio is speed-up"})
	plainMean := (plain + plain2) / 2
	r = epoch1.Seconds() / plainMean.Seconds()
	target, v = atMost(r, 1.1)
	addRow(row{Scenario: "disk cache: epoch 1 with the cache vs without (shaped)", Mount: secs(epoch1),
		Baseline: secs(plainMean) + " no --cache-dir", Ratio: r, Target: target, Verdict: v, Requests: epoch1Requests,
		Note: fmt.Sprintf("baseline: mean of %s and %s; daemon CPU %.1f s with, %.1f s without (mean)", secs(plain), secs(plain2), epoch1CPU, plainCPU)})
	r = localLarge.Seconds() / large2.Seconds()
	target, v = atLeast(r, 0.8)
	addRow(row{Scenario: "disk cache: 1 GiB file again after drop_caches", Mount: rate(mibps(largeSize, large2)),
		Baseline: rate(mibps(largeSize, localLarge)) + " plain local file", Ratio: r, Target: target, Verdict: v, Requests: largeRequests})
}

// writeLocal copies r into a new file at path.
func writeLocal(b *testing.B, path string, r io.Reader) {
	b.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		b.Fatal(err)
	}
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := io.Copy(f, r); err != nil {
		b.Fatal(err)
	}
	if err := f.Close(); err != nil {
		b.Fatal(err)
	}
}

// dropPageCache writes dirty pages out and empties the page cache, so the
// next read comes from the disk (root only).
func dropPageCache(b *testing.B) {
	b.Helper()
	if out, err := exec.Command("sync").CombinedOutput(); err != nil {
		b.Fatalf("sync: %v: %s", err, out)
	}
	if err := os.WriteFile("/proc/sys/vm/drop_caches", []byte("3"), 0); err != nil {
		b.Fatalf("dropping the page cache (needs root): %v", err)
	}
}

// logCache logs the disk cache's lines of a mount's log.
func logCache(b *testing.B, logFile string) {
	text, _ := os.ReadFile(logFile)
	for _, line := range strings.Split(string(text), "\n") {
		if strings.Contains(line, "disk cache") {
			b.Log(line)
		}
	}
}

// listETags lists prefix (one page of up to 1000 keys per request) and
// returns each key's ETag.
func listETags(b *testing.B, d *direct, prefix string) map[string]string {
	b.Helper()
	etags := map[string]string{}
	token := ""
	for {
		q := url.Values{"list-type": {"2"}, "max-keys": {"1000"}, "prefix": {prefix}}
		if token != "" {
			q.Set("continuation-token", token)
		}
		resp, err := d.client.Get(d.base + "?" + q.Encode())
		if err != nil {
			b.Fatal(err)
		}
		var page struct {
			Contents []struct {
				Key  string `xml:"Key"`
				ETag string `xml:"ETag"`
			} `xml:"Contents"`
			IsTruncated           bool   `xml:"IsTruncated"`
			NextContinuationToken string `xml:"NextContinuationToken"`
		}
		err = xml.NewDecoder(resp.Body).Decode(&page)
		resp.Body.Close()
		if err != nil {
			b.Fatal(err)
		}
		for _, c := range page.Contents {
			etags[c.Key] = c.ETag
		}
		if !page.IsTruncated || page.NextContinuationToken == "" {
			return etags
		}
		token = page.NextContinuationToken
	}
}

// readThroughCache reads every key whole through a diskcache.Cache on dir
// with workers goroutines, after dropping the page cache; the store under
// it fails every request, so every byte comes from the disk.
func readThroughCache(b *testing.B, dir string, keys []string, etags map[string]string, size int64, workers int) time.Duration {
	b.Helper()
	cache, err := diskcache.New(diskcache.Config{Dir: dir, Size: 4 * GiB, Bucket: bucket}, noStore{})
	if err != nil {
		b.Fatal(err)
	}
	defer cache.Close()
	dropPageCache(b)
	t, err := timeIt(func() error {
		return forEach(keys, workers, func(k string) error {
			body, err := cache.GetRange(context.Background(), k, etags[k], 0, size)
			if err != nil {
				return err
			}
			defer body.Close()
			buf := bufPool.Get().(*[]byte)
			defer bufPool.Put(buf)
			n, err := drain(body, *buf)
			if err == nil && n != size {
				err = fmt.Errorf("%s: %d bytes, want %d", k, n, size)
			}
			return err
		})
	})
	if err != nil {
		b.Fatalf("reading through the cache alone: %v", err)
	}
	return t
}

// noStore fails every request: what it is asked for should be cached.
type noStore struct{}

var errNoStore = errors.New("bench: the cache asked the store")

func (noStore) List(context.Context, oss.ListInput) (oss.ListPage, error) {
	return oss.ListPage{}, errNoStore
}
func (noStore) Head(context.Context, string) (oss.ObjectInfo, error) {
	return oss.ObjectInfo{}, errNoStore
}
func (noStore) GetRange(context.Context, string, string, int64, int64) (io.ReadCloser, error) {
	return nil, errNoStore
}

// cpu is the CPU time (user + system) the mount process has used, in
// seconds: less sensitive than wall time to a busy machine.
func (m *mounted) cpu() float64 {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", m.pid))
	if err != nil {
		return 0
	}
	_, rest, _ := strings.Cut(string(data), ") ")
	f := strings.Fields(rest) // f[0] is field 3 (state); utime and stime are fields 14 and 15
	if len(f) < 13 {
		return 0
	}
	utime, _ := strconv.ParseFloat(f[11], 64)
	stime, _ := strconv.ParseFloat(f[12], 64)
	return (utime + stime) / 100 // USER_HZ
}
