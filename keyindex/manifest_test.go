package keyindex

import (
	"bytes"
	"compress/gzip"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/ossmount/ossmount/oss"
)

// awkwardObjects have keys and ETags with every byte class the format
// escapes, and times with and without fractions.
func awkwardObjects() []oss.ObjectInfo {
	t0 := time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)
	objs := []oss.ObjectInfo{
		{Key: "p/ leading space", Size: 0, ETag: `"D41D8CD98F00B204E9800998ECF8427E"`, LastModified: t0},
		{Key: "p/#hash%percent%41", Size: 1, ETag: `"0cc175b9c0f1b6a831c399e269772661"`, LastModified: t0.Add(123 * time.Millisecond)},
		{Key: "p/dir/", Size: 0, ETag: `"X-1"`},
		{Key: "p/dir/tab\there", Size: 1 << 40, ETag: `"5D41402ABC4B2A76B9719D911017C592-12"`, LastModified: t0.Add(time.Nanosecond)},
		{Key: "p/new\nline", Size: 7, ETag: `"W/x y"`, LastModified: t0},
		{Key: "p/nonutf8-\xff\xfe", Size: 3, ETag: `"A"`, LastModified: t0},
		{Key: "p/trailing space ", Size: 3, ETag: `"B"`, LastModified: t0},
		{Key: "p/ünïcødé-漢字\x7f", Size: 3, ETag: `"C"`, LastModified: t0},
		{Key: "p/link", Size: 0, ETag: `"D"`, LastModified: t0, ObjectType: oss.ObjectTypeSymlink},
	}
	return objs
}

func indexOfObjects(t testing.TB, root string, objs []oss.ObjectInfo) *Index {
	t.Helper()
	b := newBuilder(root)
	for _, o := range objs {
		if err := b.add(o); err != nil {
			t.Fatal(err)
		}
	}
	x, err := b.finish()
	if err != nil {
		t.Fatal(err)
	}
	return x
}

func sameIndex(t *testing.T, got, want *Index) {
	t.Helper()
	if got.Root() != want.Root() || got.Len() != want.Len() {
		t.Fatalf("root %q with %d keys, want %q with %d", got.Root(), got.Len(), want.Root(), want.Len())
	}
	for i := range want.Len() {
		g, w := got.Object(i), want.Object(i)
		if g.Key != w.Key || g.Size != w.Size || g.ETag != w.ETag || !g.LastModified.Equal(w.LastModified) || g.ObjectType != w.ObjectType {
			t.Fatalf("object %d: %+v, want %+v", i, g, w)
		}
	}
}

// Every key, ETag and time comes back byte for byte, plain and gzipped,
// and each object is one line.
func TestManifestRoundTrip(t *testing.T) {
	x := indexOfObjects(t, "p/", awkwardObjects())
	var plain bytes.Buffer
	if err := WriteManifest(&plain, "my-bucket", x); err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(plain.String(), "\n"); n != x.Len()+4 {
		t.Fatalf("%d lines for %d objects:\n%s", n, x.Len(), plain.String())
	}
	var zipped bytes.Buffer
	zw := gzip.NewWriter(&zipped)
	zw.Write(plain.Bytes())
	zw.Close()
	for name, data := range map[string][]byte{"plain": plain.Bytes(), "gzip": zipped.Bytes()} {
		m, err := ReadManifest(bytes.NewReader(data))
		if err != nil {
			t.Fatalf("%s: %v\n%s", name, err, plain.String())
		}
		if m.Bucket != "my-bucket" {
			t.Fatalf("%s: bucket %q", name, m.Bucket)
		}
		sameIndex(t, m.Index, x)
	}
}

const goodManifest = "# ossmount-manifest v1\n# bucket\tb\n# prefix\tp/\n" +
	"p/a\t1\t\"E\"\t2024-01-01T00:00:00Z\n" +
	"p/b\t2\t\"E\"\t-\n" +
	"# end\t2\n"

// A manifest that cannot be trusted is refused with the line at fault.
func TestManifestRejects(t *testing.T) {
	head := "# ossmount-manifest v1\n# bucket\tb\n# prefix\tp/\n"
	line := func(key string) string { return key + "\t1\t\"E\"\t2024-01-01T00:00:00Z\n" }
	cases := []struct {
		name, text string
		line       int
		says       string
	}{
		{"empty", "", 1, "empty file"},
		{"not a manifest", "hello\n", 1, "not an ossmount manifest"},
		{"newer version", "# ossmount-manifest v2\n", 1, "unsupported version"},
		{"no bucket", "# ossmount-manifest v1\n", 2, "truncated"},
		{"truncated mid-line", goodManifest[:len(goodManifest)-20], 5, "truncated"},
		{"truncated at a line end", head + line("p/a"), 5, "truncated"},
		{"no newline at the end", strings.TrimSuffix(goodManifest, "\n"), 6, "truncated"},
		{"size not a number", head + "p/a\t12x\t\"E\"\t-\n# end\t1\n", 4, "size"},
		{"size with a plus", head + "p/a\t+1\t\"E\"\t-\n# end\t1\n", 4, "size"},
		{"three fields", head + "p/a\t1\t\"E\"\n# end\t1\n", 4, "fields"},
		{"unknown fifth field", head + "p/a\t1\t\"E\"\t-\tSymlink\n# end\t1\n", 4, "fifth field"},
		{"six fields", head + "p/a\t1\t\"E\"\t-\tsymlink\tx\n# end\t1\n", 4, "fields"},
		{"raw space in a key", head + line("p/a b") + "# end\t1\n", 4, "must be written"},
		{"lower-case escape", head + line("p/a%2f") + "# end\t1\n", 4, "upper-case"},
		{"needless escape", head + line("p/%41") + "# end\t1\n", 4, "one way"},
		{"cut escape", head + line("p/%4") + "# end\t1\n", 4, "two hex"},
		{"bad time", head + "p/a\t1\t\"E\"\t2024-01-01 00:00:00\n# end\t1\n", 4, "last-modified"},
		{"local time", head + "p/a\t1\t\"E\"\t2024-01-01T08:00:00+08:00\n# end\t1\n", 4, "last-modified"},
		{"year 1", head + "p/a\t1\t\"E\"\t0001-01-01T00:00:00Z\n# end\t1\n", 4, "last-modified"},
		{"year 9999", head + "p/a\t1\t\"E\"\t9999-01-01T00:00:00Z\n# end\t1\n", 4, "last-modified"},
		{"empty ETag", head + "p/a\t1\t\t-\n# end\t1\n", 4, "ETag"},
		{"out of order", head + line("p/b") + line("p/a") + "# end\t2\n", 5, "out of order"},
		{"duplicated", head + line("p/a") + line("p/a") + "# end\t2\n", 5, "duplicated"},
		{"outside the prefix", head + line("q/a") + "# end\t1\n", 4, "outside the prefix"},
		{"wrong count", head + line("p/a") + "# end\t2\n", 5, "counts"},
		{"text after the end", goodManifest + line("p/c"), 7, "after the end"},
		{"comment among objects", head + "# note\n" + line("p/a") + "# end\t1\n", 4, "only the end line"},
		{"long line", head + strings.Repeat("x", maxManifestLine+10) + "\n", 4, "longer than"},
		{"gzip cut short", string(gzipped(goodManifest)[:30]), 1, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ReadManifest(strings.NewReader(tc.text))
			var le *LineError
			if !errors.As(err, &le) {
				t.Fatalf("err %v, want a *LineError", err)
			}
			if le.Line != tc.line || !strings.Contains(err.Error(), tc.says) {
				t.Fatalf("err %q, want line %d saying %q", err, tc.line, tc.says)
			}
		})
	}
	if _, err := ReadManifest(strings.NewReader(goodManifest)); err != nil {
		t.Fatalf("the good manifest: %v", err)
	}
}

func gzipped(s string) []byte {
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	zw.Write([]byte(s))
	zw.Close()
	return b.Bytes()
}

// FuzzParseManifest: no input panics; every failure names a line; and
// what parses is written back byte for byte (each field has one
// spelling), so keys round-trip.
func FuzzParseManifest(f *testing.F) {
	f.Add([]byte(goodManifest))
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := ReadManifest(bytes.NewReader(data))
		if err != nil {
			var le *LineError
			if !errors.As(err, &le) || le.Line < 1 {
				t.Fatalf("error without a line: %v", err)
			}
			return
		}
		var out bytes.Buffer
		if err := WriteManifest(&out, m.Bucket, m.Index); err != nil {
			t.Fatal(err)
		}
		if len(data) >= 2 && data[0] == 0x1f && data[1] == 0x8b {
			again, err := ReadManifest(&out)
			if err != nil {
				t.Fatalf("rewritten manifest: %v", err)
			}
			sameIndex(t, again.Index, m.Index)
			return
		}
		if !bytes.Equal(out.Bytes(), data) {
			t.Fatalf("rewritten differently:\n%q\nwant\n%q", out.Bytes(), data)
		}
	})
}
