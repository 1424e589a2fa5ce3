package bench

import (
	"context"
	"fmt"
	"testing"

	"github.com/ossmount/ossmount/test/emulator"
)

// parallelConfigs are the direct ranged-GET clients tried; the best one is
// the baseline. They were the fastest on a 2-core machine (more requests in
// flight only add scheduling noise there).
var parallelConfigs = []struct {
	part     int64
	inflight int
}{{8 * MiB, 8}, {16 * MiB, 16}, {16 * MiB, 32}}

// singleShapedBytes is how much of the object the single-stream baseline
// reads under shaping: one stream runs at ~50 MB/s whatever the length, so
// 256 MiB gives its rate in 5 s instead of 20 s for the full GiB.
const singleShapedBytes = 256 * MiB

// seqBaselines measures one plain GET stream and the best parallel client
// on key (size bytes) under the current faults, in MiB/s.
func seqBaselines(b *testing.B, d *direct, key string, size int64, isShaped bool) (single, parallel float64, best string) {
	b.Helper()
	ctx := context.Background()
	n := size
	if isShaped {
		n = min(size, singleShapedBytes)
	}
	t, err := timeIt(func() error {
		_, err := d.get(ctx, key, 0, n)
		return err
	})
	if err != nil {
		b.Fatalf("single GET: %v", err)
	}
	single = mibps(n, t)
	for _, c := range parallelConfigs {
		t, err := timeIt(func() error { return d.parallelGet(ctx, key, size, c.part, c.inflight) })
		if err != nil {
			b.Fatalf("parallel GET: %v", err)
		}
		if r := mibps(size, t); r > parallel {
			parallel, best = r, fmt.Sprintf("%d MiB x %d", c.part/MiB, c.inflight)
		}
	}
	return single, parallel, best
}

// BenchmarkSequentialRead: cat and dd (1 MiB blocks) of a 1 GiB object
// through the mount versus one plain GET stream and the best direct
// parallel ranged-GET client, without and with network shaping.
func BenchmarkSequentialRead(b *testing.B) {
	emu := startEmulator(b)
	const size = GiB
	keys := []string{"seq/base", "seq/plain-cat", "seq/plain-dd", "seq/shaped-cat", "seq/shaped-dd"}
	emu.AddGenerated(bucket, emulator.Generated{Keys: keys, Size: size, Seed: 1})
	d := newDirect(emu)
	defer d.close()
	m := mountOSS(b, emu)

	for _, nw := range []struct {
		name   string
		faults emulator.Faults
		want   float64 // ratio to the parallel client
	}{{"plain", emulator.Faults{}, 0.6}, {"shaped", shaped, 0.8}} {
		emu.SetFaults(nw.faults)
		isShaped := nw.faults.Latency > 0
		single, parallel, best := seqBaselines(b, d, "seq/base", size, isShaped)
		for _, tool := range []string{"cat", "dd"} {
			key := "seq/" + nw.name + "-" + tool
			emu.ResetCounters()
			m.resetPeak()
			var r seqRun
			if tool == "cat" {
				r = catFile(b, m.path(key), size)
			} else {
				r = ddFile(b, m.path(key), size)
			}
			if sent := emu.Counters().BytesSent; sent < r.bytes {
				b.Fatalf("%s of %s: the emulator sent only %d bytes", tool, key, sent)
			}
			got := r.mibps()
			ratio := got / parallel
			target, v := atLeast(ratio, nw.want)
			note := fmt.Sprintf("%.1fx single GET", got/single)
			if isShaped {
				target += ", >= 5x single"
				v = verdict(v == "PASS" && got/single >= 5)
				note += fmt.Sprintf("; single stream measured on %d MiB", singleShapedBytes/MiB)
			}
			if isShaped && tool == "cat" {
				ossmountShapedCat = got
			}
			if r.capped {
				note += fmt.Sprintf("; stopped after %s at %d MiB", secs(r.elapsed), r.bytes/MiB)
			}
			addRow(row{
				Scenario: fmt.Sprintf("seq 1 GiB %s, %s", tool, nw.name),
				Mount:    rate(got),
				Baseline: fmt.Sprintf("par %s (%s); single %s", rate(parallel), best, rate(single)),
				Ratio:    ratio, Target: target, Verdict: v,
				Requests: requests(emu), RSS: m.peakRSS(), Note: note,
			})
			b.ReportMetric(ratio, tool+"-"+nw.name+"-ratio")
		}
	}
	emu.SetFaults(emulator.Faults{})
}
