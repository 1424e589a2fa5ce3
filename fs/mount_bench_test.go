package fs

import (
	"io"
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// BenchmarkMountSequentialRead reads a 256 MiB object through a real FUSE
// mount over the in-memory store: the ceiling of the kernel + go-fuse +
// prefetcher path on this machine, with no network in the way.
func BenchmarkMountSequentialRead(b *testing.B) {
	const size = 256 << 20
	store := newFakeStore()
	store.put("big", testData(size))
	f, err := New(Config{MetadataTTL: DefaultMetadataTTL, NegativeTTL: DefaultNegativeTTL}, store)
	if err != nil {
		b.Fatal(err)
	}
	dir := mountForTest(b, f)
	buf := make([]byte, 1<<20)
	b.SetBytes(size)
	b.ResetTimer()
	for range b.N {
		fh, err := os.Open(filepath.Join(dir, "big"))
		if err != nil {
			b.Fatal(err)
		}
		// A fresh open of an unchanged object keeps the page cache
		// (FOPEN_KEEP_CACHE); drop it so every round reads through FUSE.
		if err := dropPageCache(fh); err != nil {
			b.Fatal(err)
		}
		n, err := io.CopyBuffer(io.Discard, onlyReader{fh}, buf)
		fh.Close()
		if err != nil || n != size {
			b.Fatalf("read %d bytes: %v", n, err)
		}
	}
}

// onlyReader hides WriterTo so io.CopyBuffer uses buf.
type onlyReader struct{ io.Reader }

// dropPageCache asks the kernel to forget the cached pages of f.
func dropPageCache(f *os.File) error {
	const fadvDontneed = 4
	_, _, e := syscall.Syscall6(syscall.SYS_FADVISE64, f.Fd(), 0, 0, fadvDontneed, 0, 0)
	if e != 0 {
		return e
	}
	return nil
}
