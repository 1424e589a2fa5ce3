package bench

import (
	"context"
	"fmt"
	"os"
	"testing"

	"github.com/ossmount/ossmount/test/emulator"
)

// BenchmarkListDir: `ls -f` and `ls -l` of a 100,000-object directory
// versus the raw paginated listing (ListObjectsV2, delimiter "/", 1000 keys
// a page), shaped (the target) and unshaped. Each ls gets its own directory
// so that no cache filled by one run serves the next. The mount's root is
// listed first (untimed), as a shell user sees a directory before listing
// it, so a HEAD can only come from the entries.
func BenchmarkListDir(b *testing.B) {
	const objects = 100_000
	emu, d, m := listingSetup(b, func(dir string) emulator.Generated {
		return emulator.Generated{Count: objects, KeyFormat: dir + "/file%06d", Size: 1000, Seed: 5}
	}, "ls-shaped-f", "ls-shaped-l", "ls-plain-f", "ls-plain-l", "ls-base")
	ctx := context.Background()
	for _, nw := range listingNetworks {
		emu.SetFaults(nw.faults)
		var pages int
		base, err := timeIt(func() error {
			l, err := d.listAll(ctx, "ls-base/", "/")
			if err == nil && len(l.keys) != objects {
				err = fmt.Errorf("listed %d keys, want %d", len(l.keys), objects)
			}
			pages = l.pages
			return err
		})
		if err != nil {
			b.Fatalf("raw listing: %v", err)
		}
		for _, ls := range []struct {
			flag  string
			extra []string // lines besides the objects: ls -l prints "total"
		}{{"-f", []string{".", ".."}}, {"-l", []string{"total"}}} {
			dir := "ls-" + nw.name + "-" + ls.flag[1:]
			emu.ResetCounters()
			m.resetPeak()
			t := countEntries(b, objects, ls.extra, "ls", ls.flag, m.path(dir))
			ratio := t.Seconds() / base.Seconds()
			target, v := "", ""
			if nw.name == "shaped" && ls.flag == "-l" {
				target, v = atMost(ratio, 1.2)
				target += ", HEAD 0"
				v = verdict(v == "PASS" && headCount(emu) == 0)
			}
			addRow(row{
				Scenario: fmt.Sprintf("ls %s 100k objects, %s", ls.flag, nw.name),
				Mount:    secs(t), Baseline: fmt.Sprintf("%d list pages %s", pages, secs(base)),
				Ratio: ratio, Target: target, Verdict: v,
				Requests: requests(emu), RSS: m.peakRSS(), Note: "time ratio",
			})
			b.ReportMetric(ratio, "ls"+ls.flag+"-"+nw.name+"-ratio")
		}
	}
	emu.SetFaults(emulator.Faults{})
}

// BenchmarkFind: `find -type f` over 50,000 objects in 500 directories of
// 100 versus the same directory-by-directory listing made directly (one
// directory at a time, as find does), shaped and unshaped. The note gives a
// flat listing (no delimiter), which only a client that knows it wants every
// key can use.
func BenchmarkFind(b *testing.B) {
	const objects = 50_000
	emu, d, m := listingSetup(b, func(dir string) emulator.Generated {
		return emulator.Generated{Count: objects, PerDir: 100, KeyFormat: dir + "/d%03d/f%05d", Size: 1000, Seed: 6}
	}, "find-shaped", "find-plain", "find-base")
	ctx := context.Background()
	for _, nw := range listingNetworks {
		emu.SetFaults(nw.faults)
		var pages int
		base, err := timeIt(func() error {
			keys, n, err := d.walk(ctx, "find-base/", 1)
			if err == nil && len(keys) != objects {
				err = fmt.Errorf("walk found %d keys, want %d", len(keys), objects)
			}
			pages = n
			return err
		})
		if err != nil {
			b.Fatalf("direct walk: %v", err)
		}
		flat, err := timeIt(func() error { _, err := d.listAll(ctx, "find-base/", ""); return err })
		if err != nil {
			b.Fatalf("flat listing: %v", err)
		}

		emu.ResetCounters()
		m.resetPeak()
		t := countEntries(b, objects, nil, "find", m.path("find-"+nw.name), "-type", "f")
		ratio := t.Seconds() / base.Seconds()
		addRow(row{
			Scenario: "find 50k objects / 500 dirs, " + nw.name,
			Mount:    secs(t), Baseline: fmt.Sprintf("walk %d pages %s", pages, secs(base)),
			Ratio: ratio, Requests: requests(emu), RSS: m.peakRSS(),
			Note: fmt.Sprintf("time ratio; flat listing %s (%.1fx faster than find)", secs(flat), t.Seconds()/flat.Seconds()),
		})
		b.ReportMetric(ratio, "find-"+nw.name+"-ratio")
	}
	emu.SetFaults(emulator.Faults{})
}

// listingNetworks are the networks a listing benchmark runs on: its
// directories are named for them.
var listingNetworks = []struct {
	name   string
	faults emulator.Faults
}{{"shaped", shaped}, {"plain", emulator.Faults{}}}

// listingSetup starts an emulator holding gen(dir) for each of dirs, a
// direct client (closed when b ends) and a mount whose root is listed.
func listingSetup(b *testing.B, gen func(dir string) emulator.Generated, dirs ...string) (*emulator.Server, *direct, *mounted) {
	b.Helper()
	emu := startEmulator(b)
	for _, dir := range dirs {
		emu.AddGenerated(bucket, gen(dir))
	}
	d := newDirect(emu)
	b.Cleanup(d.close)
	m := mountOSS(b, emu)
	listRoot(b, m)
	return emu, d, m
}

// listRoot lists the mount's root, untimed, so that the directories the
// runs list are known entries.
func listRoot(b *testing.B, m *mounted) {
	b.Helper()
	if _, err := os.ReadDir(m.dir); err != nil {
		b.Fatalf("listing the mount root: %v", err)
	}
}
