package e2e

import (
	"math"
	"strconv"
	"testing"
	"time"

	"github.com/ossmount/ossmount/test/emulator"
)

// Under an emulator that throttles above 40 requests/s, 16 parallel
// readers of 300 files finish with no failed read: the mount's governor
// cuts its own rate (AIMD) instead of only retrying each request, and
// /metrics shows the throttled answers, the cuts and the rate limit.
func TestGovernorConvergesUnderThrottling(t *testing.T) {
	e := startEmulator(t, emulator.Config{})
	const seed, limit = 5, 40
	e.emu.CreateBucket("gov", false)
	var sizes []int64
	for i := 0; i < 300; i++ {
		sizes = append(sizes, 16<<10)
	}
	files := addTree(e, "gov", "", seed, sizes)
	mnt, logFile := e.mount("gov", "--metrics-addr", "127.0.0.1:0")
	addr, _ := mountStatus(t, e, mnt)["metrics_addr"].(string)
	sh(t, mnt, "ls -lR >/dev/null") // names cached: each read is one GET
	before := e.emu.Counters()

	e.emu.SetThrottleAbove(limit)
	t.Cleanup(func() { e.emu.SetThrottleAbove(0) })
	var limits []float64
	done := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		for {
			select {
			case <-done:
				return
			case <-time.After(250 * time.Millisecond): // sampling interval
			}
			if fams, err := scrape(addr); err == nil {
				limits = append(limits, value(fams, "ossmount_governor_request_rate_limit"))
			}
		}
	}()
	start := time.Now()
	errs := readAll(t, mnt, seed, files, 16)
	elapsed := time.Since(start)
	close(done)
	<-sampled
	for _, err := range errs {
		t.Errorf("read under throttling: %v", err)
	}
	after := e.emu.Counters()
	fams, err := scrape(addr)
	if err != nil {
		t.Fatal(err)
	}
	gets := after.ByStatus["GetObject 206"] + after.ByStatus["GetObject 200"] - before.ByStatus["GetObject 206"] - before.ByStatus["GetObject 200"]
	throttled := statusCount(after, "503") - statusCount(before, "503")
	cuts := value(fams, "ossmount_governor_cuts_total")
	minLimit := math.Inf(1)
	for _, l := range limits {
		minLimit = min(minLimit, l)
	}
	t.Logf("%d files in %v: %d GETs served, %d throttled (%.0f%%), %v cuts, rate limit samples %v",
		len(files), elapsed.Round(time.Millisecond), gets, throttled, 100*float64(throttled)/float64(gets+throttled), cuts, roundAll(limits))
	if throttled == 0 {
		t.Fatal("the emulator throttled nothing: the test proves nothing")
	}
	if got := value(fams, "ossmount_oss_throttled_total"); got != float64(statusCount(after, "503")) {
		t.Errorf("ossmount_oss_throttled_total = %v, emulator answered 503 %d times", got, statusCount(after, "503"))
	}
	if !(cuts > 0) || !(minLimit <= 2*limit) {
		t.Errorf("governor: %v cuts, lowest rate limit %v; want it cut to near %d/s", cuts, minLimit, limit)
	}
	// Converged: few answers are 503 (measured 6-12%). With the governor
	// disabled, retries alone keep 16 readers at the server's door: 35%
	// of the answers were 503 and the reads took 14 s instead of 8.
	if 4*throttled > gets+throttled {
		t.Errorf("%d throttled answers for %d GETs served: the mount did not slow down\nlog tail: %s",
			throttled, gets, tail(readFile(t, logFile), 2000))
	}
}

func roundAll(v []float64) []string {
	out := make([]string, len(v))
	for i, x := range v {
		out[i] = strconv.FormatFloat(x, 'f', 0, 64)
	}
	return out
}
