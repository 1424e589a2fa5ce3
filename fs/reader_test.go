package fs

import (
	"bytes"
	"context"
	"errors"
	"io"
	"syscall"
	"testing"

	"github.com/ossmount/ossmount/oss"
)

func newReaderFixture(t *testing.T, size int) (*fakeStore, *streamReader, []byte) {
	t.Helper()
	data := make([]byte, size)
	for i := range data {
		data[i] = byte(i*7 + i/251)
	}
	store := newFakeStore()
	store.put("k", data)
	info, err := store.Head(context.Background(), "k")
	if err != nil {
		t.Fatal(err)
	}
	store.resetCounts()
	r := newStreamReader(store, "k", info.ETag, info.Size)
	t.Cleanup(func() { r.Close() })
	return store, r, data
}

func TestStreamReaderSequentialReusesBody(t *testing.T) {
	const size = 20 << 20
	store, r, data := newReaderFixture(t, size)
	buf := make([]byte, 4096)
	for off := 0; off < size; off += len(buf) {
		n, err := r.ReadAt(context.Background(), buf, int64(off))
		if err != nil || n != len(buf) || !bytes.Equal(buf, data[off:off+n]) {
			t.Fatalf("ReadAt %d: %d %v", off, n, err)
		}
	}
	// 20 MiB in 4 KiB reads: one GET per 8 MiB range, not one per read.
	if got := store.count("get"); got != 3 {
		t.Errorf("%d GETs for a sequential read of 20 MiB, want 3", got)
	}
}

func TestStreamReaderRandomReadsAreExact(t *testing.T) {
	store, r, data := newReaderFixture(t, 1<<20)
	cases := []struct {
		name   string
		off, n int
	}{
		{"middle", 500_000, 100},
		{"start", 0, 10}, // off 0 is not where the last read ended: exact
		{"end", 1<<20 - 7, 7},
		{"across", 123_456, 70_000},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			store.resetCounts()
			buf := make([]byte, c.n)
			n, err := r.ReadAt(context.Background(), buf, int64(c.off))
			if err != nil || !bytes.Equal(buf[:n], data[c.off:c.off+c.n]) {
				t.Fatalf("ReadAt: %d %v", n, err)
			}
			if store.count("get") != 1 {
				t.Errorf("%d GETs, want 1", store.count("get"))
			}
		})
	}
}

func TestStreamReaderChangedObject(t *testing.T) {
	store, r, _ := newReaderFixture(t, 1000)
	store.put("k", []byte("replaced"))
	_, err := r.ReadAt(context.Background(), make([]byte, 10), 0)
	if !errors.Is(err, oss.ErrPreconditionFailed) || Errno(err) != syscall.ESTALE {
		t.Errorf("got %v, want a precondition failure (ESTALE)", err)
	}
}

// shortStore serves bodies that end early.
type shortStore struct{ *fakeStore }

func (s shortStore) GetRange(ctx context.Context, key, etag string, off, n int64) (io.ReadCloser, error) {
	return io.NopCloser(bytes.NewReader(make([]byte, n/2))), nil
}

func TestStreamReaderTruncatedBody(t *testing.T) {
	r := newStreamReader(shortStore{newFakeStore()}, "k", `"e"`, 1000)
	defer r.Close()
	_, err := r.ReadAt(context.Background(), make([]byte, 1000), 0)
	if !errors.Is(err, io.ErrUnexpectedEOF) || Errno(err) != syscall.EIO {
		t.Errorf("got %v, want an unexpected-EOF error (EIO)", err)
	}
}

func TestStreamReaderClosed(t *testing.T) {
	_, r, _ := newReaderFixture(t, 100)
	r.Close()
	if _, err := r.ReadAt(context.Background(), make([]byte, 1), 0); err == nil {
		t.Error("read after Close succeeded")
	}
}
