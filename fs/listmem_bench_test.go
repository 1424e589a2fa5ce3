package fs

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"strings"
	"testing"

	"github.com/ossmount/ossmount/oss"
)

// cloningStore hands out fresh strings in every page, as *oss.Client
// does (each response is decoded anew), so that what the mount keeps per
// name is not hidden by the fake store's own copies.
type cloningStore struct{ *fakeStore }

func (s cloningStore) List(ctx context.Context, in oss.ListInput) (oss.ListPage, error) {
	page, err := s.fakeStore.List(ctx, in)
	for i := range page.Objects {
		o := &page.Objects[i]
		o.Key, o.ETag = strings.Clone(o.Key), strings.Clone(o.ETag)
	}
	for i, p := range page.CommonPrefixes {
		page.CommonPrefixes[i] = strings.Clone(p)
	}
	return page, err
}

// BenchmarkListMemory: the Go heap in use (after GC) per name that
// `ls -l` of a 100,000-object directory leaves behind while the kernel
// still holds the entries (an inode per name from READDIRPLUS, plus the
// metadata cache). OSSMOUNT_HEAPPROFILE=file records every allocation and
// writes the heap profile taken at that point, for `go tool pprof -sample_index=inuse_space`.
func BenchmarkListMemory(b *testing.B) {
	const objects = 100_000
	profile := os.Getenv("OSSMOUNT_HEAPPROFILE")
	if profile != "" {
		defer func(rate int) { runtime.MemProfileRate = rate }(runtime.MemProfileRate)
		runtime.MemProfileRate = 1 // every allocation: names cost tens of bytes each
	}
	for range b.N {
		store := newFakeStore()
		for i := range objects {
			store.put(fmt.Sprintf("big/file%06d", i), nil)
		}
		f, err := New(Config{}, cloningStore{store})
		if err != nil {
			b.Fatal(err)
		}
		dir := mountForTest(b, f)
		before := heapStats()
		out, err := exec.Command("ls", "-l", filepath.Join(dir, "big")).Output()
		if err != nil {
			b.Fatalf("ls -l: %v", err)
		}
		if n := strings.Count(string(out), "\n"); n != objects+1 {
			b.Fatalf("ls -l printed %d lines, want %d", n, objects+1)
		}
		after := heapStats()
		if profile != "" {
			writeHeapProfile(b, profile)
		}
		b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/objects, "live-B/name")
		b.ReportMetric(float64(after.HeapInuse-before.HeapInuse)/objects, "inuse-B/name")
		runtime.KeepAlive(f)
	}
}

// heapStats reads the heap after a full collection.
func heapStats() runtime.MemStats {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m
}

func writeHeapProfile(b *testing.B, path string) {
	fh, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	defer fh.Close()
	if err := pprof.WriteHeapProfile(fh); err != nil {
		b.Fatal(err)
	}
}
