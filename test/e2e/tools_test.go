package e2e

import (
	"bytes"
	"crypto/md5"
	"errors"
	"fmt"
	"io"
	"math/rand"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"testing"

	"github.com/ossmount/ossmount/test/emulator"
)

// sampleObjects is a varied bucket: nesting, a directory marker, a zero-byte
// file, names with spaces and unicode, a file shadowed by a directory of the
// same name, and keys that cannot be path components.
func sampleObjects() map[string][]byte {
	rng := rand.New(rand.NewSource(7))
	random := func(n int) []byte { b := make([]byte, n); rng.Read(b); return b }
	text := func(s string, n int) []byte { return bytes.Repeat([]byte(s), n) }
	return map[string][]byte{
		"README.txt":                []byte("hello from ossmount\n"),
		"empty.bin":                 {},
		"docs/guide.md":             text("# guide\nossmount reads objects as files\n", 50),
		"docs/notes/2024 plan.txt":  text("needle in a haystack\n", 10),
		"docs/notes/日本語.txt":        []byte("unicode name\n"),
		"data/big.bin":              random(5<<20 + 123),
		"data/small.bin":            random(4097),
		"data/shards/part-0000.bin": random(300_000),
		"data/shards/part-0001.bin": random(300_001),
		"marker-only/":              {},
		"shadow":                    []byte("hidden by the directory\n"),
		"shadow/inside.txt":         []byte("directory wins\n"),
		"bad//double-slash.txt":     []byte("skipped\n"),
		"bad/./dot.txt":             []byte("skipped\n"),
		"bad/../dotdot.txt":         []byte("skipped\n"),
		"bad/ok.txt":                []byte("kept\n"),
		"name.txt":                  []byte("sorts between name and name/\n"),
		"name/child.txt":            []byte("child\n"),
	}
}

// visibleTree is what the mount must show for sampleObjects: path → content,
// directories as "dir/".
func visibleTree(objects map[string][]byte) map[string][]byte {
	want := map[string][]byte{}
	for key, data := range objects {
		switch {
		case strings.HasSuffix(key, "/"):
			want[key] = nil
		case key == "shadow":
		case strings.HasPrefix(key, "bad/") && key != "bad/ok.txt":
		default:
			want[key] = data
		}
		// parent directories
		for dir := filepath.Dir(strings.TrimSuffix(key, "/")); dir != "."; dir = filepath.Dir(dir) {
			if !strings.Contains(key, "//") && !strings.Contains(key, "/./") && !strings.Contains(key, "/../") {
				want[dir+"/"] = nil
			}
		}
	}
	want["bad/"] = nil
	return want
}

// writeSource writes the visible tree to a local directory, the reference
// the tools' output is compared with.
func writeSource(t *testing.T, tree map[string][]byte) string {
	dir := t.TempDir()
	for p, data := range tree {
		full := filepath.Join(dir, p)
		if strings.HasSuffix(p, "/") {
			if err := os.MkdirAll(full, 0o755); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestStandardToolsSeeTheBucket(t *testing.T) {
	e := startEmulator(t, emulator.Config{})
	objects := sampleObjects()
	for key, data := range objects {
		e.emu.PutObject("tools", key, data)
	}
	src := writeSource(t, visibleTree(objects))
	mnt, _ := e.mount("tools")

	// Each script prints the same on the mount as on the source tree.
	for _, tc := range []struct{ name, script string }{
		{"find lists the same tree", "find . | LC_ALL=C sort"},
		{"ls -lR shows sizes and types", "ls -lR . | awk '/^-/ {print $1, $5, $NF} /^d/ {print $1, $NF}' | sed 's/^-r--r--r--/FILE/; s/^-rw-r--r--/FILE/; s/^dr-xr-xr-x/DIR/; s/^drwxr-xr-x/DIR/'"},
		{"grep -r", "grep -rc needle . | LC_ALL=C sort"},
		{"tar c lists the same", "tar cf - . | tar tf - | LC_ALL=C sort"},
		// The same archive bytes once metadata that legitimately differs
		// (owner, mode, mtime) is normalised.
		{"tar c packs the same", "tar cf - --sort=name --owner=0 --group=0 --mtime=@0 --mode=a=rX . | md5sum"},
		{"du -sb counts the same bytes", "find . -type f -print0 | du -cb --files0-from=- | tail -1"},
		{"head", "head -c 1000 data/big.bin | md5sum; head -n 3 docs/guide.md"},
		{"tail", "tail -c 777 data/big.bin | md5sum"},
		{"dd skip", "dd if=data/big.bin bs=4096 skip=1000 count=7 status=none | md5sum"},
		{"dd skip MiB", "dd if=data/big.bin bs=1M skip=3 status=none | md5sum"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got, want := sh(t, mnt, tc.script), sh(t, src, tc.script); got != want {
				t.Errorf("%s differs\nmount:\n%s\nsource:\n%s", tc.script, got, want)
			}
		})
	}
	t.Run("diff -r finds equal contents", func(t *testing.T) {
		sh(t, "/", fmt.Sprintf("diff -r %q %q", src, mnt))
	})
	t.Run("md5sum -c", func(t *testing.T) {
		sums := sh(t, src, "find . -type f -print0 | xargs -0 md5sum")
		sumFile := filepath.Join(t.TempDir(), "sums")
		os.WriteFile(sumFile, []byte(sums), 0o644)
		sh(t, mnt, "md5sum --quiet -c "+sumFile)
	})
	t.Run("cp -r copies byte-identical", func(t *testing.T) {
		dst := filepath.Join(t.TempDir(), "copy")
		sh(t, "/", fmt.Sprintf("cp -r %q %q && diff -r %q %q", mnt, dst, src, dst))
	})
	t.Run("stat sizes", func(t *testing.T) {
		for key, data := range objects {
			if _, visible := visibleTree(objects)[key]; !visible || strings.HasSuffix(key, "/") {
				continue
			}
			info, err := os.Stat(filepath.Join(mnt, key))
			if err != nil {
				t.Errorf("stat %s: %v", key, err)
				continue
			}
			if info.Size() != int64(len(data)) || info.Mode()&0o777 != 0o444 || !info.Mode().IsRegular() {
				t.Errorf("stat %s: size %d mode %v, want size %d mode -r--r--r--", key, info.Size(), info.Mode(), len(data))
			}
		}
	})
	t.Run("a program that seeks and reads", func(t *testing.T) {
		f, err := os.Open(filepath.Join(mnt, "data/big.bin"))
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		want := objects["data/big.bin"]
		rng := rand.New(rand.NewSource(1))
		for i := 0; i < 200; i++ {
			off := rng.Int63n(int64(len(want)))
			n := 1 + rng.Intn(256<<10)
			buf := make([]byte, n)
			got, err := f.ReadAt(buf, off)
			if err != nil && !errors.Is(err, io.EOF) {
				t.Fatalf("ReadAt(%d, %d): %v", off, n, err)
			}
			end := min(off+int64(n), int64(len(want)))
			if !bytes.Equal(buf[:got], want[off:end]) {
				t.Fatalf("ReadAt(%d, %d): wrong bytes (md5 %x, want %x)", off, n, md5.Sum(buf[:got]), md5.Sum(want[off:end]))
			}
		}
	})
	t.Run("writes get EROFS", func(t *testing.T) {
		checks := map[string]error{
			"create":   os.WriteFile(filepath.Join(mnt, "new.txt"), []byte("x"), 0o644),
			"write":    writeExisting(filepath.Join(mnt, "README.txt")),
			"mkdir":    os.Mkdir(filepath.Join(mnt, "newdir"), 0o755),
			"unlink":   os.Remove(filepath.Join(mnt, "README.txt")),
			"rmdir":    os.Remove(filepath.Join(mnt, "marker-only")),
			"rename":   os.Rename(filepath.Join(mnt, "README.txt"), filepath.Join(mnt, "R.txt")),
			"chmod":    os.Chmod(filepath.Join(mnt, "README.txt"), 0o600),
			"truncate": os.Truncate(filepath.Join(mnt, "README.txt"), 0),
			"symlink":  os.Symlink("README.txt", filepath.Join(mnt, "link")),
			"link":     os.Link(filepath.Join(mnt, "README.txt"), filepath.Join(mnt, "hard")),
			"setxattr": syscall.Setxattr(filepath.Join(mnt, "README.txt"), "user.x", []byte("1"), 0),
		}
		names := make([]string, 0, len(checks))
		for n := range checks {
			names = append(names, n)
		}
		sort.Strings(names)
		for _, name := range names {
			if !errors.Is(checks[name], syscall.EROFS) {
				t.Errorf("%s: got %v, want EROFS", name, checks[name])
			}
		}
	})
}

func writeExisting(path string) error {
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		return err
	}
	defer f.Close()
	_, err = f.Write([]byte("x"))
	return err
}
