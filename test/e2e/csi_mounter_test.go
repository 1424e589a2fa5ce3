package e2e

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ossmount/ossmount/csi/mountproto"
	"github.com/ossmount/ossmount/test/emulator"
	"github.com/ossmount/ossmount/test/mounttest"
)

// nobody is the unprivileged uid/gid the mounter runs as in these tests.
const nobody = 65534

// `ossmount mounter` as uid 65534 with no capabilities: it receives a
// mounted FUSE fd with a request, its child serves the mount with RRSA
// (AssumeRoleWithOIDC from a token file), and the bytes read through the
// mount are the emulator's. Bad requests and failing mounts come back as
// one-line errors.
func TestMounterServesFDAsNonRoot(t *testing.T) {
	e := startEmulator(t, emulator.Config{})
	want := bytes.Repeat([]byte("mounter "), 100_000)
	e.emu.PutObject("mounterbucket", "ds/x.bin", want)
	stateDir, socket := startMounter(t)

	tokenFile := filepath.Join(stateDir, "token")
	writeOwned(t, tokenFile, "pod-token-1")
	req := mountproto.Request{
		MountID: "m1", Target: "mounterbucket:/ds",
		Args:            []string{"--endpoint=" + e.emu.OSSURL(), "--region=" + e.emu.Region(), "--path-style", "--sts-endpoint=" + e.emu.STSURL()},
		RoleARN:         emulator.DemoRoleARN,
		OIDCProviderARN: emulator.DemoOIDCProviderARN,
		OIDCTokenFile:   tokenFile,
		LogFile:         filepath.Join(stateDir, "m1.log"),
	}
	mnt := t.TempDir()
	reply := sendMount(t, socket, req, mnt)
	if !reply.OK {
		t.Fatalf("mounter: %s\nlog:\n%s", reply.Error, readFile(t, req.LogFile))
	}
	if uid := processUID(t, reply.PID); uid != nobody {
		t.Errorf("child runs as uid %d, want %d", uid, nobody)
	}
	got, err := os.ReadFile(filepath.Join(mnt, "x.bin"))
	if err != nil || !bytes.Equal(got, want) {
		t.Fatalf("read: err %v, %d bytes\nlog:\n%s", err, len(got), readFile(t, req.LogFile))
	}
	// All children serve /dev/fd/4: a status socket named after it would be
	// shared, so they make none.
	if socks, _ := filepath.Glob(filepath.Join(os.TempDir(), fmt.Sprintf("ossmount-%d", nobody), "*.sock")); len(socks) != 0 {
		t.Errorf("fd mounts made status sockets: %v", socks)
	}
	if calls := e.emu.Counters().AssumeRoleCalls; len(calls) == 0 || calls[len(calls)-1].AccessKeyID != "" {
		t.Errorf("the child did not use AssumeRoleWithOIDC: %+v", calls)
	}
	if err := syscall.Unmount(mnt, 0); err != nil {
		t.Fatal(err)
	}
	if !mounttest.WaitFor(mounttest.HangGuard, func() bool { return !mounttest.ProcessAlive(reply.PID) }) {
		t.Errorf("hang guard: child %d still running %v after the unmount", reply.PID, mounttest.HangGuard)
	}

	t.Run("disallowed option", func(t *testing.T) {
		bad := req
		bad.MountID, bad.Args = "m2", append(bad.Args, "--policy-file=/etc/passwd")
		if r := sendMount(t, socket, bad, t.TempDir()); r.OK || !strings.Contains(r.Error, "not allowed") {
			t.Fatalf("reply %+v, want a refusal of --policy-file", r)
		}
	})
	t.Run("file outside the state dir", func(t *testing.T) {
		bad := req
		bad.MountID, bad.OIDCTokenFile = "m3", "/etc/shadow"
		if r := sendMount(t, socket, bad, t.TempDir()); r.OK || !strings.Contains(r.Error, "outside the state directory") {
			t.Fatalf("reply %+v, want a refusal of /etc/shadow", r)
		}
	})
	t.Run("child error", func(t *testing.T) {
		bad := req
		bad.MountID, bad.Target, bad.LogFile = "m4", "no-such-bucket", filepath.Join(stateDir, "m4.log")
		r := sendMount(t, socket, bad, t.TempDir())
		if r.OK || !strings.Contains(r.Error, "no-such-bucket") || strings.Contains(r.Error, "\n") {
			t.Fatalf("reply %+v, want the child's one-line error naming the bucket", r)
		}
	})
}

// startMounter runs bin/ossmount mounter as uid/gid 65534 and returns its
// state directory (owned by that uid) and socket.
func startMounter(t *testing.T) (stateDir, socket string) {
	t.Helper()
	stateDir, err := os.MkdirTemp("", "ossmount-mounter")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(stateDir) })
	if err := os.Chown(stateDir, nobody, nobody); err != nil {
		t.Fatal(err)
	}
	socket = filepath.Join(stateDir, "mounter.sock")
	logFile := filepath.Join(t.TempDir(), "mounter.log")
	out, err := os.Create(logFile)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { out.Close() })
	cmd := exec.Command(ossmountBin, "mounter", "--socket", socket, "--state-dir", stateDir, "--log-level", "debug")
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: nobody, Gid: nobody}}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Signal(syscall.SIGTERM); cmd.Wait() })
	if !mounttest.WaitFor(mounttest.HangGuard, func() bool { _, err := os.Stat(socket); return err == nil }) {
		t.Fatalf("hang guard: mounter socket %s did not appear\nlog:\n%s", socket, readFile(t, logFile))
	}
	return stateDir, socket
}

// sendMount mounts /dev/fuse at mnt, as the plugin does, and hands it to
// the mounter.
func sendMount(t *testing.T, socket string, req mountproto.Request, mnt string) mountproto.Reply {
	t.Helper()
	fuseFD := mountFUSEFD(t, mnt)
	defer fuseFD.Close()
	reply, err := mountproto.Send(socket, req, fuseFD, time.Now().Add(2*time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	return reply
}

func writeOwned(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(path, nobody, nobody); err != nil {
		t.Fatal(err)
	}
}

// processUID reads the real uid of pid from /proc.
func processUID(t *testing.T, pid int) int {
	t.Helper()
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, "Uid:"); ok {
			var uid int
			fmt.Sscan(v, &uid)
			return uid
		}
	}
	t.Fatalf("no Uid line for pid %d", pid)
	return -1
}
