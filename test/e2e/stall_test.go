package e2e

import (
	"bytes"
	"context"
	"errors"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ossmount/ossmount/test/emulator"
	"github.com/ossmount/ossmount/test/mounttest"
)

// readGuarded reads path in a goroutine so that a hang fails the test
// instead of blocking it; the faults are cleared on a hang to free it.
func readGuarded(t *testing.T, e *env, path, logFile string) ([]byte, error) {
	t.Helper()
	type result struct {
		data []byte
		err  error
	}
	done := make(chan result, 1)
	go func() { b, err := os.ReadFile(path); done <- result{b, err} }()
	select {
	case r := <-done:
		return r.data, r.err
	case <-time.After(mounttest.HangGuard):
		e.emu.SetFaults(emulator.Faults{})
		t.Fatalf("read of %s still blocked after %v\nlog tail:\n%s", path, mounttest.HangGuard, tail(readFile(t, logFile), 4000))
		return nil, nil
	}
}

// A GET body that stalls mid-object once is fetched again from where it
// stopped: the read completes with exact bytes. One that stalls every time
// fails the read with EIO and a log line naming the key, bytes read and
// request id; the mount keeps working.
func TestStalledGetBody(t *testing.T) {
	e := startEmulator(t, emulator.Config{})
	rng := rand.New(rand.NewPCG(7, 7))
	data := make([]byte, 3<<20)
	for i := range data {
		data[i] = byte(rng.UintN(256))
	}
	e.emu.PutObject("stall", "blob", data)
	e.emu.PutObject("stall", "blob2", data) // never read before the persistent stall: nothing cached
	e.emu.PutObject("stall", "small.txt", []byte("still here"))
	mnt, logFile := e.mount("stall", "--request-timeout", "1s")
	sh(t, mnt, "ls -l >/dev/null") // sizes cached: only GETs meet the stall

	t.Run("transient", func(t *testing.T) {
		e.emu.ResetCounters()
		e.emu.SetFaults(emulator.Faults{StallBodies: 1, StallAfter: 200_000, StallOps: "get"})
		defer e.emu.SetFaults(emulator.Faults{})
		got, err := readGuarded(t, e, filepath.Join(mnt, "blob"), logFile)
		if err != nil || !bytes.Equal(got, data) {
			t.Fatalf("read across a stalled body: %d bytes (exact %v), %v", len(got), bytes.Equal(got, data), err)
		}
		if cn := e.emu.Counters(); cn.StalledBodies != 1 {
			t.Fatalf("%d bodies stalled, want 1", cn.StalledBodies)
		}
		if !waitLog(logFile, mounttest.HangGuard, "resuming cut body", "made no progress") {
			t.Fatalf("no resumption logged:\n%s", tail(readFile(t, logFile), 4000))
		}
	})
	t.Run("persistent", func(t *testing.T) {
		e.emu.ResetCounters()
		// Headers, then not a byte: every attempt meets the stall. (A server
		// that sends some bytes before each stall makes progress, slowly,
		// and the read goes on: each read(2) is still bounded.)
		e.emu.SetFaults(emulator.Faults{StallBodies: -1, StallOps: "get"})
		_, err := readGuarded(t, e, filepath.Join(mnt, "blob2"), logFile)
		stalled := e.emu.Counters().StalledBodies
		e.emu.SetFaults(emulator.Faults{})
		if !errors.Is(err, syscall.EIO) {
			t.Fatalf("read of a body that stalls for good: %v, want EIO", err)
		}
		if stalled < 5 {
			t.Fatalf("%d stalled bodies: want every attempt (MaxAttempts 5) to have met the stall", stalled)
		}
		if !waitLog(logFile, mounttest.HangGuard, "operation failed", "key=blob2", "bytes read", "made no progress", "request id") {
			t.Fatalf("no log line for the failed read:\n%s", tail(readFile(t, logFile), 4000))
		}
		got, err := readGuarded(t, e, filepath.Join(mnt, "blob2"), logFile)
		if err != nil || !bytes.Equal(got, data) {
			t.Fatalf("read after the stall ended: %d bytes, %v", len(got), err)
		}
		if got := readFile(t, filepath.Join(mnt, "small.txt")); got != "still here" {
			t.Fatalf("another file after the stall: %q", got)
		}
	})
}

// A listing whose body stalls makes ls fail with EIO instead of hanging;
// once the server behaves, the same ls works.
func TestStalledListBody(t *testing.T) {
	e := startWithObjects(t, "stall", map[string]string{
		"top.txt":   "x",
		"dir/a.txt": "a",
		"dir/b.txt": "b",
	})
	mnt, logFile := e.mount("stall", "--request-timeout", "1s")

	e.emu.ResetCounters()
	e.emu.SetFaults(emulator.Faults{StallBodies: -1, StallAfter: 100, StallOps: "list"})
	ctx, cancel := context.WithTimeout(context.Background(), mounttest.HangGuard)
	defer cancel()
	out, err := exec.CommandContext(ctx, "ls", filepath.Join(mnt, "dir")).CombinedOutput()
	stalled := e.emu.Counters().StalledBodies
	e.emu.SetFaults(emulator.Faults{})
	if ctx.Err() != nil {
		t.Fatalf("ls still blocked after %v\nlog tail:\n%s", mounttest.HangGuard, tail(readFile(t, logFile), 4000))
	}
	if err == nil || !strings.Contains(string(out), "Input/output error") {
		t.Fatalf("ls during a stalled listing: %v %q, want Input/output error", err, out)
	}
	if stalled == 0 {
		t.Fatal("no listing met the stall")
	}
	if !waitLog(logFile, mounttest.HangGuard, "operation failed", "made no progress") {
		t.Fatalf("no log line for the failed listing:\n%s", tail(readFile(t, logFile), 4000))
	}
	if got := strings.Fields(sh(t, mnt, "ls dir")); strings.Join(got, " ") != "a.txt b.txt" {
		t.Fatalf("ls after the stall ended: %q", got)
	}
}
