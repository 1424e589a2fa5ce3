package diskcache

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
)

// blockFiles lists the block files under dir.
func blockFiles(t *testing.T, dir string) []string {
	t.Helper()
	var files []string
	err := filepath.WalkDir(filepath.Join(dir, "blocks"), func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			files = append(files, p)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

func TestDamagedBlocksAreDroppedAndRefetched(t *testing.T) {
	damages := map[string]func(t *testing.T, path string, other string){
		"truncated": func(t *testing.T, p, _ string) { must(t, os.Truncate(p, headerSize+100)) },
		"empty":     func(t *testing.T, p, _ string) { must(t, os.Truncate(p, 0)) },
		"data byte flipped": func(t *testing.T, p, _ string) {
			flip(t, p, headerSize+testBlock/2)
		},
		"header byte flipped": func(t *testing.T, p, _ string) { flip(t, p, 45) },
		"deleted":             func(t *testing.T, p, _ string) { must(t, os.Remove(p)) },
		"longer":              func(t *testing.T, p, _ string) { appendTo(t, p, []byte("junk")) },
		"another block's file": func(t *testing.T, p, other string) {
			must(t, os.Rename(other, p))
		},
	}
	for name, damage := range damages {
		t.Run(name, func(t *testing.T) {
			store := newFakeStore()
			data := randomData(2*testBlock, 11)
			etag := store.put("k", data)
			c := newTestCache(t, store, t.TempDir(), 4<<20)
			readRange(t, c, "k", etag, 0, int64(len(data)))
			settle(t, c)
			id := blockID{obj: newObjectID("bkt", "k", etag)}
			other := id
			other.index = 1
			damage(t, c.pathOf(id), c.pathOf(other))
			before := store.gets.Load()
			if got := readRange(t, c, "k", etag, 0, int64(len(data))); !bytes.Equal(got, data) {
				t.Fatal("a damaged cache file yielded bytes other than the source")
			}
			if store.gets.Load() == before {
				t.Fatal("the damaged block was not fetched again")
			}
			settle(t, c)
			if got := readRange(t, c, "k", etag, 0, int64(len(data))); !bytes.Equal(got, data) {
				t.Fatal("after the refetch the cache serves bytes other than the source")
			}
		})
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func flip(t *testing.T, path string, at int64) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	must(t, err)
	defer f.Close()
	b := make([]byte, 1)
	_, err = f.ReadAt(b, at)
	must(t, err)
	b[0] ^= 0x40
	_, err = f.WriteAt(b, at)
	must(t, err)
}

func appendTo(t *testing.T, path string, b []byte) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	must(t, err)
	_, err = f.Write(b)
	must(t, err)
	must(t, f.Close())
}

// duBytes is what du counts under dir: allocated blocks of every file and
// directory.
func duBytes(dir string) int64 {
	var total int64
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return nil // removed meanwhile
		}
		if info, err := d.Info(); err == nil {
			total += info.Sys().(*syscall.Stat_t).Blocks * 512
		}
		return nil
	})
	return total
}

func TestSizeLimitHoldsAtEveryMoment(t *testing.T) {
	store := newFakeStore()
	const size = dirReserve + 24*(testBlock+4096+128) // room for 24 blocks
	dir := t.TempDir()
	c := newTestCache(t, store, dir, size)
	var objects []string
	var etags []string
	for i := range 20 {
		key := "obj" + strings.Repeat("x", i)
		objects = append(objects, key)
		etags = append(etags, store.put(key, randomData(5*testBlock, uint64(100+i))))
	}
	var stop atomic.Bool
	var worst atomic.Int64
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for !stop.Load() {
			// Files on disk are never more than the charge (space is
			// charged before a write, released after a removal); du's walk
			// is not atomic, so it is checked once writes have settled, and
			// the e2e test samples an atomic statfs.
			if st := c.Stats(); st.Bytes > st.LimitBytes {
				t.Errorf("charged %d bytes, limit %d", st.Bytes, st.LimitBytes)
			} else if st.Bytes > worst.Load() {
				worst.Store(st.Bytes)
			}
		}
	}()
	for round := range 3 {
		for i, key := range objects {
			got := readRange(t, c, key, etags[i], 0, 5*testBlock)
			if len(got) != 5*testBlock {
				t.Fatalf("round %d %s: %d bytes", round, key, len(got))
			}
		}
	}
	settle(t, c)
	stop.Store(true)
	wg.Wait()
	st := c.Stats()
	if du := duBytes(dir); du > size {
		t.Fatalf("du of the cache dir is %d bytes, over the size %d", du, size)
	}
	if worst.Load() < st.LimitBytes-2*fileCost(testBlock) {
		t.Fatalf("the charge peaked at %d of %d bytes: the cache never filled", worst.Load(), st.LimitBytes)
	}
	if st.Evicted == 0 || st.Blocks > 24 || st.Blocks < 20 {
		t.Fatalf("stats %+v: want evictions and about 24 blocks kept", st)
	}
	if n := len(blockFiles(t, dir)); int64(n) != st.Blocks {
		t.Fatalf("%d block files on disk, index says %d", n, st.Blocks)
	}
}

func TestFailingDiskStepsAside(t *testing.T) {
	for _, fault := range []error{syscall.ENOSPC, syscall.EIO} {
		t.Run(fault.Error(), func(t *testing.T) {
			store := newFakeStore()
			c := newTestCache(t, store, t.TempDir(), 4<<20)
			dir := c.dir
			// The disk holds 3 blocks; the fault hits every write that would
			// make a fourth (ENOSPC), or every write after the first three (EIO).
			var writes atomic.Int64
			c.writeFault = func() error {
				if errors.Is(fault, syscall.ENOSPC) && len(blockFiles(t, dir)) >= 3 ||
					!errors.Is(fault, syscall.ENOSPC) && writes.Add(1) > 3 {
					return fault
				}
				return nil
			}
			for i := range 10 {
				data := randomData(2*testBlock, uint64(200+i))
				key := "k" + strings.Repeat("y", i)
				etag := store.put(key, data)
				if got := readRange(t, c, key, etag, 0, int64(len(data))); !bytes.Equal(got, data) {
					t.Fatalf("read %d with a failing disk differs from the source", i)
				}
			}
			settle(t, c)
			st := c.Stats()
			if errors.Is(fault, syscall.ENOSPC) {
				// Concurrent writers may each see room for one more block.
				if st.WriteErrors == 0 || st.Blocks < 1 || st.LimitBytes != st.Bytes || st.LimitBytes >= 4<<20-dirReserve {
					t.Fatalf("stats %+v: want write errors, and the limit lowered to what is on disk", st)
				}
			} else if st.WriteErrors == 0 || st.Blocks != 3 {
				t.Fatalf("stats %+v: want write errors and the 3 blocks written before", st)
			}
		})
	}
}

func TestRemountReusesBlocks(t *testing.T) {
	store := newFakeStore()
	data := randomData(5*testBlock+7, 12)
	etag := store.put("k", data)
	dir := t.TempDir()
	c, err := New(Config{Dir: dir, Size: 4 << 20, Bucket: "bkt", BlockSize: testBlock}, store)
	must(t, err)
	readRange(t, c, "k", etag, 0, int64(len(data)))
	must(t, c.Close())
	// Leftovers of a crash: a half-written temporary file, a stranger.
	must(t, os.WriteFile(filepath.Join(dir, "tmp", "block-123"), []byte("half"), 0o600))
	must(t, os.WriteFile(filepath.Join(dir, "blocks", "00", "stranger"), []byte("x"), 0o600))

	again := newTestCache(t, store, dir, 4<<20)
	if st := again.Stats(); st.Blocks != 6 {
		t.Fatalf("remount indexed %d blocks, want 6", st.Blocks)
	}
	before := store.gets.Load()
	if got := readRange(t, again, "k", etag, 0, int64(len(data))); !bytes.Equal(got, data) {
		t.Fatal("after remount the bytes differ from the source")
	}
	if store.gets.Load() != before {
		t.Fatal("after remount a cached object cost a GET")
	}
	for _, p := range []string{filepath.Join(dir, "tmp", "block-123"), filepath.Join(dir, "blocks", "00", "stranger")} {
		if _, err := os.Stat(p); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s survived the remount: %v", p, err)
		}
	}
}

func TestObjectIDSeparatesBucketKeyAndETag(t *testing.T) {
	ids := map[objectID]string{}
	for _, v := range [][3]string{{"a", "k", "e"}, {"b", "k", "e"}, {"a", "k", "f"}, {"a", "kk", "e"}, {"ab", "c", ""}, {"a", "bc", ""}} {
		id := newObjectID(v[0], v[1], v[2])
		if prev, dup := ids[id]; dup {
			t.Fatalf("%q and %q share an object ID", prev, v)
		}
		ids[id] = strings.Join(v[:], "|")
	}
}

func TestSecondCacheOnADirIsRefused(t *testing.T) {
	store := newFakeStore()
	dir := t.TempDir()
	first, err := New(Config{Dir: dir, Size: 4 << 20, Bucket: "bkt", BlockSize: testBlock}, store)
	must(t, err)
	_, err = New(Config{Dir: dir, Size: 4 << 20, Bucket: "bkt", BlockSize: testBlock}, store)
	if err == nil || !strings.Contains(err.Error(), "in use by another ossmount") {
		t.Fatalf("second cache on the same dir: %v, want a refusal naming the other mount", err)
	}
	must(t, first.Close())
	newTestCache(t, store, dir, 4<<20) // free again once closed
}

func TestPermissionsIgnoreUmask(t *testing.T) {
	old := syscall.Umask(0)
	defer syscall.Umask(old)
	store := newFakeStore()
	dir := filepath.Join(t.TempDir(), "cache")
	c := newTestCache(t, store, dir, 4<<20)
	etag := store.put("k", randomData(testBlock, 13))
	readRange(t, c, "k", etag, 0, testBlock)
	settle(t, c)
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		want := fs.FileMode(0o600)
		if d.IsDir() {
			want = 0o700
		}
		if info.Mode().Perm() != want {
			t.Errorf("%s has mode %v, want %v", p, info.Mode().Perm(), want)
		}
		return nil
	})
	must(t, err)
}

func TestBadConfig(t *testing.T) {
	store := newFakeStore()
	for name, cfg := range map[string]Config{
		"no dir":     {Size: 1 << 30, Bucket: "b"},
		"no bucket":  {Dir: t.TempDir(), Size: 1 << 30},
		"too small":  {Dir: t.TempDir(), Size: 4 << 20, Bucket: "b"},
		"odd blocks": {Dir: t.TempDir(), Size: 1 << 30, Bucket: "b", BlockSize: 100},
	} {
		if _, err := New(cfg, store); err == nil {
			t.Errorf("%s: New accepted %+v", name, cfg)
		}
	}
}

// A disk that cannot keep up never slows a read: with the writers stuck,
// reads complete from the network and the blocks the queue cannot hold
// are dropped, not waited for.
func TestSlowDiskDropsFillsInsteadOfWaiting(t *testing.T) {
	store := newFakeStore()
	c, err := New(Config{Dir: t.TempDir(), Size: 4 << 20, Bucket: "bkt", BlockSize: testBlock, WriteQueue: 2}, store)
	must(t, err)
	stuck := make(chan struct{})
	c.writeFault = func() error { <-stuck; return nil }
	for i := range 8 {
		data := randomData(4*testBlock, uint64(300+i))
		key := "slow" + strings.Repeat("z", i)
		etag := store.put(key, data)
		if got := readRange(t, c, key, etag, 0, int64(len(data))); !bytes.Equal(got, data) {
			t.Fatalf("read %d with a stuck disk differs from the source", i)
		}
	}
	if st := c.Stats(); st.Dropped == 0 {
		t.Fatalf("stats %+v: want fills dropped while the disk is stuck", st)
	}
	close(stuck)
	settle(t, c)
	must(t, c.Close())
}
