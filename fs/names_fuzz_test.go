package fs

import (
	"maps"
	"slices"
	"strings"
	"syscall"
	"testing"
)

// FuzzKeysToNames lists a directory whose keys come from the fuzzer (split
// on "\n", so one input is a whole bucket) and checks the invariants of the
// key-to-name mapping: no panic, every name is a valid path component, names
// are unique, a name is never both a file and a directory, and every valid
// direct child key shows up.
func FuzzKeysToNames(f *testing.F) {
	for _, seed := range []string{
		"d/a\nd/a/x\nd/a.txt\nd/a-1",
		"d//x\nd/./y\nd/../z\nd/ok",
		"d/\nd/m/\nd/m/n",
		"d/\x00\nd/\xff\xfe\nd/" + strings.Repeat("x", 256),
		"d/\u00e9\nd/e\u0301\nd/\n\nd/ tab\t",
	} {
		f.Add(seed, uint8(2))
	}
	f.Fuzz(func(t *testing.T, bucket string, pageSize uint8) {
		objects := map[string]string{}
		for _, key := range strings.Split(bucket, "\n") {
			if key != "" {
				objects["d/"+strings.TrimPrefix(key, "d/")] = "x"
			}
		}
		fsys, _, _ := newTestFS(t, objects, Config{})
		fsys.t.pageSize = 1 + int(pageSize%5)
		kinds := map[string]bool{} // name → is directory
		for _, de := range readDir(t, openDir(t, fsys, "d/")) {
			if !validName(de.Name) {
				t.Fatalf("invalid name %q listed", de.Name)
			}
			if _, dup := kinds[de.Name]; dup {
				t.Fatalf("name %q listed twice", de.Name)
			}
			kinds[de.Name] = de.Mode == syscall.S_IFDIR
		}
		for key := range objects {
			rest := strings.TrimPrefix(key, "d/")
			name, _, nested := strings.Cut(rest, "/")
			if !validName(name) {
				continue
			}
			isDir, listed := kinds[name]
			if !listed {
				t.Fatalf("key %q: %q not listed; got %v", key, name, slices.Sorted(maps.Keys(kinds)))
			}
			if nested && !isDir {
				t.Fatalf("key %q: %q listed as a file, want a directory", key, name)
			}
		}
	})
}
