package bench

import (
	"bytes"
	"context"
	"fmt"
	"runtime"
	"strconv"
	"testing"
	"time"

	"github.com/ossmount/ossmount/keyindex"
	"github.com/ossmount/ossmount/test/emulator"
)

// BenchmarkPrefetchMetadata: mount with --prefetch-metadata plus `find
// MOUNT -type f` over 1,000,000 keys in 1,000 directories, on the shaped
// network, versus one sequential flat listing of the same keys (the
// DESIGN.md target: at most 0.35x, and find itself sends no request).
func BenchmarkPrefetchMetadata(b *testing.B) {
	emu := startEmulator(b)
	const objects = 1_000_000
	emu.AddGenerated(bucket, emulator.Generated{Count: objects, PerDir: 1000, KeyFormat: "d%03d/f%07d", Size: 1000, Seed: 7})
	d := newDirect(emu)
	defer d.close()
	ctx := context.Background()
	emu.SetFaults(shaped)
	defer emu.SetFaults(emulator.Faults{})

	var pages int
	flat, err := timeIt(func() error {
		l, err := d.listAll(ctx, "", "")
		if err == nil && len(l.keys) != objects {
			err = fmt.Errorf("listed %d keys, want %d", len(l.keys), objects)
		}
		pages = l.pages
		return err
	})
	if err != nil {
		b.Fatalf("flat listing: %v", err)
	}

	emu.ResetCounters()
	var m *mounted
	mountTime, _ := timeIt(func() error { m = mountOSS(b, emu, "--prefetch-metadata"); return nil })
	mountRequests := requests(emu)
	emu.ResetCounters()
	findTime := countEntries(b, objects, nil, "find", m.dir, "-type", "f")
	findRequests := requests(emu)
	c := emu.Counters()
	findZero := c.Requests["ListObjectsV2"]+c.Requests["HeadObject"]+c.Requests["GetObject"] == 0

	total := mountTime + findTime
	ratio := total.Seconds() / flat.Seconds()
	target, v := fmt.Sprintf("<= %.2fx", 0.35), verdict(ratio <= 0.35)
	addRow(row{
		Scenario: "mount --prefetch-metadata + find, 1M keys / 1000 dirs, shaped",
		Mount:    fmt.Sprintf("%s + %s", secs(mountTime), secs(findTime)),
		Baseline: fmt.Sprintf("flat listing %d pages %s", pages, secs(flat)),
		Ratio:    ratio, Target: target + ", find 0 requests", Verdict: verdict(v == "PASS" && findZero),
		Requests: "mount: " + mountRequests + "; find: " + findRequests, RSS: m.peakRSS(),
		Note: "time ratio (mount + find over the flat listing)",
	})
	b.ReportMetric(ratio, "prefetch-find-ratio")
}

// BenchmarkIndexMemory: bytes per key of the metadata index at 1,000,000
// keys (what --prefetch-metadata and --manifest hold), as the Go heap
// grows while one is built from a manifest, and as the index counts
// itself.
func BenchmarkIndexMemory(b *testing.B) {
	const objects = 1_000_000
	var text bytes.Buffer
	text.WriteString("# ossmount-manifest v1\n# bucket\tbench\n# prefix\t\n")
	for i := range objects {
		fmt.Fprintf(&text, "d%03d/f%07d\t1000\t\"%032X\"\t2024-01-01T00:00:00Z\n", i/1000, i, i)
	}
	text.WriteString("# end\t" + strconv.Itoa(objects) + "\n")
	before := heapInUse()
	start := time.Now()
	m, err := keyindex.ReadManifest(&text)
	if err != nil {
		b.Fatal(err)
	}
	elapsed := time.Since(start)
	grown := heapInUse() - before
	runtime.KeepAlive(text.Bytes()) // the text counts in both measurements
	perKey := float64(grown) / objects
	addRow(row{
		Scenario: "metadata index memory, 1M keys (d000/f0000000)",
		Mount:    fmt.Sprintf("%.0f B/key heap", perKey),
		Baseline: fmt.Sprintf("index counts %d B/key", m.Index.Bytes()/objects),
		Note:     fmt.Sprintf("read from a manifest in %s; keys 16 B, 24 B entry, MD5 ETag packed to 16 B", secs(elapsed)),
	})
	b.ReportMetric(perKey, "index-bytes/key")
	runtime.KeepAlive(m)
}

func heapInUse() int64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return int64(ms.HeapInuse)
}
