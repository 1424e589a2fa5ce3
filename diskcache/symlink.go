package diskcache

import (
	"context"
	"errors"
)

// errNoSymlink says the store under the cache cannot read links.
var errNoSymlink = errors.New("diskcache: the store below does not read symbolic links")

// Symlink passes GetSymlink through to the store below (fs.SymlinkStore),
// so OSS symbolic links stay links with the disk cache on; a link has no
// data of its own to cache.
func (c *Cache) Symlink(ctx context.Context, key string) (string, error) {
	s, ok := c.store.(interface {
		Symlink(ctx context.Context, key string) (string, error)
	})
	if !ok {
		return "", errNoSymlink
	}
	return s.Symlink(ctx, key)
}
