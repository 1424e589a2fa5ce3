package e2e

import (
	"bytes"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/ossmount/ossmount/test/emulator"
	"github.com/ossmount/ossmount/test/mounttest"
)

// awkwardKeys are more than 50 kinds of keys a bucket may hold that a
// filesystem finds awkward.
func awkwardKeys() []string {
	// A deep prefix of 889 bytes: a name in it makes a key over 1023 bytes
	// while every prefix OSS is asked to list stays within its 1023 limit.
	long := "long/"
	for i := 0; i < 4; i++ {
		long += strings.Repeat(string(rune('p'+i)), 220) + "/"
	}
	return []string{
		"plain.txt",
		"with space.txt",
		" leading space",
		"trailing space ",
		"tab\there",
		"new\nline",
		"carriage\rreturn",
		"ctrl\x01\x1f\x7f",
		"bell\x07",
		"invalid-utf8-\xff\xfe",
		"latin1-caf\xe9",
		"日本語/ファイル.txt",
		"emoji-😀🎉.txt",
		"zwj-👨\u200d👩\u200d👧",
		"twin/caf\u00e9",  // NFC
		"twin/cafe\u0301", // NFD: a different key, a different file
		"percent%20.txt",
		"plus+sign",
		"question?.txt",
		"hash#frag",
		"back\\slash",
		"-leading-dash",
		"--double-dash",
		"amp&eq=semi;",
		"quote\"'`",
		"brackets[]{}()<>",
		"star*glob",
		"tilde~",
		"dollar$HOME",
		"colon:name",
		"pipe|name",
		"rtl-\u202e-override",
		"bom-\ufeff",
		"nbsp\u00a0name",
		"line-sep\u2028",
		"CaseSame",
		"casesame",
		"...three-dots",
		"..hidden",
		".hidden",
		"trailing-dot.",
		"seg255/" + strings.Repeat("x", 255), // exactly the limit: kept
		long + strings.Repeat("e", 200),      // a 1089-byte key, every segment ≤ 255: kept
		"deep/1/2/3/4/5/6/7/8/9/file",
		// Names sorting between "a" and "a/" beside a directory "a": the file
		// "a" is shadowed, the others are kept.
		"sort/a", "sort/a!", "sort/a b", "sort/a-1", "sort/a.txt", "sort/a/c",
		"sort2/a", "sort2/a.txt", "sort2/a-b",
		"same-name-file", "same-name-file/", // file beside a marker of the same name: directory wins
		"trailing-slash/", // marker only: an empty directory
		"marker2/", "marker2/inside",
		// Skipped: cannot be a path component.
		"dbl//slash",
		"/leading-slash",
		"x/.",
		"x/..",
		"x/./y",
		"mid/../z",
		"./dot-start",
		"../up",
		"nul\x00byte",
		"seg256/" + strings.Repeat("z", 256),
		long + strings.Repeat("w", 300) + "/end",
	}
}

// awkwardModel applies DESIGN.md "Names and keys": the visible paths (a
// directory ends in "/") with their content, and how many keys are hidden.
func awkwardModel(keys []string, content func(string) []byte) map[string][]byte {
	valid := func(s string) bool {
		return s != "" && s != "." && s != ".." && len(s) <= 255 && !strings.Contains(s, "\x00")
	}
	want := map[string][]byte{}
	for _, key := range keys {
		marker := strings.HasSuffix(key, "/")
		segs := strings.Split(strings.TrimSuffix(key, "/"), "/")
		path := ""
		ok := true
		for i, seg := range segs {
			if !valid(seg) {
				ok = false
				break
			}
			path += seg
			if i < len(segs)-1 || marker {
				want[path+"/"] = nil
				path += "/"
			}
		}
		if ok && !marker {
			want[path] = content(key)
		}
	}
	for p := range want {
		if !strings.HasSuffix(p, "/") {
			if _, isDir := want[p+"/"]; isDir {
				delete(want, p) // shadowed by the directory
			}
		}
	}
	return want
}

// A bucket of awkward keys mounts and lists without a crash; each key is
// shown with exact content or hidden as DESIGN.md says, and the log counts
// the skipped ones.
func TestAwkwardKeys(t *testing.T) {
	e := startEmulator(t, emulator.Config{})
	keys := awkwardKeys()
	if len(keys) < 50 {
		t.Fatalf("only %d awkward keys", len(keys))
	}
	content := func(key string) []byte { return []byte("content of " + key + "\n") }
	e.emu.CreateBucket("names", false)
	for _, k := range keys {
		e.emu.PutObject("names", k, content(k))
	}
	mnt, logFile := e.mount("names")

	got := map[string][]byte{}
	err := filepath.WalkDir(mnt, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			t.Errorf("walk %q: %v", p, err)
			return nil
		}
		rel, _ := filepath.Rel(mnt, p)
		if rel == "." {
			return nil
		}
		if d.IsDir() {
			got[rel+"/"] = nil
			return nil
		}
		data, err := os.ReadFile(p)
		if err != nil {
			t.Errorf("read %q: %v", rel, err)
		}
		got[rel] = data
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	want := awkwardModel(keys, content)
	var missing, extra, wrong []string
	for p, w := range want {
		g, ok := got[p]
		switch {
		case !ok:
			missing = append(missing, p)
		case !bytes.Equal(g, w):
			wrong = append(wrong, p)
		}
	}
	for p := range got {
		if _, ok := want[p]; !ok {
			extra = append(extra, p)
		}
	}
	sort.Strings(missing)
	sort.Strings(extra)
	for _, l := range []struct {
		what  string
		paths []string
	}{{"missing", missing}, {"unexpected", extra}, {"wrong content", wrong}} {
		if len(l.paths) > 0 {
			t.Errorf("%s (%d): %q", l.what, len(l.paths), l.paths)
		}
	}
	if !mounttest.IsMounted(mnt) {
		t.Fatal("mount gone after listing awkward keys")
	}
	log := readFile(t, logFile)
	if !strings.Contains(log, "skipped keys") || !strings.Contains(log, "count=") {
		t.Errorf("the log has no skipped-keys count:\n%s", tail(log, 3000))
	}
	if strings.Contains(log, "panic") {
		t.Errorf("panic in the log:\n%s", tail(log, 3000))
	}
	t.Logf("%d keys: %d visible paths, all as expected; skipped-keys lines: %d", len(keys), len(got), strings.Count(log, "skipped keys"))
}
