package e2e

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ossmount/ossmount/test/emulator"
)

// lsCount runs `ls -l dir` and checks that it printed want entries.
func lsCount(t *testing.T, dir string, want int) {
	t.Helper()
	out, err := exec.Command("ls", "-l", dir).Output()
	if err != nil {
		t.Fatalf("ls -l %s: %v", dir, err)
	}
	if n := strings.Count(string(out), "\n") - 1; n != want { // minus "total"
		t.Fatalf("ls -l printed %d entries, want %d", n, want)
	}
}

// requestSummary is the OSS requests counted since the last reset.
func requestSummary(c emulator.Counters) string {
	return fmt.Sprintf("LIST %d, HEAD %d, GET %d (all: %v)", c.Requests["ListObjectsV2"], c.Requests["HeadObject"],
		c.Requests["GetObject"], c.Requests)
}

// With the default --metadata-cache-memory, every name `ls -l` showed in a
// 200,000-object directory stays answerable from memory: reading 2,000 of
// them costs their GETs alone, and a repeated `ls -l` costs nothing. The
// TTL is an hour, not the default minute: this measures what the cache
// holds, not when entries expire, and on a loaded machine the two `ls -l`
// and the reads took longer than a minute (a repeated `ls -l` then cost
// LIST 1, HEAD 1 in two of three runs next to another make test).
func TestScaleListedNamesCostOnlyTheirGETs(t *testing.T) {
	e := startEmulator(t, emulator.Config{})
	const objects, reads = 200_000, 2_000
	e.emu.AddGenerated("scale", emulator.Generated{Count: objects, KeyFormat: "flat/f%06d", Size: 100, Seed: 3})
	mnt, logFile := e.mount("scale", "--metadata-ttl", "1h")
	dir := filepath.Join(mnt, "flat")
	lsCount(t, dir, objects)

	e.emu.ResetCounters()
	for i := range reads {
		name := fmt.Sprintf("f%06d", i*(objects/reads)+i%(objects/reads))
		data, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil || len(data) != 100 {
			t.Fatalf("reading %s: %d bytes, %v", name, len(data), err)
		}
	}
	c := e.emu.Counters()
	if c.Requests["GetObject"] != reads || c.Requests["HeadObject"] != 0 || c.Requests["ListObjectsV2"] != 0 {
		t.Fatalf("reading %d listed files cost %s, want exactly %d GET, 0 HEAD, 0 LIST\nlog tail:\n%s",
			reads, requestSummary(c), reads, tail(readFile(t, logFile), 2000))
	}

	e.emu.ResetCounters()
	lsCount(t, dir, objects)
	if c := e.emu.Counters(); totalRequests(c) != 0 {
		t.Fatalf("a repeated ls -l cost %s, want 0 requests", requestSummary(c))
	}
}

// --metadata-ttl 0 and --negative-ttl 0 mean "do not cache": a replaced
// object's new size shows at once, every stat asks OSS, and a new object
// appears at once.
func TestMetadataTTLZeroAsksEveryTime(t *testing.T) {
	e := startEmulator(t, emulator.Config{})
	e.emu.CreateBucket("zero", false)
	e.emu.PutObject("zero", "d/a.txt", []byte("abc"))
	mnt, logFile := e.mount("zero", "--metadata-ttl", "0", "--negative-ttl", "0", "--debug-fuse")
	path := filepath.Join(mnt, "d", "a.txt")
	size := func() int64 {
		t.Helper()
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		return fi.Size()
	}
	if n := size(); n != 3 {
		t.Fatalf("size %d, want 3", n)
	}
	e.emu.PutObject("zero", "d/a.txt", []byte("abcdefg"))
	if n := size(); n != 7 {
		t.Fatalf("size %d right after the object was replaced, want 7 (nothing cached)", n)
	}

	e.emu.ResetCounters()
	const stats = 3
	for range stats {
		size()
	}
	if c := e.emu.Counters(); c.Requests["HeadObject"] < stats {
		t.Fatalf("%d stats cost %s, want at least one HEAD each", stats, requestSummary(c))
	}

	fresh := filepath.Join(mnt, "d", "new.txt")
	if _, err := os.Stat(fresh); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("stat of a missing name: %v, want ENOENT", err)
	}
	e.emu.PutObject("zero", "d/new.txt", []byte("n"))
	if _, err := os.Stat(fresh); err != nil {
		t.Fatalf("a new object is not visible at once with --negative-ttl 0: %v", err)
	}
	// The kernel is told to keep nothing either.
	lookups := 0
	for _, line := range strings.Split(readFile(t, logFile), "\n") {
		m := kernelTimeout.FindStringSubmatch(line)
		if m == nil || m[1] == pollHackNodeID {
			continue
		}
		lookups++
		if m[2] != "0" || m[3] != "0" {
			t.Fatalf("kernel timeouts tE=%ss tA=%ss, want 0, in:\n%s", m[2], m[3], line)
		}
	}
	if lookups == 0 {
		t.Fatal("no LOOKUP reply in the debug log")
	}
}

// kernelTimeout matches the node ID and the entry and attribute timeouts
// go-fuse logs for each LOOKUP reply with --debug-fuse ("{n5 g0 tE=60s tA=60s").
var kernelTimeout = regexp.MustCompile(`\{n(\d+) g\d+ tE=([0-9.e+]+)s tA=([0-9.e+]+)s`)

// pollHackNodeID is the node go-fuse answers itself (its epoll
// workaround), with zero timeouts.
const pollHackNodeID = "18446744073709551615"

// --metadata-ttl indefinite: after the first listing nothing asks OSS again
// about names, sizes or listings, and the kernel is told to keep them for
// ever, so no wait, however long, changes that.
func TestMetadataTTLIndefinite(t *testing.T) {
	e := startEmulator(t, emulator.Config{})
	e.emu.AddGenerated("frozen", emulator.Generated{Count: 3000, KeyFormat: "d%01d/f%04d", PerDir: 1000, Size: 10, Seed: 4})
	mnt, logFile := e.mount("frozen", "--metadata-ttl", "indefinite", "-o", "negative_ttl=indefinite", "--debug-fuse")
	walk := func() int {
		t.Helper()
		n := 0
		err := filepath.WalkDir(mnt, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if _, err := os.Stat(p); err != nil {
				return err
			}
			if !d.IsDir() {
				n++
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	// A name looked up before any listing: LOOKUP replies in the debug log.
	if _, err := os.Stat(filepath.Join(mnt, "d0", "f0005")); err != nil {
		t.Fatal(err)
	}
	if n := walk(); n != 3000 {
		t.Fatalf("walk found %d files, want 3000", n)
	}
	e.emu.ResetCounters()
	// Longer than a second-granular expiry could hide; the kernel timeouts
	// below show that no wait would do more.
	time.Sleep(1500 * time.Millisecond)
	if n := walk(); n != 3000 {
		t.Fatalf("second walk found %d files", n)
	}
	if _, err := os.Stat(filepath.Join(mnt, "d1", "missing")); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("stat of a missing name: %v", err)
	}
	if _, err := os.ReadFile(filepath.Join(mnt, "d2", "f2999")); err != nil {
		t.Fatal(err)
	}
	c := e.emu.Counters()
	if c.Requests["ListObjectsV2"] != 0 || c.Requests["HeadObject"] != 0 || totalRequests(c) > 1 {
		t.Fatalf("after the first walk: %s, want no LIST or HEAD (one GET for the read)", requestSummary(c))
	}
	const century = 100 * 365 * 24 * 3600
	lookups := 0
	for _, line := range strings.Split(readFile(t, logFile), "\n") {
		m := kernelTimeout.FindStringSubmatch(line)
		if m == nil || m[1] == "0" || m[1] == pollHackNodeID {
			continue
		}
		lookups++
		for _, v := range m[2:] {
			if f, err := strconv.ParseFloat(v, 64); err != nil || f < century {
				t.Fatalf("kernel timeout %ss, want effectively infinite (over a century), in:\n%s", v, line)
			}
		}
	}
	if lookups == 0 {
		t.Fatal("no LOOKUP reply in the debug log")
	}
}

// A listing whose continuation token does not advance, or whose pages move
// backwards, ends with EIO and a log line instead of a readdir that never
// ends.
func TestListingThatDoesNotAdvanceFailsWithEIO(t *testing.T) {
	for _, fault := range []struct {
		name string
		f    emulator.ListFault
	}{{"repeated token", emulator.ListFaultRepeatToken}, {"backwards", emulator.ListFaultBackwards}} {
		t.Run(fault.name, func(t *testing.T) {
			e := startEmulator(t, emulator.Config{})
			e.emu.AddGenerated("loop", emulator.Generated{Count: 3500, KeyFormat: "d/f%05d", Size: 1, Seed: 5})
			mnt, logFile := e.mount("loop")
			if _, err := os.Stat(filepath.Join(mnt, "d")); err != nil {
				t.Fatal(err)
			}
			e.emu.SetListFault(fault.f)
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute) // a loop would otherwise hang the suite
			defer cancel()
			out, err := exec.CommandContext(ctx, "ls", "-f", filepath.Join(mnt, "d")).CombinedOutput()
			if ctx.Err() != nil {
				t.Fatal("ls never ended: the listing loops")
			}
			if err == nil || !strings.Contains(string(out), "Input/output error") {
				t.Fatalf("ls: %v, output tail %q; want an Input/output error", err, tail(string(out), 300))
			}
			if log := readFile(t, logFile); !strings.Contains(log, "does not advance") {
				t.Fatalf("no log line says the listing does not advance:\n%s", tail(log, 2000))
			}
			if n := e.emu.Counters().Requests["ListObjectsV2"]; n > 20 {
				t.Errorf("%d LIST requests for a listing that failed, want a handful", n)
			}
		})
	}
}

// --metadata-cache-size is accepted but ignored, with a warning; a
// --metadata-cache-memory below 1 MiB or a bad TTL is refused clearly.
func TestMetadataCacheFlags(t *testing.T) {
	e := startEmulator(t, emulator.Config{})
	e.emu.CreateBucket("flags", false)
	e.emu.PutObject("flags", "a", []byte("a"))
	_, logFile := e.mount("flags", "-o", "metadata_cache_size=10", "--metadata-cache-memory", "64MiB")
	if log := readFile(t, logFile); !strings.Contains(log, "--metadata-cache-size is deprecated and ignored") {
		t.Errorf("no deprecation warning in the log:\n%s", tail(log, 1500))
	}
	for _, c := range []struct{ flag, value, want string }{
		{"--metadata-cache-memory", "1000", "below the 1MiB minimum"},
		{"--metadata-cache-memory", "lots", "is not a size"},
		{"--metadata-ttl", "forever", "0 (no caching) or indefinite"},
		{"--negative-ttl", "-1s", "0 (no caching) or indefinite"},
	} {
		_, stderr, err := run(t, e.baseEnv(), "--path-style", c.flag, c.value, "flags", t.TempDir())
		if err == nil || !strings.Contains(stderr, c.want) {
			t.Errorf("%s %s: %v, stderr %q; want an error saying %q", c.flag, c.value, err, stderr, c.want)
		}
	}
}
