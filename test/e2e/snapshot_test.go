package e2e

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/ossmount/ossmount/test/emulator"
	"github.com/ossmount/ossmount/test/mounttest"
)

// snapshotBucket fills bucket "snap" with the awkward keys and a few
// plain ones under ds/, and one key outside it; it returns the content
// function.
func snapshotBucket(e *env) func(string) []byte {
	content := func(key string) []byte { return []byte("content of " + key + "\n") }
	e.emu.CreateBucket("snap", false)
	keys := append(awkwardKeys(), "a/victim.bin", "a/b/c.txt", "z.txt")
	for _, k := range keys {
		e.emu.PutObject("snap", "ds/"+k, content("ds/"+k))
	}
	e.emu.PutObject("snap", "outside.txt", []byte("not in the snapshot"))
	return content
}

// readTree walks mnt and returns each visible path (directories end in
// "/") with its content, and the error of each read that failed.
func readTree(t *testing.T, mnt string) (map[string][]byte, map[string]error) {
	t.Helper()
	got, failed := map[string][]byte{}, map[string]error{}
	err := filepath.WalkDir(mnt, func(p string, d fs.DirEntry, err error) error {
		rel, _ := filepath.Rel(mnt, p)
		if err != nil {
			failed[rel] = err
			return nil
		}
		if rel == "." {
			return nil
		}
		if d.IsDir() {
			got[rel+"/"] = nil
			return nil
		}
		data, err := os.ReadFile(p)
		if err != nil {
			failed[rel] = err
		}
		got[rel] = data
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return got, failed
}

func sameTree(t *testing.T, what string, got, want map[string][]byte) {
	t.Helper()
	for p, w := range want {
		if g, ok := got[p]; !ok || !bytes.Equal(g, w) {
			t.Errorf("%s: %q is %q, want %q (present: %v)", what, p, g, w, ok)
		}
	}
	for p := range got {
		if _, ok := want[p]; !ok {
			t.Errorf("%s: unexpected %q", what, p)
		}
	}
}

// `ossmount snapshot` writes every key of the prefix; --manifest mounts
// exactly that tree with no LIST and no HEAD, reads with If-Match on the
// recorded ETags (a replaced object gives ESTALE and a log line naming
// it), and does not show objects added later.
func TestSnapshotThenManifestMount(t *testing.T) {
	e := startEmulator(t, emulator.Config{})
	snapshotBucket(e)
	environ := e.baseEnv()

	stdout, stderr, err := run(t, environ, "snapshot", "--path-style", "snap:/ds")
	if err != nil {
		t.Fatalf("snapshot: %v\n%s", err, stderr)
	}
	lines := strings.Split(strings.TrimSuffix(stdout, "\n"), "\n")
	if lines[0] != "# ossmount-manifest v1" || !strings.HasPrefix(lines[len(lines)-1], "# end\t") {
		t.Fatalf("snapshot output starts %q and ends %q", lines[0], lines[len(lines)-1])
	}
	manifest := filepath.Join(t.TempDir(), "ds.manifest.gz")
	if _, stderr, err := run(t, environ, "snapshot", "--path-style", "--output", manifest, "snap:/ds"); err != nil {
		t.Fatalf("snapshot --output: %v\n%s", err, stderr)
	}
	if data, _ := os.ReadFile(manifest); len(data) < 2 || data[0] != 0x1f || data[1] != 0x8b {
		t.Fatalf("%s is not gzip-compressed", manifest)
	}
	plain, _ := e.mount("snap:/ds")
	want, failed := readTree(t, plain)
	if len(failed) > 0 || len(want) < 50 {
		t.Fatalf("plain mount: %d paths, failures %v", len(want), failed)
	}

	e.emu.ResetCounters()
	mnt, logFile := e.mount("snap:/ds", "--manifest", manifest)
	e.emu.PutObject("snap", "ds/a/victim.bin", []byte("replaced after the snapshot"))
	e.emu.PutObject("snap", "ds/added-later.txt", []byte("new"))
	got, failed := readTree(t, mnt)
	c := e.emu.Counters()
	t.Logf("manifest mount and a read of every file: %d LIST, %d HEAD, %d GET", c.Requests["ListObjectsV2"], c.Requests["HeadObject"], c.Requests["GetObject"])
	if c.Requests["ListObjectsV2"] != 0 || c.Requests["HeadObject"] != 0 {
		t.Errorf("%d LIST and %d HEAD requests, want none", c.Requests["ListObjectsV2"], c.Requests["HeadObject"])
	}
	if err := failed["a/victim.bin"]; !errors.Is(err, syscall.ESTALE) {
		t.Errorf("read of the replaced object: %v, want ESTALE", err)
	}
	delete(failed, "a/victim.bin")
	if len(failed) > 0 {
		t.Errorf("failed reads: %v", failed)
	}
	delete(got, "a/victim.bin")
	delete(want, "a/victim.bin")
	sameTree(t, "manifest mount", got, want)
	if !waitLog(logFile, 0, "object changed while open", "ds/a/victim.bin") {
		t.Errorf("no log line names the replaced key:\n%s", tail(readFile(t, logFile), 2000))
	}
}

// A manifest that cannot be trusted is refused with its line number, and
// nothing is mounted.
func TestBadManifestRefused(t *testing.T) {
	e := startEmulator(t, emulator.Config{})
	e.emu.CreateBucket("snap", false)
	for _, k := range []string{"ds/a", "ds/b", "ds/c", "ds/d"} {
		e.emu.PutObject("snap", k, []byte(k))
	}
	environ := e.baseEnv()
	good, stderr, err := run(t, environ, "snapshot", "--path-style", "snap:/ds")
	if err != nil {
		t.Fatalf("snapshot: %v\n%s", err, stderr)
	}
	lines := strings.SplitAfter(good, "\n") // 0-2 header, 3-6 objects, 7 end, 8 ""
	cases := []struct {
		name, text, says string
	}{
		{"truncated", strings.Join(lines[:5], "") + lines[5][:len(lines[5])/2], "line 6: "},
		{"malformed size", strings.Join(lines[:4], "") + strings.Replace(lines[4], "\t4\t", "\tfour\t", 1) + strings.Join(lines[5:], ""), "line 5: size"},
		{"wrong version", strings.Replace(good, "v1", "v7", 1), "line 1: unsupported version"},
		{"out of order", strings.Join(lines[:4], "") + lines[5] + lines[4] + strings.Join(lines[6:], ""), "line 6: "},
		{"duplicated", strings.Join(lines[:5], "") + lines[4] + strings.Join(lines[5:], ""), "line 6: "},
		{"key outside the prefix", strings.Join(lines[:6], "") + strings.Replace(lines[6], "ds/d", "zz/d", 1) + strings.Join(lines[7:], ""), "line 7: "},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			file := filepath.Join(t.TempDir(), "bad.manifest")
			if err := os.WriteFile(file, []byte(tc.text), 0o644); err != nil {
				t.Fatal(err)
			}
			mnt := t.TempDir()
			_, stderr, err := run(t, environ, "--path-style", "--manifest", file, "snap:/ds", mnt)
			if err == nil {
				mounttest.Unmount(mnt, 0)
				t.Fatalf("a bad manifest was mounted")
			}
			t.Logf("refused: %s", strings.TrimSpace(stderr))
			if !strings.Contains(stderr, tc.says) || strings.Count(strings.TrimSpace(stderr), "\n") != 0 {
				t.Errorf("stderr %q, want one line containing %q", stderr, tc.says)
			}
			if mounttest.IsMounted(mnt) {
				mounttest.Unmount(mnt, 0)
				t.Errorf("%s is mounted after a refused manifest", mnt)
			}
		})
	}
}
