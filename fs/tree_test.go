package fs

import (
	"context"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/hanwen/go-fuse/v2/fuse"

	"github.com/ossmount/ossmount/test/mounttest"
)

// newTestFS builds an FS over a fake store holding objects, with an
// injected clock. Zero TTLs in cfg become the command's defaults (tests
// of "do not cache" call New themselves).
func newTestFS(t *testing.T, objects map[string]string, cfg Config) (*FS, *fakeStore, *fakeClock) {
	t.Helper()
	if cfg.MetadataTTL == 0 {
		cfg.MetadataTTL = DefaultMetadataTTL
	}
	if cfg.NegativeTTL == 0 {
		cfg.NegativeTTL = DefaultNegativeTTL
	}
	store := newFakeStore()
	for k, v := range objects {
		store.put(k, []byte(v))
	}
	clock := newFakeClock()
	if cfg.Now == nil {
		cfg.Now = clock.Now
	}
	f, err := New(cfg, store)
	if err != nil {
		t.Fatal(err)
	}
	return f, store, clock
}

func TestLookupResolves(t *testing.T) {
	f, store, _ := newTestFS(t, map[string]string{
		"d/name":      "shadowed",
		"d/name.txt":  "t",
		"d/name-1":    "t",
		"d/name/x":    "x",
		"d/file":      "data",
		"d/marker/":   "",
		"d/file.d/x":  "x",
		"d/only-file": "abc",
	}, Config{})
	cases := []struct {
		path string
		want kind
	}{
		{"d/name", kindDir}, // keys sorting between "name" and "name/" do not hide the directory
		{"d/file", kindFile},
		{"d/marker", kindDir},
		{"d/file.d", kindDir},
		{"d/missing", kindMissing},
		{"d", kindDir},
	}
	for _, c := range cases {
		t.Run(c.path, func(t *testing.T) {
			store.resetCounts()
			e, err := f.t.lookup(context.Background(), c.path)
			if err != nil || e.kind != c.want {
				t.Fatalf("lookup(%q) = %v, %v; want %v", c.path, e.kind, err, c.want)
			}
			// The HEAD is sent alongside the LIST, and cancelled once the LIST finds a directory.
			if l, h := store.count("list"), store.count("head"); l != 1 || h > 1 || (c.want != kindDir && h != 1) {
				t.Errorf("cost %d LIST + %d HEAD, want 1 + 1", l, h)
			}
			if e.kind == kindFile && (e.info.Size != 4 || e.info.ETag == "") {
				t.Errorf("file info %+v", e.info)
			}
			store.resetCounts()
			if _, err := f.t.lookup(context.Background(), c.path); err != nil || store.total() != 0 {
				t.Errorf("second lookup cost %d requests (err %v), want 0", store.total(), err)
			}
		})
	}
}

func TestNegativeLookupTTL(t *testing.T) {
	f, store, clock := newTestFS(t, map[string]string{"x": "x"}, Config{NegativeTTL: 5 * time.Second})
	ctx := context.Background()
	for i := range 2 {
		if e, err := f.t.lookup(ctx, "missing"); err != nil || e.kind != kindMissing {
			t.Fatalf("lookup %d: %v %v", i, e.kind, err)
		}
	}
	if n := store.total(); n != 2 {
		t.Errorf("two lookups within the negative TTL cost %d requests, want one round (2)", n)
	}
	clock.advance(5 * time.Second)
	store.put("missing", []byte("now here"))
	if e, err := f.t.lookup(ctx, "missing"); err != nil || e.kind != kindFile {
		t.Errorf("after the negative TTL: %v %v, want file", e.kind, err)
	}
}

func TestLookupErrorsAreNotCached(t *testing.T) {
	f, store, _ := newTestFS(t, map[string]string{"x": "x"}, Config{})
	store.setInject(func(op, key string) error { return serviceError(op, key, 503, "ServiceUnavailable") })
	if _, err := f.t.lookup(context.Background(), "x"); Errno(err) != syscall.EIO {
		t.Fatalf("got %v, want an EIO error", err)
	}
	store.setInject(nil)
	if e, err := f.t.lookup(context.Background(), "x"); err != nil || e.kind != kindFile {
		t.Errorf("after the fault: %v %v, want file", e.kind, err)
	}
}

func TestConcurrentLookupsShareOneRequest(t *testing.T) {
	f, store, _ := newTestFS(t, map[string]string{"d/f": "data"}, Config{})
	gate := store.holdHeads()

	const n = 32
	var entered, done sync.WaitGroup
	entered.Add(n)
	done.Add(n)
	errs := make(chan error, n)
	for range n {
		go func() {
			defer done.Done()
			entered.Done()
			e, err := f.t.lookup(context.Background(), "d/f")
			if err == nil && e.kind != kindFile {
				err = fmt.Errorf("got kind %v", e.kind)
			}
			errs <- err
		}()
	}
	entered.Wait()
	mounttest.Await(t, "the first HEAD", func() bool { return store.count("head") >= 1 })
	for range 100 {
		runtime.Gosched() // let any goroutine that would send its own HEAD do so
	}
	close(gate)
	done.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	if h, l := store.count("head"), store.count("list"); h != 1 || l != 1 {
		t.Errorf("%d parallel lookups cost %d HEAD and %d LIST, want 1 and 1", n, h, l)
	}
}

func TestLookupInterruptedWaiterGetsEINTR(t *testing.T) {
	f, store, _ := newTestFS(t, map[string]string{"f": "data"}, Config{})
	gate := store.holdHeads()
	ctx, cancel := context.WithCancel(context.Background())
	res := make(chan error, 1)
	go func() { _, err := f.t.lookup(ctx, "f"); res <- err }()
	mounttest.Await(t, "the HEAD", func() bool { return store.count("head") == 1 })
	cancel()
	if err := <-res; Errno(err) != syscall.EINTR {
		t.Fatalf("got %v, want EINTR", err)
	}
	// The shared request was not cancelled with the waiter: its answer lands in the cache.
	close(gate)
	mounttest.Await(t, "the cached answer", func() bool { _, ok := f.t.cache.get("f"); return ok })
	if store.count("head") != 1 {
		t.Errorf("HEAD count %d, want 1", store.count("head"))
	}
}

// openDir opens the directory prefix as the kernel does: OpendirHandle,
// on a node of its own (so no kernel readdir cache needs dropping).
func openDir(t *testing.T, f *FS, prefix string) *dirHandle {
	t.Helper()
	fh, _, errno := newDirNode(f.t, prefix).OpendirHandle(context.Background(), 0)
	if errno != 0 {
		t.Fatalf("OpendirHandle %q: %v", prefix, errno)
	}
	h := fh.(*dirHandle)
	t.Cleanup(func() { h.Releasedir(context.Background(), 0) })
	return h
}

// readDir reads h to the end with Readdirent, as go-fuse serves READDIR,
// and returns the entries after "." and "..".
func readDir(t *testing.T, h *dirHandle) []fuse.DirEntry {
	t.Helper()
	var out []fuse.DirEntry
	for {
		de, errno := h.Readdirent(context.Background())
		if errno != 0 {
			t.Fatalf("Readdirent: %v", errno)
		}
		if de == nil {
			return out
		}
		if de.Name != "." && de.Name != ".." {
			out = append(out, *de)
		}
	}
}

// listDir reads a whole directory through a directory handle.
func listDir(t *testing.T, f *FS, prefix string) []string {
	t.Helper()
	var out []string
	for _, de := range readDir(t, openDir(t, f, prefix)) {
		typ := "f"
		if de.Mode == syscall.S_IFDIR {
			typ = "d"
		}
		out = append(out, typ+":"+de.Name)
	}
	return out
}

func TestDirStreamTree(t *testing.T) {
	objects := map[string]string{
		"d/":                            "",                           // own marker: not an entry
		"d/a":                           "hidden by the directory a/", // shadowed
		"d/a-1":                         "1",
		"d/a-2":                         "2",
		"d/a.txt":                       "t",
		"d/a/x":                         "x",
		"d/b/":                          "", // marker-only directory
		"d/c":                           "c",
		"d//empty":                      "empty segment",
		"d/.":                           "dot",
		"d/..":                          "dotdot",
		"d/nul\x00x":                    "nul",
		"d/" + strings.Repeat("L", 256): "long",
		"d/" + strings.Repeat("k", 255): "ok",
		"d/z/./y":                       "dir z is fine; its child is not",
	}
	want := []string{"f:a-1", "f:a-2", "f:a.txt", "d:a", "d:b", "f:c", "f:" + strings.Repeat("k", 255), "d:z"}
	slices.Sort(want)
	for _, pageSize := range []int{1, 2, 3, 1000} {
		t.Run(fmt.Sprintf("page size %d", pageSize), func(t *testing.T) {
			f, store, _ := newTestFS(t, objects, Config{})
			f.t.pageSize = pageSize
			got := listDir(t, f, "d/")
			slices.Sort(got)
			if !slices.Equal(got, want) {
				t.Errorf("got  %q\nwant %q", got, want)
			}
			if st := f.Stats(); st.SkippedKeys != 5 {
				t.Errorf("stats %+v, want 5 skipped", st)
			}
			if pageSize == 1000 && store.count("list") != 1 {
				t.Errorf("LIST count %d, want 1", store.count("list"))
			}
			// Every entry is in the cache: lookups cost nothing.
			store.resetCounts()
			for _, e := range got {
				if _, err := f.t.lookup(context.Background(), "d/"+e[2:]); err != nil {
					t.Fatal(err)
				}
			}
			if e, _ := f.t.lookup(context.Background(), "d/a"); e.kind != kindDir {
				t.Errorf("d/a cached as %v, want dir", e.kind)
			}
			if n := store.total(); n != 0 {
				t.Errorf("lookups after readdir cost %d requests, want 0", n)
			}
		})
	}
}

// newPagedDir is a tree with files d/f0, d/f1, ... (n of them), listed
// pageSize names a page.
func newPagedDir(t *testing.T, n, pageSize int) (*FS, *fakeStore) {
	t.Helper()
	objects := map[string]string{}
	for i := range n {
		objects[fmt.Sprintf("d/f%d", i)] = "x"
	}
	f, store, _ := newTestFS(t, objects, Config{})
	f.t.pageSize = pageSize
	return f, store
}

func TestDirStreamErrorThenRetry(t *testing.T) {
	f, store := newPagedDir(t, 7, 2) // 4 pages
	// The second LIST fails once; the fetcher stops there, and the
	// failure reaches the reader after the first page's entries.
	var lists atomic.Int32
	store.setInject(func(op, key string) error {
		if op == "list" && lists.Add(1) == 2 {
			return serviceError(op, key, 500, "InternalError")
		}
		return nil
	})
	h := openDir(t, f, "d/")
	var names []string
	failed := 0
	for {
		de, errno := h.Readdirent(context.Background())
		if errno != 0 {
			if errno != syscall.EIO {
				t.Fatalf("got %v, want EIO", errno)
			}
			if failed++; failed > 1 {
				t.Fatal("the retry failed again")
			}
			continue
		}
		if de == nil {
			break
		}
		if de.Name != "." && de.Name != ".." {
			names = append(names, de.Name)
		}
	}
	if failed != 1 || len(names) != 7 || names[1] != "f1" || names[2] != "f2" {
		t.Errorf("failures %d; after the retry the stream handed out %q, want f0..f6 in order once each", failed, names)
	}
	if n := lists.Load(); n != 5 {
		t.Errorf("%d LISTs, want 5 (4 pages, one retried)", n)
	}
}

// Pages chain: the fetcher asks for the next page as soon as it has the
// previous one, up to pagesAhead pages before the reader, and not more.
func TestDirStreamFetchesAhead(t *testing.T) {
	f, store := newPagedDir(t, 10, 2) // 5 pages
	h := openDir(t, f, "d/")
	for range 3 { // ".", "..", and the first name: the first page
		if de, errno := h.Readdirent(context.Background()); errno != 0 || de == nil {
			t.Fatalf("first page: %v, %v", de, errno)
		}
	}
	// Nothing more is read from the handle: pages 2 and 3 are still fetched.
	want := 1 + pagesAhead
	mounttest.WaitFor(mounttest.HangGuard, func() bool { return store.count("list") >= want })
	if n := store.count("list"); n != want {
		t.Fatalf("%d LISTs while the reader holds page 1, want %d", n, want)
	}
	names := readDir(t, h)
	if len(names) != 9 || store.count("list") != 5 {
		t.Errorf("read %d more entries with %d LISTs, want 9 with 5", len(names), store.count("list"))
	}
}

// Config's modes: 0 shows DefaultFileMode and DefaultDirMode; bits above
// 0o7777 are dropped.
func TestConfigModes(t *testing.T) {
	for _, c := range []struct{ file, dir, wantFile, wantDir uint32 }{
		{0, 0, DefaultFileMode, DefaultDirMode},
		{0o640, 0o1750, 0o640, 0o1750},
		{0o100640, 0o40750, 0o640, 0o750},
	} {
		f, _, _ := newTestFS(t, nil, Config{FileMode: c.file, DirMode: c.dir})
		var file, dir fuse.Attr
		f.t.fileAttr("f", objectMeta{}, &file)
		f.t.dirAttr("d/", time.Time{}, &dir)
		if file.Mode != syscall.S_IFREG|c.wantFile || dir.Mode != syscall.S_IFDIR|c.wantDir {
			t.Errorf("Config modes %o, %o: shown %o, %o; want %o, %o", c.file, c.dir, file.Mode, dir.Mode,
				syscall.S_IFREG|c.wantFile, syscall.S_IFDIR|c.wantDir)
		}
	}
}
