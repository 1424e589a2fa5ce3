package keyindex

import (
	"fmt"
	"testing"

	"github.com/ossmount/ossmount/oss"
)

// BenchmarkListPage: one 1000-entry directory page from a 1,000,000-key
// index, what a readdir of a prefetched mount costs in the daemon.
func BenchmarkListPage(b *testing.B) {
	bld := newBuilder("")
	for i := range 1_000_000 {
		bld.add(oss.ObjectInfo{Key: fmt.Sprintf("d%03d/f%07d", i/1000, i), Size: 1000, ETag: fmt.Sprintf("\"%032X\"", i)})
	}
	x, err := bld.finish()
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		p := x.list(oss.ListInput{Prefix: fmt.Sprintf("d%03d/", i%1000), Delimiter: "/"})
		if len(p.Objects) != 1000 {
			b.Fatalf("%d objects", len(p.Objects))
		}
	}
}
