package fs

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/hanwen/go-fuse/v2/fuse"

	"github.com/ossmount/ossmount/oss"
)

// listPageSize is MaxKeys for readdir pages, the most OSS returns.
const listPageSize = 1000

// pagesAhead is how many fetched pages may wait for the kernel. Pages
// chain (each needs the previous one's continuation token), so the
// fetcher asks for the next page the moment it has the token, not when
// the kernel comes back for entries: the time spent handing a page to
// the kernel overlaps the next round trip instead of adding to it.
const pagesAhead = 2

// dirent is one entry of a listing, with what the cache now says about it.
// Once recorded, name is the copy the cache's listing keeps, so the node
// go-fuse makes for it shares that string.
type dirent struct {
	name    string
	e       entry
	recheck bool // the cache was told the object changed: look it up again
}

// defaultMaxEmptyPages bounds a listing's run of empty pages that still
// say "more to come": a server that never ends one is not listed for ever.
const defaultMaxEmptyPages = 100

// errNoProgress ends a listing whose pages do not advance.
var errNoProgress = errors.New("the listing does not advance")

type pageResult struct {
	page oss.ListPage
	gen  uint64
	sent time.Time // when its request was sent: its names' TTL counts from then
	err  error
}

// dirStream is the listing behind one dirHandle, page by page: a fetch
// goroutine requests the pages in order, each as soon as the previous one
// has arrived, and hands them over through a channel that holds at most
// pagesAhead of them; the stream keeps only those and the page being
// handed out, never the whole listing. Every entry goes into the metadata
// cache, every page's newest mtime into the dirNode (saw), and a listing
// read to the end tells the dirNode (listed). It is no go-fuse DirStream:
// go-fuse asks for one (NodeReaddirer) only of nodes without
// OpendirHandle.
//
// A dirStream is used by one goroutine at a time (go-fuse serializes
// READDIR on a handle); only its fetch goroutine runs alongside, and
// they talk through the channel. Close cancels and waits for it.
type dirStream struct {
	d *dirNode

	ctx    context.Context // owns the fetches; not any caller's
	cancel context.CancelFunc
	wg     sync.WaitGroup

	start     time.Time
	started   bool
	list      *listing    // what the cache records of this listing; nil before the first page
	replay    listingView // a complete listing from the cache, handed out instead of listing (replaying true)
	replaying bool
	replayed  int             // slots of replay handed out
	pages     chan pageResult // from the running fetch goroutine, or nil
	token     string          // continuation token of the next page to hand out
	lastKey   string          // the greatest key of the pages handed out
	buf       []dirent        // ready entries, sorted by name
	pending   []oss.ObjectInfo
	done      bool   // no more pages
	pos       uint64 // entries handed out
	skipped   int64
}

// newStream starts a listing of d.
func (d *dirNode) newStream() *dirStream {
	s := &dirStream{d: d}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	return s
}

// startFetch starts the goroutine that fetches the pages from s.token on.
// It ends after the last page or after sending a failure.
func (s *dirStream) startFetch() {
	ch := make(chan pageResult, pagesAhead-1) // plus the one a blocked send holds
	in := oss.ListInput{Prefix: s.d.prefix, Delimiter: "/", ContinuationToken: s.token, MaxKeys: s.d.t.pageSize}
	p := progress{lastKey: s.lastKey, maxEmpty: s.d.t.maxEmptyPages}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		for {
			gen, sent := s.d.t.cache.begin(), s.d.t.cache.now()
			page, err := s.d.t.store.List(s.ctx, in)
			if err == nil {
				if why := p.check(in.ContinuationToken, page); why != "" {
					err = fmt.Errorf("fs: list %q after token %q: %w: %s", s.d.prefix, in.ContinuationToken, errNoProgress, why)
				}
			}
			select {
			case ch <- pageResult{page, gen, sent, err}:
			case <-s.ctx.Done():
				return
			}
			if err != nil || !page.IsTruncated || page.NextContinuationToken == "" {
				return
			}
			in.ContinuationToken = page.NextContinuationToken
		}
	}()
	s.pages = ch
}

// fill makes at least one entry ready unless the listing has ended. It
// waits for a page on ctx; an interrupted wait leaves the fetch running
// for the next call.
func (s *dirStream) fill(ctx context.Context) syscall.Errno {
	for len(s.buf) == 0 && !s.done {
		if !s.started {
			s.started, s.start = true, s.d.t.cache.now()
			s.replay, s.replaying = s.d.t.cache.completeListing(s.d.prefix)
		}
		if s.replaying {
			s.replayNext()
			continue
		}
		if s.pages == nil {
			s.startFetch()
		}
		var r pageResult
		select {
		case r = <-s.pages:
		case <-ctx.Done():
			return syscall.EINTR
		}
		if r.err != nil {
			// The fetcher has stopped; the next call retries the same page.
			s.pages = nil
			return s.d.t.fail("readdir", s.d.prefix, r.err)
		}
		last := !r.page.IsTruncated || r.page.NextContinuationToken == ""
		if r.page.IsTruncated && last {
			s.d.t.log.Warn("listing truncated without a continuation token; stopping", "prefix", s.d.prefix)
		}
		if s.list == nil {
			s.list = s.d.t.cache.newListing(s.d.prefix, s.start, r.gen)
		}
		s.lastKey = max(s.lastKey, pageLastKey(r.page))
		s.buf = s.merge(r.page, r.sent, last)
		s.sawPage()
		if last {
			s.pages = nil
			s.finish()
		} else {
			s.token = r.page.NextContinuationToken
		}
	}
	return 0
}

// replayNext hands out the next page of a listing the cache holds whole:
// within the metadata TTL a directory listed to the end is not listed
// again, even when the kernel has dropped its own readdir cache.
func (s *dirStream) replayNext() {
	s.buf = s.d.t.cache.replay(s.replay, s.d.prefix, s.replayed, listPageSize)
	s.sawPage()
	s.replayed = min(s.replayed+listPageSize, s.replay.slots.len())
	if s.replayed == s.replay.slots.len() {
		s.start = s.replay.l.start
		s.finish()
	}
}

func (s *dirStream) finish() {
	s.done = true
	if s.skipped > 0 {
		s.d.t.log.Warn("skipped keys that cannot be path components (empty, \".\", \"..\", NUL, or over 255 bytes)",
			"prefix", s.d.prefix, "count", s.skipped)
	}
	if s.list != nil {
		s.d.t.cache.complete(s.list, s.d.prefix)
	}
	s.d.listed(s.start)
}

// merge turns one page into sorted entries and caches them. Directories
// hide files of the same name. A file whose "name/" would sort after the
// end of a truncated page may still meet its directory on a later page;
// it waits in s.pending (at most one per prefix of the page's last key).
func (s *dirStream) merge(page oss.ListPage, sent time.Time, last bool) []dirent {
	lastKey := pageLastKey(page)
	dirs := make(map[string]bool, len(page.CommonPrefixes))
	out := make([]dirent, 0, len(page.Objects)+len(page.CommonPrefixes)+len(s.pending))
	// addDir adds the directory path: s.d.prefix + name, no trailing "/".
	addDir := func(path string) {
		name := path[len(s.d.prefix):]
		if !validName(name) {
			s.skip(1)
			return
		}
		if !dirs[name] {
			dirs[name] = true
			out = append(out, dirent{name: name, e: entry{kind: kindDir}})
		}
	}
	for _, p := range page.CommonPrefixes {
		rest, ok := strings.CutPrefix(p, s.d.prefix)
		if !ok {
			s.skip(1)
			continue
		}
		addDir(p[:len(s.d.prefix)+len(strings.TrimSuffix(rest, "/"))])
	}
	objs := append(s.pending, page.Objects...)
	s.pending = nil
	for _, o := range objs {
		rest, ok := strings.CutPrefix(o.Key, s.d.prefix)
		switch {
		case !ok:
			s.skip(1)
		case rest == "":
			// This directory's own marker object.
		case strings.HasSuffix(rest, "/") && !strings.Contains(rest[:len(rest)-1], "/"):
			addDir(o.Key[:len(o.Key)-1]) // a marker the store did not roll up
		case !validName(rest):
			s.skip(1)
		case dirs[rest]:
			s.shadow(o.Key)
		case !last && o.Key+"/" > lastKey:
			s.pending = append(s.pending, o)
		default:
			k := kindFile
			if o.ObjectType == oss.ObjectTypeSymlink {
				k = kindSymlink
			}
			out = append(out, dirent{name: rest, e: entry{kind: k, info: metaOf(o)}})
		}
	}
	slices.SortFunc(out, func(a, b dirent) int { return strings.Compare(a.name, b.name) })
	// The cache may hold a newer answer; a name a later lookup found
	// missing is left out rather than shown with no metadata.
	return s.d.t.cache.addPage(s.list, s.d.prefix, out, sent)
}

// sawPage reports the newest mtime among the entries ready in s.buf (a
// page) to the directory.
func (s *dirStream) sawPage() {
	var newest time.Time
	for _, de := range s.buf {
		if de.e.info.LastModified.After(newest) {
			newest = de.e.info.LastModified
		}
	}
	if !newest.IsZero() {
		s.d.saw(newest)
	}
}

// pageLastKey is the greatest key or prefix of a page.
func pageLastKey(page oss.ListPage) string {
	var last string
	for _, p := range page.CommonPrefixes {
		last = max(last, p)
	}
	for _, o := range page.Objects {
		last = max(last, o.Key)
	}
	return last
}

// progress checks that the pages of one listing advance: a server that
// repeats its continuation token, sends a page whose keys do not all come
// after the previous pages', or sends empty pages for ever would make a
// readdir loop without end.
type progress struct {
	lastKey  string // the greatest key so far
	empty    int    // consecutive empty pages that said "more to come"
	maxEmpty int
}

// check returns why page (the answer to token) does not advance, or "".
func (p *progress) check(token string, page oss.ListPage) string {
	if page.IsTruncated && token != "" && page.NextContinuationToken == token {
		return "the server repeated the continuation token"
	}
	first := ""
	for _, pr := range page.CommonPrefixes {
		if first == "" || pr < first {
			first = pr
		}
	}
	for _, o := range page.Objects {
		if first == "" || o.Key < first {
			first = o.Key
		}
	}
	if first == "" {
		if p.empty++; page.IsTruncated && p.empty > p.maxEmpty {
			return fmt.Sprintf("%d empty pages in a row", p.empty)
		}
		return ""
	}
	if p.lastKey != "" && first <= p.lastKey {
		return fmt.Sprintf("the page starts at %q, not after %q", first, p.lastKey)
	}
	p.empty = 0
	p.lastKey = max(p.lastKey, pageLastKey(page))
	return ""
}

func (s *dirStream) skip(n int64) {
	s.skipped += n
	s.d.t.skipped.Add(n)
}

func (s *dirStream) shadow(key string) {
	if s.d.t.shadowLog.first(key) {
		s.d.t.log.Warn("file hidden by a directory of the same name", "key", key)
	}
}

// next hands out the next entry; fill must have made one ready.
func (s *dirStream) next() dirent {
	d := s.buf[0]
	s.buf = s.buf[1:]
	s.pos++
	return d
}

func direntOut(prefix string, d dirent, off uint64) fuse.DirEntry {
	mode, suffix := uint32(syscall.S_IFREG), ""
	switch d.e.kind {
	case kindDir:
		mode, suffix = syscall.S_IFDIR, "/"
	case kindSymlink:
		mode = syscall.S_IFLNK
	}
	return fuse.DirEntry{Name: d.name, Mode: mode, Ino: inodeNumber(prefix, d.name, suffix), Off: off}
}

// Close stops and waits for fetches.
func (s *dirStream) Close() {
	s.cancel()
	s.wg.Wait()
}
