package csi_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	csipb "github.com/container-storage-interface/spec/lib/go/csi"
	"golang.org/x/sys/unix"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"github.com/ossmount/ossmount/test/emulator"
	"github.com/ossmount/ossmount/test/mounttest"
)

// Bytes read through a published target are the emulator's objects; the
// mount is read-only, nodev, nosuid; the token file is 0600 and owned by
// the mounter's uid; a republish is OK; unpublish removes the mount, the
// target and the state, and a second unpublish is OK.
func TestPublishReadsEmulatorObjects(t *testing.T) {
	n := newNode(t, emulator.Config{})
	objects := map[string][]byte{
		"train/a.bin":     bytes.Repeat([]byte("a"), 3<<20+17),
		"train/sub/b.txt": []byte("hello"),
	}
	for k, v := range objects {
		n.emu.PutObject("dataset", k, v)
	}
	p := n.startPlugin()
	volCtx := n.volumeContext("dataset:/train", "token-A")
	target := n.publish(p, "pv-dataset", volCtx, nil)

	for key, want := range objects {
		got, err := os.ReadFile(filepath.Join(target, strings.TrimPrefix(key, "train/")))
		if err != nil || !bytes.Equal(got, want) {
			t.Fatalf("%s: err %v, %d bytes, want %d", key, err, len(got), len(want))
		}
	}
	var st syscall.Statfs_t
	if err := syscall.Statfs(target, &st); err != nil {
		t.Fatal(err)
	}
	for _, flag := range []int64{unix.ST_RDONLY, unix.ST_NODEV, unix.ST_NOSUID} {
		if st.Flags&flag == 0 {
			t.Errorf("mount flags %#x lack %#x", st.Flags, flag)
		}
	}
	var rootStat syscall.Stat_t
	if err := syscall.Stat(target, &rootStat); err != nil {
		t.Fatal(err)
	}
	bdi := fmt.Sprintf("/sys/class/bdi/%d:%d/read_ahead_kb", unix.Major(rootStat.Dev), unix.Minor(rootStat.Dev))
	if got := strings.TrimSpace(readFile(bdi)); got != "1024" {
		t.Errorf("%s = %s, want 1024 (1 MiB, ossmount's max_read)", bdi, got)
	}
	if err := os.WriteFile(filepath.Join(target, "new"), nil, 0o644); err == nil {
		t.Errorf("creating a file on the volume succeeded")
	}
	tokenFile := filepath.Join(filepath.Dir(n.logOf(target)), "token")
	if fi, err := os.Stat(tokenFile); err != nil || fi.Mode().Perm() != 0o600 || fi.Sys().(*syscall.Stat_t).Uid != nobody {
		t.Errorf("token file: %v %v", fi, err)
	}
	if readFile(tokenFile) != "token-A" {
		t.Errorf("token file holds %q", readFile(tokenFile))
	}

	pid := n.childPID(target)
	req := &csipb.NodePublishVolumeRequest{VolumeId: "pv-dataset", TargetPath: target,
		VolumeCapability: mountCapability(""), VolumeContext: volCtx}
	if _, err := p.client.NodePublishVolume(context.Background(), req); err != nil {
		t.Fatalf("republish: %v", err)
	}
	if pid == 0 || n.childPID(target) != pid {
		t.Errorf("republish of a live mount replaced its process (%d -> %d)", pid, n.childPID(target))
	}
	other := proto.Clone(req).(*csipb.NodePublishVolumeRequest)
	other.VolumeId = "pv-other"
	if _, err := p.client.NodePublishVolume(context.Background(), other); status.Code(err) != codes.AlreadyExists {
		t.Errorf("publishing another volume at a used target: %v, want AlreadyExists", err)
	}

	stateDir := filepath.Dir(n.logOf(target))
	unpublish := &csipb.NodeUnpublishVolumeRequest{VolumeId: "pv-dataset", TargetPath: target}
	for i := 0; i < 2; i++ {
		if _, err := p.client.NodeUnpublishVolume(context.Background(), unpublish); err != nil {
			t.Fatalf("unpublish %d: %v", i, err)
		}
	}
	if mounttest.IsMounted(target) {
		t.Errorf("%s still mounted", target)
	}
	if _, err := os.Stat(target); !os.IsNotExist(err) {
		t.Errorf("target not removed: %v", err)
	}
	if _, err := os.Stat(stateDir); !os.IsNotExist(err) {
		t.Errorf("state %s not removed: %v", stateDir, err)
	}
	if !mounttest.WaitFor(mounttest.HangGuard, func() bool { return !mounttest.ProcessAlive(pid) }) {
		t.Errorf("hang guard: ossmount %d still running after unpublish", pid)
	}
}

// The pod's fsGroup becomes the files' group with group-readable modes, so
// a non-root pod in that group reads; PV mountOptions go through the
// allowlist, and a path or credential option is InvalidArgument.
func TestPublishFSGroupAndMountOptions(t *testing.T) {
	n := newNode(t, emulator.Config{})
	n.emu.PutObject("grp", "f.txt", []byte("group data"))
	p := n.startPlugin()
	target := filepath.Join(n.pods, "grp", "mount")
	os.MkdirAll(filepath.Dir(target), 0o755)
	t.Cleanup(func() { cleanupTarget(target) })
	req := &csipb.NodePublishVolumeRequest{VolumeId: "grp", TargetPath: target,
		VolumeCapability: mountCapability("4321", "metadata_ttl=5s", "ro"), VolumeContext: n.volumeContext("grp", "token-fsgroup")}
	if _, err := p.client.NodePublishVolume(context.Background(), req); err != nil {
		t.Fatalf("publish: %v\n%s", err, readFile(p.log))
	}
	fi, err := os.Stat(filepath.Join(target, "f.txt"))
	if err != nil {
		t.Fatal(err)
	}
	if gid := fi.Sys().(*syscall.Stat_t).Gid; gid != 4321 || fi.Mode().Perm() != 0o440 {
		t.Errorf("file gid %d mode %v, want 4321 and 0440", gid, fi.Mode().Perm())
	}
	// A non-root pod user with the fsGroup reads; one without it does not.
	// Open the test's own directories (never /tmp itself) to uid 1000.
	for dir := filepath.Dir(target); strings.HasPrefix(dir, os.TempDir()+"/"); dir = filepath.Dir(dir) {
		os.Chmod(dir, 0o755)
	}
	catAs := func(gid uint32) error {
		cmd := exec.Command("cat", filepath.Join(target, "f.txt"))
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 1000, Gid: gid}}
		out, err := cmd.CombinedOutput()
		if err == nil && string(out) != "group data" {
			err = fmt.Errorf("read %q", out)
		}
		return err
	}
	if err := catAs(4321); err != nil {
		t.Errorf("uid 1000 in the fsGroup cannot read: %v", err)
	}
	if err := catAs(1000); err == nil {
		t.Errorf("uid 1000 outside the fsGroup reads a 0440 file")
	}
	p.client.NodeUnpublishVolume(context.Background(), &csipb.NodeUnpublishVolumeRequest{VolumeId: "grp", TargetPath: target})

	for _, opt := range []string{"credentials_file=/etc/passwd", "policy-file=/x", "log_file=/tmp/x", "cache_dir=/", "metrics_addr=0.0.0.0:1"} {
		bad := proto.Clone(req).(*csipb.NodePublishVolumeRequest)
		bad.VolumeCapability = mountCapability("", opt)
		_, err := p.client.NodePublishVolume(context.Background(), bad)
		if status.Code(err) != codes.InvalidArgument {
			t.Errorf("mount option %s: %v, want InvalidArgument", opt, err)
		}
	}
	if mounttest.IsMounted(target) {
		t.Errorf("a refused publish left a mount")
	}
}

// With no service account token, a nodePublishSecretRef AccessKey is
// written as a 0600 credentials file that only the child's
// --credentials-file names: never in its environment or arguments.
func TestPublishAccessKeyFallback(t *testing.T) {
	n := newNode(t, emulator.Config{})
	n.emu.PutObject("akbucket", "k", []byte("ak data"))
	p := n.startPlugin()
	secrets := map[string]string{"akId": emulator.DemoAccessKeyID, "akSecret": emulator.DemoAccessKeySecret}
	volCtx := n.volumeContext("akbucket", "")
	volCtx["memoryLimit"] = "300MiB"
	target := n.publish(p, "akbucket", volCtx, secrets)
	if got := readFile(filepath.Join(target, "k")); got != "ak data" {
		t.Fatalf("read %q", got)
	}
	pid := n.childPID(target)
	for _, f := range []string{"cmdline", "environ"} {
		data, _ := os.ReadFile(filepath.Join("/proc", itoa(pid), f))
		if len(data) == 0 || bytes.Contains(data, []byte(emulator.DemoAccessKeySecret)) || bytes.Contains(data, []byte(emulator.DemoAccessKeyID)) {
			t.Errorf("/proc/%d/%s is empty or holds the AccessKey", pid, f)
		}
	}
	environ, _ := os.ReadFile(filepath.Join("/proc", itoa(pid), "environ"))
	for _, want := range []string{"GOMEMLIMIT=300MiB", "ALIBABA_CLOUD_ECS_METADATA_DISABLED=true"} {
		if !bytes.Contains(environ, []byte(want+"\x00")) {
			t.Errorf("child environment lacks %s", want)
		}
	}
	cred := filepath.Join(filepath.Dir(n.logOf(target)), "credentials")
	if fi, err := os.Stat(cred); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("credentials file: %v %v", fi, err)
	}
	if strings.Contains(readFile(p.log), emulator.DemoAccessKeySecret) {
		t.Errorf("the plugin log holds the secret")
	}
	if _, err := p.client.NodePublishVolume(context.Background(), &csipb.NodePublishVolumeRequest{VolumeId: "x", TargetPath: filepath.Join(n.pods, "x"),
		VolumeCapability: mountCapability(""), VolumeContext: n.volumeContext("akbucket", "")}); status.Code(err) != codes.InvalidArgument {
		t.Errorf("publish with neither token nor secret: %v, want InvalidArgument", err)
	}
}

func itoa(n int) string { return strconv.Itoa(n) }

// A mount that fails (here: no such bucket) returns ossmount's one-line
// error as the gRPC error and leaves no mount and no state behind.
func TestPublishFailureReturnsChildError(t *testing.T) {
	n := newNode(t, emulator.Config{})
	p := n.startPlugin()
	target := filepath.Join(n.pods, "missing", "mount")
	os.MkdirAll(filepath.Dir(target), 0o750)
	t.Cleanup(func() { cleanupTarget(target) })
	_, err := p.client.NodePublishVolume(context.Background(), &csipb.NodePublishVolumeRequest{VolumeId: "no-such-bucket", TargetPath: target,
		VolumeCapability: mountCapability(""), VolumeContext: n.volumeContext("no-such-bucket:/x", "token-missing")})
	msg := status.Convert(err).Message()
	if status.Code(err) != codes.Internal || !strings.Contains(msg, "no-such-bucket") || strings.Contains(msg, "\n") {
		t.Fatalf("publish of a missing bucket: %v, want ossmount's one-line error naming the bucket", err)
	}
	t.Logf("error: %s", msg)
	if mounttest.IsMounted(target) {
		t.Errorf("failed publish left a mount")
	}
	if left, _ := filepath.Glob(filepath.Join(n.stateDir, "mounts", "*")); len(left) != 0 {
		t.Errorf("failed publish left state: %v", left)
	}
}
