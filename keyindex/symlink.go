package keyindex

import (
	"context"
	"errors"
)

// errNoSymlink says the backend cannot read links.
var errNoSymlink = errors.New("keyindex: the backend does not read symbolic links")

// Symlink passes GetSymlink through to the backend (fs.SymlinkStore).
// The index itself does not record object types, so while it answers,
// links are listed as plain objects; once it has expired the backend's
// listings mark them again and this is what reads their targets.
func (s *Store) Symlink(ctx context.Context, key string) (string, error) {
	b, ok := s.backend.(interface {
		Symlink(ctx context.Context, key string) (string, error)
	})
	if !ok {
		return "", errNoSymlink
	}
	return b.Symlink(ctx, key)
}
