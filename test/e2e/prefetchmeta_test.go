package e2e

import (
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/ossmount/ossmount/test/emulator"
	"github.com/ossmount/ossmount/test/mounttest"
)

// --prefetch-metadata lists 100,000 keys in nested directories while
// mounting (LIST requests only, logged progress), after which `find` and
// `ls -lR` cost no request at all and print what a mount without the
// flag prints.
func TestPrefetchMetadataAnswersFromMemory(t *testing.T) {
	e := startEmulator(t, emulator.Config{})
	e.emu.CreateBucket("pmeta", false)
	// 10 top directories of 100 directories of 100 files.
	e.emu.AddGenerated("pmeta", emulator.Generated{Count: 100_000, PerDir: 100, KeyFormat: "ds/t%02d/d%03d/f%06d", Size: 100, Seed: 3})
	// One directory of 2,500 (several pages), markers, root files, a
	// file beside a directory of its name.
	e.emu.AddGenerated("pmeta", emulator.Generated{Count: 2_500, KeyFormat: "ds/big/f%05d", Size: 1, Seed: 4})
	for _, k := range []string{"ds/", "ds/readme.txt", "ds/t00/", "ds/empty/", "ds/t01", "ds/z/deep/er/file"} {
		e.emu.PutObject("pmeta", k, []byte(k))
	}
	e.emu.PutObject("pmeta", "outside/x", []byte("x"))

	e.emu.ResetCounters()
	mnt, logFile := e.mount("pmeta:/ds", "--prefetch-metadata")
	c := e.emu.Counters()
	t.Logf("mounting: %d LIST, %d HEAD, %d GET", c.Requests["ListObjectsV2"], c.Requests["HeadObject"], c.Requests["GetObject"])
	if c.Requests["ListObjectsV2"] < 104 || c.Requests["HeadObject"] != 0 || c.Requests["GetObject"] != 0 {
		t.Errorf("mounting sent %d LIST, %d HEAD, %d GET; want at least the 104 pages, nothing else",
			c.Requests["ListObjectsV2"], c.Requests["HeadObject"], c.Requests["GetObject"])
	}
	log := readFile(t, logFile)
	ready := regexp.MustCompile(`metadata index ready.*? keys=(\d+) .*keys_per_second=\d+ .*bytes_per_key=(\d+)`).FindStringSubmatch(log)
	if ready == nil || ready[1] != "102506" {
		t.Fatalf("no \"metadata index ready\" line with keys=102506 in the log:\n%s", tail(log, 3000))
	}
	t.Logf("index: %s keys, %s bytes per key", ready[1], ready[2])

	e.emu.ResetCounters()
	find := sh(t, mnt, "find . | LC_ALL=C sort")
	lsR := sh(t, mnt, "LC_ALL=C ls -lR --time-style=+%s . | grep -v '^d'")
	c = e.emu.Counters()
	if n := totalRequests(c); n != 0 {
		t.Errorf("find and ls -lR sent %d requests (%v), want 0", n, c.Requests)
	}
	if n := strings.Count(find, "\n"); n < 102_500 {
		t.Errorf("find printed %d lines", n)
	}

	plain, _ := e.mount("pmeta:/ds")
	wantFind := sh(t, plain, "find . | LC_ALL=C sort")
	wantLsR := sh(t, plain, "LC_ALL=C ls -lR --time-style=+%s . | grep -v '^d'")
	if find != wantFind {
		t.Errorf("find differs from a mount without --prefetch-metadata (%d vs %d lines)", strings.Count(find, "\n"), strings.Count(wantFind, "\n"))
	}
	if lsR != wantLsR {
		t.Errorf("ls -lR differs from a mount without --prefetch-metadata (%d vs %d lines)", strings.Count(lsR, "\n"), strings.Count(wantLsR, "\n"))
	}
}

// After --metadata-ttl the prefetched index is dropped and the mount asks
// OSS again: an object added after mounting is invisible (with no
// request) until then, and visible after.
func TestPrefetchMetadataExpires(t *testing.T) {
	e := startEmulator(t, emulator.Config{})
	e.emu.CreateBucket("pmeta", false)
	e.emu.PutObject("pmeta", "d/old.txt", []byte("old"))
	const ttl = 2 * time.Second
	mnt, logFile := e.mount("pmeta", "--prefetch-metadata", "--metadata-ttl", ttl.String(), "--negative-ttl", "1s")
	mounted := time.Now()
	e.emu.PutObject("pmeta", "d/new.txt", []byte("new"))
	e.emu.ResetCounters()
	_, err := os.Stat(filepath.Join(mnt, "d", "new.txt"))
	if elapsed := time.Since(mounted); elapsed < ttl && !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("stat of an object added after mounting, %v into a %v TTL: %v, want ENOENT", elapsed, ttl, err)
	}
	if elapsed := time.Since(mounted); elapsed < ttl {
		if n := totalRequests(e.emu.Counters()); n != 0 {
			t.Errorf("%d requests within the TTL, want 0", n)
		}
	}
	if !mounttest.WaitFor(ttl+10*time.Second, func() bool {
		data, err := os.ReadFile(filepath.Join(mnt, "d", "new.txt"))
		return err == nil && string(data) == "new"
	}) {
		t.Fatalf("the new object never appeared after the TTL\n%s", tail(readFile(t, logFile), 2000))
	}
	if !waitLog(logFile, 0, "metadata index expired") {
		t.Errorf("no log line says the index expired")
	}
}
