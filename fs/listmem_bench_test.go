package fs

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/ossmount/ossmount/oss"
)

// flatStore is one flat directory of n empty objects, listed as
// *oss.Client lists: fresh strings in every page (each response is decoded
// anew), so that what the mount keeps per name is not hidden by the
// store's own copies. Listing is a binary search, so a million names list
// in the time of their pages.
type flatStore struct {
	prefix string
	n      int
}

func (s flatStore) key(i int) string  { return fmt.Sprintf("%sfile%07d", s.prefix, i) }
func (s flatStore) etag(i int) string { return fmt.Sprintf(`"%032X"`, i) }
func (s flatStore) index(key string) int { // of the first key after key
	return sort.Search(s.n, func(i int) bool { return s.key(i) > key })
}

func (s flatStore) List(ctx context.Context, in oss.ListInput) (oss.ListPage, error) {
	var page oss.ListPage
	if in.Prefix != s.prefix && in.Prefix != "" {
		return page, nil
	}
	if in.Prefix == "" { // the root: one directory
		page.CommonPrefixes = []string{s.prefix}
		return page, nil
	}
	from := 0
	if in.ContinuationToken != "" {
		from = s.index(in.ContinuationToken)
	}
	max := cmp.Or(in.MaxKeys, 1000)
	for i := from; i < s.n && len(page.Objects) < max; i++ {
		page.Objects = append(page.Objects, oss.ObjectInfo{Key: s.key(i), ETag: s.etag(i), LastModified: fakeEpoch})
	}
	if last := from + len(page.Objects); last < s.n {
		page.IsTruncated, page.NextContinuationToken = true, s.key(last-1)
	}
	return page, nil
}

func (s flatStore) Head(ctx context.Context, key string) (oss.ObjectInfo, error) {
	if i := s.index(key) - 1; i >= 0 && s.key(i) == key {
		return oss.ObjectInfo{Key: key, ETag: s.etag(i), LastModified: fakeEpoch}, nil
	}
	return oss.ObjectInfo{}, oss.ErrNotFound
}

func (s flatStore) GetRange(ctx context.Context, key, etag string, off, n int64) (io.ReadCloser, error) {
	return io.NopCloser(strings.NewReader("")), nil
}

// BenchmarkListMemory: the Go heap per name that `ls -l` of one directory
// leaves behind while the kernel still holds what it was given, by
// component: go-fuse's tables (node IDs, stable attributes, children
// maps), the nodes (go-fuse Inode embedded in ours), the metadata cache,
// the decoded listing strings still referenced, and the rest; plus what
// the runtime holds beyond the live heap (GC headroom and fragments).
// 300,000 names by default, so that both sides of hugeDirEntries show;
// OSSMOUNT_LISTMEM_NAMES sets another count. ETags look like real MD5s.
// OSSMOUNT_HEAPPROFILE=file also writes the heap profile, for
// `go tool pprof -sample_index=inuse_space`.
func BenchmarkListMemory(b *testing.B) {
	objects := 300_000
	if s := os.Getenv("OSSMOUNT_LISTMEM_NAMES"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			b.Fatalf("OSSMOUNT_LISTMEM_NAMES=%q", s)
		}
		objects = n
	}
	const rate = 64 // bytes between samples: exact enough for tens of bytes per name
	defer func(r int) { runtime.MemProfileRate = r }(runtime.MemProfileRate)
	runtime.MemProfileRate = rate
	for range b.N {
		store := flatStore{prefix: "big/", n: objects}
		f, err := New(Config{MetadataTTL: DefaultMetadataTTL, NegativeTTL: DefaultNegativeTTL}, store)
		if err != nil {
			b.Fatal(err)
		}
		dir := mountForTest(b, f)
		before, beforeParts := heapStats(), heapByComponent(rate)
		out, err := exec.Command("ls", "-l", filepath.Join(dir, "big")).Output()
		if err != nil {
			b.Fatalf("ls -l: %v", err)
		}
		if n := strings.Count(string(out), "\n"); n != objects+1 {
			b.Fatalf("ls -l printed %d lines, want %d", n, objects+1)
		}
		after, parts := heapStats(), heapByComponent(rate)
		if p := os.Getenv("OSSMOUNT_HEAPPROFILE"); p != "" {
			writeHeapProfile(b, p)
		}
		perName := func(v int64) float64 { return float64(v) / float64(objects) }
		var line []string
		for _, c := range components {
			v := perName(parts[c] - beforeParts[c])
			b.ReportMetric(v, c+"-B/name")
			line = append(line, fmt.Sprintf("%s %.0f", c, v))
		}
		live := perName(int64(after.HeapAlloc) - int64(before.HeapAlloc))
		held := perName(int64(after.HeapSys-after.HeapReleased) - int64(before.HeapSys-before.HeapReleased))
		cacheBytes, _ := f.t.cache.usage()
		b.ReportMetric(live, "live-B/name")
		b.ReportMetric(held-live, "headroom-B/name")
		b.ReportMetric(perName(cacheBytes), "cache-counted-B/name")
		fmt.Printf("list memory, %d names, bytes per name: live heap %.0f = %s; runtime holds %.0f more (GC headroom, fragments); the cache counts %.0f\n",
			objects, live, strings.Join(line, ", "), held-live, perName(cacheBytes))
		runtime.KeepAlive(f)
	}
}

// components of the live heap, as heapByComponent names them.
var components = []string{"go-fuse-tables", "nodes", "metadata-cache", "listing-strings", "other"}

// heapByComponent attributes the in-use heap of the last GC to the code
// that allocated it, scaling sampled records as pprof does.
func heapByComponent(rate int) map[string]int64 {
	runtime.GC()
	runtime.GC()
	var recs []runtime.MemProfileRecord
	n, _ := runtime.MemProfile(nil, false)
	for {
		recs = make([]runtime.MemProfileRecord, n+100)
		var ok bool
		if n, ok = runtime.MemProfile(recs, false); ok {
			recs = recs[:n]
			break
		}
	}
	out := map[string]int64{}
	for _, r := range recs {
		objs, bytes := r.InUseObjects(), r.InUseBytes()
		if objs == 0 {
			continue
		}
		avg := float64(bytes) / float64(objs)
		scale := 1 / (1 - math.Exp(-avg/float64(rate)))
		out[component(r.Stack())] += int64(float64(bytes) * scale)
	}
	return out
}

// component names the part of the mount that made an allocation: the
// innermost frame that belongs to one decides.
func component(stack []uintptr) string {
	frames := runtime.CallersFrames(stack)
	for {
		f, more := frames.Next()
		fn := f.Function
		switch {
		case strings.Contains(fn, "hanwen/go-fuse"):
			return "go-fuse-tables"
		case strings.Contains(fn, "ossmount/fs.(*dirNode).child"):
			return "nodes"
		case strings.Contains(fn, "ossmount/fs.(*metaCache)"), strings.Contains(fn, "ossmount/fs.(*listing)"),
			strings.Contains(fn, "golang-lru"):
			return "metadata-cache"
		case strings.Contains(fn, "ossmount/fs.flatStore"):
			return "listing-strings"
		}
		if !more {
			return "other"
		}
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
