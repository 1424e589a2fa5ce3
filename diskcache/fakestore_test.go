package diskcache

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"sync/atomic"

	"github.com/ossmount/ossmount/oss"
)

// fakeStore is an in-memory object store with request counters.
type fakeStore struct {
	mu       sync.Mutex
	objects  map[string]fakeObject
	versions int

	gets    atomic.Int64
	gotByte atomic.Int64
	gate    chan struct{} // if set, every GetRange waits for it to be closed
	cutAt   int64         // if > 0, bodies fail with a wrapped ErrUnexpectedEOF after this many bytes
}

type fakeObject struct {
	etag string
	data []byte
}

func newFakeStore() *fakeStore { return &fakeStore{objects: map[string]fakeObject{}} }

func (s *fakeStore) put(key string, data []byte) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.versions++
	etag := fmt.Sprintf("\"v%d\"", s.versions) // every put a new version, as OSS
	s.objects[key] = fakeObject{etag: etag, data: data}
	return etag
}

func (s *fakeStore) List(ctx context.Context, in oss.ListInput) (oss.ListPage, error) {
	return oss.ListPage{}, nil
}

func (s *fakeStore) Head(ctx context.Context, key string) (oss.ObjectInfo, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	o, ok := s.objects[key]
	if !ok {
		return oss.ObjectInfo{}, oss.ErrNotFound
	}
	return oss.ObjectInfo{Key: key, Size: int64(len(o.data)), ETag: o.etag}, nil
}

func (s *fakeStore) GetRange(ctx context.Context, key, etag string, off, n int64) (io.ReadCloser, error) {
	s.gets.Add(1)
	if s.gate != nil {
		select {
		case <-s.gate:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	s.mu.Lock()
	o, ok := s.objects[key]
	s.mu.Unlock()
	switch {
	case !ok:
		return nil, oss.ErrNotFound
	case etag != "" && etag != o.etag:
		return nil, fmt.Errorf("fake: get: %w", oss.ErrPreconditionFailed)
	}
	end := min(off+n, int64(len(o.data)))
	if n < 0 {
		end = int64(len(o.data))
	}
	off = min(off, end)
	body := o.data[off:end]
	s.gotByte.Add(int64(len(body)))
	if s.cutAt > 0 && int64(len(body)) > s.cutAt {
		return io.NopCloser(io.MultiReader(bytes.NewReader(body[:s.cutAt]), errReader{})), nil
	}
	return io.NopCloser(bytes.NewReader(body)), nil
}

type errReader struct{}

func (errReader) Read([]byte) (int, error) {
	return 0, fmt.Errorf("fake: connection reset: %w", errors.Join(io.ErrUnexpectedEOF))
}
