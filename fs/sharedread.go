package fs

import (
	"context"
	"io"
	"sync"
	"time"
)

// Limits of read sharing (readSharer).
const (
	// sharedReadMemory bounds the buffers of shared ranges, on top of the
	// read-ahead budget. It is used only while several readers read one
	// object version at once; a lone reader's bytes never pass through it.
	sharedReadMemory = 64 << 20
	// sharedReadGrace is how long a finished shared range stays for a
	// reader just behind, and how long an object version stays shared
	// after the last sign of a second reader. 5 s, as for listing pages:
	// data loader workers on a CPU-bound training node can be off the
	// CPU for more than a second, and with 1 s, 8 readers of one file
	// next to another make test fetched it 1.41 times. Memory stays
	// bounded by sharedReadMemory, which evicts kept ranges first.
	sharedReadGrace = 5 * time.Second
	// maxSharedRange: larger requests are never shared.
	maxSharedRange = 8 << 20
	// maxSeenSpans bounds the recent requests remembered per version.
	maxSeenSpans = 64
)

// readSharer fetches once the bytes that several readers of one object
// version (key and ETag) ask for at about the same time. A version whose
// requests do not overlap (one reader) passes through untouched: each
// GetRange is the store's own body, nothing is copied or buffered; only
// the request's span is remembered for sharedReadGrace. A request for
// exactly a range asked for recently is the sign of a second reader (the
// read-ahead of handles that start together asks for the same parts; one
// handle overlaps its own requests, with other boundaries, when its
// read-ahead lacks memory, and that must not cost it a copy): for
// sharedReadGrace after the latest sign, the version is shared, and then
// every overlap is a sign. A shared request is cut into pieces: the parts that ranges in
// flight or kept already cover join them, and each gap becomes a new
// range, fetched once by its own goroutine into a buffer from the pool,
// that later requests join. A range's fetch never waits for its readers
// (the buffer holds the whole range), so a slow reader cannot stall the
// others; it runs detached from every caller's context with
// sharedTimeout and is cancelled when its last reader leaves before it is
// done. Its error (a 412 among them) reaches every reader. A finished
// range is kept for sharedReadGrace after its last reader left, or less
// when the pool needs the memory. When the pool is full a request passes
// through unshared: nothing waits for memory.
//
// Lock order: readSharer.mu, then the pool's readBudget.mu; a flight's mu
// is taken with no other lock held.
type readSharer struct {
	store Store
	pool  *readBudget
	grace time.Duration
	now   func() time.Time

	mu        sync.Mutex // guards the fields below and the sharer fields of flights
	objects   map[version]*sharedObject
	lastSweep time.Time
	timer     *time.Timer // frees idle ranges after grace; nil when not armed
}

// version is one version of one object.
type version struct{ key, etag string }

// sharedObject is what the sharer knows about one version.
type sharedObject struct {
	flights     []*flight // shared ranges in flight or kept, in no order
	seen        []span    // recent requests that passed through
	sharedUntil time.Time
}

type span struct {
	off, end int64
	at       time.Time
}

func newReadSharer(store Store, pool *readBudget, grace time.Duration, now func() time.Time) *readSharer {
	return &readSharer{store: store, pool: pool, grace: grace, now: now, objects: make(map[version]*sharedObject)}
}

// GetRange implements Store.GetRange.
func (s *readSharer) GetRange(ctx context.Context, key, etag string, off, n int64) (io.ReadCloser, error) {
	if n <= 0 || n > maxSharedRange || etag == "" || off < 0 {
		return s.store.GetRange(ctx, key, etag, off, n)
	}
	v := version{key, etag}
	s.mu.Lock()
	pieces, starts := s.planLocked(v, off, off+n)
	s.mu.Unlock()
	if pieces == nil {
		return s.store.GetRange(ctx, key, etag, off, n)
	}
	for _, f := range starts {
		go s.fill(ctx, v, f)
	}
	body := &sharedBody{ctx: ctx, s: s, v: v, pieces: pieces}
	for _, pc := range pieces {
		select {
		case <-pc.f.opened:
			if pc.f.openErr != nil {
				body.Close()
				return nil, pc.f.openErr
			}
		case <-ctx.Done():
			body.Close()
			return nil, ctx.Err()
		}
	}
	return body, nil
}

// planLocked returns the pieces that cover [off, end) with a reader
// reference on each, and the new ranges among them to start; nil when
// the request passes through.
func (s *readSharer) planLocked(v version, off, end int64) ([]piece, []*flight) {
	now := s.now()
	if now.Sub(s.lastSweep) >= s.grace {
		s.sweepLocked(now)
	}
	o := s.objects[v]
	if o == nil {
		o = &sharedObject{}
		s.objects[v] = o
	}
	shared := now.Before(o.sharedUntil)
	if o.asked(off, end) || shared && o.overlaps(off, end) {
		o.sharedUntil = now.Add(s.grace)
	}
	if !now.Before(o.sharedUntil) {
		o.remember(span{off, end, now})
		return nil, nil
	}
	var pieces []piece
	var starts []*flight
	for pos := off; pos < end; {
		if f := o.covering(pos); f != nil {
			to := min(f.end, end)
			f.readers++
			pieces = append(pieces, piece{f: f, pos: pos, end: to})
			pos = to
			continue
		}
		gapEnd := end
		for _, f := range o.flights {
			if f.off > pos && f.off < gapEnd {
				gapEnd = f.off
			}
		}
		buf, ok := s.acquireLocked(int(gapEnd - pos))
		if !ok {
			for _, pc := range pieces {
				s.leaveLocked(v, pc.f)
			}
			o.remember(span{off, end, now})
			return nil, nil
		}
		f := newFlight(pos, buf)
		f.readers, f.running = 1, true
		o.flights = append(o.flights, f)
		starts = append(starts, f)
		pieces = append(pieces, piece{f: f, pos: pos, end: gapEnd})
		pos = gapEnd
	}
	return pieces, starts
}

// asked reports whether exactly [off, end) was asked for recently.
func (o *sharedObject) asked(off, end int64) bool {
	for _, sp := range o.seen {
		if sp.off == off && sp.end == end {
			return true
		}
	}
	for _, f := range o.flights {
		if f.off == off && f.end == end {
			return true
		}
	}
	return false
}

// overlaps reports whether [off, end) meets a recent request or a range.
func (o *sharedObject) overlaps(off, end int64) bool {
	for _, sp := range o.seen {
		if sp.off < end && off < sp.end {
			return true
		}
	}
	for _, f := range o.flights {
		if f.off < end && off < f.end {
			return true
		}
	}
	return false
}

// covering is the range holding pos that reaches furthest, or nil.
func (o *sharedObject) covering(pos int64) *flight {
	var best *flight
	for _, f := range o.flights {
		if f.off <= pos && pos < f.end && (best == nil || f.end > best.end) {
			best = f
		}
	}
	return best
}

func (o *sharedObject) remember(sp span) {
	if len(o.seen) >= maxSeenSpans {
		o.seen = append(o.seen[:0], o.seen[1:]...)
	}
	o.seen = append(o.seen, sp)
}

// acquireLocked takes a buffer from the pool, freeing idle ranges (the
// longest idle first) when it is full.
func (s *readSharer) acquireLocked(n int) ([]byte, bool) {
	for {
		if buf, ok := s.pool.acquire(n); ok {
			return buf, true
		}
		var oldest *flight
		var oldestV version
		for v, o := range s.objects {
			for _, f := range o.flights {
				if f.idle() && (oldest == nil || f.idleAt.Before(oldest.idleAt)) {
					oldest, oldestV = f, v
				}
			}
		}
		if oldest == nil {
			return nil, false
		}
		s.unlistLocked(oldestV, oldest)
	}
}

// fill runs the one GET of range f and publishes its bytes as they come.
func (s *readSharer) fill(ctx context.Context, v version, f *flight) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), sharedTimeout)
	s.mu.Lock()
	f.cancel = cancel
	cancelled := !f.listed
	s.mu.Unlock()
	if cancelled {
		cancel() // every reader left before the fetch started
	}
	defer cancel()
	body, err := s.store.GetRange(ctx, v.key, v.etag, f.off, int64(len(f.buf)))
	f.openErr = err
	close(f.opened)
	if err == nil {
		err = f.copyFrom(body)
		body.Close()
	} else {
		f.publish(0, err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	f.running = false
	if err != nil {
		s.unlistLocked(v, f) // the next request fetches it again
	} else {
		f.idleAt = s.now()
		if f.idle() {
			s.armLocked()
		}
	}
	s.freeIfUnusedLocked(f)
}

// leaveLocked drops one reader of f: a range nobody reads any more is
// cancelled if still in flight, or kept for grace if complete.
func (s *readSharer) leaveLocked(v version, f *flight) {
	f.readers--
	if f.readers > 0 {
		return
	}
	if f.running {
		s.unlistLocked(v, f)
		if f.cancel != nil {
			f.cancel()
		}
		return
	}
	f.idleAt = s.now()
	s.armLocked()
	s.freeIfUnusedLocked(f)
}

// unlistLocked takes f out of its version's ranges: no request joins it
// any more, and its buffer goes back once its readers and fetch are done.
func (s *readSharer) unlistLocked(v version, f *flight) {
	if !f.listed {
		return
	}
	f.listed = false
	if o := s.objects[v]; o != nil {
		for i, g := range o.flights {
			if g == f {
				o.flights = append(o.flights[:i], o.flights[i+1:]...)
				break
			}
		}
	}
	s.freeIfUnusedLocked(f)
}

func (s *readSharer) freeIfUnusedLocked(f *flight) {
	if !f.listed && !f.running && f.readers == 0 && f.buf != nil {
		s.pool.release(f.buf)
		f.buf = nil
	}
}

// sweepLocked forgets spans and ranges older than grace, and versions
// with nothing left.
func (s *readSharer) sweepLocked(now time.Time) {
	s.lastSweep = now
	for v, o := range s.objects {
		seen := o.seen[:0]
		for _, sp := range o.seen {
			if now.Sub(sp.at) < s.grace {
				seen = append(seen, sp)
			}
		}
		clear(o.seen[len(seen):])
		o.seen = seen
		for _, f := range append([]*flight(nil), o.flights...) {
			if f.idle() && now.Sub(f.idleAt) >= s.grace {
				s.unlistLocked(v, f)
			}
		}
		if len(o.seen) == 0 && len(o.flights) == 0 && !now.Before(o.sharedUntil) {
			delete(s.objects, v)
		}
	}
}

// armLocked makes sure a sweep runs once idle ranges are older than grace.
func (s *readSharer) armLocked() {
	if s.timer != nil {
		return
	}
	s.timer = time.AfterFunc(s.grace, func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		s.timer = nil
		s.sweepLocked(s.now())
		for _, o := range s.objects {
			for _, f := range o.flights {
				if f.idle() {
					s.armLocked()
					return
				}
			}
		}
	})
}
