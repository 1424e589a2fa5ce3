package fs

import (
	"testing"

	"github.com/hanwen/go-fuse/v2/fuse"
)

// BenchmarkOpRecord is what RecordOps adds to each FUSE operation (a 1 MiB
// read through the mount takes about 1 ms).
func BenchmarkOpRecord(b *testing.B) {
	r := &opRecorder{}
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		r.time(opRead, func() fuse.Status { return fuse.OK })
	}
}
