package fs

import (
	"context"
	"io"

	"github.com/ossmount/ossmount/oss"
)

// Store is all the node tree needs from object storage. *oss.Client
// satisfies it as is; tests use an in-memory fake.
//
// Implementations must be safe for concurrent use. Errors are tested with
// errors.Is against oss.ErrNotFound, oss.ErrAccessDenied,
// oss.ErrCredentials and oss.ErrPreconditionFailed; cancelling ctx makes a
// call return ctx.Err() (possibly wrapped).
type Store interface {
	// List returns one ListObjectsV2 page with keys decoded.
	List(ctx context.Context, in oss.ListInput) (oss.ListPage, error)
	// Head describes one object; errors.Is(err, oss.ErrNotFound) if absent.
	Head(ctx context.Context, key string) (oss.ObjectInfo, error)
	// GetRange streams up to n bytes of key starting at off, only if the
	// object's ETag is still etag (If-Match); otherwise the error matches
	// oss.ErrPreconditionFailed. The caller closes the body. Cancelling
	// ctx aborts the body as well.
	GetRange(ctx context.Context, key, etag string, off, n int64) (io.ReadCloser, error)
}

var _ Store = (*oss.Client)(nil)
