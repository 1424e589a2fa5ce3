package fs

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/ossmount/ossmount/oss"
	"github.com/ossmount/ossmount/test/mounttest"
)

func newTestListSharer(t *testing.T, keep time.Duration) (*listSharer, *gatedStore, *fakeStore, *fakeClock) {
	t.Helper()
	fake := newFakeStore()
	for i := range 30 {
		fake.put(fmt.Sprintf("dir/f%02d", i), []byte("x"))
	}
	g := &gatedStore{Store: fake}
	clock := newFakeClock()
	return newListSharer(g, keep, clock.Now), g, fake, clock
}

var dirPage = oss.ListInput{Prefix: "dir/", Delimiter: "/", MaxKeys: 10}

type listResult struct {
	page oss.ListPage
	err  error
}

func goList(ctx context.Context, l *listSharer, in oss.ListInput) chan listResult {
	ch := make(chan listResult, 1)
	go func() {
		page, err := l.List(ctx, in)
		ch <- listResult{page, err}
	}()
	return ch
}

// Concurrent identical List calls share one request; a caller whose ctx
// ends stops waiting without failing the others.
func TestSharedListMergesConcurrentCalls(t *testing.T) {
	l, g, fake, _ := newTestListSharer(t, time.Second)
	g.hold()
	ctx, cancel := context.WithCancel(context.Background())
	first := goList(ctx, l, dirPage)
	mounttest.Await(t, "the first LIST", func() bool { return g.waited() == 1 })
	var rest []chan listResult
	for range 10 {
		rest = append(rest, goList(context.Background(), l, dirPage))
	}
	cancel()
	if r := <-first; !errors.Is(r.err, context.Canceled) {
		t.Errorf("cancelled caller: %v, want context.Canceled", r.err)
	}
	g.release()
	for i, ch := range rest {
		r := <-ch
		if r.err != nil || len(r.page.Objects) != 10 || r.page.Objects[0].Key != "dir/f00" {
			t.Errorf("caller %d: %d objects, %v", i, len(r.page.Objects), r.err)
		}
	}
	if n := fake.count("list"); n != 1 {
		t.Errorf("%d LISTs for 11 identical calls, want 1", n)
	}
	if _, c := g.stats(); c != 0 {
		t.Errorf("the shared LIST was cancelled with its first caller")
	}
}

// A page answers identical calls for keep after it arrived, not longer;
// other inputs (the next page) are separate; keep 0 reuses nothing.
func TestSharedListKeepsPagesBriefly(t *testing.T) {
	l, _, fake, clock := newTestListSharer(t, time.Second)
	list := func(in oss.ListInput) oss.ListPage {
		t.Helper()
		page, err := l.List(context.Background(), in)
		if err != nil {
			t.Fatal(err)
		}
		return page
	}
	page := list(dirPage)
	clock.advance(999 * time.Millisecond)
	list(dirPage)
	if n := fake.count("list"); n != 1 {
		t.Errorf("%d LISTs within keep, want 1", n)
	}
	next := dirPage
	next.ContinuationToken = page.NextContinuationToken
	if p := list(next); len(p.Objects) == 0 || p.Objects[0].Key != "dir/f10" {
		t.Errorf("second page starts at %v", p.Objects)
	}
	clock.advance(time.Millisecond)
	list(dirPage)
	if n := fake.count("list"); n != 3 {
		t.Errorf("%d LISTs after keep, want 3", n)
	}

	l0, _, fake0, _ := newTestListSharer(t, 0)
	for range 3 {
		if _, err := l0.List(context.Background(), dirPage); err != nil {
			t.Fatal(err)
		}
	}
	if n := fake0.count("list"); n != 3 {
		t.Errorf("keep 0: %d LISTs for 3 calls in a row, want 3", n)
	}
}

// Kept pages are bounded in number, and keep is capped.
func TestSharedListBounds(t *testing.T) {
	l, _, _, _ := newTestListSharer(t, time.Hour)
	if l.keep != maxListKeep {
		t.Errorf("keep %v, want the cap %v", l.keep, maxListKeep)
	}
	for i := range 2 * maxKeptPages {
		in := dirPage
		in.StartAfter = fmt.Sprintf("dir/f%02d", i%30) + fmt.Sprint(i)
		if _, err := l.List(context.Background(), in); err != nil {
			t.Fatal(err)
		}
	}
	l.mu.Lock()
	n := len(l.kept)
	l.mu.Unlock()
	if n > maxKeptPages {
		t.Errorf("%d pages kept, want at most %d", n, maxKeptPages)
	}
}
