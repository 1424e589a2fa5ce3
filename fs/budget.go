package fs

import (
	"math/bits"
	"sync"
	"syscall"
)

// minPartSize is the smallest read-ahead part and buffer size class.
const minPartSize = 256 << 10

// keepFree is how many bytes of released buffers the budget keeps mapped
// beyond those in use, so an idle mount does not hold the whole budget.
const keepFree = 32 << 20

// readBudget is the one memory budget for read-ahead buffers across all
// open files (STYLE.md section 5): New creates it, handles draw from it.
// It also counts the handles reading ahead, so that each gets a fair share.
//
// Buffers are anonymous mmap'd memory outside the Go heap, so the budget
// bounds the RSS they cost whatever the GC pacing (a heap holding 128 MiB
// of live buffers may grow to twice that before a collection). Released
// buffers are kept for reuse by power-of-two size class: fresh pages are
// zeroed by the kernel, which costs as much CPU as filling them.
type readBudget struct {
	limit int64

	mu     sync.Mutex // guards the fields below; held across mmap/munmap only
	used   int64      // bytes of buffers handed out
	mapped int64      // used plus the kept free buffers
	peak   int64      // highest used
	free   map[int][][]byte
	active int // handles reading ahead
}

func newReadBudget(limit int64) *readBudget {
	return &readBudget{limit: limit, free: make(map[int][][]byte)}
}

// classSize is the buffer size that holds n bytes.
func classSize(n int) int {
	if n <= minPartSize {
		return minPartSize
	}
	return 1 << bits.Len(uint(n-1))
}

// acquire returns a buffer of length n, or false when the budget cannot
// cover it now (the caller reads with a smaller window instead; nothing
// waits for budget, so nothing can deadlock on it).
func (b *readBudget) acquire(n int) ([]byte, bool) {
	size := classSize(n)
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.used+int64(size) > b.limit {
		return nil, false
	}
	var buf []byte
	if l := b.free[size]; len(l) > 0 {
		buf = l[len(l)-1]
		b.free[size] = l[:len(l)-1]
	} else {
		b.evictLocked(b.limit - int64(size))
		var err error
		buf, err = syscall.Mmap(-1, 0, size, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_ANON|syscall.MAP_PRIVATE)
		if err != nil {
			return nil, false
		}
		b.mapped += int64(size)
	}
	b.used += int64(size)
	b.peak = max(b.peak, b.used)
	return buf[:n], true
}

// release returns a buffer from acquire.
func (b *readBudget) release(buf []byte) {
	size := cap(buf)
	b.mu.Lock()
	defer b.mu.Unlock()
	b.used -= int64(size)
	b.free[size] = append(b.free[size], buf[:size])
	b.evictLocked(b.used + keepFree)
}

// evictLocked unmaps free buffers until at most target bytes are mapped
// (or none is free).
func (b *readBudget) evictLocked(target int64) {
	for size, l := range b.free {
		for b.mapped > target && len(l) > 0 {
			buf := l[len(l)-1]
			l = l[:len(l)-1]
			_ = syscall.Munmap(buf) // only fails for a slice Mmap did not return
			b.mapped -= int64(size)
		}
		b.free[size] = l
		if b.mapped <= target {
			return
		}
	}
}

// join and leave count a handle that reads ahead.
func (b *readBudget) join() {
	b.mu.Lock()
	b.active++
	b.mu.Unlock()
}

func (b *readBudget) leave() {
	b.mu.Lock()
	b.active--
	b.mu.Unlock()
}

// share is the read-ahead one handle may hold when all active handles
// read at once: an equal part of the budget.
func (b *readBudget) share() int64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.limit / int64(max(b.active, 1))
}

// stats returns the bytes in use now, the peak so far and the handles
// reading ahead now.
func (b *readBudget) stats() (used, peak int64, handles int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.used, b.peak, b.active
}
