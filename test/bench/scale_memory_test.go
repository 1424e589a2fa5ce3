package bench

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ossmount/ossmount/test/emulator"
)

// scaleNames is the size of the one flat directory of
// BenchmarkScaleListMemory; OSSMOUNT_SCALE_NAMES overrides it for a
// quicker look (the target is stated at 1,000,000).
func scaleNames(b *testing.B) int {
	n := 1_000_000
	if s := os.Getenv("OSSMOUNT_SCALE_NAMES"); s != "" {
		v, err := strconv.Atoi(s)
		if err != nil || v < 1 {
			b.Fatalf("OSSMOUNT_SCALE_NAMES=%q is not a positive count", s)
		}
		n = v
	}
	return n
}

// BenchmarkScaleListMemory: the daemon's peak RSS per name over `ls -l` of
// one directory of 1,000,000 objects, default flags but the TTL, against the 400-byte
// target (DESIGN.md), and what reading two of the listed files costs
// afterwards (their GETs alone: no HEAD, no LIST). The heap by component
// is BenchmarkListMemory in fs/ (go test -bench ListMemory ./fs/).
func BenchmarkScaleListMemory(b *testing.B) {
	emu := startEmulator(b)
	names := scaleNames(b)
	emu.AddGenerated(bucket, emulator.Generated{Count: names, KeyFormat: "flat/file%07d", Size: 100, Seed: 12})
	// A TTL longer than the run: on a loaded machine `ls -l` of a million
	// names can outlast the default minute, and expired names are asked
	// again (by design), which is not what this measures.
	m := mountOSS(b, emu, "--metadata-ttl", "15m")
	listRoot(b, m)
	before := m.peakRSS()
	m.resetPeak()
	emu.ResetCounters()
	t := lsLong(b, m.path("flat"), names)
	peak := m.peakRSS()
	listed := requests(emu)

	emu.ResetCounters()
	for _, i := range []int{names / 3, names - 1} {
		if _, err := os.ReadFile(m.path(fmt.Sprintf("flat/file%07d", i))); err != nil {
			b.Fatal(err)
		}
	}
	c := emu.Counters()
	perName := float64(peak) / float64(names)
	target, v := fmt.Sprintf("<= 400 B/name, reads HEAD 0 LIST 0"), verdict(perName <= 400 &&
		c.Requests["HeadObject"] == 0 && c.Requests["ListObjectsV2"] == 0)
	addRow(row{
		Scenario: fmt.Sprintf("ls -l %d names, peak RSS per name", names),
		Mount:    fmt.Sprintf("%.0f B/name", perName),
		Baseline: fmt.Sprintf("RSS before ls %d MiB", before>>20),
		Target:   target, Verdict: v,
		Requests: listed, RSS: peak,
		Note: fmt.Sprintf("ls -l %s; reading 2 listed files: %s", secs(t), requests(emu)),
	})
	b.ReportMetric(perName, "peak-RSS-B/name")
}

// lsLong times `ls -l dir` and checks it printed want entries. Past
// 100,000 names every entry costs a LOOKUP (fs/dirhandle.go), so a
// million take longer than toolTimeout allows on a loaded machine.
func lsLong(b *testing.B, dir string, want int) time.Duration {
	b.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "ls", "-l", dir)
	cmd.Env = append(os.Environ(), "LC_ALL=C")
	start := time.Now()
	out, err := cmd.Output()
	elapsed := time.Since(start)
	if err != nil {
		b.Fatalf("ls -l %s: %v", dir, err)
	}
	if n := strings.Count(string(out), "\n") - 1; n != want {
		b.Fatalf("ls -l printed %d entries, want %d", n, want)
	}
	return elapsed
}
