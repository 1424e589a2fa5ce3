package bench

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ossmount/ossmount/test/emulator"
	"github.com/ossmount/ossmount/test/mounttest"
)

// mounted is a live FUSE mount served by process pid.
type mounted struct {
	dir  string
	pid  int
	log  string // the daemon's --log-file
	reap func() // waits for a child mount process; nil for a daemon
}

// mountOSS mounts the bench bucket with bin/ossmount (in the background, as
// users run it) and unmounts it, making sure the daemon ends, when b ends.
func mountOSS(b *testing.B, emu *emulator.Server, flags ...string) *mounted {
	b.Helper()
	if ossmountBin == "" {
		b.Fatal("OSSMOUNT_BIN is not set")
	}
	mnt := b.TempDir()
	tmp := b.TempDir()
	logFile := filepath.Join(tmp, "ossmount.log")
	args := append([]string{"--path-style", "--log-file", logFile}, flags...)
	args = append(args, bucket, mnt)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, ossmountBin, args...)
	cmd.Env = mounttest.Env(emu, tmp)
	// Files, not pipes: the daemon keeps stderr open after the parent exits.
	outFile := filepath.Join(tmp, "stdout")
	out, err := os.Create(outFile)
	if err != nil {
		b.Fatal(err)
	}
	defer out.Close()
	cmd.Stdout, cmd.Stderr = out, out
	err = cmd.Run()
	m := &mounted{dir: mnt, pid: mounttest.MountPID(logFile), log: logFile}
	b.Cleanup(func() { m.unmount(b) })
	if err != nil || !mounttest.IsMounted(mnt) {
		output, _ := os.ReadFile(outFile)
		logText, _ := os.ReadFile(logFile)
		b.Fatalf("ossmount %v: %v (mounted: %v)\noutput: %s\nlog: %s", args, err, mounttest.IsMounted(mnt), output, logText)
	}
	if m.pid == 0 {
		b.Fatalf("no pid in the mounted log line of %s", logFile)
	}
	return m
}

// unmount unmounts m and waits for its process to end, killing it (by pid)
// if it outlives the unmount by 10 s. Calling it again does nothing.
func (m *mounted) unmount(b *testing.B) {
	if err := mounttest.Unmount(m.dir, m.pid); err != nil {
		b.Error(err)
	}
	if m.reap != nil {
		m.reap()
	}
}

// resetPeak resets the process's peak RSS (VmHWM) so that the next
// peakRSS covers only what runs in between.
func (m *mounted) resetPeak() {
	os.WriteFile(fmt.Sprintf("/proc/%d/clear_refs", m.pid), []byte("5"), 0)
}

// peakRSS is VmHWM of the mount process in bytes (0 if unknown).
func (m *mounted) peakRSS() int64 {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", m.pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(data), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			return kb * KiB
		}
	}
	return 0
}

// path is name inside the mount.
func (m *mounted) path(name string) string { return filepath.Join(m.dir, name) }
