package bench

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/ossmount/ossmount/test/emulator"
	"golang.org/x/sync/errgroup"
)

// BenchmarkSmallFiles: 10,000 files of 16 KiB in 100 directories, walked and
// read by 16 parallel workers over the shaped network, versus a direct
// client that lists the same directories and GETs the same objects with 16
// workers. Both walk from the bucket root, so every name is seen in a
// listing before it is opened, and so must need no HEAD.
func BenchmarkSmallFiles(b *testing.B) {
	emu := startEmulator(b)
	const (
		files   = 10_000
		size    = 16 * KiB
		workers = 16
	)
	emu.AddGenerated(bucket, emulator.Generated{Count: files, PerDir: 100, KeyFormat: "small/d%03d/f%05d", Size: size, Seed: 3})
	d := newDirect(emu)
	defer d.close()
	m := mountOSS(b, emu)
	emu.SetFaults(shaped)
	defer emu.SetFaults(emulator.Faults{})
	ctx := context.Background()

	base, err := timeIt(func() error {
		keys, _, err := d.walk(ctx, "", workers)
		if err != nil {
			return err
		}
		if len(keys) != files {
			return fmt.Errorf("direct walk found %d keys, want %d", len(keys), files)
		}
		return forEach(keys, workers, func(k string) error {
			_, err := d.get(ctx, k, 0, -1)
			return err
		})
	})
	if err != nil {
		b.Fatalf("direct client: %v", err)
	}

	emu.ResetCounters()
	m.resetPeak()
	t, err := timeIt(func() error {
		paths, err := walkMount(m.dir, workers)
		if err != nil {
			return err
		}
		if len(paths) != files {
			return fmt.Errorf("walk of the mount found %d files, want %d", len(paths), files)
		}
		return forEach(paths, workers, func(p string) error {
			data, err := os.ReadFile(p)
			if err == nil && len(data) != size {
				err = fmt.Errorf("%s: %d bytes, want %d", p, len(data), size)
			}
			return err
		})
	})
	if err != nil {
		b.Fatalf("through the mount: %v", err)
	}
	heads := headCount(emu)
	ratio := t.Seconds() / base.Seconds()
	target, v := atMost(ratio, 1.3)
	addRow(row{
		Scenario: "10k x 16 KiB, 16 workers, shaped",
		Mount:    secs(t), Baseline: "list+GET " + secs(base),
		Ratio: ratio, Target: target + ", HEAD 0", Verdict: verdict(v == "PASS" && heads == 0),
		Requests: requests(emu), RSS: m.peakRSS(),
	})
	b.ReportMetric(ratio, "ratio")
	b.ReportMetric(float64(heads), "HEADs")
}

// walkMount lists root and every directory below it, level by level with
// workers directories at a time, and returns the paths of all files.
func walkMount(root string, workers int) ([]string, error) {
	var (
		mu    sync.Mutex
		files []string
	)
	level := []string{root}
	for len(level) > 0 {
		var next []string
		err := forEach(level, workers, func(dir string) error {
			entries, err := os.ReadDir(dir)
			if err != nil {
				return err
			}
			mu.Lock()
			defer mu.Unlock()
			for _, e := range entries {
				p := filepath.Join(dir, e.Name())
				if e.IsDir() {
					next = append(next, p)
				} else {
					files = append(files, p)
				}
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
		level = next
	}
	return files, nil
}

// forEach runs f on every item with workers goroutines.
func forEach[T any](items []T, workers int, f func(T) error) error {
	var g errgroup.Group
	g.SetLimit(workers)
	for _, it := range items {
		g.Go(func() error { return f(it) })
	}
	return g.Wait()
}
