package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
)

// A background mount is the same program started again with -f in a new
// session; it reports through an inherited pipe (fd 3) either "ok MESSAGE"
// once the mount is live or "error: ..." with the reason, and the parent
// prints MESSAGE and exits 0, or exits 1. So `ossmount B /mnt && ls /mnt`
// never races the mount. Until it is live the child shares the caller's
// stderr (start-up warnings and errors show there); before it says "ok" it
// detaches from every descriptor of the caller (logSink.detach), so
// `out=$(ossmount B /mnt 2>&1)` returns.
const backgroundEnv = "OSSMOUNT_BACKGROUND_FD"

// startBackground runs this command again in the background and waits for
// the child's verdict.
func startBackground(args []string) error {
	exe, err := os.Executable()
	if err != nil {
		return fmt.Errorf("cannot find own executable to start in the background: %w (use -f)", err)
	}
	readEnd, writeEnd, err := os.Pipe()
	if err != nil {
		return err
	}
	defer readEnd.Close()

	devNull, err := os.Open(os.DevNull)
	if err != nil {
		return err
	}
	defer devNull.Close()
	cmd := exec.Command(exe, append([]string{"--foreground"}, args...)...)
	cmd.Env = append(os.Environ(), backgroundEnv+"=3")
	cmd.ExtraFiles = []*os.File{writeEnd}
	cmd.Stdin, cmd.Stdout, cmd.Stderr = devNull, devNull, os.Stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		writeEnd.Close()
		return fmt.Errorf("starting the background process: %w", err)
	}
	writeEnd.Close()

	verdict, readErr := bufio.NewReader(readEnd).ReadString('\n')
	verdict = strings.TrimSpace(verdict)
	switch {
	case strings.HasPrefix(verdict, "ok"):
		// The child has detached from our stderr; what it says about
		// itself (where, pid, where its logs go) is ours to print.
		if msg := strings.TrimSpace(strings.TrimPrefix(verdict, "ok")); msg != "" {
			fmt.Fprintln(os.Stderr, msg)
		}
		return cmd.Process.Release()
	case strings.HasPrefix(verdict, "error: "):
		_ = cmd.Wait()
		// The child already printed the reason on the shared stderr.
		return silentExit
	case readErr != nil && !errors.Is(readErr, io.EOF):
		return fmt.Errorf("waiting for the background process: %w", readErr)
	default:
		state := "ended"
		if err := cmd.Wait(); err != nil {
			state = err.Error()
		}
		return fmt.Errorf("the background process ended (%s) before the mount was live; run with -f to see why", state)
	}
}

// silentExit fails the command without printing anything more.
var silentExit = exitSilently{}

type exitSilently struct{}

func (exitSilently) Error() string { return "" }
func (exitSilently) ExitCode() int { return 1 }

var notifyOnce sync.Once

// notifyParent tells a waiting parent how the mount went; a no-op in the
// foreground. Only the first message counts.
func notifyParent(msg string) {
	if !inBackground() {
		return
	}
	notifyOnce.Do(func() {
		f := os.NewFile(3, "ossmount-parent")
		if f == nil {
			return
		}
		fmt.Fprintln(f, strings.ReplaceAll(msg, "\n", " "))
		f.Close()
	})
}

// inBackground reports whether this process is the background child.
func inBackground() bool { return os.Getenv(backgroundEnv) != "" }
