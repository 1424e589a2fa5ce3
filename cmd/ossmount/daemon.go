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
// session; it reports through an inherited pipe (fd 3) either "ok" once the
// mount is live or "error: ..." with the reason, and the parent exits 0 or 1
// accordingly. So `ossmount B /mnt && ls /mnt` never races the mount.
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
	case verdict == "ok":
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
	if os.Getenv(backgroundEnv) == "" {
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
