package fs

import (
	"context"
	"strconv"
	"sync"
	"time"

	"golang.org/x/sync/singleflight"

	"github.com/ossmount/ossmount/oss"
)

// maxListKeep is the longest a finished page answers identical List calls.
// Concurrent `ls` of one large directory drift apart by seconds on a busy
// machine (the kernel's side of a readdir costs more than the request);
// the kernel itself reuses a complete listing for the metadata TTL, so a
// page this old is no staler than what readdir already shows.
const maxListKeep = 5 * time.Second

// maxKeptPages bounds the pages kept after they were fetched (about
// 150 KiB each at 1000 entries): enough for 20 listings of one 20-page
// directory that drift apart by a page or two.
const maxKeptPages = 32

// listSharer merges identical List calls (same prefix, delimiter, start,
// continuation token and page size): calls that overlap share one request,
// and a page that arrived less than keep ago answers a call that comes
// just after, so listings of one directory that drift apart by a page
// still share it. keep is at most maxListKeep and never longer than the
// metadata TTLs; 0 shares only calls in flight.
//
// A shared page can be older than the cache generation its caller took
// before calling List (by the request's time plus keep): an entry a
// lookup stored in that interval may be overwritten by the older listing.
// keep bounds that interval.
type listSharer struct {
	store Store
	keep  time.Duration
	now   func() time.Time
	group singleflight.Group

	mu   sync.Mutex // guards kept
	kept map[oss.ListInput]keptPage
}

type keptPage struct {
	page oss.ListPage
	at   time.Time // when the request was answered
}

func newListSharer(store Store, keep time.Duration, now func() time.Time) *listSharer {
	return &listSharer{store: store, keep: min(keep, maxListKeep), now: now, kept: make(map[oss.ListInput]keptPage)}
}

// List answers from a page kept less than keep ago, else joins or starts
// the one request for in. The request runs detached from ctx (with
// sharedTimeout) so that one caller's interrupt does not fail the others;
// each caller stops waiting when its own ctx ends.
func (l *listSharer) List(ctx context.Context, in oss.ListInput) (oss.ListPage, error) {
	if page, ok := l.recent(in); ok {
		return page, nil
	}
	ch := l.group.DoChan(listKey(in), func() (any, error) {
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), sharedTimeout)
		defer cancel()
		page, err := l.store.List(sctx, in)
		if err == nil {
			l.remember(in, page)
		}
		return page, err
	})
	select {
	case r := <-ch:
		if r.Err != nil {
			return oss.ListPage{}, r.Err
		}
		return r.Val.(oss.ListPage), nil
	case <-ctx.Done():
		return oss.ListPage{}, ctx.Err()
	}
}

// listKey is the singleflight key of in; NUL cannot occur in the fields.
func listKey(in oss.ListInput) string {
	return in.Prefix + "\x00" + in.Delimiter + "\x00" + in.StartAfter + "\x00" + in.ContinuationToken + "\x00" + strconv.Itoa(in.MaxKeys)
}

// recent returns the page kept for in if it is younger than keep.
func (l *listSharer) recent(in oss.ListInput) (oss.ListPage, bool) {
	if l.keep <= 0 {
		return oss.ListPage{}, false
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	k, ok := l.kept[in]
	if !ok || l.now().Sub(k.at) >= l.keep {
		return oss.ListPage{}, false
	}
	return k.page, true
}

// remember keeps page for keep, dropping expired pages and, when full,
// the oldest one.
func (l *listSharer) remember(in oss.ListInput, page oss.ListPage) {
	if l.keep <= 0 {
		return
	}
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	var oldest oss.ListInput
	var oldestAt time.Time
	for k, p := range l.kept {
		switch {
		case now.Sub(p.at) >= l.keep:
			delete(l.kept, k)
		case oldestAt.IsZero() || p.at.Before(oldestAt):
			oldest, oldestAt = k, p.at
		}
	}
	if len(l.kept) >= maxKeptPages {
		delete(l.kept, oldest)
	}
	l.kept[in] = keptPage{page: page, at: now}
}
