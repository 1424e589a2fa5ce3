package keyindex

import (
	"cmp"
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ossmount/ossmount/oss"
)

// DefaultParallel is how many LIST requests Build keeps in flight.
const DefaultParallel = 16

// Lister is the one call Build needs; *oss.Client satisfies it. Safe for
// concurrent use.
type Lister interface {
	List(ctx context.Context, in oss.ListInput) (oss.ListPage, error)
}

// BuildConfig configures Build.
type BuildConfig struct {
	Parallel      int              // LIST requests in flight; default DefaultParallel
	ProgressEvery time.Duration    // progress log interval; default 2 s
	Logger        *slog.Logger     // nil: discard
	Now           func() time.Time // nil: time.Now
}

// span is a range of keys to list flat: those after `after` ("" = from
// the root's start) up to and including `upto` ("" = to the root's end).
type span struct{ after, upto string }

// Build lists every key under root (no delimiter) into an Index. The key
// space is cut into disjoint spans, listed in parallel with at most
// cfg.Parallel requests in flight: first at the root's first-level
// entries (one delimiter listing), then, whenever workers would idle,
// a span being listed is cut again at keys guessed from the page just
// read (the next values of each character position, from the bytes the
// page's keys use). Progress (keys, keys per second) is logged.
func Build(ctx context.Context, l Lister, root string, cfg BuildConfig) (*Index, error) {
	cfg.Parallel = cmp.Or(cfg.Parallel, DefaultParallel)
	cfg.ProgressEvery = cmp.Or(cfg.ProgressEvery, 2*time.Second)
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	b := &build{ctx: ctx, cancel: cancel, l: l, root: root, cfg: cfg, bld: newBuilder(root), started: cfg.Now()}
	b.cond = sync.NewCond(&b.mu)

	seed, err := l.List(ctx, oss.ListInput{Prefix: root, Delimiter: "/", MaxKeys: maxListKeys})
	if err != nil {
		return nil, fmt.Errorf("keyindex: list %q: %w", root, err)
	}
	b.requests.Add(1)
	for _, o := range seed.Objects { // each its own run: spans fall between them
		if err := b.add([]oss.ObjectInfo{o}); err != nil {
			return nil, err
		}
	}
	if n := len(seed.Objects); n > 0 {
		b.seedLast = seed.Objects[n-1].Key
	}
	spans := seedSpans(seed, 4*cfg.Parallel)
	if len(spans) == 0 {
		return b.bld.finish()
	}
	b.queue, b.pending, b.created = strided(spans, cfg.Parallel), len(spans), len(spans)

	stopProgress := b.logProgress()
	var wg sync.WaitGroup
	for range cfg.Parallel {
		wg.Go(b.work)
	}
	wg.Wait()
	stopProgress()
	if b.err != nil {
		return nil, b.err
	}
	x, err := b.bld.finish()
	if err != nil {
		return nil, fmt.Errorf("keyindex: listing %q: %w", root, err)
	}
	elapsed := cfg.Now().Sub(b.started)
	cfg.Logger.Info("metadata index ready", "prefix", root, "keys", x.Len(), "requests", b.requests.Load(),
		"elapsed", elapsed.Round(time.Millisecond).String(), "keys_per_second", rate(x.Len(), elapsed),
		"bytes", x.Bytes(), "bytes_per_key", perKey(x.Bytes(), x.Len()))
	return x, nil
}

// build is the state Build's workers share.
type build struct {
	ctx     context.Context
	cancel  context.CancelFunc // stops the other workers after a failure
	l       Lister
	root    string
	cfg     BuildConfig
	started time.Time

	requests atomic.Int64
	keys     atomic.Int64

	mu      sync.Mutex // guards the fields below
	cond    *sync.Cond // signalled when queue grows or pending reaches 0
	queue   []span
	pending int // spans queued or being listed
	created int // spans ever made
	pages   int // pages listed
	// seedLast is the last object of the root's first delimiter page:
	// the root's own files up to it are in the index already.
	seedLast string
	bld      *builder
	err      error
}

// seedSpans cuts the key space at the entries of the root's first
// delimiter page, grouped into at most n spans, and keeps only the spans
// that hold keys the page did not show: those with a common prefix in
// them or just before them, and the open span after the page if it was
// truncated. The page's objects go into the index directly.
func seedSpans(page oss.ListPage, n int) []span {
	type cut struct {
		key      string
		isPrefix bool
	}
	var cuts []cut
	for _, o := range page.Objects {
		cuts = append(cuts, cut{o.Key, false})
	}
	for _, p := range page.CommonPrefixes {
		cuts = append(cuts, cut{p, true})
	}
	if len(cuts) == 0 {
		return nil
	}
	slices.SortFunc(cuts, func(a, b cut) int { return strings.Compare(a.key, b.key) })
	step := (len(cuts) + n - 1) / n
	var spans []span
	after, afterIsPrefix := "", false
	for i := 0; i < len(cuts); i += step {
		end := min(i+step, len(cuts)) - 1
		needed := afterIsPrefix
		for _, c := range cuts[i : end+1] {
			needed = needed || c.isPrefix
		}
		if end == len(cuts)-1 {
			if needed || page.IsTruncated || cuts[end].isPrefix {
				spans = append(spans, span{after: after})
			}
			break
		}
		if needed {
			spans = append(spans, span{after: after, upto: cuts[end].key})
		}
		after, afterIsPrefix = cuts[end].key, cuts[end].isPrefix
	}
	return spans
}

// work lists spans until none is left or one failed.
func (b *build) work() {
	for {
		b.mu.Lock()
		for len(b.queue) == 0 && b.pending > 0 && b.err == nil {
			b.cond.Wait()
		}
		if b.pending == 0 || b.err != nil {
			b.mu.Unlock()
			return
		}
		sp := b.queue[0]
		b.queue = b.queue[1:]
		b.mu.Unlock()

		err := b.listSpan(sp)
		b.mu.Lock()
		b.pending--
		if err != nil && b.err == nil {
			b.err = err
			b.cancel()
		}
		b.cond.Broadcast()
		b.mu.Unlock()
	}
}

// listSpan lists one span flat, page by page, cutting off its tail as new
// spans when other workers have nothing to do. A page that runs past the
// span's end goes on into the next span if no worker has started it yet,
// so that the keys past the end are not listed twice.
func (b *build) listSpan(sp span) error {
	in := oss.ListInput{Prefix: b.root, StartAfter: sp.after, MaxKeys: maxListKeys}
	for {
		page, err := b.l.List(b.ctx, in)
		if err != nil {
			return fmt.Errorf("keyindex: list %q after %q: %w", b.root, in.StartAfter, err)
		}
		b.requests.Add(1)
		b.mu.Lock()
		b.pages++
		b.mu.Unlock()
		for rest := page.Objects; ; {
			end := len(rest)
			if sp.upto != "" {
				end, _ = slices.BinarySearchFunc(rest, sp.upto, func(o oss.ObjectInfo, k string) int {
					return strings.Compare(o.Key, k+"\x00")
				})
			}
			if err := b.add(rest[:end]); err != nil {
				return err
			}
			if end == len(rest) {
				break
			}
			next, ok := b.takeNext(sp.upto)
			if !ok {
				return nil
			}
			sp, rest = next, rest[end:]
		}
		if !page.IsTruncated || len(page.Objects) == 0 {
			return nil
		}
		if page.NextContinuationToken == in.ContinuationToken {
			return fmt.Errorf("keyindex: list %q: continuation token did not advance", b.root)
		}
		in.ContinuationToken = page.NextContinuationToken
		sp.upto = b.maybeSplit(page.Objects, sp.upto)
	}
}

// takeNext removes from the queue the span that starts where one ends
// (at upto) and counts the ended span done; false if that span is
// started or does not exist.
func (b *build) takeNext(upto string) (span, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for i, q := range b.queue {
		if q.after == upto {
			b.queue = slices.Delete(b.queue, i, i+1)
			b.pending--
			return q, true
		}
	}
	return span{}, false
}

// strided orders spans so that the first workers start far apart and
// each finds the span after its own still queued (see takeNext).
func strided(spans []span, workers int) []span {
	stride := max(1, (len(spans)+workers-1)/workers)
	out := make([]span, 0, len(spans))
	for s := range stride {
		for i := s; i < len(spans); i += stride {
			out = append(out, spans[i])
		}
	}
	return out
}

// add puts a page's objects into the builder.
func (b *build) add(objs []oss.ObjectInfo) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.bld.startRun()
	for _, o := range objs {
		if o.Key <= b.seedLast && !strings.Contains(o.Key[len(b.root):], "/") {
			continue // a file of the root the first page showed
		}
		if err := b.bld.add(o); err != nil {
			return fmt.Errorf("keyindex: %w", err)
		}
	}
	b.keys.Add(int64(len(objs)))
	return nil
}

// maybeSplit cuts the rest of a span (after the page's last key, up to
// upto) when fewer spans wait than there are workers, and returns the
// span's new end. New spans are bounded so that guessed cuts cannot cost
// much more than the listing itself.
func (b *build) maybeSplit(page []oss.ObjectInfo, upto string) string {
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.queue) >= b.cfg.Parallel || b.created >= 2*b.pages+4*b.cfg.Parallel {
		return upto
	}
	cuts := splitPoints(b.root, page, upto, 2*b.cfg.Parallel)
	if len(cuts) == 0 {
		return upto
	}
	for i, c := range cuts {
		next := upto
		if i+1 < len(cuts) {
			next = cuts[i+1]
		}
		b.queue = append(b.queue, span{after: c, upto: next})
	}
	b.pending += len(cuts)
	b.created += len(cuts)
	b.cond.Broadcast()
	return cuts[0]
}

// splitPoints guesses up to most keys between the page's last key and upto
// ("" = no bound) that cut what follows into pieces: the last key with
// the character at one position raised to each larger byte that the
// page's keys use where they differ from one another (digits, for
// numbered names), at positions holding such a byte, shallow positions
// first (they cut off the most).
// Sorted; all start with root.
func splitPoints(root string, page []oss.ObjectInfo, upto string, most int) []string {
	if len(page) < 2 {
		return nil
	}
	first, last := page[0].Key, page[len(page)-1].Key
	common := 0
	for common < len(first) && common < len(last) && first[common] == last[common] {
		common++
	}
	var used [256]bool
	for _, o := range page {
		for i := max(common, len(root)); i < len(o.Key); i++ {
			used[o.Key[i]] = true
		}
	}
	var cuts []string
	for j := len(root); j < len(last) && len(cuts) < most; j++ {
		if !used[last[j]] {
			continue // a separator or fixed letter ("/", "f" of "file"): other values there are guesses in the dark
		}
		for c := int(last[j]) + 1; c < 256 && len(cuts) < most; c++ {
			if !used[c] {
				continue
			}
			p := last[:j] + string([]byte{byte(c)})
			if upto != "" && p >= upto {
				break
			}
			cuts = append(cuts, p)
		}
	}
	slices.Sort(cuts)
	return cuts
}

// logProgress logs keys and keys per second every ProgressEvery until the
// returned stop is called.
func (b *build) logProgress() (stop func()) {
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		t := time.NewTicker(b.cfg.ProgressEvery)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				n := int(b.keys.Load())
				b.cfg.Logger.Info("listing metadata", "prefix", b.root, "keys", n, "requests", b.requests.Load(),
					"keys_per_second", rate(n, b.cfg.Now().Sub(b.started)))
			}
		}
	})
	return func() { close(done); wg.Wait() }
}

func rate(n int, d time.Duration) int64 {
	if d <= 0 {
		return 0
	}
	return int64(float64(n) / d.Seconds())
}

func perKey(bytes int64, keys int) int64 {
	if keys == 0 {
		return 0
	}
	return bytes / int64(keys)
}
