package main

import (
	"bufio"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// checkFUSE fails with the package to install when FUSE cannot work here.
func checkFUSE() error {
	if _, err := os.Stat("/dev/fuse"); err != nil {
		return fmt.Errorf("FUSE is not available: /dev/fuse is missing (load the module with `modprobe fuse`; in a container, run with --device /dev/fuse --cap-add SYS_ADMIN)")
	}
	if _, err := exec.LookPath("fusermount3"); err != nil {
		return fmt.Errorf("FUSE is not available: fusermount3 is not installed (install the fuse3 package: apt-get install fuse3, or dnf install fuse3)")
	}
	return nil
}

// prepareMountpoint resolves dir and checks that a mount can go there. A dead
// FUSE mount left by a killed process ("transport endpoint is not connected")
// is detached so that the new mount can take its place. It returns the
// mountpoint lock (lockMountpoint), to hold until the process ends.
func prepareMountpoint(dir string, logger *slog.Logger) (string, *os.File, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", nil, fmt.Errorf("mountpoint %s: %w", dir, err)
	}
	// Resolve symbolic links in the parent (never the mountpoint itself: a
	// dead mount cannot be looked at), as /proc/self/mountinfo shows paths.
	if parent, err := filepath.EvalSymlinks(filepath.Dir(abs)); err == nil {
		abs = filepath.Join(parent, filepath.Base(abs))
	}
	lock, err := lockMountpoint(abs)
	if err != nil {
		return "", nil, err
	}
	abs, err = checkMountpoint(abs, logger)
	if err != nil {
		lock.Close()
		return "", nil, err
	}
	return abs, lock, nil
}

// checkMountpoint fails unless a mount can go at abs, detaching a dead one.
func checkMountpoint(abs string, logger *slog.Logger) (string, error) {
	if fsType, mounted := mountedAt(abs); mounted {
		// statfs always reaches the FUSE server (stat may be answered from
		// the kernel's attribute cache), so it tells a dead mount apart.
		err := statfsWithin(abs, mountpointProbeTimeout)
		if errors.Is(err, errNoAnswer) {
			return "", fmt.Errorf("mountpoint %s is already mounted (%s) and its file system does not answer within %v: unmount it first with `fusermount3 -u -z %s`", abs, fsType, mountpointProbeTimeout, abs)
		}
		if !errors.Is(err, syscall.ENOTCONN) && !errors.Is(err, syscall.ECONNABORTED) {
			return "", fmt.Errorf("mountpoint %s is already mounted (%s): unmount it first with `fusermount3 -u %s`", abs, fsType, abs)
		}
		logger.Warn("mountpoint holds a dead FUSE mount (its process is gone); detaching it", "mountpoint", abs, "fstype", fsType)
		if out, err := exec.Command("fusermount3", "-u", "-z", abs).CombinedOutput(); err != nil {
			return "", fmt.Errorf("mountpoint %s holds a dead FUSE mount and `fusermount3 -u -z %s` failed: %s", abs, abs, strings.TrimSpace(string(out)))
		}
	}
	info, err := os.Stat(abs)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return "", fmt.Errorf("mountpoint %s does not exist (create it with `mkdir -p %s`)", abs, abs)
	case err != nil:
		return "", fmt.Errorf("mountpoint %s: %w", abs, err)
	case !info.IsDir():
		return "", fmt.Errorf("mountpoint %s is not a directory", abs)
	}
	return abs, nil
}

// mountpointProbeTimeout bounds the statfs(2) that tells a live mount from
// a dead one: a FUSE server that is stopped or stuck never answers it.
const mountpointProbeTimeout = 10 * time.Second

var errNoAnswer = errors.New("no answer")

// statfsWithin is statfs(2) on dir, or errNoAnswer after d. A call that does
// not return stays blocked in its goroutine; the process is about to exit
// with the error anyway.
func statfsWithin(dir string, d time.Duration) error {
	done := make(chan error, 1)
	go func() {
		var st syscall.Statfs_t
		done <- syscall.Statfs(dir, &st)
	}()
	select {
	case err := <-done:
		return err
	case <-time.After(d):
		return errNoAnswer
	}
}

// mountedAt reports whether something is mounted exactly at dir, from
// /proc/self/mountinfo, and its filesystem type.
func mountedAt(dir string) (string, bool) {
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return "", false
	}
	defer f.Close()
	scanner := bufio.NewScanner(f)
	for scanner.Scan() {
		fields := strings.Fields(scanner.Text())
		// id parent major:minor root mountpoint options ... - fstype source ...
		if len(fields) < 5 || unescapeMountinfo(fields[4]) != dir {
			continue
		}
		for i, f := range fields {
			if f == "-" && i+1 < len(fields) {
				return fields[i+1], true
			}
		}
		return "unknown", true
	}
	return "", false
}

// unescapeMountinfo undoes the octal escapes (\040 for space) of mountinfo.
func unescapeMountinfo(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) {
			var v byte
			if _, err := fmt.Sscanf(s[i+1:i+4], "%03o", &v); err == nil {
				b.WriteByte(v)
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}
