package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ossmount/ossmount/test/emulator"
	"github.com/ossmount/ossmount/test/mounttest"
)

// An out-of-range id is refused with one line naming the option, never
// truncated (4294967296 used to become uid 0, root).
func TestOutOfRangeUIDIsRefused(t *testing.T) {
	e := startWithObjects(t, "opts", map[string]string{"a.txt": "a"})
	mnt := t.TempDir()
	_, stderr, err := run(t, e.baseEnv(), "--path-style", "--uid", "4294967296", "opts", mnt)
	if mounttest.IsMounted(mnt) {
		mounttest.Unmount(mnt, 0)
		t.Fatalf("--uid 4294967296 mounted")
	}
	if err == nil || !strings.Contains(stderr, "--uid") || strings.Count(strings.TrimSpace(stderr), "\n") != 0 {
		t.Fatalf("--uid 4294967296: err %v, stderr %q: want one line naming --uid", err, stderr)
	}
}

// A credentials file others may write is refused (anyone could substitute
// the key); one others may read is used with a warning naming the file.
func TestCredentialsFilePermissions(t *testing.T) {
	e := startWithObjects(t, "perm", map[string]string{"a.txt": "a"})
	var env []string
	for _, kv := range e.baseEnv() {
		if !strings.HasPrefix(kv, "ALIBABA_CLOUD_ACCESS_KEY_") {
			env = append(env, kv)
		}
	}
	file := filepath.Join(t.TempDir(), "credentials")
	ini := "[default]\ntype = access_key\naccess_key_id = " + emulator.DemoAccessKeyID + "\naccess_key_secret = " + emulator.DemoAccessKeySecret + "\n"
	if err := os.WriteFile(file, []byte(ini), 0o600); err != nil {
		t.Fatal(err)
	}

	os.Chmod(file, 0o666)
	mnt := t.TempDir()
	_, stderr, err := run(t, env, "--path-style", "--credentials-file", file, "perm", mnt)
	if mounttest.IsMounted(mnt) {
		mounttest.Unmount(mnt, 0)
	}
	if err == nil || !strings.Contains(stderr, file) || !strings.Contains(stderr, "writable by others") {
		t.Fatalf("mode 0666: err %v, stderr %q: want a refusal naming the file", err, stderr)
	}

	os.Chmod(file, 0o644)
	logFile := filepath.Join(t.TempDir(), "log")
	_, stderr, err = run(t, env, "--path-style", "--credentials-file", file, "--log-file", logFile, "perm", mnt)
	pid := mounttest.MountPID(logFile)
	t.Cleanup(func() { mounttest.Unmount(mnt, pid) })
	if err != nil {
		t.Fatalf("mode 0644 must still mount: %v\n%s\n%s", err, stderr, readFile(t, logFile))
	}
	if log := readFile(t, logFile); !strings.Contains(log, "level=WARN") || !strings.Contains(log, "readable by others") || !strings.Contains(log, file) {
		t.Fatalf("mode 0644: no warning naming the file in the log:\n%s", log)
	}
}
