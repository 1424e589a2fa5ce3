// Package csi_test runs the CSI node plugin for real: bin/ossmount-csi (or
// the csi package in process, for the sanity suite) mounting /dev/fuse,
// `bin/ossmount mounter` as uid 65534 serving the mounts, and the emulator
// behind them. A machine without FUSE fails these tests; they never skip.
package csi_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	csipb "github.com/container-storage-interface/spec/lib/go/csi"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/ossmount/ossmount/test/emulator"
	"github.com/ossmount/ossmount/test/mounttest"
)

// nobody is the unprivileged uid/gid the mounter runs as.
const nobody = 65534

var ossmountBin, pluginBin string

func TestMain(m *testing.M) {
	bin, cleanup := mounttest.Setup("csi e2e")
	ossmountBin = bin
	pluginBin = filepath.Join(filepath.Dir(bin), "ossmount-csi")
	if _, err := os.Stat(pluginBin); err != nil {
		out, err := exec.Command("go", "build", "-o", pluginBin, "github.com/ossmount/ossmount/cmd/ossmount-csi").CombinedOutput()
		if err != nil {
			fmt.Fprintf(os.Stderr, "csi e2e: building ossmount-csi: %v\n%s", err, out)
			os.Exit(1)
		}
	}
	code := m.Run()
	cleanup()
	os.Exit(code)
}

// node is one emulator, one mounter (uid 65534) and a state directory,
// the parts a plugin needs.
type node struct {
	t          *testing.T
	emu        *emulator.Server
	stateDir   string
	socket     string // the mounter's
	pods       string // a directory for target paths
	mounterLog string
}

func newNode(t *testing.T, cfg emulator.Config) *node {
	t.Helper()
	emu := mounttest.StartEmulator(t, cfg)
	stateDir, err := os.MkdirTemp("", "ossmount-csi-state")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(stateDir) })
	if err := os.Chown(stateDir, nobody, nobody); err != nil {
		t.Fatal(err)
	}
	n := &node{t: t, emu: emu, stateDir: stateDir, socket: filepath.Join(stateDir, "mounter.sock"), pods: t.TempDir()}
	n.startMounter()
	return n
}

func (n *node) startMounter() {
	t := n.t
	logFile := filepath.Join(t.TempDir(), "mounter.log")
	n.mounterLog = logFile
	out, err := os.Create(logFile)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { out.Close() })
	cmd := exec.Command(ossmountBin, "mounter", "--socket", n.socket, "--state-dir", n.stateDir, "--log-level", "debug")
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: nobody, Gid: nobody}}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Signal(syscall.SIGTERM); cmd.Wait() })
	if !mounttest.WaitFor(mounttest.HangGuard, func() bool { return accepts("unixpacket", n.socket) }) {
		t.Fatalf("hang guard: the mounter does not accept on its socket\n%s", readFile(logFile))
	}
}

// plugin is a running bin/ossmount-csi.
type plugin struct {
	cmd     *exec.Cmd
	exited  chan struct{}
	log     string
	client  csipb.NodeClient
	conn    *grpc.ClientConn
	address string
}

// startPlugin runs bin/ossmount-csi on a socket in the state directory
// and connects to it.
func (n *node) startPlugin() *plugin {
	t := n.t
	t.Helper()
	sock := filepath.Join(n.stateDir, "csi.sock")
	os.Remove(sock) // a killed plugin leaves its socket file
	p := &plugin{log: filepath.Join(t.TempDir(), "plugin.log"), exited: make(chan struct{}), address: "unix://" + sock}
	out, err := os.Create(p.log)
	if err != nil {
		t.Fatal(err)
	}
	p.cmd = exec.Command(pluginBin, "--endpoint", p.address, "--node-id", "node-1", "--mounter-socket", n.socket,
		"--state-dir", n.stateDir, "--state-dir-uid", "65534", "--state-dir-gid", "65534", "--log-level", "debug")
	p.cmd.Stdout, p.cmd.Stderr = out, out
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.cmd.Wait(); out.Close(); close(p.exited) }()
	t.Cleanup(p.kill)
	if !mounttest.WaitFor(mounttest.HangGuard, func() bool { return accepts("unix", sock) }) {
		t.Fatalf("hang guard: the plugin does not accept on its socket\n%s", readFile(p.log))
	}
	p.conn, err = grpc.NewClient(p.address, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.conn.Close() })
	p.client = csipb.NewNodeClient(p.conn)
	return p
}

// kill ends the plugin with SIGKILL, as a crash or an OOM kill would.
func (p *plugin) kill() {
	p.cmd.Process.Kill()
	<-p.exited
}

// volumeContext is what a PV's volumeAttributes plus kubelet's token
// request give the plugin for target (BUCKET[:/PREFIX]) on n's emulator.
func (n *node) volumeContext(target, token string) map[string]string {
	ctx := map[string]string{
		"target":                       target,
		"endpoint":                     n.emu.OSSURL(),
		"region":                       n.emu.Region(),
		"stsEndpoint":                  n.emu.STSURL(),
		"pathStyle":                    "true",
		"roleArn":                      emulator.DemoRoleARN,
		"oidcProviderArn":              emulator.DemoOIDCProviderARN,
		"csi.storage.k8s.io/pod.name":  "trainer-0",
		"csi.storage.k8s.io/ephemeral": "false",
	}
	if token != "" {
		tokens, _ := json.Marshal(map[string]any{"sts.aliyuncs.com": map[string]string{
			"token": token, "expirationTimestamp": time.Now().Add(time.Hour).UTC().Format(time.RFC3339)}})
		ctx["csi.storage.k8s.io/serviceAccount.tokens"] = string(tokens)
	}
	return ctx
}

// mountCapability is a read-only many-node mount, optionally with an
// fsGroup and PV mountOptions.
func mountCapability(group string, flags ...string) *csipb.VolumeCapability {
	return &csipb.VolumeCapability{
		AccessType: &csipb.VolumeCapability_Mount{Mount: &csipb.VolumeCapability_MountVolume{MountFlags: flags, VolumeMountGroup: group}},
		AccessMode: &csipb.VolumeCapability_AccessMode{Mode: csipb.VolumeCapability_AccessMode_MULTI_NODE_READER_ONLY},
	}
}

// publish publishes volume vol with ctx at a new target path and returns
// the path; the unpublish is registered for cleanup.
func (n *node) publish(p *plugin, vol string, volCtx map[string]string, secrets map[string]string) string {
	t := n.t
	t.Helper()
	target := filepath.Join(n.pods, strings.NewReplacer("/", "_", ":", "_").Replace(vol), "mount")
	if err := os.MkdirAll(filepath.Dir(target), 0o750); err != nil {
		t.Fatal(err)
	}
	_, err := p.client.NodePublishVolume(context.Background(), &csipb.NodePublishVolumeRequest{
		VolumeId: vol, TargetPath: target, VolumeCapability: mountCapability(""), VolumeContext: volCtx,
		Secrets: secrets, Readonly: true,
	})
	if err != nil {
		t.Fatalf("publish %s: %v\nplugin log:\n%s", vol, err, readFile(p.log))
	}
	t.Cleanup(func() { cleanupTarget(target) })
	return target
}

// cleanupTarget detaches whatever a failed test left at target.
func cleanupTarget(target string) {
	if mounttest.IsMounted(target) {
		syscall.Unmount(target, syscall.MNT_DETACH)
	}
}

// childPID finds the ossmount process serving the mount at target by
// its --log-file argument; 0 if none runs.
func (n *node) childPID(target string) int {
	want := "--log-file\x00" + n.logOf(target) + "\x00"
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		data, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err == nil && strings.Contains(string(data), want) {
			var pid int
			fmt.Sscan(e.Name(), &pid)
			return pid
		}
	}
	return 0
}

// logOf is the ossmount log file of the mount at target.
func (n *node) logOf(target string) string {
	matches, _ := filepath.Glob(filepath.Join(n.stateDir, "mounts", "*", "record.json"))
	for _, m := range matches {
		data, _ := os.ReadFile(m)
		var rec struct{ TargetPath string }
		if json.Unmarshal(data, &rec) == nil && rec.TargetPath == target {
			return filepath.Join(filepath.Dir(m), "ossmount.log")
		}
	}
	return ""
}

func readFile(path string) string {
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Sprintf("(cannot read %s: %v)", path, err)
	}
	return string(data)
}

// accepts reports whether a server listens on the unix socket. The socket
// file appears at bind(2), before listen(2): a test that only waits for the
// file can connect in between and be refused (seen once under load).
func accepts(network, path string) bool {
	c, err := net.Dial(network, path)
	if err != nil {
		return false
	}
	c.Close()
	return true
}
