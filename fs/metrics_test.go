package fs

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ossmount/ossmount/test/mounttest"
)

// Through a real mount, Metrics count the FUSE operations, the files open
// and the metadata cache's hits, misses and evictions.
func TestMetricsCountOpsAndCache(t *testing.T) {
	store := newFakeStore()
	for _, k := range []string{"a", "b", "c", "d"} {
		store.put("dir/"+k, []byte(strings.Repeat(k, 1000)))
	}
	store.put("dir2/x", []byte("x"))
	const limit = 700 // one listed directory of four names, not two
	f, err := New(Config{RecordOps: true, MetadataTTL: DefaultMetadataTTL, NegativeTTL: DefaultNegativeTTL,
		MetadataCacheMemory: limit}, store)
	if err != nil {
		t.Fatal(err)
	}
	mnt := mountForTest(t, f)
	entries, err := os.ReadDir(filepath.Join(mnt, "dir"))
	if err != nil || len(entries) != 4 {
		t.Fatalf("readdir: %d entries, %v", len(entries), err)
	}
	file, err := os.Open(filepath.Join(mnt, "dir", "a"))
	if err != nil {
		t.Fatal(err)
	}
	if m := f.Metrics(); m.OpenFiles != 1 {
		t.Errorf("open files with one open = %d, want 1", m.OpenFiles)
	}
	buf := make([]byte, 1000)
	if _, err := file.Read(buf); err != nil {
		t.Fatal(err)
	}
	file.Close()
	// Listing dir2 evicts dir whole: reading "d" then misses.
	if _, err := os.ReadDir(filepath.Join(mnt, "dir2")); err != nil {
		t.Fatal(err)
	}
	if _, err := os.ReadFile(filepath.Join(mnt, "dir", "d")); err != nil {
		t.Fatal(err)
	}
	store.setInject(func(op, key string) error {
		if op == "get" {
			return serviceError(op, key, 500, "InternalError")
		}
		return nil
	})
	if _, err := os.ReadFile(filepath.Join(mnt, "dir", "b")); err == nil {
		t.Fatal("read with a failing store succeeded")
	}

	// The kernel sends RELEASE after close(2) returns: wait for it.
	var m Metrics
	mounttest.Await(t, "RELEASE of the last open file", func() bool { m = f.Metrics(); return m.OpenFiles == 0 })
	for _, op := range []string{"lookup", "open", "read", "release", "opendir"} {
		if m.Ops[op].Latency.Count == 0 {
			t.Errorf("no %s counted: %+v", op, m.Ops[op])
		}
	}
	if m.Ops["read"].Errors == 0 {
		t.Error("the failed read was not counted as an error")
	}
	if m.OpenFiles != 0 {
		t.Errorf("open files after close = %d, want 0", m.OpenFiles)
	}
	// The cache stays within its limit by evicting whole directories;
	// lookups and opens hit or miss it.
	if m.CacheEvictions < 4 || m.CacheBytes > limit || m.CacheLimit != limit || m.CacheEntries == 0 {
		t.Errorf("cache: %d names evicted, %d entries in %d of %d bytes; want >= 4 evicted, within the limit",
			m.CacheEvictions, m.CacheEntries, m.CacheBytes, m.CacheLimit)
	}
	if m.CacheHits == 0 || m.CacheMisses == 0 {
		t.Errorf("cache hits %d, misses %d: want both counted", m.CacheHits, m.CacheMisses)
	}
	if m.ReadAheadLimit != DefaultReadAheadBudget {
		t.Errorf("read-ahead limit %d, want %d", m.ReadAheadLimit, DefaultReadAheadBudget)
	}
}

// Without RecordOps the mount runs go-fuse's server unwrapped.
func TestMetricsWithoutRecordOps(t *testing.T) {
	f, err := New(Config{}, newFakeStore())
	if err != nil {
		t.Fatal(err)
	}
	if m := f.Metrics(); m.Ops != nil || m.OpenFiles != -1 {
		t.Fatalf("ops %v, open files %d; want nil and -1", m.Ops, m.OpenFiles)
	}
}
