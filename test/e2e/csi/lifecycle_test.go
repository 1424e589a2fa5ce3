package csi_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	csipb "github.com/container-storage-interface/spec/lib/go/csi"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/ossmount/ossmount/test/emulator"
	"github.com/ossmount/ossmount/test/mounttest"
)

// A republish (requiresRepublish) with a new service account token
// rewrites the token file, and the next renewal of the mount's STS token
// sends the new one to AssumeRoleWithOIDC.
func TestRepublishNewTokenUsedByNextRenewal(t *testing.T) {
	n := newNode(t, emulator.Config{TokenLifetime: 3 * time.Second})
	n.emu.PutObject("renew", "f", []byte("data"))
	p := n.startPlugin()
	target := n.publish(p, "renew", n.volumeContext("renew", "token-first"), nil)
	req := &csipb.NodePublishVolumeRequest{VolumeId: "renew", TargetPath: target,
		VolumeCapability: mountCapability(""), VolumeContext: n.volumeContext("renew", "token-second")}
	if _, err := p.client.NodePublishVolume(context.Background(), req); err != nil {
		t.Fatalf("republish: %v", err)
	}
	if !mounttest.WaitFor(mounttest.HangGuard, func() bool { return slices.Contains(n.emu.OIDCTokens(), "token-second") }) {
		t.Fatalf("no AssumeRoleWithOIDC used the republished token; tokens seen: %q\nlog:\n%s", n.emu.OIDCTokens(), readFile(n.logOf(target)))
	}
	tokens := n.emu.OIDCTokens()
	if tokens[0] != "token-first" {
		t.Errorf("first exchange used %q, want token-first", tokens[0])
	}
	if got := readFile(filepath.Join(target, "f")); got != "data" {
		t.Errorf("read after the renewal: %q", got)
	}
	for _, log := range []string{p.log, n.logOf(target), n.mounterLog} {
		if text := readFile(log); strings.Contains(text, "token-first") || strings.Contains(text, "token-second") {
			t.Errorf("%s holds a service account token", log)
		}
	}
}

// Killing the plugin (SIGKILL) and starting it again leaves published
// mounts serving reads all along, and the restarted plugin unpublishes them.
func TestPluginRestartKeepsMountsServing(t *testing.T) {
	n := newNode(t, emulator.Config{})
	want := bytes.Repeat([]byte("keep serving "), 50_000)
	n.emu.PutObject("restart", "big", want)
	p := n.startPlugin()
	target := n.publish(p, "restart", n.volumeContext("restart", "token-restart"), nil)
	f, err := os.Open(filepath.Join(target, "big"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	half := make([]byte, len(want)/2)
	if _, err := f.ReadAt(half, 0); err != nil {
		t.Fatal(err)
	}

	p.kill()
	rest := make([]byte, len(want)-len(half))
	if _, err := f.ReadAt(rest, int64(len(half))); err != nil || !bytes.Equal(append(half, rest...), want) {
		t.Fatalf("read through an open file after the plugin died: %v", err)
	}
	if got, err := os.ReadFile(filepath.Join(target, "big")); err != nil || !bytes.Equal(got, want) {
		t.Fatalf("new open after the plugin died: %v", err)
	}

	p2 := n.startPlugin()
	if got, err := os.ReadFile(filepath.Join(target, "big")); err != nil || !bytes.Equal(got, want) {
		t.Fatalf("read after the plugin restarted: %v\n%s", err, readFile(p2.log))
	}
	health, err := p2.client.NodeGetVolumeHealth(context.Background(), &csipb.NodeGetVolumeHealthRequest{VolumeId: "restart"})
	if err != nil || len(health.GetVolumeHealth().GetHealthStatuses()) != 0 {
		t.Errorf("health after restart: %v %v, want healthy", health, err)
	}
	f.Close()
	if _, err := p2.client.NodeUnpublishVolume(context.Background(), &csipb.NodeUnpublishVolumeRequest{VolumeId: "restart", TargetPath: target}); err != nil {
		t.Fatal(err)
	}
	if mounttest.IsMounted(target) {
		t.Errorf("still mounted after unpublish by the restarted plugin")
	}
}

// Killing a volume's ossmount child makes the volume INACCESSIBLE in
// NodeGetVolumeHealth and NodeGetVolumeStats fail with the cause; a
// restarted plugin removes the dead mount; unpublish still cleans up.
func TestDeadChildIsAbnormalAndCleanedUp(t *testing.T) {
	n := newNode(t, emulator.Config{})
	n.emu.PutObject("dead", "f", []byte("x"))
	n.emu.PutObject("alive", "f", []byte("y"))
	p := n.startPlugin()
	target := n.publish(p, "dead", n.volumeContext("dead", "token-dead"), nil)
	liveTarget := n.publish(p, "alive", n.volumeContext("alive", "token-alive"), nil)
	stats := &csipb.NodeGetVolumeStatsRequest{VolumeId: "dead", VolumePath: target}
	if resp, err := p.client.NodeGetVolumeStats(context.Background(), stats); err != nil || len(resp.GetUsage()) == 0 {
		t.Fatalf("stats of a live mount: %v %v", resp, err)
	}
	pid := n.childPID(target)
	if pid == 0 {
		t.Fatal("no ossmount child found for the mount")
	}
	syscall.Kill(pid, syscall.SIGKILL)
	if !mounttest.WaitFor(mounttest.HangGuard, func() bool { return !mounttest.ProcessAlive(pid) }) {
		t.Fatal("hang guard: child survived SIGKILL")
	}

	health, err := p.client.NodeGetVolumeHealth(context.Background(), &csipb.NodeGetVolumeHealthRequest{VolumeId: "dead", VolumePublishPath: target})
	if err != nil {
		t.Fatal(err)
	}
	entries := health.GetVolumeHealth().GetHealthStatuses()
	if len(entries) != 1 || entries[0].GetStatus() != csipb.VolumeHealthErrorType_INACCESSIBLE {
		t.Fatalf("health of a dead mount: %v, want one INACCESSIBLE entry", health)
	}
	t.Logf("health: %s", entries[0].GetMessage())
	if _, err := p.client.NodeGetVolumeStats(context.Background(), stats); status.Code(err) != codes.FailedPrecondition {
		t.Errorf("stats of a dead mount: %v, want FailedPrecondition", err)
	}

	// A restarted plugin detaches the dead mount and keeps the live one.
	p.kill()
	p2 := n.startPlugin()
	if mounttest.IsMounted(target) {
		t.Errorf("restarted plugin left the dead mount at %s", target)
	}
	if got := readFile(filepath.Join(liveTarget, "f")); got != "y" {
		t.Errorf("live mount after the restart cleanup: %q", got)
	}
	if _, err := p2.client.NodeUnpublishVolume(context.Background(), &csipb.NodeUnpublishVolumeRequest{VolumeId: "dead", TargetPath: target}); err != nil {
		t.Fatalf("unpublish of the dead volume: %v", err)
	}
	if _, err := os.Stat(target); !os.IsNotExist(err) {
		t.Errorf("target of the dead volume not removed: %v", err)
	}
	if _, err := p2.client.NodeUnpublishVolume(context.Background(), &csipb.NodeUnpublishVolumeRequest{VolumeId: "alive", TargetPath: liveTarget}); err != nil {
		t.Fatal(err)
	}
}

// Unpublish of a dead mount that nobody cleaned first (no restart).
func TestUnpublishDeadMount(t *testing.T) {
	n := newNode(t, emulator.Config{})
	n.emu.PutObject("dead2", "f", []byte("x"))
	p := n.startPlugin()
	target := n.publish(p, "dead2", n.volumeContext("dead2", "token-dead2"), nil)
	pid := n.childPID(target)
	syscall.Kill(pid, syscall.SIGKILL)
	mounttest.WaitFor(mounttest.HangGuard, func() bool { return !mounttest.ProcessAlive(pid) })
	if _, err := p.client.NodeUnpublishVolume(context.Background(), &csipb.NodeUnpublishVolumeRequest{VolumeId: "dead2", TargetPath: target}); err != nil {
		t.Fatalf("unpublish: %v", err)
	}
	if mounttest.IsMounted(target) {
		t.Errorf("dead mount still at %s", target)
	}
	if _, err := os.Stat(target); !os.IsNotExist(err) {
		t.Errorf("target not removed: %v", err)
	}
}

// 20 volumes published and unpublished concurrently: each reads its own
// bytes, and nothing is left mounted, running or on disk.
func TestConcurrentPublishUnpublish(t *testing.T) {
	const volumes = 20
	n := newNode(t, emulator.Config{})
	for i := 0; i < volumes; i++ {
		n.emu.PutObject("conc", fmt.Sprintf("v%02d/data", i), []byte(fmt.Sprintf("volume %d", i)))
	}
	p := n.startPlugin()
	targets := make([]string, volumes)
	for i := range targets {
		targets[i] = filepath.Join(n.pods, fmt.Sprintf("pod%02d", i), "mount")
		os.MkdirAll(filepath.Dir(targets[i]), 0o750)
		t.Cleanup(func() { cleanupTarget(targets[i]) })
	}
	inParallel(t, volumes, "publish", func(i int) error {
		vol := fmt.Sprintf("conc:/v%02d", i)
		_, err := p.client.NodePublishVolume(context.Background(), &csipb.NodePublishVolumeRequest{VolumeId: vol, TargetPath: targets[i],
			VolumeCapability: mountCapability(""), VolumeContext: n.volumeContext(vol, fmt.Sprintf("token-%02d", i))})
		if err == nil {
			if got := readFile(filepath.Join(targets[i], "data")); got != fmt.Sprintf("volume %d", i) {
				err = fmt.Errorf("volume %d reads %q", i, got)
			}
		}
		return err
	})
	pids := map[int]bool{}
	for _, tg := range targets {
		pids[n.childPID(tg)] = true
	}
	if len(pids) != volumes || pids[0] {
		t.Errorf("%d distinct ossmount children for %d volumes", len(pids), volumes)
	}
	inParallel(t, volumes, "unpublish", func(i int) error {
		_, err := p.client.NodeUnpublishVolume(context.Background(), &csipb.NodeUnpublishVolumeRequest{VolumeId: fmt.Sprintf("conc:/v%02d", i), TargetPath: targets[i]})
		return err
	})
	for _, tg := range targets {
		if mounttest.IsMounted(tg) {
			t.Errorf("%s still mounted", tg)
		}
	}
	for pid := range pids {
		if !mounttest.WaitFor(mounttest.HangGuard, func() bool { return !mounttest.ProcessAlive(pid) }) {
			t.Errorf("hang guard: child %d still running after unpublish", pid)
		}
	}
	if left, _ := filepath.Glob(filepath.Join(n.stateDir, "mounts", "*")); len(left) != 0 {
		t.Errorf("state left behind: %v", left)
	}
}

// A volume whose ossmount process hangs (SIGSTOP) is INACCESSIBLE after a
// bounded statfs, and unpublish still removes it: nothing in the plugin
// stats the hung mount without a bound.
func TestHungChildIsAbnormalAndUnpublishes(t *testing.T) {
	n := newNode(t, emulator.Config{})
	n.emu.PutObject("hung", "f", []byte("x"))
	p := n.startPlugin()
	target := n.publish(p, "hung", n.volumeContext("hung", "token-hung"), nil)
	pid := n.childPID(target)
	if pid == 0 {
		t.Fatal("no child")
	}
	syscall.Kill(pid, syscall.SIGSTOP)
	t.Cleanup(func() { syscall.Kill(pid, syscall.SIGKILL) })
	// kill(2) returns before every thread has stopped; a thread still
	// running could answer the statfs below.
	if !mounttest.WaitFor(mounttest.HangGuard, func() bool { return allThreadsStopped(pid) }) {
		t.Fatal("hang guard: child did not stop")
	}

	health, err := p.client.NodeGetVolumeHealth(context.Background(), &csipb.NodeGetVolumeHealthRequest{VolumeId: "hung"})
	if err != nil {
		t.Fatal(err)
	}
	if e := health.GetVolumeHealth().GetHealthStatuses(); len(e) != 1 || e[0].GetStatus() != csipb.VolumeHealthErrorType_INACCESSIBLE {
		t.Fatalf("health of a hung mount: %v", health)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if _, err := p.client.NodeUnpublishVolume(ctx, &csipb.NodeUnpublishVolumeRequest{VolumeId: "hung", TargetPath: target}); err != nil {
		t.Fatalf("unpublish of a hung mount: %v\n%s", err, readFile(p.log))
	}
	if mounttest.IsMounted(target) {
		t.Errorf("hung mount still at %s", target)
	}
}

// allThreadsStopped reports whether every thread of pid is stopped (T).
func allThreadsStopped(pid int) bool {
	stats, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/stat", pid))
	for _, f := range stats {
		data, err := os.ReadFile(f)
		_, after, ok := strings.Cut(string(data), ") ")
		if err != nil || !ok || !strings.HasPrefix(after, "T") {
			return false
		}
	}
	return len(stats) > 0
}

// inParallel runs f(0), ..., f(n-1) concurrently and reports every error.
func inParallel(t *testing.T, n int, what string, f func(i int) error) {
	t.Helper()
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = f(i)
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("%s %d: %v", what, i, err)
		}
	}
}
