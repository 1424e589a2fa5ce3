package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/ossmount/ossmount/test/mounttest"
)

// fuseMountsAt counts the FUSE mounts stacked exactly at dir.
func fuseMountsAt(dir string) int {
	data, _ := os.ReadFile("/proc/self/mountinfo")
	n := 0
	for _, line := range strings.Split(string(data), "\n") {
		f := strings.Fields(line)
		if len(f) > 4 && f[4] == dir && strings.Contains(line, " - fuse.ossmount ") {
			n++
		}
	}
	return n
}

// Four ossmount commands started at once on one mountpoint: exactly one
// mounts, the others fail with "already mounted", and one FUSE mount is there.
func TestConcurrentMountsOnOneMountpoint(t *testing.T) {
	const n = 4
	e := startWithObjects(t, "race", map[string]string{"a.txt": "a"})
	mnt := t.TempDir()
	logs := make([]string, n)
	t.Cleanup(func() {
		for range n + 1 { // unmount whatever got stacked
			for _, l := range logs {
				mounttest.Unmount(mnt, mounttest.MountPID(l))
			}
		}
	})
	type result struct {
		stderr string
		err    error
	}
	results := make([]result, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		logs[i] = filepath.Join(t.TempDir(), fmt.Sprintf("m%d.log", i))
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			_, stderr, err := run(t, e.baseEnv(), "--path-style", "--log-file", logs[i], "race", mnt)
			results[i] = result{stderr, err}
		}()
	}
	close(start)
	wg.Wait()
	ok := 0
	for i, r := range results {
		switch {
		case r.err == nil:
			ok++
		case !strings.Contains(r.stderr, "already mounted"):
			t.Errorf("mount %d failed without saying why: %v\n%s\nlog:\n%s", i, r.err, r.stderr, readFile(t, logs[i]))
		}
	}
	if ok != 1 {
		t.Errorf("%d of %d concurrent mounts succeeded, want exactly 1", ok, n)
	}
	if got := fuseMountsAt(mnt); got != 1 {
		t.Errorf("%d FUSE mounts stacked at %s, want 1", got, mnt)
	}
	if got := readFile(t, filepath.Join(mnt, "a.txt")); got != "a" {
		t.Errorf("read: %q", got)
	}
}
