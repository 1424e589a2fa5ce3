package e2e

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/ossmount/ossmount/test/mounttest"
)

// The signals users and tools commonly send leave the mount serving: PIPE
// and USR2 are ignored, USR1 logs a status line, HUP reopens the log file.
// Each is shown handled by its log line before the mount is read again.
func TestSignalsLeaveMountServing(t *testing.T) {
	_, mnt, logFile := mountObject(t, "sig", "a.txt", "alive")
	pid := daemonPID(t, logFile)
	for _, tc := range []struct {
		sig  syscall.Signal
		logs string
	}{
		{syscall.SIGPIPE, `msg="signal ignored" signal="broken pipe"`},
		{syscall.SIGUSR2, `msg="signal ignored" signal="user defined signal 2"`},
		{syscall.SIGUSR1, `msg=status mountpoint=` + mnt},
		{syscall.SIGHUP, `msg="log file reopened"`},
	} {
		if err := syscall.Kill(pid, tc.sig); err != nil {
			t.Fatal(err)
		}
		if !waitLog(logFile, mounttest.HangGuard, tc.logs) {
			t.Errorf("after %v: no %q in the log (daemon alive: %v)\nlog tail:\n%s", tc.sig, tc.logs, mounttest.ProcessAlive(pid), tail(readFile(t, logFile), 5))
		}
		if got, err := os.ReadFile(filepath.Join(mnt, "a.txt")); err != nil || string(got) != "alive" {
			t.Fatalf("read after %v: %q %v", tc.sig, got, err)
		}
	}
}

// logrotate's way: rename the log file, send HUP; the daemon writes on at
// the path, in a new file, and nothing more goes to the renamed one.
func TestSIGHUPReopensLogFileAfterRotation(t *testing.T) {
	_, mnt, logFile := mountObject(t, "rot", "a.txt", "alive")
	pid := daemonPID(t, logFile)
	rotated := logFile + ".1"
	if err := os.Rename(logFile, rotated); err != nil {
		t.Fatal(err)
	}
	syscall.Kill(pid, syscall.SIGHUP)
	if !waitLog(logFile, mounttest.HangGuard, `msg="log file reopened"`) {
		t.Fatalf("no new log file at %s after SIGHUP (daemon alive: %v)\nrotated:\n%s", logFile, mounttest.ProcessAlive(pid), tail(readFile(t, rotated), 5))
	}
	before := readFile(t, rotated)
	syscall.Kill(pid, syscall.SIGUSR1) // one more line, which must go to the new file
	if !waitLog(logFile, mounttest.HangGuard, "msg=status") {
		t.Fatalf("status line did not reach the reopened log file:\n%s", readFile(t, logFile))
	}
	if after := readFile(t, rotated); after != before || strings.Contains(after, "msg=status") {
		t.Fatalf("the rotated file still receives lines:\n%s", tail(after, 3))
	}
	if got, err := os.ReadFile(filepath.Join(mnt, "a.txt")); err != nil || string(got) != "alive" {
		t.Fatalf("read after rotation: %q %v", got, err)
	}
	// The daemon's stderr follows the log file, so a crash report would too.
	if target, err := os.Readlink("/proc/" + strconv.Itoa(pid) + "/fd/2"); err != nil || target != logFile {
		t.Errorf("daemon stderr → %q (%v), want the new %s", target, err, logFile)
	}
}

// SIGQUIT (Ctrl-\) ends the mount as SIGTERM does, instead of Go's default
// of dumping goroutines and leaving a dead mount.
func TestSIGQUITUnmounts(t *testing.T) {
	_, mnt, logFile := mountObject(t, "quit", "a.txt", "a")
	pid := daemonPID(t, logFile)
	syscall.Kill(pid, syscall.SIGQUIT)
	if !mounttest.WaitFor(mounttest.HangGuard, func() bool { return !mounttest.ProcessAlive(pid) }) {
		t.Fatalf("hang guard: daemon still running %v after SIGQUIT", mounttest.HangGuard)
	}
	if mounttest.IsMounted(mnt) {
		t.Fatalf("%s still mounted after SIGQUIT (a dead mount)\nlog tail:\n%s", mnt, tail(readFile(t, logFile), 5))
	}
}
