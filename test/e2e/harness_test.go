// Package e2e mounts bin/ossmount for real through /dev/fuse against the
// in-process emulator and checks what standard tools see. A machine without
// FUSE fails these tests loudly; they never skip.
package e2e

import (
	"bytes"
	"context"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/ossmount/ossmount/test/emulator"
	"github.com/ossmount/ossmount/test/mounttest"
)

var ossmountBin string

func TestMain(m *testing.M) {
	bin, cleanup := mounttest.Setup("e2e")
	ossmountBin = bin
	code := m.Run()
	cleanup()
	os.Exit(code)
}

// env is one emulator plus what a mount of it needs.
type env struct {
	t   *testing.T
	emu *emulator.Server
}

func startEmulator(t *testing.T, cfg emulator.Config) *env {
	t.Helper()
	return &env{t: t, emu: mounttest.StartEmulator(t, cfg)}
}

// baseEnv is the process environment of an ossmount run against e's
// emulator (mounttest.Env).
func (e *env) baseEnv() []string { return mounttest.Env(e.emu, e.t.TempDir()) }

// run runs ossmount to completion with the given environment and arguments.
func run(t *testing.T, environ []string, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, ossmountBin, args...)
	cmd.Env = environ
	// Files, not pipes: a background mount keeps stderr open after the parent
	// exits, and a pipe would make Wait block until the mount ends.
	outFile, errFile := tempFile(t, "stdout"), tempFile(t, "stderr")
	cmd.Stdout, cmd.Stderr = outFile, errFile
	err = cmd.Run()
	return readFile(t, outFile.Name()), readFile(t, errFile.Name()), err
}

// mount mounts target in the background with extra flags and registers the
// unmount. It returns the mountpoint and the log file path.
func (e *env) mount(target string, flags ...string) (string, string) {
	t := e.t
	t.Helper()
	mnt := t.TempDir()
	logFile := filepath.Join(t.TempDir(), "ossmount.log")
	args := append([]string{"--path-style", "--log-file", logFile, "--log-level", "debug"}, flags...)
	args = append(args, target, mnt)
	_, stderr, err := run(t, e.baseEnv(), args...)
	if err != nil {
		t.Fatalf("ossmount %v: %v\nstderr: %s\nlog: %s", args, err, stderr, readFile(t, logFile))
	}
	if !mounttest.IsMounted(mnt) {
		t.Fatalf("ossmount exited 0 but %s is not a mountpoint\nlog: %s", mnt, readFile(t, logFile))
	}
	t.Cleanup(func() { unmountAndWait(t, mnt, logFile) })
	return mnt, logFile
}

// startWithObjects starts an emulator (default configuration) holding
// bucket with objects (key: content), put in key order.
func startWithObjects(t *testing.T, bucket string, objects map[string]string) *env {
	t.Helper()
	e := startEmulator(t, emulator.Config{})
	for _, key := range slices.Sorted(maps.Keys(objects)) {
		e.emu.PutObject(bucket, key, []byte(objects[key]))
	}
	return e
}

// mountObject starts an emulator holding the one object bucket/key and
// mounts bucket (e.mount): the start of a test about the daemon rather
// than the files.
func mountObject(t *testing.T, bucket, key, data string) (e *env, mnt, logFile string) {
	t.Helper()
	e = startWithObjects(t, bucket, map[string]string{key: data})
	mnt, logFile = e.mount(bucket)
	return e, mnt, logFile
}

// daemonPID is the pid of the mount's daemon, read from its log file
// (mounttest.MountPID); the test fails if the log names none.
func daemonPID(t *testing.T, logFile string) int {
	t.Helper()
	pid := mounttest.MountPID(logFile)
	if pid == 0 {
		t.Fatalf("no pid in the log:\n%s", readFile(t, logFile))
	}
	return pid
}

// unmountAndWait unmounts mnt and makes sure the ossmount process ends.
func unmountAndWait(t *testing.T, mnt, logFile string) {
	if err := mounttest.Unmount(mnt, mounttest.MountPID(logFile)); err != nil {
		t.Error(err)
	}
}

func tempFile(t *testing.T, name string) *os.File {
	f, err := os.Create(filepath.Join(t.TempDir(), name))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

func readFile(t *testing.T, path string) string {
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Sprintf("(cannot read %s: %v)", path, err)
	}
	return string(data)
}

// sh runs a shell command line in dir and returns its stdout.
func sh(t *testing.T, dir, script string) string {
	t.Helper()
	cmd := exec.Command("bash", "-c", "set -euo pipefail; "+script)
	cmd.Dir = dir
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s: %v\nstderr: %s", script, err, errb.String())
	}
	return out.String()
}
