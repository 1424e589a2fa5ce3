package fs

import (
	"bytes"
	"context"
	"sync"
	"testing"

	"github.com/hanwen/go-fuse/v2/fuse"
)

// callerCtx is the context of a FUSE request from thread pid.
func callerCtx(pid uint32) context.Context {
	return fuse.NewContext(context.Background(), &fuse.Caller{Pid: pid})
}

// readFrom reads [off, off+n) as thread pid and checks the bytes.
func readFrom(t *testing.T, r *prefetcher, data []byte, pid uint32, off, n int) {
	t.Helper()
	p := make([]byte, n)
	if _, err := readAt(callerCtx(pid), r, p, int64(off)); err != nil || !bytes.Equal(p, data[off:off+n]) {
		t.Fatalf("read %d+%d as thread %d: %v (bytes equal: %v)", off, n, pid, err, bytes.Equal(p, data[off:off+n]))
	}
}

// A FLUSH (another descriptor closed) cancels nothing: the read waiting
// on a part gets it, and no part is fetched twice.
func TestPrefetchFlushCancelsNothing(t *testing.T) {
	st, r, data := newPrefetchFixture(t, 8<<20, newReadBudget(64<<20))
	var gate sync.Mutex
	gate.Lock()
	started := make(chan struct{}, 64)
	st.fail = func(off, n int64) error {
		started <- struct{}{}
		gate.Lock() // every GET waits until the flush happened
		gate.Unlock()
		return nil
	}
	done := make(chan error, 1)
	p := make([]byte, 128<<10)
	go func() {
		_, err := readAt(callerCtx(1), r, p, 0)
		done <- err
	}()
	<-started // a part is in flight (no deadline: the GET goroutine runs or the test times out)
	r.Flush(2)
	gate.Unlock()
	if err := <-done; err != nil || !bytes.Equal(p, data[:len(p)]) {
		t.Fatalf("read waiting across a FLUSH: %v (bytes equal: %v)", err, bytes.Equal(p, data[:len(p)]))
	}
	readAll(t, r, data, 128<<10)
	seen := map[int64]bool{}
	for _, g := range st.records() {
		if seen[g.off] {
			t.Errorf("part at %d fetched twice: the FLUSH cancelled it", g.off)
		}
		seen[g.off] = true
	}
	if _, cancelled := st.counts(); cancelled != 0 {
		t.Errorf("%d GETs cancelled by a FLUSH", cancelled)
	}
}

// After a FLUSH, reads of the closing thread within the window start no
// GET (they may be a dead process's leftover read-ahead); a read from
// another thread, or past the window, resumes the read-ahead.
func TestPrefetchFlushPausesTheClosingThread(t *testing.T) {
	for _, tc := range []struct {
		name   string
		resume func(t *testing.T, r *prefetcher, data []byte, next int)
	}{
		{"read from another thread", func(t *testing.T, r *prefetcher, data []byte, next int) {
			readFrom(t, r, data, 2, next, 128<<10)
		}},
		{"read past the window", func(t *testing.T, r *prefetcher, data []byte, next int) {
			readFrom(t, r, data, 1, next, 128<<10)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st, r, data := newPrefetchFixture(t, 32<<20, newReadBudget(64<<20))
			off := 0
			for ; off < 2<<20; off += 128 << 10 {
				readFrom(t, r, data, 1, off, 128<<10)
			}
			r.Flush(1)
			r.mu.Lock()
			next := int(r.next)
			r.mu.Unlock()
			// Parts started before the FLUSH may reach the store later, so
			// GETs are told apart by offset, not counted.
			beyond := func() int {
				n := 0
				for _, g := range st.records() {
					if g.off >= int64(next) {
						n++
					}
				}
				return n
			}
			for ; off+128<<10 <= next; off += 128 << 10 {
				readFrom(t, r, data, 1, off, 128<<10)
			}
			if n := beyond(); n != 0 {
				t.Fatalf("%d GETs past the window end %d started by reads of the closing thread inside it: want 0", n, next)
			}
			tc.resume(t, r, data, off)
			r.mu.Lock()
			end := int(r.next)
			r.mu.Unlock()
			if end <= off+128<<10 {
				t.Fatalf("read-ahead not resumed: window ends at %d, reader at %d", end, off)
			}
		})
	}
}
