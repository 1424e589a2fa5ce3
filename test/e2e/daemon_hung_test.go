package e2e

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/ossmount/ossmount/test/emulator"
	"github.com/ossmount/ossmount/test/mounttest"
)

// A mountpoint holding a FUSE mount whose server is alive but does not
// answer (here: stopped with SIGSTOP, reached through a second path so
// that the mountpoint lock does not answer first) gets a clear error, not
// an ossmount that hangs in statfs(2) for ever.
func TestMountOverHungMountFails(t *testing.T) {
	e := startEmulator(t, emulator.Config{})
	e.emu.PutObject("hung", "a.txt", []byte("a"))
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

	ctx, cancel := context.WithTimeout(context.Background(), hangGuard)
	defer cancel()
	cmd := exec.CommandContext(ctx, ossmountBin, "-f", "--path-style", "hung", alias)
	cmd.Env = e.baseEnv()
	out, err := cmd.CombinedOutput()
	if ctx.Err() != nil {
		t.Fatalf("ossmount over a mount that does not answer hung for %v", hangGuard)
	}
	if err == nil || !strings.Contains(string(out), "already mounted") || !strings.Contains(string(out), "does not answer") {
		t.Fatalf("err %v, output %q: want an \"already mounted ... does not answer\" error", err, out)
	}
}
