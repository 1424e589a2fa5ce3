package keyindex

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"math"
	"strings"
	"sync/atomic"
	"time"

	"github.com/ossmount/ossmount/oss"
)

// Forever is a TTL that never ends: the index answers until unmount.
const Forever time.Duration = math.MaxInt64

// Backend is the object store the index sits in front of: the same three
// methods as fs.Store (which this package does not import). Safe for
// concurrent use.
type Backend interface {
	List(ctx context.Context, in oss.ListInput) (oss.ListPage, error)
	Head(ctx context.Context, key string) (oss.ObjectInfo, error)
	GetRange(ctx context.Context, key, etag string, off, n int64) (io.ReadCloser, error)
}

// Config configures a Store.
type Config struct {
	// TTL is how long after New the index answers (so a listing that
	// took long still serves a full TTL: names may be up to TTL plus the
	// listing's duration old); after that every call goes to the backend
	// and the index is dropped. Forever keeps it until unmount. Must be
	// positive.
	TTL    time.Duration
	Logger *slog.Logger     // nil: discard
	Now    func() time.Time // nil: time.Now
}

// Store answers List and Head inside the index's root from the index,
// with no request, while the index is fresh; everything else (GetRange,
// calls outside the root, calls after the TTL) goes to the backend. A
// listing begun from the index keeps its continuation tokens valid after
// the TTL: they become start-after keys for the backend.
type Store struct {
	backend Backend
	root    string
	ttl     time.Duration
	started time.Time
	now     func() time.Time
	log     *slog.Logger
	index   atomic.Pointer[Index] // nil once expired
}

// New returns a Store that answers from idx in front of backend.
func New(cfg Config, idx *Index, backend Backend) (*Store, error) {
	if idx == nil || backend == nil {
		return nil, fmt.Errorf("keyindex: nil index or backend")
	}
	if cfg.TTL <= 0 {
		return nil, fmt.Errorf("keyindex: TTL %v must be positive", cfg.TTL)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	s := &Store{backend: backend, root: idx.root, ttl: cfg.TTL, started: cfg.Now(),
		now: cfg.Now, log: cfg.Logger}
	s.index.Store(idx)
	return s, nil
}

// fresh returns the index while it may answer, dropping it once the TTL
// has passed.
func (s *Store) fresh() *Index {
	x := s.index.Load()
	if x == nil {
		return nil
	}
	if s.ttl == Forever || s.now().Sub(s.started) < s.ttl {
		return x
	}
	if s.index.CompareAndSwap(x, nil) {
		s.log.Info("metadata index expired; asking OSS again", "keys", x.Len(), "ttl", s.ttl.String())
	}
	return nil
}

// List answers from the index when it is fresh and in.Prefix is inside
// the root.
func (s *Store) List(ctx context.Context, in oss.ListInput) (oss.ListPage, error) {
	tok, ours := strings.CutPrefix(in.ContinuationToken, tokenPrefix)
	inside := strings.HasPrefix(in.Prefix, s.root)
	if x := s.fresh(); x != nil && inside && (ours || in.ContinuationToken == "") {
		if err := ctx.Err(); err != nil {
			return oss.ListPage{}, err
		}
		return x.list(in), nil
	}
	if ours {
		// A listing begun from the index goes on from the backend.
		in.ContinuationToken = ""
		if tok > in.StartAfter {
			in.StartAfter = tok
		}
	}
	return s.backend.List(ctx, in)
}

// Head answers from the index when it is fresh and key is inside the
// root: a key the index does not hold does not exist.
func (s *Store) Head(ctx context.Context, key string) (oss.ObjectInfo, error) {
	x := s.fresh()
	if x == nil || !strings.HasPrefix(key, s.root) {
		return s.backend.Head(ctx, key)
	}
	if err := ctx.Err(); err != nil {
		return oss.ObjectInfo{}, err
	}
	i, ok := x.find(key)
	if !ok {
		return oss.ObjectInfo{}, fmt.Errorf("keyindex: head %q: %w", key, oss.ErrNotFound)
	}
	return x.Object(i), nil
}

// GetRange always goes to the backend, with the caller's ETag.
func (s *Store) GetRange(ctx context.Context, key, etag string, off, n int64) (io.ReadCloser, error) {
	return s.backend.GetRange(ctx, key, etag, off, n)
}
