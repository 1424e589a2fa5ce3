package bench

import (
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/ossmount/ossmount/test/emulator"
	"github.com/ossmount/ossmount/test/mounttest"
)

const (
	KiB = 1 << 10
	MiB = 1 << 20
	GiB = 1 << 30

	bucket = "bench"
)

// shaped is the network of the DESIGN.md targets: 20 ms before the first
// byte of every response and 50 MB/s per connection.
var shaped = emulator.Faults{Latency: 20 * time.Millisecond, BandwidthPerConn: 50_000_000}

var ossmountBin string

func TestMain(m *testing.M) {
	cleanup := func() {}
	if benchRequested() {
		ossmountBin, cleanup = mounttest.Setup("bench")
	}
	start := time.Now()
	code := m.Run()
	cleanup()
	if err := printTable(time.Since(start)); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		code = 1
	}
	os.Exit(code)
}

// benchRequested reports whether -test.bench selects anything.
func benchRequested() bool {
	for _, a := range os.Args[1:] {
		if strings.HasPrefix(a, "-test.bench=") && a != "-test.bench=" {
			return true
		}
	}
	return false
}

// startEmulator starts an emulator with one public-read bucket; it is closed
// when b ends.
func startEmulator(b *testing.B) *emulator.Server {
	b.Helper()
	emu := mounttest.StartEmulator(b, emulator.Config{})
	emu.CreateBucket(bucket, true)
	return emu
}

// requests formats the OSS requests counted by the emulator since the last
// ResetCounters, e.g. "LIST 101, HEAD 0, GET 131".
func requests(emu *emulator.Server) string {
	c := emu.Counters()
	short := map[string]string{"ListObjectsV2": "LIST", "HeadObject": "HEAD", "GetObject": "GET"}
	parts := []string{
		fmt.Sprintf("LIST %d", c.Requests["ListObjectsV2"]),
		fmt.Sprintf("HEAD %d", c.Requests["HeadObject"]),
		fmt.Sprintf("GET %d", c.Requests["GetObject"]),
	}
	for op, n := range c.Requests {
		if _, ok := short[op]; !ok && n > 0 && !strings.HasPrefix(op, "AssumeRole") {
			parts = append(parts, fmt.Sprintf("%s %d", op, n))
		}
	}
	return strings.Join(parts, ", ")
}

// headCount is the number of HeadObject requests since the last reset.
func headCount(emu *emulator.Server) int { return emu.Counters().Requests["HeadObject"] }

// timeIt runs f and returns how long it took.
func timeIt(f func() error) (time.Duration, error) {
	start := time.Now()
	err := f()
	return time.Since(start), err
}

// mibps is a throughput in MiB/s.
func mibps(bytes int64, d time.Duration) float64 {
	if d <= 0 {
		return 0
	}
	return float64(bytes) / MiB / d.Seconds()
}
