package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ossmount/ossmount/test/mounttest"
)

// A mountpoint holding a FUSE mount whose server is alive but does not
// answer (here: stopped with SIGSTOP, reached through a second path so
// that the mountpoint lock does not answer first) gets a clear error, not
// an ossmount that hangs in statfs(2) for ever.
func TestMountOverHungMountFails(t *testing.T) {
	e := startWithObjects(t, "hung", map[string]string{"a.txt": "a"})
	parent := t.TempDir()
	mnt := filepath.Join(parent, "mnt")
	if err := os.Mkdir(mnt, 0o755); err != nil {
		t.Fatal(err)
	}
	logFile := filepath.Join(t.TempDir(), "log")
	if _, stderr, err := run(t, e.baseEnv(), "--path-style", "--log-file", logFile, "hung", mnt); err != nil {
		t.Fatalf("mount: %v\n%s", err, stderr)
	}
	pid := mounttest.MountPID(logFile)
	t.Cleanup(func() { mounttest.Unmount(mnt, pid) })

	other := t.TempDir()
	if out, err := exec.Command("mount", "--rbind", parent, other).CombinedOutput(); err != nil {
		t.Fatalf("mount --rbind: %v %s", err, out)
	}
	alias := filepath.Join(other, "mnt")
	t.Cleanup(func() { exec.Command("umount", "-l", other).Run() })

	syscall.Kill(pid, syscall.SIGSTOP)
	t.Cleanup(func() { syscall.Kill(pid, syscall.SIGCONT) })
	// kill(2) returns before every thread has stopped; one still running
	// would answer the probe.
	if !mounttest.WaitFor(mounttest.HangGuard, func() bool { return allThreadsStopped(pid) }) {
		t.Fatalf("daemon %d did not stop", pid)
	}

	// ossmount must say what is wrong within its probe bound. It may not be
	// able to exit before the stopped server runs again: a statfs(2) that
	// the server has already read waits for its answer uninterruptibly.
	outFile := tempFile(t, "out")
	cmd := exec.Command(ossmountBin, "-f", "--path-style", "hung", alias)
	cmd.Env = e.baseEnv()
	cmd.Stdout, cmd.Stderr = outFile, outFile
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	said := mounttest.WaitFor(mounttest.HangGuard, func() bool { return strings.Contains(readFile(t, outFile.Name()), "does not answer") })
	syscall.Kill(pid, syscall.SIGCONT)
	select {
	case err := <-exited:
		if err == nil {
			t.Errorf("ossmount over a mount that does not answer exited 0")
		}
	case <-time.After(mounttest.HangGuard):
		cmd.Process.Kill()
		t.Errorf("ossmount did not exit within %v once the stopped server ran again", mounttest.HangGuard)
	}
	out := readFile(t, outFile.Name())
	if !said || !strings.Contains(out, "already mounted") {
		t.Fatalf("output %q: want an \"already mounted ... does not answer\" error within %v", out, mounttest.HangGuard)
	}
}

// allThreadsStopped reports whether every thread of pid is in state T.
func allThreadsStopped(pid int) bool {
	tasks, err := os.ReadDir("/proc/" + strconv.Itoa(pid) + "/task")
	if err != nil || len(tasks) == 0 {
		return false
	}
	for _, task := range tasks {
		data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/task/" + task.Name() + "/stat")
		if err != nil {
			return false
		}
		_, after, _ := strings.Cut(string(data), ") ")
		if !strings.HasPrefix(after, "T") && !strings.HasPrefix(after, "t") {
			return false
		}
	}
	return true
}
