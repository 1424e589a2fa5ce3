package fs

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/ossmount/ossmount/oss"
)

// sharedTimeout bounds work that several callers share (a merged lookup):
// it runs detached from the first caller's context so that one interrupted
// caller does not fail the others, and this keeps it from running forever.
const sharedTimeout = 2 * time.Minute

// lookup says what path is (file, directory or missing), from the cache
// when fresh, else from the store. Concurrent lookups of one path share
// one round of requests. Only answers of requests that completed are
// cached; a caller whose ctx ends stops waiting with ctx.Err().
func (t *tree) lookup(ctx context.Context, path string) (entry, error) {
	if e, ok := t.cache.get(path); ok {
		return e, nil
	}
	ch := t.group.DoChan(path, func() (any, error) {
		gen := t.cache.begin()
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), sharedTimeout)
		defer cancel()
		k, info, err := t.resolve(sctx, path)
		if err != nil {
			return entry{}, err
		}
		return t.cache.put(path, k, info, gen), nil
	})
	select {
	case r := <-ch:
		if r.Err != nil {
			return entry{}, r.Err
		}
		return r.Val.(entry), nil
	case <-ctx.Done():
		return entry{}, ctx.Err()
	}
}

// resolve asks the store what path is with one LIST and one HEAD sent
// concurrently. A LIST of prefix path+"/" with MaxKeys 1 answers "is it a
// directory" exactly: a LIST from prefix path could be filled with keys
// such as "path.txt" or "path-1", which sort between "path" and "path/".
// A directory wins over a file of the same name.
func (t *tree) resolve(ctx context.Context, path string) (kind, objectMeta, error) {
	ctx, cancel := context.WithCancel(ctx)
	type headResult struct {
		info oss.ObjectInfo
		err  error
	}
	heads := make(chan headResult, 1)
	var wg sync.WaitGroup
	wg.Go(func() {
		info, err := t.store.Head(ctx, path)
		heads <- headResult{info, err}
	})
	defer wg.Wait() // the HEAD ends with this call
	defer cancel()  // stops the HEAD once the LIST found a directory

	page, err := t.store.List(ctx, oss.ListInput{Prefix: path + "/", Delimiter: "/", MaxKeys: 1})
	if err != nil {
		return 0, objectMeta{}, fmt.Errorf("fs: list %q: %w", path+"/", err)
	}
	if len(page.Objects) > 0 || len(page.CommonPrefixes) > 0 {
		return kindDir, objectMeta{}, nil
	}
	h := <-heads
	switch {
	case h.err == nil && h.info.ObjectType == oss.ObjectTypeSymlink:
		return kindSymlink, metaOf(h.info), nil
	case h.err == nil:
		return kindFile, metaOf(h.info), nil
	case errors.Is(h.err, oss.ErrSymlinkTargetMissing):
		return kindSymlink, objectMeta{}, nil // a dangling link
	case errors.Is(h.err, oss.ErrNotFound):
		return kindMissing, objectMeta{}, nil
	default:
		return 0, objectMeta{}, fmt.Errorf("fs: head %q: %w", path, h.err)
	}
}
