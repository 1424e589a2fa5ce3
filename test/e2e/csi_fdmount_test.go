package e2e

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/ossmount/ossmount/test/emulator"
	"github.com/ossmount/ossmount/test/mounttest"
)

// MOUNTPOINT /dev/fd/N: the test plays the CSI plugin, opening /dev/fuse and
// mounting it itself, and ossmount serves the inherited fd. Reads through the
// mount return the emulator's bytes, and the unmount ends ossmount.
func TestServeMountedFD(t *testing.T) {
	e := startEmulator(t, emulator.Config{})
	want := bytes.Repeat([]byte("fd mount "), 200_000)
	e.emu.PutObject("fdbucket", "data/a.bin", want)

	mnt := t.TempDir()
	fuseFD := mountFUSEFD(t, mnt)
	logFile := filepath.Join(t.TempDir(), "ossmount.log")
	cmd := exec.Command(ossmountBin, "-f", "--path-style", "--log-file", logFile, "--log-level", "debug",
		"fdbucket:/data", "/dev/fd/3")
	cmd.Env = e.baseEnv()
	cmd.ExtraFiles = []*os.File{fuseFD}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	fuseFD.Close() // the child holds it now
	var waitErr error
	exited := make(chan struct{})
	go func() { waitErr = cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		syscall.Unmount(mnt, syscall.MNT_DETACH)
		select {
		case <-exited:
		case <-time.After(mounttest.HangGuard):
			cmd.Process.Kill()
			t.Errorf("hang guard: ossmount still running %v after the unmount", mounttest.HangGuard)
		}
	})

	got, err := os.ReadFile(filepath.Join(mnt, "a.bin"))
	if err != nil || !bytes.Equal(got, want) {
		t.Fatalf("read through the fd mount: err %v, %d bytes, equal %v\nlog:\n%s", err, len(got), bytes.Equal(got, want), readFile(t, logFile))
	}
	if err := syscall.Unmount(mnt, 0); err != nil {
		t.Fatalf("unmount: %v", err)
	}
	select {
	case <-exited:
		if waitErr != nil {
			t.Fatalf("ossmount exited with %v after the unmount\nlog:\n%s", waitErr, readFile(t, logFile))
		}
	case <-time.After(mounttest.HangGuard):
		t.Fatalf("hang guard: ossmount still serving %v after the unmount", mounttest.HangGuard)
	}
}

// mountFUSEFD opens /dev/fuse and mounts it read-only at dir, as the CSI
// plugin does, and returns the open fd. The mount is detached at cleanup.
func mountFUSEFD(t *testing.T, dir string) *os.File {
	t.Helper()
	f, err := os.OpenFile("/dev/fuse", os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	data := fmt.Sprintf("fd=%d,rootmode=40000,user_id=0,group_id=0,allow_other,max_read=1048576", f.Fd())
	if err := syscall.Mount("ossmount", dir, "fuse.ossmount", syscall.MS_RDONLY|syscall.MS_NODEV|syscall.MS_NOSUID, data); err != nil {
		f.Close()
		t.Fatalf("mount(2) of /dev/fuse at %s: %v", dir, err)
	}
	t.Cleanup(func() {
		if mounttest.IsMounted(dir) {
			syscall.Unmount(dir, syscall.MNT_DETACH)
		}
	})
	return f
}
