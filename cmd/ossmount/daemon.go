package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/urfave/cli/v2"
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
func startBackground(args []string, bound time.Duration) error {
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

	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGINT, syscall.SIGTERM)
	defer signal.Stop(stop)
	return waitVerdict(readEnd, cmd, stop, bound)
}

// startupBound is how long the caller waits for a background mount to go
// live: the credential exchange and the first listing, each retried within
// its own bounds, take far less; past it something hangs. --prefetch-metadata
// lists the whole prefix first, which takes as long as the prefix is big, so
// it gets no overall bound (each of its requests has its own).
func startupBound(c *cli.Context) time.Duration {
	if c.Bool("prefetch-metadata") {
		return 0
	}
	return 2*time.Minute + 6*c.Duration("request-timeout")
}

// waitVerdict waits for the started child's "ok ..." or "error: ...", at
// most bound (0: no bound). A signal to the waiting caller (Ctrl-C) is passed on, so the
// child gives up (or unmounts) instead of mounting behind the user's back;
// past the bound the child is stopped the same way, and killed if it does
// not end.
func waitVerdict(r io.Reader, cmd *exec.Cmd, signals <-chan os.Signal, bound time.Duration) error {
	type line struct {
		text string
		err  error
	}
	verdicts := make(chan line, 1)
	go func() {
		text, err := bufio.NewReader(r).ReadString('\n')
		verdicts <- line{strings.TrimSpace(text), err}
	}()
	deadline := time.NewTimer(bound)
	defer deadline.Stop()
	if bound <= 0 {
		deadline.Stop() // its channel never fires
	}
	var v line
	timedOut := false
wait:
	for {
		select {
		case v = <-verdicts:
			break wait
		case sig := <-signals:
			cmd.Process.Signal(sig)
		case <-deadline.C:
			if timedOut {
				cmd.Process.Kill()
				continue
			}
			timedOut = true
			cmd.Process.Signal(syscall.SIGTERM)
			deadline.Reset(10 * time.Second)
		}
	}
	switch {
	case timedOut:
		// Give a child that mounted just now its time to unmount.
		exited := make(chan struct{})
		go func() { cmd.Wait(); close(exited) }()
		select {
		case <-exited:
		case <-deadline.C:
			cmd.Process.Kill()
			<-exited
		}
		return fmt.Errorf("the background process did not report a live mount within %v and was stopped; run with -f to see where it hangs", bound)
	case strings.HasPrefix(v.text, "ok"):
		// The child has detached from our stderr; what it says about
		// itself (where, pid, where its logs go) is ours to print.
		if msg := strings.TrimSpace(strings.TrimPrefix(v.text, "ok")); msg != "" {
			fmt.Fprintln(os.Stderr, msg)
		}
		return cmd.Process.Release()
	case strings.HasPrefix(v.text, "error: "):
		_ = cmd.Wait()
		// The child already printed the reason on the shared stderr.
		return silentExit
	case v.err != nil && !errors.Is(v.err, io.EOF):
		return fmt.Errorf("waiting for the background process: %w", v.err)
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
