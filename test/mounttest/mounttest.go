// Package mounttest runs bin/ossmount against the in-process emulator for
// the end-to-end tests and the benchmarks: the FUSE check, the binary, the
// environment of a mount, and telling whether a mount and its daemon are
// alive or gone. It also holds the one polling helper of every test in the
// tree (WaitFor, Await, HangGuard), package unit tests included. It is
// imported only by _test.go files.
package mounttest

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ossmount/ossmount/test/emulator"
)

// Binary returns $OSSMOUNT_BIN (set by the Makefile) or, when it is unset,
// builds cmd/ossmount into a new temporary directory; cleanup removes it.
func Binary() (path string, cleanup func(), err error) {
	if path := os.Getenv("OSSMOUNT_BIN"); path != "" {
		return path, func() {}, nil
	}
	dir, err := os.MkdirTemp("", "ossmount-bin")
	if err != nil {
		return "", nil, err
	}
	path = filepath.Join(dir, "ossmount")
	out, err := exec.Command("go", "build", "-o", path, "github.com/ossmount/ossmount/cmd/ossmount").CombinedOutput()
	if err != nil {
		os.RemoveAll(dir)
		return "", nil, fmt.Errorf("building ossmount: %v\n%s", err, out)
	}
	return path, func() { os.RemoveAll(dir) }, nil
}

// CheckFUSE says what this machine lacks to mount through FUSE: the
// /dev/fuse device and fusermount3 (which the daemon and Unmount use).
// Tests that mount fail on it, never skip: a machine without FUSE must not
// report green having tested nothing.
func CheckFUSE() error {
	if _, err := os.Stat("/dev/fuse"); err != nil {
		return fmt.Errorf("FUSE is required and missing: /dev/fuse: %v (modprobe fuse; in a container, --device /dev/fuse)", err)
	}
	if _, err := exec.LookPath("fusermount3"); err != nil {
		return fmt.Errorf("FUSE is required and missing: fusermount3 is not installed (apt-get install fuse3)")
	}
	return nil
}

// Setup is the start of the TestMain of a suite that mounts bin/ossmount:
// it checks FUSE (CheckFUSE) and finds or builds the binary (Binary). On
// any failure it prints the cause prefixed with suite and exits with
// status 1, so the suite fails before any test runs.
func Setup(suite string) (bin string, cleanup func()) {
	if err := CheckFUSE(); err != nil {
		fmt.Fprintf(os.Stderr, "%s: %v\n", suite, err)
		os.Exit(1)
	}
	bin, cleanup, err := Binary()
	if err != nil {
		fmt.Fprintf(os.Stderr, "%s: %v\n", suite, err)
		os.Exit(1)
	}
	return bin, cleanup
}

// StartEmulator starts an in-process emulator with cfg, closed when tb
// ends; a failure to start fails tb.
func StartEmulator(tb testing.TB, cfg emulator.Config) *emulator.Server {
	tb.Helper()
	emu, err := emulator.Start(cfg)
	if err != nil {
		tb.Fatalf("starting emulator: %v", err)
	}
	tb.Cleanup(func() { emu.Close() })
	return emu
}

// Env is the whole environment of an ossmount run against emu: the demo RAM
// user as source credential, the emulator's endpoints, HOME at home (so no
// credentials file of the machine is read) and the ECS metadata service
// off, so that nothing can reach a real cloud.
func Env(emu *emulator.Server, home string) []string {
	return []string{
		"PATH=" + os.Getenv("PATH"),
		"HOME=" + home,
		"OSS_ENDPOINT=" + emu.OSSURL(),
		"OSS_REGION=" + emu.Region(),
		"ALIBABA_CLOUD_STS_ENDPOINT=" + emu.STSURL(),
		"ALIBABA_CLOUD_ACCESS_KEY_ID=" + emulator.DemoAccessKeyID,
		"ALIBABA_CLOUD_ACCESS_KEY_SECRET=" + emulator.DemoAccessKeySecret,
		"ALIBABA_CLOUD_ROLE_ARN=" + emulator.DemoRoleARN,
		"ALIBABA_CLOUD_ECS_METADATA_DISABLED=true",
	}
}

// Unmount unmounts dir (lazily if it is busy) and waits for the daemon pid
// (0: unknown) to end. A daemon still running HangGuard later is killed and
// reported as an error.
func Unmount(dir string, pid int) error {
	if IsMounted(dir) {
		if err := exec.Command("fusermount3", "-u", dir).Run(); err != nil {
			exec.Command("fusermount3", "-u", "-z", dir).Run()
		}
	}
	if pid > 0 && !WaitFor(HangGuard, func() bool { return !ProcessAlive(pid) }) {
		if p, err := os.FindProcess(pid); err == nil {
			p.Kill()
		}
		return fmt.Errorf("ossmount (pid %d) still running %v after unmounting %s (hang guard); killed it", pid, HangGuard, dir)
	}
	return nil
}

// MountPID reads the daemon's pid from the first "mounted" line of its log.
func MountPID(logFile string) int {
	data, _ := os.ReadFile(logFile)
	scanner := bufio.NewScanner(bytes.NewReader(data))
	for scanner.Scan() {
		line := scanner.Text()
		if !strings.Contains(line, "msg=mounted") {
			continue
		}
		for _, field := range strings.Fields(line) {
			if v, ok := strings.CutPrefix(field, "pid="); ok {
				if pid, err := strconv.Atoi(v); err == nil {
					return pid
				}
			}
		}
	}
	return 0
}

// ProcessAlive reports whether pid runs; a zombie has exited, its parent
// just has not reaped it.
func ProcessAlive(pid int) bool {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	_, after, ok := strings.Cut(string(data), ") ")
	return ok && !strings.HasPrefix(after, "Z")
}

// IsMounted reports whether something is mounted exactly at dir.
func IsMounted(dir string) bool {
	data, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return false
	}
	for _, line := range strings.Split(string(data), "\n") {
		if f := strings.Fields(line); len(f) > 4 && f[4] == dir {
			return true
		}
	}
	return false
}

// HangGuard bounds a wait for something that must happen promptly (a
// mount appearing, a daemon exiting, a log line, a server going idle). It
// is not what a test asserts, only what stops a broken build from hanging
// the suite, so it is far above the second or two such waits take even on
// a loaded 2-core CI machine. A test failing on it reports what it last saw.
const HangGuard = 60 * time.Second

// WaitFor polls cond until it holds or d passes; it is the one polling
// helper of the tests (e2e, benchmarks, emulator and package unit tests).
// It polls every millisecond at first, backing off to every 20 ms, so a
// unit test waiting for a goroutine costs about a millisecond while a long
// wait does not spin. Pass HangGuard unless time itself is under test (a
// TTL, a timeout option); a bound that is the behaviour under test has its
// margin justified where it is passed, and the caller reports the time
// observed.
func WaitFor(d time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(d)
	for pause := time.Millisecond; !cond(); pause = min(2*pause, 20*time.Millisecond) {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(pause)
	}
	return true
}

// Await waits (WaitFor) until cond holds and fails t if it does not within
// HangGuard, naming what never happened: for waits whose bound is only a
// hang guard and whose caller has nothing more to report.
func Await(t testing.TB, what string, cond func() bool) {
	t.Helper()
	if !WaitFor(HangGuard, cond) {
		t.Fatalf("hang guard: waited %v for %s", HangGuard, what)
	}
}
