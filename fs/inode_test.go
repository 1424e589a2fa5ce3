package fs

import (
	"hash/fnv"
	"testing"
)

// inodeNumber is 64-bit FNV-1a of the key (stable across versions of the
// mount), without allocating.
func TestInodeNumber(t *testing.T) {
	for _, key := range []string{"a", "dir/", "dir/file000123", "日本語/ファイル", string([]byte{0xff, 0xfe})} {
		h := fnv.New64a()
		h.Write([]byte(key))
		if got, want := inodeNumber(key), h.Sum64(); got != want {
			t.Errorf("inodeNumber(%q) = %d, want FNV-1a %d", key, got, want)
		}
	}
	if got := inodeNumber(""); got < 2 {
		t.Errorf("inodeNumber(\"\") = %d; 0 and 1 are reserved", got)
	}
	if inodeNumber("dir/", "file000123", "/") != inodeNumber("dir/file000123/") {
		t.Error("a key given in parts hashes differently from the whole key")
	}
	if n := testing.AllocsPerRun(100, func() { inodeNumber("dir/", "file000123", "") }); n != 0 {
		t.Errorf("inodeNumber allocates %.0f times per call", n)
	}
}
