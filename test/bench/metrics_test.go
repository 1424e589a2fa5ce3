package bench

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ossmount/ossmount/test/emulator"
	"github.com/ossmount/ossmount/test/mounttest"
)

// metricsRounds is how many times each mount reads; the best run of each
// counts, so that a burst of load from elsewhere on the machine does not
// decide the ratio.
const metricsRounds = 5

// BenchmarkMetricsOverhead: the unshaped sequential read (cat of 512 MiB,
// CPU-bound, where recording costs would show) through a mount with
// --metrics-addr, scraped every second, versus one without, interleaved
// in the same run. Target: within 3%.
func BenchmarkMetricsOverhead(b *testing.B) {
	emu := startEmulator(b)
	const size = 512 * MiB
	var keys []string
	for i := 0; i < 2*metricsRounds; i++ {
		keys = append(keys, fmt.Sprintf("metrics/%d", i))
	}
	emu.AddGenerated(bucket, emulator.Generated{Keys: keys, Size: size, Seed: 3})
	off := mountOSS(b, emu)
	on := mountOSS(b, emu, "--metrics-addr", "127.0.0.1:0")
	addr := metricsAddr(b, emu, on.dir)
	stop := make(chan struct{})
	scraped := make(chan int)
	go func() { // a scraper far busier than Prometheus's usual 15 s
		n := 0
		defer func() { scraped <- n }()
		for {
			select {
			case <-stop:
				return
			case <-time.After(time.Second):
			}
			if resp, err := http.Get("http://" + addr + "/metrics"); err == nil {
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				n++
			}
		}
	}()

	var bestOff, bestOn float64
	var cpuOff, cpuOn time.Duration // the daemons' CPU time for all their runs
	runOff := func(key string) {
		c := cpuTime(b, off.pid)
		r := catFile(b, off.path(key), size)
		cpuOff += cpuTime(b, off.pid) - c
		bestOff = max(bestOff, r.mibps())
	}
	runOn := func(key string) {
		c := cpuTime(b, on.pid)
		r := catFile(b, on.path(key), size)
		cpuOn += cpuTime(b, on.pid) - c
		bestOn = max(bestOn, r.mibps())
	}
	for i := 0; i < metricsRounds; i++ {
		if i%2 == 0 { // alternate which goes first, so order cannot favour one
			runOff(keys[2*i])
			runOn(keys[2*i+1])
		} else {
			runOn(keys[2*i+1])
			runOff(keys[2*i])
		}
	}
	close(stop)
	scrapes := <-scraped
	if scrapes == 0 {
		b.Fatal("no scrape of /metrics succeeded during the reads")
	}
	ratio := bestOn / bestOff
	target, v := ">= 0.97x", verdict(ratio >= 0.97)
	addRow(row{
		Scenario: "seq 512 MiB cat, metrics on vs off",
		Mount:    rate(bestOn),
		Baseline: "metrics off " + rate(bestOff),
		Ratio:    ratio, Target: target, Verdict: v,
		Note: fmt.Sprintf("best of %d alternated runs each; daemon CPU on/off %.2fx (%s / %s); %d scrapes",
			metricsRounds, cpuOn.Seconds()/cpuOff.Seconds(), secs(cpuOn), secs(cpuOff), scrapes),
	})
	b.ReportMetric(ratio, "metrics-on/off")
}

// cpuTime is the user+system CPU time of process pid so far.
func cpuTime(b *testing.B, pid int) time.Duration {
	b.Helper()
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		b.Fatal(err)
	}
	// Fields after the parenthesised command name; utime and stime are
	// the 14th and 15th of the whole line, in clock ticks (100 Hz).
	rest := string(data[bytes.LastIndexByte(data, ')')+2:])
	f := strings.Fields(rest)
	utime, _ := strconv.ParseInt(f[11], 10, 64)
	stime, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(utime+stime) * 10 * time.Millisecond
}

// metricsAddr asks the mount at dir where it serves /metrics.
func metricsAddr(b *testing.B, emu *emulator.Server, dir string) string {
	b.Helper()
	cmd := exec.Command(ossmountBin, "status", "--json", dir)
	cmd.Env = mounttest.Env(emu, b.TempDir())
	out, err := cmd.Output()
	if err != nil {
		b.Fatalf("ossmount status %s: %v", dir, err)
	}
	var r struct {
		MetricsAddr string `json:"metrics_addr"`
	}
	if err := json.Unmarshal(out, &r); err != nil || r.MetricsAddr == "" {
		b.Fatalf("ossmount status %s: no metrics address in %s (%v)", dir, out, err)
	}
	return r.MetricsAddr
}
