package e2e

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/ossmount/ossmount/test/emulator"
	"github.com/ossmount/ossmount/test/mounttest"
)

// emulatorOp maps ossmount's op label to the emulator's operation name.
var emulatorOp = map[string]string{"list": "ListObjectsV2", "head": "HeadObject", "get": "GetObject"}

// scrape reads and parses /metrics at addr.
func scrape(addr string) (map[string]*dto.MetricFamily, error) {
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		body, _ := io.ReadAll(resp.Body)
		return nil, fmt.Errorf("GET /metrics: %s: %s", resp.Status, body)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	return p.TextToMetricFamilies(resp.Body)
}

// value is the value of the series of family name whose labels include
// want (counter, gauge, or a histogram's count); NaN if absent.
func value(fams map[string]*dto.MetricFamily, name string, want ...string) float64 {
	f := fams[name]
	if f == nil {
		return math.NaN()
	}
	for _, m := range f.GetMetric() {
		labels := map[string]string{}
		for _, l := range m.GetLabel() {
			labels[l.GetName()] = l.GetValue()
		}
		match := true
		for i := 0; i+1 < len(want); i += 2 {
			match = match && labels[want[i]] == want[i+1]
		}
		if !match {
			continue
		}
		switch {
		case m.Counter != nil:
			return m.Counter.GetValue()
		case m.Gauge != nil:
			return m.Gauge.GetValue()
		case m.Histogram != nil:
			return float64(m.Histogram.GetSampleCount())
		}
	}
	return math.NaN()
}

// requestsVersusEmulator compares ossmount_oss_requests_total with the
// emulator's counts (see countsVersusEmulator).
func requestsVersusEmulator(fams map[string]*dto.MetricFamily, c emulator.Counters) string {
	mine := map[string]map[string]int{}
	if f := fams["ossmount_oss_requests_total"]; f != nil {
		for _, m := range f.GetMetric() {
			var op, status string
			for _, l := range m.GetLabel() {
				switch l.GetName() {
				case "op":
					op = l.GetValue()
				case "status":
					status = l.GetValue()
				}
			}
			if mine[op] == nil {
				mine[op] = map[string]int{}
			}
			mine[op][status] += int(m.Counter.GetValue())
		}
	}
	return countsVersusEmulator(mine, c)
}

// countsVersusEmulator compares ossmount's request counts (op → status →
// n) with the emulator's, op by op and status by status, and returns the
// differences ("" when equal). An attempt ossmount cancelled (a HEAD sent
// with a LIST, dropped when the LIST finds a directory) counts as status 0
// ("no answer") on its side while the emulator may have answered it: per
// op, what the emulator counted beyond ossmount must be covered by such
// attempts. With none cancelled, every count must be equal.
func countsVersusEmulator(mine map[string]map[string]int, c emulator.Counters) string {
	var diffs []string
	for op, name := range emulatorOp {
		unexplained := 0
		for key, n := range c.ByStatus {
			if status, ok := strings.CutPrefix(key, name+" "); ok {
				unexplained += n - mine[op][status]
			}
		}
		for status, n := range mine[op] {
			if status == "0" {
				continue
			}
			if theirs := c.ByStatus[name+" "+status]; n > theirs {
				diffs = append(diffs, fmt.Sprintf("%s %s: ossmount %d, emulator only %d", name, status, n, theirs))
			}
		}
		if unexplained < 0 || unexplained > mine[op]["0"] {
			diffs = append(diffs, fmt.Sprintf("%s: emulator counted %d more than ossmount, which cancelled %d (by status: ossmount %v, emulator %v)",
				name, unexplained, mine[op]["0"], mine[op], c.ByStatus))
		}
	}
	return strings.Join(diffs, "; ")
}

// mountStatus runs `ossmount status --json MNT` and decodes the report.
func mountStatus(t *testing.T, e *env, mnt string) map[string]any {
	t.Helper()
	out, stderr, err := run(t, e.baseEnv(), "status", "--json", mnt)
	if err != nil {
		t.Fatalf("ossmount status --json %s: %v\n%s", mnt, err, stderr)
	}
	var r map[string]any
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("status JSON: %v\n%s", err, out)
	}
	return r
}

// readAll md5sums every file of files under mnt with workers in parallel
// and checks each against the generated content.
func readAll(t *testing.T, mnt string, seed int64, files []genFile, workers int) []error {
	var mu sync.Mutex
	var errs []error
	work := make(chan genFile)
	var wg sync.WaitGroup
	for i := 0; i < workers; i++ {
		wg.Go(func() {
			for f := range work {
				got, err := fileMD5(filepath.Join(mnt, f.key))
				if err == nil && got != generatedMD5(t, seed, f.key, f.size) {
					err = fmt.Errorf("%s: wrong content", f.key)
				}
				if err != nil {
					mu.Lock()
					errs = append(errs, err)
					mu.Unlock()
				}
			}
		})
	}
	for _, f := range files {
		work <- f
	}
	close(work)
	wg.Wait()
	return errs
}

// /metrics, scraped while a workload runs under light throttling, counts
// exactly the requests the emulator served, by operation and status, and
// exactly the bytes it sent; the other series the README lists are there.
func TestMetricsMatchEmulatorCounts(t *testing.T) {
	e := startEmulator(t, emulator.Config{})
	const seed = 11
	e.emu.CreateBucket("metrics", false)
	var sizes []int64
	for i := 0; i < 40; i++ {
		sizes = append(sizes, int64(1000+i*997))
	}
	sizes = append(sizes, 8<<20, 5<<20+3)
	files := addTree(e, "metrics", "", seed, sizes)
	mnt, logFile := e.mount("metrics", "--metrics-addr", "127.0.0.1:0")
	addr, _ := mountStatus(t, e, mnt)["metrics_addr"].(string)
	if addr == "" || !strings.HasPrefix(addr, "127.0.0.1:") {
		t.Fatalf("status reports metrics_addr %q, want 127.0.0.1:PORT", addr)
	}

	e.emu.SetFaults(emulator.Faults{ThrottleRate: 0.05})
	done := make(chan struct{})
	scrapes := make(chan error, 1)
	go func() { // scrape all along the workload: every scrape must parse
		n := 0
		for {
			select {
			case <-done:
				if n == 0 {
					scrapes <- fmt.Errorf("no scrape finished during the workload")
				}
				close(scrapes)
				return
			default:
			}
			if _, err := scrape(addr); err != nil {
				scrapes <- err
				close(scrapes)
				return
			}
			n++
		}
	}()
	sh(t, mnt, "ls -lR >/dev/null; ! stat absent 2>/dev/null") // the stat is a lookup
	errs := readAll(t, mnt, seed, files, 4)
	close(done)
	e.emu.SetFaults(emulator.Faults{})
	for _, err := range errs {
		t.Errorf("read: %v", err)
	}
	for err := range scrapes {
		t.Fatalf("scrape during the workload: %v", err)
	}

	// Requests still in flight (none should be) would make the two
	// sides differ for a moment; poll until they agree.
	var fams map[string]*dto.MetricFamily
	var counts emulator.Counters
	var diff string
	ok := mounttest.WaitFor(mounttest.HangGuard, func() bool {
		var err error
		if fams, err = scrape(addr); err != nil {
			diff = err.Error()
			return false
		}
		counts = e.emu.Counters()
		diff = requestsVersusEmulator(fams, counts)
		return diff == ""
	})
	if !ok {
		t.Fatalf("request counters differ from the emulator's: %s\nlog tail: %s", diff, tail(readFile(t, logFile), 2000))
	}
	throttled := statusCount(counts, "503")
	if throttled == 0 {
		t.Fatal("no request was throttled: the throttling counters are not tested")
	}
	if got := value(fams, "ossmount_oss_throttled_total"); got != float64(throttled) {
		t.Errorf("ossmount_oss_throttled_total = %v, emulator answered 503 %d times", got, throttled)
	}
	if got := value(fams, "ossmount_oss_retries_total", "reason", "throttled"); got != float64(throttled) {
		t.Errorf("throttled retries = %v, want %d (every 503 retried)", got, throttled)
	}
	if got := value(fams, "ossmount_oss_received_bytes_total"); got != float64(counts.BytesSent) {
		t.Errorf("ossmount_oss_received_bytes_total = %v, emulator sent %d body bytes", got, counts.BytesSent)
	}
	for op := range emulatorOp {
		var attempts float64
		for _, m := range fams["ossmount_oss_requests_total"].GetMetric() {
			if m.GetLabel()[0].GetValue() == op {
				attempts += m.Counter.GetValue()
			}
		}
		if got := value(fams, "ossmount_oss_request_duration_seconds", "op", op); got != attempts {
			t.Errorf("latency histogram of %s has %v observations, want one per attempt (%v)", op, got, attempts)
		}
	}
	for _, op := range []string{"lookup", "getattr", "open", "read", "release", "opendir", "readdirplus"} {
		if got := value(fams, "ossmount_fuse_operation_duration_seconds", "op", op); !(got > 0) {
			t.Errorf("FUSE %s operations = %v, want > 0", op, got)
		}
	}
	// The kernel sends RELEASE after close(2) returns: poll.
	var open float64
	if !mounttest.WaitFor(mounttest.HangGuard, func() bool {
		f, err := scrape(addr)
		open = value(f, "ossmount_open_files")
		return err == nil && open == 0
	}) {
		t.Errorf("ossmount_open_files = %v after every file closed, want 0", open)
	}
	if got := value(fams, "ossmount_readahead_memory_limit_bytes"); got != 128<<20 {
		t.Errorf("read-ahead limit = %v, want the default 128 MiB", got)
	}
	if got := value(fams, "ossmount_readahead_memory_peak_bytes"); !(got > 0) {
		t.Errorf("read-ahead peak = %v: the 8 MiB file was not read ahead", got)
	}
	if got := value(fams, "ossmount_metadata_cache_entries"); !(got >= float64(len(files))) {
		t.Errorf("metadata cache entries = %v, want at least the %d files listed", got, len(files))
	}
	if got := value(fams, "ossmount_metadata_cache_hits_total"); !(got > 0) {
		t.Errorf("metadata cache hits = %v: opens after ls -lR should hit", got)
	}
	if got := value(fams, "ossmount_token_expiry_seconds"); !(got > 60 && got <= 3600) {
		t.Errorf("token expiry in %v s, want within the 1 h token", got)
	}
	for _, name := range []string{"ossmount_token_renewals_total", "ossmount_token_renewal_failures_total",
		"ossmount_metadata_cache_misses_total", "ossmount_metadata_cache_evictions_total",
		"ossmount_governor_request_rate_limit", "ossmount_readahead_memory_bytes", "go_goroutines", "process_resident_memory_bytes"} {
		if math.IsNaN(value(fams, name)) {
			t.Errorf("%s is missing", name)
		}
	}
	t.Logf("%d requests, %d throttled, %d bytes, %d scraped series families", totalRequests(counts), throttled, counts.BytesSent, len(fams))
}

// `ossmount status` answers without --metrics-addr, from a 0600 socket,
// with the token expiry, request counts equal to the emulator's, cache
// sizes and read-ahead memory; after the unmount it says nothing runs.
func TestStatusCommand(t *testing.T) {
	e := startEmulator(t, emulator.Config{})
	// Not "status": a bucket named like a subcommand is taken for it.
	e.emu.CreateBucket("stat-bucket", false)
	files := addTree(e, "stat-bucket", "", 3, []int64{100, 3 << 20})
	mnt, logFile := e.mount("stat-bucket")
	for _, err := range readAll(t, mnt, 3, files, 2) {
		t.Fatalf("read: %v", err)
	}
	r := mountStatus(t, e, mnt)
	reqs, _ := r["requests"].(map[string]any)
	mine := map[string]map[string]int{}
	for key, v := range reqs {
		op, status, _ := strings.Cut(key, " ")
		if mine[op] == nil {
			mine[op] = map[string]int{}
		}
		n, _ := v.(float64)
		mine[op][status] = int(n)
	}
	if diff := countsVersusEmulator(mine, e.emu.Counters()); diff != "" {
		t.Errorf("status request counts differ from the emulator's: %s", diff)
	}
	if reqs["get 206"] == nil {
		t.Errorf("no GETs in the report: %v", reqs)
	}
	exp, err := time.Parse(time.RFC3339, fmt.Sprint(r["token_expiration"]))
	if err != nil || time.Until(exp) < time.Minute {
		t.Errorf("token_expiration %v (%v), want about an hour ahead", r["token_expiration"], err)
	}
	fsm, _ := r["fs"].(map[string]any)
	if fsm["CacheEntries"] == nil || fsm["ReadAheadLimit"] != float64(128<<20) || fsm["ReadAheadPeak"] == float64(0) {
		t.Errorf("fs part of the report: %v", fsm)
	}

	text, stderr, err := run(t, e.baseEnv(), "status", mnt)
	if err != nil {
		t.Fatalf("ossmount status: %v\n%s", err, stderr)
	}
	for _, want := range []string{"token expires:", "requests:", "get 206: ", "metadata cache:", "read-ahead:", "of 128.0 MiB"} {
		if !strings.Contains(text, want) {
			t.Errorf("status output lacks %q:\n%s", want, text)
		}
	}
	if r["metrics_addr"] != nil || strings.Contains(text, "metrics:") {
		t.Errorf("a mount without --metrics-addr reports a metrics address: %v", r["metrics_addr"])
	}
	sock := findStatusSocket(t, mnt, logFile)
	if fi, err := os.Stat(sock); err != nil {
		t.Errorf("status socket: %v", err)
	} else if fi.Mode().Perm() != 0o600 {
		t.Errorf("status socket %s has mode %v, want 0600", sock, fi.Mode().Perm())
	}

	unmountAndWait(t, mnt, logFile)
	_, stderr, err = run(t, e.baseEnv(), "status", mnt)
	if err == nil || !strings.Contains(stderr, "no ossmount is serving") {
		t.Errorf("status after unmount: err %v, stderr %q; want a clear error", err, stderr)
	}
	if _, err := os.Stat(sock); !os.IsNotExist(err) {
		t.Errorf("socket %s left after the unmount: %v", sock, err)
	}
}

// findStatusSocket finds the path the mount logged for its socket.
func findStatusSocket(t *testing.T, mnt, logFile string) string {
	t.Helper()
	for _, line := range strings.Split(readFile(t, logFile), "\n") {
		if _, rest, ok := strings.Cut(line, `msg="status socket" path=`); ok {
			return strings.Fields(rest)[0]
		}
	}
	t.Fatalf("the log of %s names no status socket", mnt)
	return ""
}
