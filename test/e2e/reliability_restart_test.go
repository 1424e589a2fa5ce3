package e2e

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/ossmount/ossmount/test/mounttest"
)

// SIGTERM to a background mount while a file is held open still leaves no
// mount behind (the lazy-unmount path) and the process ends.
func TestSIGTERMWithOpenFileLeavesNoMount(t *testing.T) {
	e, mnt, logFile := mountObject(t, "term", "held.txt", "held open")
	pid := daemonPID(t, logFile)
	f, err := os.Open(filepath.Join(mnt, "held.txt"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	cwd, err := os.Open(mnt) // a directory held open too
	if err != nil {
		t.Fatal(err)
	}
	defer cwd.Close()

	start := time.Now()
	if err := syscall.Kill(pid, syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if !mounttest.WaitFor(mounttest.HangGuard, func() bool { return !mounttest.ProcessAlive(pid) }) {
		t.Fatalf("hang guard: ossmount still running %v after SIGTERM with a file open\nlog:\n%s", mounttest.HangGuard, tail(readFile(t, logFile), 3000))
	}
	if mounttest.IsMounted(mnt) {
		t.Fatalf("%s still mounted after SIGTERM with a file open\nlog:\n%s", mnt, tail(readFile(t, logFile), 3000))
	}
	t.Logf("process gone and mount detached %v after SIGTERM with a file open", time.Since(start).Round(time.Millisecond))
	// The held descriptor now belongs to a detached mount: it fails, it does not hang.
	done := make(chan error, 1)
	go func() { _, err := f.ReadAt(make([]byte, 4), 0); done <- err }()
	select {
	case err := <-done:
		t.Logf("read on the held descriptor after the mount ended: %v", err)
	case <-time.After(mounttest.HangGuard):
		t.Fatalf("hang guard: read on a descriptor of the terminated mount still blocked after %v", mounttest.HangGuard)
	}
	// The mountpoint is an ordinary empty directory again and can be remounted.
	if entries, err := os.ReadDir(mnt); err != nil || len(entries) != 0 {
		t.Fatalf("mountpoint after SIGTERM: %v entries, %v", len(entries), err)
	}
	logFile2 := filepath.Join(t.TempDir(), "again.log")
	if _, stderr, err := run(t, e.baseEnv(), "--path-style", "--log-file", logFile2, "term", mnt); err != nil {
		t.Fatalf("remount: %v\n%s", err, stderr)
	}
	t.Cleanup(func() { unmountAndWait(t, mnt, logFile2) })
	if got, err := os.ReadFile(filepath.Join(mnt, "held.txt")); err != nil || string(got) != "held open" {
		t.Fatalf("read after remount: %q %v", got, err)
	}
}
