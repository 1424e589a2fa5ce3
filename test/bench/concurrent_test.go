package bench

import (
	"context"
	"fmt"
	"io"
	"os"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ossmount/ossmount/test/emulator"
	"golang.org/x/sync/errgroup"
)

// BenchmarkConcurrentReaders: 8 sequential readers of 8 different 256 MiB
// objects at once through the mount (unshaped), aggregate throughput and
// peak RSS of ossmount, versus 8 plain GET streams of the same objects.
func BenchmarkConcurrentReaders(b *testing.B) {
	emu := startEmulator(b)
	const (
		readers = 8
		size    = 256 * MiB
	)
	emu.AddGenerated(bucket, emulator.Generated{Count: readers, KeyFormat: "conc/obj%d", Size: size, Seed: 2})
	key := func(i int) string { return fmt.Sprintf("conc/obj%d", i) }
	d := newDirect(emu)
	defer d.close()
	m := mountOSS(b, emu)
	ctx := context.Background()

	base, err := timeIt(func() error {
		g, ctx := errgroup.WithContext(ctx)
		for i := range readers {
			g.Go(func() error { _, err := d.get(ctx, key(i), 0, size); return err })
		}
		return g.Wait()
	})
	if err != nil {
		b.Fatalf("direct readers: %v", err)
	}

	emu.ResetCounters()
	m.resetPeak()
	var total atomic.Int64
	deadline := time.Now().Add(2 * readCap)
	t, err := timeIt(func() error {
		var g errgroup.Group
		for i := range readers {
			g.Go(func() error {
				n, err := readSequential(m.path(key(i)), size, deadline)
				total.Add(n)
				return err
			})
		}
		return g.Wait()
	})
	if err != nil {
		b.Fatalf("readers through the mount: %v", err)
	}
	note := ""
	if total.Load() < readers*size {
		note = fmt.Sprintf("stopped after %s at %d MiB", secs(t), total.Load()/MiB)
	}
	got, want := mibps(total.Load(), t), mibps(readers*size, base)
	rss := m.peakRSS()
	target, v := "RSS < 256 MiB", verdict(rss > 0 && rss < 256*MiB)
	addRow(row{
		Scenario: "8 readers x 256 MiB, plain",
		Mount:    rate(got),
		Baseline: "8 GET streams " + rate(want),
		Ratio:    got / want, Target: target, Verdict: v,
		Requests: requests(emu), RSS: rss, Note: note,
	})
	b.ReportMetric(got/want, "ratio")
	b.ReportMetric(float64(rss)/MiB, "peak-RSS-MiB")
}

// readSequential reads path from start to end in 1 MiB reads, or until
// deadline, and checks its length if it reached the end.
func readSequential(path string, size int64, deadline time.Time) (int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	buf := bufPool.Get().(*[]byte)
	defer bufPool.Put(buf)
	var n int64
	for time.Now().Before(deadline) {
		k, err := f.Read(*buf)
		n += int64(k)
		if err == io.EOF {
			if n != size {
				return n, fmt.Errorf("%s: read %d bytes, want %d", path, n, size)
			}
			return n, nil
		}
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

// drain reads r to the end with buf-sized reads (io.Copy into io.Discard
// would read in 8 KiB pieces) and returns the byte count.
func drain(r io.Reader, buf []byte) (int64, error) {
	var n int64
	for {
		k, err := r.Read(buf)
		n += int64(k)
		if err == io.EOF {
			return n, nil
		}
		if err != nil {
			return n, err
		}
	}
}
