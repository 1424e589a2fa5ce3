package bench

import (
	"bufio"
	"bytes"
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
)

// mounted is a live FUSE mount served by process pid.
type mounted struct {
	dir  string
	pid  int
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
	cmd.Env = []string{
		"PATH=" + os.Getenv("PATH"),
		"HOME=" + tmp,
		"OSS_ENDPOINT=" + emu.OSSURL(),
		"OSS_REGION=cn-hangzhou",
		"ALIBABA_CLOUD_STS_ENDPOINT=" + emu.STSURL(),
		"ALIBABA_CLOUD_ACCESS_KEY_ID=" + emulator.DemoAccessKeyID,
		"ALIBABA_CLOUD_ACCESS_KEY_SECRET=" + emulator.DemoAccessKeySecret,
		"ALIBABA_CLOUD_ROLE_ARN=" + emulator.DemoRoleARN,
		"ALIBABA_CLOUD_ECS_METADATA_DISABLED=true",
	}
	// Files, not pipes: the daemon keeps stderr open after the parent exits.
	outFile := filepath.Join(tmp, "stdout")
	out, err := os.Create(outFile)
	if err != nil {
		b.Fatal(err)
	}
	defer out.Close()
	cmd.Stdout, cmd.Stderr = out, out
	err = cmd.Run()
	m := &mounted{dir: mnt, pid: mountPID(logFile)}
	b.Cleanup(func() { m.unmount(b) })
	if err != nil || !isMounted(mnt) {
		output, _ := os.ReadFile(outFile)
		logText, _ := os.ReadFile(logFile)
		b.Fatalf("ossmount %v: %v (mounted: %v)\noutput: %s\nlog: %s", args, err, isMounted(mnt), output, logText)
	}
	if m.pid == 0 {
		b.Fatalf("no pid in the mounted log line of %s", logFile)
	}
	return m
}

// unmount unmounts m and waits for its process to end, killing it (by pid)
// if it outlives the unmount by 10 s. Calling it again does nothing.
func (m *mounted) unmount(b *testing.B) {
	if isMounted(m.dir) {
		if out, err := exec.Command("fusermount3", "-u", m.dir).CombinedOutput(); err != nil {
			b.Logf("fusermount3 -u %s: %v %s; detaching lazily", m.dir, err, out)
			exec.Command("fusermount3", "-u", "-z", m.dir).Run()
		}
	}
	if m.pid > 0 && !waitFor(10*time.Second, func() bool { return !processAlive(m.pid) }) {
		b.Errorf("mount process %d still running 10s after unmount; killing it", m.pid)
		if p, err := os.FindProcess(m.pid); err == nil {
			p.Kill()
		}
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

// mountPID reads the daemon's pid from the "mounted" log line.
func mountPID(logFile string) int {
	data, _ := os.ReadFile(logFile)
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		line := sc.Text()
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

func processAlive(pid int) bool {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	// A zombie has exited; its parent just has not reaped it yet.
	_, after, ok := strings.Cut(string(data), ") ")
	return ok && !strings.HasPrefix(after, "Z")
}

func isMounted(dir string) bool {
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

// waitFor polls cond until it holds or d passes.
func waitFor(d time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(20 * time.Millisecond)
	}
	return true
}
