package e2e

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/ossmount/ossmount/test/emulator"
)

// procStatusKiB reads one "Name:  N kB" field of /proc/PID/status.
func procStatusKiB(pid int, field string) (int, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(data), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == field+":" {
			return strconv.Atoi(f[1])
		}
	}
	return 0, fmt.Errorf("no %s in /proc/%d/status", field, pid)
}

// 300 concurrent sequential readers of 16 MiB objects, default flags: the
// daemon's peak RSS (VmHWM, the kernel's own high-water mark, so no
// sampling can miss the peak) stays under 256 MiB: the 128 MiB read-ahead
// budget plus what each handle and connection holds beyond it.
func TestMemoryManyReaders(t *testing.T) {
	const readers, size, seed, limitMiB = 300, 16 << 20, 13, 256
	e := startEmulator(t, emulator.Config{})
	e.emu.CreateBucket("mem", false)
	for i := 0; i < readers; i++ {
		e.emu.AddGenerated("mem", emulator.Generated{Keys: []string{fmt.Sprintf("f%03d.bin", i)}, Size: size, Seed: seed})
	}
	mnt, logFile := e.mount("mem")
	pid := daemonPID(t, logFile)
	start, _ := procStatusKiB(pid, "VmHWM")

	var wg sync.WaitGroup
	errs := make(chan error, readers)
	for i := 0; i < readers; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			f, err := os.Open(filepath.Join(mnt, fmt.Sprintf("f%03d.bin", i)))
			if err != nil {
				errs <- err
				return
			}
			defer f.Close()
			n, err := io.CopyBuffer(io.Discard, f, make([]byte, 128<<10))
			if err == nil && n != size {
				err = fmt.Errorf("f%03d.bin: %d bytes, want %d", i, n, size)
			}
			if err != nil {
				errs <- err
			}
		}(i)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("reader: %v", err)
	}
	peak, err := procStatusKiB(pid, "VmHWM")
	if err != nil {
		t.Fatal(err)
	}
	threads, _ := procStatusKiB(pid, "Threads") // not kB, but the same shape
	t.Logf("daemon peak RSS (VmHWM) %d MiB with %d readers of %d MiB (%d MiB before the reads, %d threads after)",
		peak>>10, readers, size>>20, start>>10, threads)
	if peak>>10 >= limitMiB {
		t.Errorf("peak RSS %d MiB with %d readers, want < %d MiB\nlog tail:\n%s", peak>>10, readers, limitMiB, tail(readFile(t, logFile), 2000))
	}
}
