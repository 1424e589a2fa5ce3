package fs

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"

	"github.com/hanwen/go-fuse/v2/fuse"

	"github.com/ossmount/ossmount/oss"
)

// loopingStore answers listings like a broken gateway: after the first
// page, every page is mangled by bend. It gives up (with errLooped) after
// maxLists LISTs so that a test of a listing that would never end ends.
type loopingStore struct {
	*fakeStore
	bend  func(in oss.ListInput, page oss.ListPage) oss.ListPage
	lists atomic.Int32
}

const maxLists = 50

var errLooped = errors.New("test store: listing did not stop")

func (s *loopingStore) List(ctx context.Context, in oss.ListInput) (oss.ListPage, error) {
	if s.lists.Add(1) > maxLists {
		return oss.ListPage{}, errLooped
	}
	page, err := s.fakeStore.List(ctx, in)
	if err != nil || in.ContinuationToken == "" || in.MaxKeys == 1 {
		return page, err
	}
	return s.bend(in, page), nil
}

// A listing whose continuation token does not advance, or whose pages move
// backwards, ends with EIO and a log line instead of looping for ever.
func TestListingThatDoesNotAdvanceEnds(t *testing.T) {
	cases := []struct {
		name string
		bend func(in oss.ListInput, page oss.ListPage) oss.ListPage
	}{
		{"repeated token", func(in oss.ListInput, page oss.ListPage) oss.ListPage {
			page.IsTruncated, page.NextContinuationToken = true, in.ContinuationToken
			return page
		}},
		{"page moves backwards", func(in oss.ListInput, page oss.ListPage) oss.ListPage {
			// The same first page again, with a fresh token each time.
			return oss.ListPage{Objects: []oss.ObjectInfo{{Key: "d/f0", Size: 1, ETag: `"x"`}},
				IsTruncated: true, NextContinuationToken: in.ContinuationToken + "x"}
		}},
		{"empty pages for ever", func(in oss.ListInput, page oss.ListPage) oss.ListPage {
			return oss.ListPage{IsTruncated: true, NextContinuationToken: in.ContinuationToken + "x"}
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			fake := newFakeStore()
			for i := range 5 {
				fake.put(fmt.Sprintf("d/f%d", i), []byte("x"))
			}
			var logs strings.Builder
			store := &loopingStore{fakeStore: fake, bend: c.bend}
			f, err := New(Config{MetadataTTL: DefaultMetadataTTL, NegativeTTL: DefaultNegativeTTL,
				Logger: newTestLogger(&logs)}, store)
			if err != nil {
				t.Fatal(err)
			}
			f.t.pageSize = 2
			f.t.maxEmptyPages = 10
			h := openDir(t, f, "d/")
			var errno syscall.Errno
			for range maxLists * 10 {
				var de *fuse.DirEntry
				if de, errno = h.Readdirent(context.Background()); errno != 0 || de == nil {
					break
				}
			}
			if errno != syscall.EIO {
				t.Errorf("listing ended with %v, want EIO", errno)
			}
			if n := store.lists.Load(); n > maxLists {
				t.Fatalf("the listing kept going: %d LISTs", n)
			}
			if !strings.Contains(logs.String(), "listing") || !strings.Contains(logs.String(), "d/") {
				t.Errorf("no log line names the listing:\n%s", logs.String())
			}
		})
	}
}

func newTestLogger(w *strings.Builder) *slog.Logger {
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug}))
}
