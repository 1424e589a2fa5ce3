package bench

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strconv"
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

// catFile times `cat path > /dev/null`.
func catFile(b *testing.B, path string) time.Duration {
	b.Helper()
	d, _, _ := runTool(b, "sh", "-c", `exec cat "$1" > /dev/null`, "cat", path)
	return d
}

var ddBytes = regexp.MustCompile(`(?m)^(\d+) bytes`)

// ddFile times `dd if=path of=/dev/null bs=1M` and checks that it copied
// size bytes.
func ddFile(b *testing.B, path string, size int64) time.Duration {
	b.Helper()
	d, _, stderr := runTool(b, "dd", "if="+path, "of=/dev/null", "bs=1M")
	m := ddBytes.FindSubmatch(stderr)
	if m == nil {
		b.Fatalf("dd printed no byte count: %s", stderr)
	}
	if n, _ := strconv.ParseInt(string(m[1]), 10, 64); n != size {
		b.Fatalf("dd copied %d bytes of %s, want %d", n, path, size)
	}
	return d
}

// countLines times argv and checks that it printed want lines.
func countLines(b *testing.B, want int, argv ...string) time.Duration {
	b.Helper()
	d, out, _ := runTool(b, argv...)
	if n := bytes.Count(out, []byte("\n")); n != want {
		b.Fatalf("%v printed %d lines, want %d", argv, n, want)
	}
	return d
}

func secs(d time.Duration) string { return fmt.Sprintf("%.2f s", d.Seconds()) }

func rate(v float64) string { return fmt.Sprintf("%.0f MiB/s", v) }
