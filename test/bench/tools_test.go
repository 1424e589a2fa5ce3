package bench

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// toolTimeout bounds any one tool run so a hung mount fails the benchmark
// instead of the whole `make bench`.
const toolTimeout = 3 * time.Minute

// runTool runs argv with stdout sent to a file, and returns its wall time,
// stdout and stderr.
func runTool(b *testing.B, argv ...string) (time.Duration, []byte, []byte) {
	b.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), toolTimeout)
	defer cancel()
	out, err := os.CreateTemp(b.TempDir(), "stdout")
	if err != nil {
		b.Fatal(err)
	}
	defer out.Close()
	var stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Stdout, cmd.Stderr = out, &stderr
	// The C locale: ls sorts bytewise, as a listing is ordered.
	cmd.Env = append(os.Environ(), "LC_ALL=C")
	start := time.Now()
	err = cmd.Run()
	elapsed := time.Since(start)
	if err != nil {
		b.Fatalf("%v: %v\nstderr: %s", argv, err, stderr.Bytes())
	}
	stdout, err := os.ReadFile(out.Name())
	if err != nil {
		b.Fatal(err)
	}
	return elapsed, stdout, stderr.Bytes()
}

// readCap bounds one sequential-read tool run: a mount without read-ahead
// reads a shaped GiB at ~10 MiB/s, and `make bench` must stay under 10
// minutes. A capped run reports the bytes read so far (rchar in
// /proc/PID/io, read just before the kill) over the cap.
const readCap = 20 * time.Second

// seqRun is one timed sequential read by a tool.
type seqRun struct {
	elapsed time.Duration
	bytes   int64
	capped  bool
}

func (r seqRun) mibps() float64 { return mibps(r.bytes, r.elapsed) }

// catFile times `cat path > /dev/null`.
func catFile(b *testing.B, path string, size int64) seqRun {
	b.Helper()
	r, _ := runCapped(b, size, "sh", "-c", `exec cat "$1" > /dev/null`, "cat", path)
	return r
}

var ddBytes = regexp.MustCompile(`(?m)^(\d+) bytes`)

// ddFile times `dd if=path of=/dev/null bs=1M` and checks that it copied
// size bytes.
func ddFile(b *testing.B, path string, size int64) seqRun {
	b.Helper()
	r, stderr := runCapped(b, size, "dd", "if="+path, "of=/dev/null", "bs=1M")
	if r.capped {
		return r
	}
	m := ddBytes.FindSubmatch(stderr)
	if m == nil {
		b.Fatalf("dd printed no byte count: %s", stderr)
	}
	if n, _ := strconv.ParseInt(string(m[1]), 10, 64); n != size {
		b.Fatalf("dd copied %d bytes of %s, want %d", n, path, size)
	}
	return r
}

// runCapped runs argv, which reads size bytes, for at most readCap.
func runCapped(b *testing.B, size int64, argv ...string) (seqRun, []byte) {
	b.Helper()
	var stderr bytes.Buffer
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Stderr = &stderr
	start := time.Now()
	if err := cmd.Start(); err != nil {
		b.Fatalf("%v: %v", argv, err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	timer := time.NewTimer(readCap)
	defer timer.Stop()
	select {
	case err := <-done:
		if err != nil {
			b.Fatalf("%v: %v\nstderr: %s", argv, err, stderr.Bytes())
		}
		return seqRun{elapsed: time.Since(start), bytes: size}, stderr.Bytes()
	case <-timer.C:
		n := readChars(cmd.Process.Pid)
		elapsed := time.Since(start)
		cmd.Process.Kill()
		<-done
		return seqRun{elapsed: elapsed, bytes: n, capped: true}, stderr.Bytes()
	}
}

// readChars is rchar of /proc/PID/io: bytes the process has read.
func readChars(pid int) int64 {
	data, _ := os.ReadFile(fmt.Sprintf("/proc/%d/io", pid))
	for _, line := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, "rchar: "); ok {
			n, _ := strconv.ParseInt(v, 10, 64)
			return n
		}
	}
	return 0
}

// countEntries times argv and checks that it printed want lines, not
// counting lines that are, or start with, one of extra ("." and ".." are
// optional in a readdir, POSIX says).
func countEntries(b *testing.B, want int, extra []string, argv ...string) time.Duration {
	b.Helper()
	d, out, _ := runTool(b, argv...)
	n := 0
	for _, line := range strings.Split(strings.TrimSuffix(string(out), "\n"), "\n") {
		if !slices.ContainsFunc(extra, func(e string) bool { return line == e || strings.HasPrefix(line, e+" ") }) {
			n++
		}
	}
	if n != want {
		b.Fatalf("%v printed %d entries, want %d", argv, n, want)
	}
	return d
}

func secs(d time.Duration) string { return fmt.Sprintf("%.2f s", d.Seconds()) }

func rate(v float64) string { return fmt.Sprintf("%.0f MiB/s", v) }
