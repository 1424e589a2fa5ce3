package e2e

import (
	"crypto/md5"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"syscall"
	"testing"

	"github.com/ossmount/ossmount/test/emulator"
)

// readRaw reads fd to the end with read(2) itself (os.File retries EINTR,
// which would hide it) and returns the MD5 of the bytes and their count.
func readRaw(fd int) (sum string, n int64, err error) {
	h := md5.New()
	buf := make([]byte, 1<<20)
	for {
		m, err := syscall.Read(fd, buf)
		if err != nil {
			return "", n, fmt.Errorf("read(2) at %d: %w", n, err)
		}
		if m == 0 {
			return hex.EncodeToString(h.Sum(nil)), n, nil
		}
		h.Write(buf[:m])
		n += int64(m)
	}
}

// Closing other descriptors of an open file (dup+close on another thread,
// forked children that inherited it and exit, as DataLoader workers do)
// sends FLUSH after FLUSH while one descriptor reads sequentially. The
// reader sees no error (no EINTR), exact bytes, and the read-ahead is not
// thrown away: the GETs stay near those of the same read with no closes.
func TestCloseOfOtherDescriptorKeepsReadAhead(t *testing.T) {
	const seed, size = 11, 64 << 20
	e := startEmulator(t, emulator.Config{})
	e.emu.CreateBucket("flush", false)
	for _, key := range []string{"alone.bin", "shared.bin"} {
		e.emu.AddGenerated("flush", emulator.Generated{Keys: []string{key}, Size: size, Seed: seed})
	}
	mnt, logFile := e.mount("flush")
	sh(t, mnt, "ls -l >/dev/null") // sizes and ETags cached: only GETs are counted below
	// Parts stay in flight long enough for closes to land on them.
	e.emu.SetFaults(emulator.Faults{BandwidthPerConn: 16 << 20})

	readFresh := func(key string, closer func(f *os.File, stop <-chan struct{}) int) (gets, closes int) {
		t.Helper()
		f, err := os.Open(filepath.Join(mnt, key))
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		before := e.emu.Counters().Requests["GetObject"]
		stop := make(chan struct{})
		closed := make(chan int, 1)
		go func() { closed <- closer(f, stop) }()
		sum, n, err := readRaw(int(f.Fd()))
		close(stop)
		closes = <-closed
		gets = e.emu.Counters().Requests["GetObject"] - before
		if err != nil || n != size || sum != generatedMD5(t, seed, key, size) {
			t.Fatalf("%s with %d closes of other descriptors: %d bytes, md5 %s, err %v; want %d exact bytes, no error\nlog tail:\n%s",
				key, closes, n, sum, err, size, tail(readFile(t, logFile), 3000))
		}
		return gets, closes
	}

	baseline, _ := readFresh("alone.bin", func(*os.File, <-chan struct{}) int { return 0 })
	gets, closes := readFresh("shared.bin", func(f *os.File, stop <-chan struct{}) int {
		runtime.LockOSThread() // another thread than the reader's, as in a real program
		defer runtime.UnlockOSThread()
		n := 0
		for {
			select {
			case <-stop:
				return n
			default:
			}
			if n%10 == 9 {
				// A forked child that inherited the descriptor exits.
				cmd := exec.Command("true")
				cmd.ExtraFiles = []*os.File{f}
				if err := cmd.Run(); err != nil {
					t.Errorf("fork: %v", err)
					return n
				}
			} else {
				dup, err := syscall.Dup(int(f.Fd()))
				if err != nil {
					t.Errorf("dup: %v", err)
					return n
				}
				if err := syscall.Close(dup); err != nil && !errors.Is(err, syscall.EINTR) {
					t.Errorf("close of a dup: %v", err)
				}
			}
			n++
		}
	})
	t.Logf("64 MiB read: %d GETs alone, %d GETs with %d closes of other descriptors meanwhile", baseline, gets, closes)
	if closes < 20 {
		t.Fatalf("only %d closes during the read: the test did not exercise FLUSH", closes)
	}
	// The read-ahead plan is the same with or without closes; parts that
	// happened to be cut by a FLUSH would be fetched again. A quarter more
	// covers the kernel's read-ahead landing differently between two runs.
	if limit := baseline + baseline/4 + 2; gets > limit {
		t.Errorf("%d GETs with closes of other descriptors, %d without: the closes threw read-ahead away (limit %d)", gets, baseline, limit)
	}
}
