package main

import (
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"
)

// startChild runs a shell script as a stand-in for the background child,
// with the verdict pipe as fd 3, as startBackground does.
func startChild(t *testing.T, script string) (*exec.Cmd, *os.File) {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	cmd := exec.Command("sh", "-c", script)
	cmd.ExtraFiles = []*os.File{w}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	w.Close()
	t.Cleanup(func() { cmd.Process.Kill() })
	return cmd, r
}

func TestWaitVerdict(t *testing.T) {
	t.Run("ok", func(t *testing.T) {
		cmd, r := startChild(t, `echo "ok ossmount: mounted" >&3`)
		if err := waitVerdict(r, cmd, nil, time.Hour); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("error", func(t *testing.T) {
		cmd, r := startChild(t, `echo "error: no" >&3; exit 1`)
		if err := waitVerdict(r, cmd, nil, time.Hour); err != silentExit {
			t.Fatalf("err = %v, want the silent exit (the child printed the reason)", err)
		}
	})
	// A child that never reports is stopped once the bound passes, and the
	// caller gets an error instead of waiting for ever.
	t.Run("hung child is stopped", func(t *testing.T) {
		cmd, r := startChild(t, `exec sleep 1000`)
		err := waitVerdict(r, cmd, nil, time.Millisecond)
		if err == nil || !strings.Contains(err.Error(), "did not report a live mount within") {
			t.Fatalf("err = %v", err)
		}
		if cmd.ProcessState == nil || cmd.ProcessState.Sys().(syscall.WaitStatus).Signal() != syscall.SIGTERM {
			t.Fatalf("child state %v, want ended by SIGTERM", cmd.ProcessState)
		}
	})
	// Bound 0 (--prefetch-metadata) waits for a slow child.
	t.Run("no bound", func(t *testing.T) {
		cmd, r := startChild(t, `sleep 0.2; echo "ok ossmount: mounted" >&3`)
		if err := waitVerdict(r, cmd, nil, 0); err != nil {
			t.Fatal(err)
		}
	})
	// Ctrl-C on the waiting caller reaches the child, which gives up.
	t.Run("signal passed on", func(t *testing.T) {
		cmd, r := startChild(t, `exec sleep 1000`)
		sigs := make(chan os.Signal, 1)
		sigs <- syscall.SIGINT
		err := waitVerdict(r, cmd, sigs, time.Hour)
		if err == nil || !strings.Contains(err.Error(), "signal: interrupt") {
			t.Fatalf("err = %v, want the child ended by the forwarded SIGINT", err)
		}
	})
}
