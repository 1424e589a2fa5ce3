package fs

import (
	"context"
	"fmt"
	"testing"
	"time"
)

// Every ETag comes back exactly as the listing gave it, compact or not.
func TestPackETagRoundTrip(t *testing.T) {
	for _, etag := range []string{
		"",
		`"5B3C1A2E0563E1B002CC607C6689A7C3"`,
		`"5b3c1a2e0563e1b002cc607c6689a7c3"`,
		`"5B3C1A2E0563E1B002CC607C6689A7C3-12"`,
		`"5B3C1A2E0563E1B002CC607C6689A7C3-0"`,
		`"5B3C1A2E0563E1B002CC607C6689A7C3-012"`,
		`"5b3C1A2E0563E1B002CC607C6689A7C3"`,
		`"etag-1"`,
		`W/"5B3C1A2E0563E1B002CC607C6689A7C3"`,
		`"ZZ3C1A2E0563E1B002CC607C6689A7C3"`,
		`5B3C1A2E0563E1B002CC607C6689A7C3`,
		`5B3C1A2E0563E1B002CC607C6689A7C3"`,
	} {
		l := &listing{}
		page := []dirent{{name: "f", e: entry{kind: kindFile, info: objectMeta{Size: 7, ETag: etag, LastModified: fakeEpoch}}}}
		l.add(page, neverExpires)
		i, ok := l.find("f")
		if !ok {
			t.Fatal("name not found")
		}
		s := l.slots.at(i)
		if got := s.etag(l.rawETags); got != etag {
			t.Errorf("ETag %q came back as %q", etag, got)
		}
		if m := s.meta(l.rawETags); m.Size != 7 || !m.LastModified.Equal(fakeEpoch) {
			t.Errorf("meta %+v", m)
		}
	}
}

// Pages that arrive out of name order (a directory "a" after files
// "a-1", "a.txt") still leave a listing every name of which is found.
func TestListingFindsNamesAcrossPages(t *testing.T) {
	l := &listing{}
	l.add([]dirent{{name: "a-1", e: entry{kind: kindFile}}, {name: "a.txt", e: entry{kind: kindFile}}}, neverExpires)
	l.add([]dirent{{name: "a", e: entry{kind: kindDir}}, {name: "b", e: entry{kind: kindFile}}}, neverExpires)
	for _, name := range []string{"a", "a-1", "a.txt", "b"} {
		if _, ok := l.find(name); !ok {
			t.Errorf("%q not found", name)
		}
	}
	if _, ok := l.find("c"); ok {
		t.Error("found a name never listed")
	}
}

// A directory read to the end within the TTL is replayed from the cache:
// a second readdir costs no request even when the kernel dropped its
// copy; after the TTL it is listed again.
func TestReaddirReplaysCompleteListing(t *testing.T) {
	objects := map[string]string{}
	for i := range 9000 { // three chunks of slots
		objects[fmt.Sprintf("d/f%04d", i)] = "x"
	}
	objects["d/f4095-1"] = "x" // sorts before the directory f4095
	objects["d/f4095/x"] = "x"
	objects["d/sub/x"] = "x"
	f, store, clock := newTestFS(t, objects, Config{})
	first := listDir(t, f, "d/")
	store.resetCounts()
	second := listDir(t, f, "d/")
	if n := store.total(); n != 0 {
		t.Errorf("second readdir cost %d requests, want 0", n)
	}
	if fmt.Sprint(first) != fmt.Sprint(second) {
		t.Errorf("replayed listing differs: %d vs %d entries", len(first), len(second))
	}
	clock.advance(DefaultMetadataTTL)
	listDir(t, f, "d/")
	if n := store.count("list"); n != 10 {
		t.Errorf("readdir after the TTL cost %d LISTs, want 10", n)
	}
	// Every name is found in the chunked, sorted listing.
	store.resetCounts()
	for _, e := range first {
		if _, err := f.t.lookup(context.Background(), "d/"+e[2:]); err != nil {
			t.Fatal(err)
		}
	}
	if n := store.total(); n != 0 {
		t.Errorf("lookups of listed names cost %d requests, want 0", n)
	}
}

// Reading every name of a just-listed directory costs nothing, however
// large the directory: the cache is bounded by memory and evicts whole
// directories, never a fresh listing's names one by one.
func TestCacheEvictsWholeDirectories(t *testing.T) {
	objects := map[string]string{}
	for d := range 3 {
		for i := range 3000 {
			objects[fmt.Sprintf("d%d/f%04d", d, i)] = "x"
		}
	}
	probe, _, _ := newTestFS(t, objects, Config{})
	listDir(t, probe, "d0/")
	one, _ := probe.t.cache.usage()
	// Room for two and a half directories of 3,000 names.
	limit := one * 5 / 2
	f, store, _ := newTestFS(t, objects, Config{MetadataCacheMemory: limit})
	ctx := context.Background()
	for d := range 3 {
		listDir(t, f, fmt.Sprintf("d%d/", d))
	}
	bytes, dirs := f.t.cache.usage()
	if bytes > limit || dirs != 2 {
		t.Errorf("cache holds %d bytes in %d directories, want at most the limit in 2", bytes, dirs)
	}
	store.resetCounts()
	for i := range 3000 {
		if _, err := f.t.lookup(ctx, fmt.Sprintf("d2/f%04d", i)); err != nil {
			t.Fatal(err)
		}
	}
	if n := store.total(); n != 0 {
		t.Errorf("lookups of the newest listing's names cost %d requests, want 0", n)
	}
	// d0 was the least recently used: gone whole.
	if _, ok := f.t.cache.get("d0/f0000"); ok {
		t.Error("the least recently used directory is still cached")
	}
}

// A directory whose listing alone is larger than the whole cache is not
// kept (and logged), rather than evicted name by name.
func TestCacheDropsListingLargerThanItself(t *testing.T) {
	objects := map[string]string{}
	for i := range 3000 {
		objects[fmt.Sprintf("big/f%04d", i)] = "x"
	}
	f, _, _ := newTestFS(t, objects, Config{MetadataCacheMemory: 1000 * slotSize})
	got := listDir(t, f, "big/")
	if len(got) != 3000 {
		t.Fatalf("listed %d, want 3000", len(got))
	}
	if bytes, _ := f.t.cache.usage(); bytes > 1000*slotSize {
		t.Errorf("cache counts %d bytes, over its %d limit", bytes, 1000*slotSize)
	}
}

// TTLIndefinite: what was listed is trusted however much time passes.
func TestIndefiniteTTL(t *testing.T) {
	f, store, clock := newTTLFS(t, map[string]string{"d/f": "abc"}, TTLIndefinite, TTLIndefinite)
	ctx := context.Background()
	listDir(t, f, "d/")
	store.resetCounts()
	clock.advance(10 * 365 * 24 * time.Hour)
	listDir(t, f, "d/")
	if e, err := f.t.lookup(ctx, "d/f"); err != nil || e.kind != kindFile || e.info.Size != 3 {
		t.Fatalf("lookup: %+v %v", e, err)
	}
	if e, _ := f.t.lookup(ctx, "d/missing"); e.kind != kindMissing {
		t.Fatalf("a name the listing lacks: %v, want missing", e.kind)
	}
	if n := store.total(); n != 0 {
		t.Errorf("ten years later: %d requests, want 0", n)
	}
	opts := f.MountOptions("x", false, false)
	if *opts.AttrTimeout < 100*365*24*time.Hour || *opts.NegativeTimeout < 100*365*24*time.Hour {
		t.Errorf("kernel timeouts %v / %v, want effectively infinite", *opts.AttrTimeout, *opts.NegativeTimeout)
	}
	e, _ := f.t.lookup(ctx, "d/f")
	if left := f.t.cache.ttlLeft(e); left < 100*365*24*time.Hour {
		t.Errorf("time left %v, want effectively infinite", left)
	}
}

// Each name's TTL counts from its own page: the last names of a long
// listing are trusted as long after they were listed as the first.
func TestListingNamesExpireWithTheirPage(t *testing.T) {
	l := &listing{expires: fakeEpoch.Add(time.Minute)}
	page := func(from, n int) []dirent {
		out := make([]dirent, n)
		for i := range out {
			out[i] = dirent{name: fmt.Sprintf("f%05d", from+i), e: entry{kind: kindFile}}
		}
		return out
	}
	early, late := fakeEpoch.Add(time.Minute), fakeEpoch.Add(3*time.Minute)
	l.add(page(0, 5000), early)
	l.add(page(5000, 5000), late)
	now := fakeEpoch.Add(2 * time.Minute)
	if _, ok := l.lookup("f00000", now); ok {
		t.Error("a name of the first page is still trusted after its TTL")
	}
	if e, ok := l.lookup("f09999", now); !ok || !e.expires.Equal(late) {
		t.Errorf("a name of the last page: %v %v, want trusted until %v", ok, e.expires, late)
	}
}
