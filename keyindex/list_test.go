package keyindex

import (
	"fmt"
	"slices"
	"testing"

	"github.com/ossmount/ossmount/oss"
)

// trickyKeys sort around "/" in every way a listing can get wrong: names
// that sort before and after "/", markers, a file beside a directory of
// the same name, deep trees, and bytes at both ends of the range.
var trickyKeys = []string{
	"a", "a/", "a/b", "a/b/", "a/b/c", "a/b/d/e", "a-b", "a.b", "a0", "a/b.txt", "a/c",
	"b/x/y/z", "b/x/y/zz", "b/x0", "c", "c/", "d/\x01", "d/\xff", "d/\xff\xff/e", "e f/ g",
	"top.txt", "z/a", "z/b/", "z/b/c",
}

// The index answers every listing exactly as OSS (the emulator) does:
// the same objects, prefixes and page breaks, for every prefix, both
// delimiters, page sizes and start-after keys.
func TestListMatchesOSS(t *testing.T) {
	emu, c := startOSS(t)
	for _, k := range trickyKeys {
		emu.PutObject(testBucket, k, []byte("data of "+k))
	}
	for _, root := range []string{"", "a/", "b/x/"} {
		x := buildFrom(t, c, root, 3)
		store, err := New(Config{TTL: Forever}, x, c)
		if err != nil {
			t.Fatal(err)
		}
		prefixes := []string{root}
		for _, k := range trickyKeys {
			for i := len(root); i <= len(k); i++ {
				if p := k[:i]; slices.Index(prefixes, p) < 0 && len(p) >= len(root) && p[:len(root)] == root {
					prefixes = append(prefixes, p)
				}
			}
		}
		for _, p := range prefixes {
			for _, delim := range []string{"/", ""} {
				for _, max := range []int{1, 2, 3, 1000} {
					for _, after := range []string{"", "a/b", "a/b/", "b/x/y", "d/\xff"} {
						in := oss.ListInput{Prefix: p, Delimiter: delim, MaxKeys: max, StartAfter: after}
						want := listEverything(t, c, in)
						got := listEverything(t, store, in)
						if d := diffPages(got, want); d != "" {
							t.Fatalf("root %q, list %+v: %s", root, in, d)
						}
					}
				}
			}
		}
	}
}

// diffPages compares two listings page by page, tokens aside.
func diffPages(got, want []oss.ListPage) string {
	if len(got) != len(want) {
		return fmt.Sprintf("%d pages, want %d: got %v, want %v", len(got), len(want), summary(got), summary(want))
	}
	for i := range got {
		g, w := got[i], want[i]
		if g.IsTruncated != w.IsTruncated || !slices.Equal(g.CommonPrefixes, w.CommonPrefixes) || len(g.Objects) != len(w.Objects) {
			return fmt.Sprintf("page %d: got %v, want %v", i, summary(got), summary(want))
		}
		for j, o := range g.Objects {
			wo := w.Objects[j]
			if o.Key != wo.Key || o.Size != wo.Size || o.ETag != wo.ETag || !o.LastModified.Equal(wo.LastModified) {
				return fmt.Sprintf("page %d object %d: got %+v, want %+v", i, j, o, wo)
			}
		}
	}
	return ""
}

func summary(pages []oss.ListPage) []string {
	var out []string
	for _, p := range pages {
		s := ""
		for _, o := range p.Objects {
			s += fmt.Sprintf("%q ", o.Key)
		}
		for _, cp := range p.CommonPrefixes {
			s += fmt.Sprintf("%q/ ", cp)
		}
		if p.IsTruncated {
			s += "…"
		}
		out = append(out, s)
	}
	return out
}
