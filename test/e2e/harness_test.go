// Package e2e mounts bin/ossmount for real through /dev/fuse against the
// in-process emulator and checks what standard tools see. A machine without
// FUSE fails these tests loudly; they never skip.
package e2e

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ossmount/ossmount/test/emulator"
)

var ossmountBin string

func TestMain(m *testing.M) {
	if msg := fuseMissing(); msg != "" {
		fmt.Fprintln(os.Stderr, "e2e: FUSE is required and missing:", msg)
		os.Exit(1)
	}
	ossmountBin = os.Getenv("OSSMOUNT_BIN")
	cleanup := func() {}
	if ossmountBin == "" {
		dir, err := os.MkdirTemp("", "ossmount-e2e-bin")
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		cleanup = func() { os.RemoveAll(dir) }
		ossmountBin = filepath.Join(dir, "ossmount")
		out, err := exec.Command("go", "build", "-o", ossmountBin, "github.com/ossmount/ossmount/cmd/ossmount").CombinedOutput()
		if err != nil {
			fmt.Fprintf(os.Stderr, "e2e: building ossmount: %v\n%s", err, out)
			os.Exit(1)
		}
	}
	code := m.Run()
	cleanup()
	os.Exit(code)
}

func fuseMissing() string {
	if _, err := os.Stat("/dev/fuse"); err != nil {
		return "/dev/fuse does not exist (modprobe fuse)"
	}
	if _, err := exec.LookPath("fusermount3"); err != nil {
		return "fusermount3 is not installed (apt-get install fuse3)"
	}
	return ""
}

// env is one emulator plus what a mount of it needs.
type env struct {
	t   *testing.T
	emu *emulator.Server
}

func startEmulator(t *testing.T, cfg emulator.Config) *env {
	t.Helper()
	emu, err := emulator.Start(cfg)
	if err != nil {
		t.Fatalf("starting emulator: %v", err)
	}
	t.Cleanup(func() { emu.Close() })
	return &env{t: t, emu: emu}
}

// baseEnv is the process environment of an ossmount run: the demo RAM user
// as source credential, emulator endpoints, nothing inherited that could
// point it at a real cloud.
func (e *env) baseEnv() []string {
	return []string{
		"PATH=" + os.Getenv("PATH"),
		"HOME=" + e.t.TempDir(),
		"OSS_ENDPOINT=" + e.emu.OSSURL(),
		"OSS_REGION=cn-hangzhou",
		"ALIBABA_CLOUD_STS_ENDPOINT=" + e.emu.STSURL(),
		"ALIBABA_CLOUD_ACCESS_KEY_ID=" + emulator.DemoAccessKeyID,
		"ALIBABA_CLOUD_ACCESS_KEY_SECRET=" + emulator.DemoAccessKeySecret,
		"ALIBABA_CLOUD_ROLE_ARN=" + emulator.DemoRoleARN,
		"ALIBABA_CLOUD_ECS_METADATA_DISABLED=true",
	}
}

// run runs ossmount to completion with the given environment and arguments.
func run(t *testing.T, environ []string, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, ossmountBin, args...)
	cmd.Env = environ
	// Files, not pipes: a background mount keeps stderr open after the parent
	// exits, and a pipe would make Wait block until the mount ends.
	outFile, errFile := tempFile(t, "stdout"), tempFile(t, "stderr")
	cmd.Stdout, cmd.Stderr = outFile, errFile
	err = cmd.Run()
	return readFile(t, outFile.Name()), readFile(t, errFile.Name()), err
}

// mount mounts target in the background with extra flags and registers the
// unmount. It returns the mountpoint and the log file path.
func (e *env) mount(target string, flags ...string) (string, string) {
	t := e.t
	t.Helper()
	mnt := t.TempDir()
	logFile := filepath.Join(t.TempDir(), "ossmount.log")
	args := append([]string{"--path-style", "--log-file", logFile, "--log-level", "debug"}, flags...)
	args = append(args, target, mnt)
	_, stderr, err := run(t, e.baseEnv(), args...)
	if err != nil {
		t.Fatalf("ossmount %v: %v\nstderr: %s\nlog: %s", args, err, stderr, readFile(t, logFile))
	}
	if !isMounted(mnt) {
		t.Fatalf("ossmount exited 0 but %s is not a mountpoint\nlog: %s", mnt, readFile(t, logFile))
	}
	t.Cleanup(func() { unmountAndWait(t, mnt, logFile) })
	return mnt, logFile
}

// unmountAndWait unmounts mnt and makes sure the ossmount process ends.
func unmountAndWait(t *testing.T, mnt, logFile string) {
	pid := mountPID(logFile)
	if isMounted(mnt) {
		if out, err := exec.Command("fusermount3", "-u", mnt).CombinedOutput(); err != nil {
			t.Logf("fusermount3 -u %s: %v %s; detaching lazily", mnt, err, out)
			exec.Command("fusermount3", "-u", "-z", mnt).Run()
		}
	}
	if pid > 0 && !waitFor(10*time.Second, func() bool { return !processAlive(pid) }) {
		t.Errorf("ossmount (pid %d) still running 10s after unmount; killing it", pid)
		if p, err := os.FindProcess(pid); err == nil {
			p.Kill()
		}
	}
}

// mountPID reads the pid from the "mounted" log line.
func mountPID(logFile string) int {
	data, _ := os.ReadFile(logFile)
	scanner := bufio.NewScanner(bytes.NewReader(data))
	for scanner.Scan() {
		line := scanner.Text()
		if !strings.Contains(line, "msg=mounted") {
			continue
		}
		for _, field := range strings.Fields(line) {
			var pid int
			if _, err := fmt.Sscanf(field, "pid=%d", &pid); err == nil {
				return pid
			}
		}
	}
	return 0
}

func processAlive(pid int) bool {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	// A zombie has exited; its parent just has not reaped it.
	fields := strings.Fields(string(data))
	return len(fields) > 2 && fields[2] != "Z"
}

func isMounted(dir string) bool {
	data, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return false
	}
	for _, line := range strings.Split(string(data), "\n") {
		fields := strings.Fields(line)
		if len(fields) > 4 && fields[4] == dir {
			return true
		}
	}
	return false
}

// waitFor polls cond until it holds or d passes.
func waitFor(d time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(d)
	for {
		if cond() {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func tempFile(t *testing.T, name string) *os.File {
	f, err := os.Create(filepath.Join(t.TempDir(), name))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

func readFile(t *testing.T, path string) string {
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Sprintf("(cannot read %s: %v)", path, err)
	}
	return string(data)
}

// sh runs a shell command line in dir and returns its stdout.
func sh(t *testing.T, dir, script string) string {
	t.Helper()
	cmd := exec.Command("bash", "-c", "set -euo pipefail; "+script)
	cmd.Dir = dir
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s: %v\nstderr: %s", script, err, errb.String())
	}
	return out.String()
}
