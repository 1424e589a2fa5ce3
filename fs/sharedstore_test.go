package fs

import (
	"context"
	"errors"
	"io"
	"sync"
	"testing"
	"time"

	"github.com/ossmount/ossmount/oss"
)

// gatedStore wraps a Store: while gate is non-nil, List and GetRange wait
// for it to close (or their ctx) before answering. It counts the bytes
// bodies delivered and the requests whose ctx ended while waiting.
type gatedStore struct {
	Store
	mu        sync.Mutex // guards the fields below
	gate      chan struct{}
	bytes     int64
	cancelled int
	waiting   int // requests that waited at the gate
}

func (g *gatedStore) hold() {
	g.mu.Lock()
	g.gate = make(chan struct{})
	g.mu.Unlock()
}

func (g *gatedStore) release() {
	g.mu.Lock()
	close(g.gate)
	g.gate = nil
	g.mu.Unlock()
}

func (g *gatedStore) wait(ctx context.Context) error {
	g.mu.Lock()
	gate := g.gate
	g.mu.Unlock()
	if gate == nil {
		return nil
	}
	g.mu.Lock()
	g.waiting++
	g.mu.Unlock()
	select {
	case <-gate:
		return nil
	case <-ctx.Done():
		g.mu.Lock()
		g.cancelled++
		g.mu.Unlock()
		return ctx.Err()
	}
}

func (g *gatedStore) waited() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.waiting
}

func (g *gatedStore) stats() (bytes int64, cancelled int) {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.bytes, g.cancelled
}

func (g *gatedStore) List(ctx context.Context, in oss.ListInput) (oss.ListPage, error) {
	if err := g.wait(ctx); err != nil {
		return oss.ListPage{}, err
	}
	return g.Store.List(ctx, in)
}

func (g *gatedStore) GetRange(ctx context.Context, key, etag string, off, n int64) (io.ReadCloser, error) {
	if err := g.wait(ctx); err != nil {
		return nil, err
	}
	body, err := g.Store.GetRange(ctx, key, etag, off, n)
	if err != nil {
		return nil, err
	}
	data, err := io.ReadAll(body)
	body.Close()
	g.mu.Lock()
	g.bytes += int64(len(data))
	g.mu.Unlock()
	return io.NopCloser(&sliceReader{data: data}), err
}

type sliceReader struct{ data []byte }

func (r *sliceReader) Read(p []byte) (int, error) {
	if len(r.data) == 0 {
		return 0, io.EOF
	}
	n := copy(p, r.data)
	r.data = r.data[n:]
	return n, nil
}

// askTwice asks every GetRange twice and returns the second body, which
// the decorator serves from the range the first one left (shared mode).
type askTwice struct{ *sharedStore }

func (a askTwice) GetRange(ctx context.Context, key, etag string, off, n int64) (io.ReadCloser, error) {
	if body, err := a.sharedStore.GetRange(ctx, key, etag, off, n); err == nil {
		_, _ = io.Copy(io.Discard, body)
		body.Close()
	}
	body, err := a.sharedStore.GetRange(ctx, key, etag, off, n)
	if _, shared := body.(*sharedBody); err == nil && etag != "" && !shared {
		body.Close()
		return nil, errors.New("second identical request was not shared")
	}
	return body, err
}

// The Store contract holds through the decorator, also for GetRange in
// shared mode.
func TestSharedStoreContract(t *testing.T) {
	newFake := func(objects map[string]string) *fakeStore {
		s := newFakeStore()
		for k, v := range objects {
			s.put(k, []byte(v))
		}
		return s
	}
	t.Run("lone", func(t *testing.T) {
		storeContract(t, func(t *testing.T, objects map[string]string) Store {
			return newSharedStore(newFake(objects), time.Second, time.Now)
		})
	})
	t.Run("shared", func(t *testing.T) {
		storeContract(t, func(t *testing.T, objects map[string]string) Store {
			return askTwice{newSharedStore(newFake(objects), time.Second, time.Now)}
		})
	})
}
