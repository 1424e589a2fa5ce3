package e2e

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ossmount/ossmount/test/emulator"
	"github.com/ossmount/ossmount/test/mounttest"
)

// startupPID finds the daemon's pid in the start-up message
// "ossmount: mounted oss://b/ at /mnt (pid N); logs: ...".
func startupPID(out string) int {
	m := regexp.MustCompile(`\(pid (\d+)\)`).FindStringSubmatch(out)
	if m == nil {
		return 0
	}
	pid, _ := strconv.Atoi(m[1])
	return pid
}

// cleanupMount unmounts mnt at the end of the test and waits for pid.
func cleanupMount(t *testing.T, mnt string, pid *int) {
	t.Cleanup(func() {
		if err := mounttest.Unmount(mnt, *pid); err != nil {
			t.Error(err)
		}
	})
}

// `out=$(ossmount ... 2>&1)` returns once the mount is live, the output says
// where the logs go, and the daemon holds none of the caller's descriptors.
func TestBackgroundMountDetachesFromCaller(t *testing.T) {
	e := startWithObjects(t, "det", map[string]string{"a.txt": "hello"})
	mnt := t.TempDir()
	var pid int
	cleanupMount(t, mnt, &pid)

	ctx, cancel := context.WithTimeout(context.Background(), mounttest.HangGuard)
	defer cancel()
	script := `out=$("$OSSMOUNT" --path-style det "$MNT" 2>&1); rc=$?; printf '%s\n' "$out"; exit $rc`
	cmd := exec.CommandContext(ctx, "bash", "-c", script)
	cmd.Env = append(e.baseEnv(), "OSSMOUNT="+ossmountBin, "MNT="+mnt)
	cmd.WaitDelay = 5 * time.Second
	outb, err := cmd.Output()
	out := string(outb)
	if ctx.Err() != nil {
		t.Fatalf("out=$(ossmount ... 2>&1) did not return within %v (the daemon kept the caller's stderr)", mounttest.HangGuard)
	}
	if err != nil {
		t.Fatalf("ossmount: %v\noutput: %s", err, out)
	}
	pid = startupPID(out)
	want := fmt.Sprintf("ossmount: mounted oss://det/ at %s (pid ", mnt)
	// Where the logs go depends on the machine: syslog if one listens.
	if !strings.Contains(out, want) || pid == 0 ||
		!strings.Contains(out, "; logs: none (no --log-file") && !strings.Contains(out, "; logs: syslog (/dev/log)") {
		t.Fatalf("start-up output %q: want %q ... \"; logs: none (no --log-file...\" or \"; logs: syslog (/dev/log)\"", out, want)
	}
	for fd := 0; fd <= 2; fd++ {
		target, err := os.Readlink(fmt.Sprintf("/proc/%d/fd/%d", pid, fd))
		if err != nil || target != os.DevNull {
			t.Errorf("daemon fd %d → %q (%v), want %s", fd, target, err, os.DevNull)
		}
	}
	if got := readFile(t, filepath.Join(mnt, "a.txt")); got != "hello" {
		t.Fatalf("read through the mount: %q", got)
	}
}

// With --log-file the daemon's stdout and stderr become the log file once the
// mount is live (so even a crash report lands there), and the start-up output
// names it.
func TestBackgroundMountLogsToLogFile(t *testing.T) {
	e := startWithObjects(t, "det", map[string]string{"a.txt": "hello"})
	mnt := t.TempDir()
	logFile := filepath.Join(t.TempDir(), "ossmount.log")
	_, stderr, err := run(t, e.baseEnv(), "--path-style", "--log-file", logFile, "det", mnt)
	pid := startupPID(stderr)
	cleanupMount(t, mnt, &pid)
	if err != nil {
		t.Fatalf("ossmount: %v\n%s", err, stderr)
	}
	if !strings.Contains(stderr, "; logs: "+logFile) {
		t.Fatalf("start-up output %q does not name the log file %s", stderr, logFile)
	}
	for fd, want := range []string{os.DevNull, logFile, logFile} {
		if target, err := os.Readlink(fmt.Sprintf("/proc/%d/fd/%d", pid, fd)); err != nil || target != want {
			t.Errorf("daemon fd %d → %q (%v), want %s", fd, target, err, want)
		}
	}
}

// A mount whose caller's stderr was a pipe keeps serving after the pipe's
// reader exits, while it logs (--log-level debug logs every listing): no
// SIGPIPE, in the background and with -f.
func TestMountSurvivesClosedStderrPipe(t *testing.T) {
	for _, mode := range []string{"background", "foreground"} {
		t.Run(mode, func(t *testing.T) {
			e := startEmulator(t, emulator.Config{})
			for i := range 20 {
				e.emu.PutObject("pipe", fmt.Sprintf("d%d/f.txt", i), []byte("x"))
			}
			mnt := t.TempDir()
			readEnd, writeEnd, err := os.Pipe()
			if err != nil {
				t.Fatal(err)
			}
			args := []string{"--path-style", "--log-level", "debug", "pipe", mnt}
			if mode == "foreground" {
				args = append([]string{"-f"}, args...)
			}
			cmd := exec.Command(ossmountBin, args...)
			cmd.Env = e.baseEnv()
			cmd.Stdout, cmd.Stderr = writeEnd, writeEnd
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			writeEnd.Close()
			pid := 0
			cleanupMount(t, mnt, &pid)
			if mode == "foreground" {
				pid = cmd.Process.Pid
				t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
			}
			// Read until the mount is live, then the reader goes away.
			lines := make(chan string, 100)
			go func() {
				sc := bufio.NewScanner(readEnd)
				for sc.Scan() {
					select {
					case lines <- sc.Text():
					default: // never let the daemon block on a full pipe
					}
				}
				close(lines)
			}()
			if !mounttest.WaitFor(mounttest.HangGuard, func() bool { return mounttest.IsMounted(mnt) }) {
				t.Fatalf("mount did not appear")
			}
			if mode == "background" {
				if err := cmd.Wait(); err != nil {
					t.Fatalf("ossmount: %v", err)
				}
				// The parent printed the start-up line before it exited.
				deadline := time.After(mounttest.HangGuard)
			drain:
				for pid == 0 {
					select {
					case l, ok := <-lines:
						if !ok {
							break drain
						}
						pid = startupPID(l)
					case <-deadline:
						t.Errorf("no start-up line with the pid within %v", mounttest.HangGuard)
						break drain
					}
				}
			}
			readEnd.Close()

			for i := range 20 {
				dir := filepath.Join(mnt, fmt.Sprintf("d%d", i))
				if _, err := os.ReadDir(dir); err != nil {
					t.Fatalf("readdir %s after the stderr reader exited: %v (daemon alive: %v)", dir, err, mounttest.ProcessAlive(pid))
				}
			}
			if pid == 0 || !mounttest.ProcessAlive(pid) {
				t.Fatalf("daemon (pid %d) is gone", pid)
			}
		})
	}
}
