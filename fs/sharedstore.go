package fs

import (
	"context"
	"io"
	"time"

	"github.com/ossmount/ossmount/oss"
)

// sharedStore is the Store decorator that lets concurrent readers of the
// same data share requests: identical List calls merge, and a page stays
// for a few seconds (listSharer); overlapping GetRange calls on one
// object version fetch their bytes once (readSharer). Head passes
// through: the tree already merges lookups. Pages and bodies it returns
// may be shared by several callers, which must not modify them.
type sharedStore struct {
	store Store
	lists *listSharer
	reads *readSharer
}

var _ Store = (*sharedStore)(nil)

// newSharedStore wraps store. listKeep is how long a fetched page may
// answer identical calls (capped at maxListKeep; 0 merges only calls in
// flight): the caller passes the shortest metadata TTL, so nothing is
// reused longer than the cache would trust it.
func newSharedStore(store Store, listKeep time.Duration, now func() time.Time) *sharedStore {
	return &sharedStore{
		store: store,
		lists: newListSharer(store, listKeep, now),
		reads: newReadSharer(store, newReadBudget(sharedReadMemory), sharedReadGrace, time.Now),
	}
}

// List implements Store.
func (s *sharedStore) List(ctx context.Context, in oss.ListInput) (oss.ListPage, error) {
	return s.lists.List(ctx, in)
}

// Head implements Store.
func (s *sharedStore) Head(ctx context.Context, key string) (oss.ObjectInfo, error) {
	return s.store.Head(ctx, key)
}

// GetRange implements Store.
func (s *sharedStore) GetRange(ctx context.Context, key, etag string, off, n int64) (io.ReadCloser, error) {
	return s.reads.GetRange(ctx, key, etag, off, n)
}
