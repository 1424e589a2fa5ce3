package fs

import (
	"log/slog"
	"math"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/golang-lru/v2/simplelru"

	"github.com/ossmount/ossmount/oss"
)

// TTLIndefinite, as MetadataTTL or NegativeTTL, trusts what OSS said until
// unmount: no request re-validates it, and the kernel is told to keep it
// for ever. ETag pinning still guards every read.
const TTLIndefinite = time.Duration(math.MaxInt64)

// neverExpires is the expiry of what TTLIndefinite keeps: later than any
// clock reading, and far enough that the time left saturates.
var neverExpires = time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)

// expiry is when something learnt at now stops being trusted.
func expiry(now time.Time, ttl time.Duration) time.Time {
	if ttl == TTLIndefinite {
		return neverExpires
	}
	return now.Add(ttl)
}

// kind says what a path is.
type kind uint8

const (
	kindMissing kind = iota // no object and no prefix: a negative entry
	kindFile
	kindDir
	kindSymlink // an OSS symbolic link (symlink.go); info is the link's
)

// entry is what the metadata cache knows about one path (a key relative to
// the bucket, without a trailing "/"; a directory's prefix is path+"/").
type entry struct {
	info    objectMeta // kindFile and kindSymlink only
	expires time.Time
	gen     uint64 // generation at which the answering request was started
	kind    kind
}

// objectMeta is the part of an oss.ObjectInfo that nodes use: not a HEAD's
// metadata map, nor the listing's class and type strings.
type objectMeta struct {
	Size         int64
	ETag         string
	LastModified time.Time
}

func metaOf(info oss.ObjectInfo) objectMeta {
	return objectMeta{Size: info.Size, ETag: info.ETag, LastModified: info.LastModified}
}

// singleCost is what the cache counts for a name resolved on its own: the
// map slot, the entry and the strings.
func singleCost(name string, e entry) int64 { return 96 + int64(len(name)+len(e.info.ETag)) }

// metaCache is the one metadata cache, bounded by memory. It is organised
// by directory: each directory holds its newest listing (compact, sorted;
// listing.go) and the names resolved one by one. Directories are evicted
// whole, least recently used first, never a listed name on its own: a
// name a listing showed stays answerable for the TTL whatever the size of
// its directory. Only a directory that alone is larger than the whole
// cache is not kept (logged).
//
// Generations order answers: an answer to a request started before the
// one that produced what is stored never replaces it. MetadataTTL 0 and
// NegativeTTL 0 store nothing of their kind.
type metaCache struct {
	now            func() time.Time
	posTTL, negTTL time.Duration
	limit          int64 // bytes
	log            *slog.Logger
	gen            atomic.Uint64

	mu    sync.Mutex // guards the fields below and every dirMeta and listing
	dirs  *simplelru.LRU[string, *dirMeta]
	bytes int64
	// tooBig remembers directories already logged as larger than the
	// cache; tooBigNew holds the ones to log once the lock is released.
	tooBig    map[string]bool
	tooBigNew []string

	hits, misses atomic.Int64 // lookups answered / not answered (metrics.go)
	evicted      atomic.Int64 // names dropped with their directory to fit the limit
}

// dirMeta is what the cache knows about the names of one directory.
type dirMeta struct {
	single      map[string]entry // by name: answers of lookups
	list        *listing         // the newest listing installed; nil if none
	singleBytes int64
}

// names is how many names d holds.
func (d *dirMeta) names() int {
	n := len(d.single)
	if d.list != nil {
		n += d.list.slots.len()
	}
	return n
}

func (d *dirMeta) cost() int64 {
	n := d.singleBytes
	if d.list != nil {
		n += d.list.bytes
	}
	return n
}

func newMetaCache(limit int64, posTTL, negTTL time.Duration, now func() time.Time, log *slog.Logger) *metaCache {
	dirs, _ := simplelru.NewLRU[string, *dirMeta](math.MaxInt32, nil) // bounded by bytes, not count
	return &metaCache{now: now, posTTL: posTTL, negTTL: negTTL, limit: limit, log: log, dirs: dirs,
		tooBig: make(map[string]bool)}
}

// unlock releases mu and then logs what happened under it.
func (c *metaCache) unlock() {
	logs := c.tooBigNew
	c.tooBigNew = nil
	c.mu.Unlock()
	for _, prefix := range logs {
		c.log.Warn("a directory's listing is larger than the whole metadata cache, so it is not kept: its names are looked up one by one (raise --metadata-cache-memory)",
			"prefix", prefix, "cache_bytes", c.limit)
	}
}

// begin returns the generation to stamp on the answer of a request that is
// about to be sent.
func (c *metaCache) begin() uint64 { return c.gen.Add(1) }

// splitPath splits a path into its directory's prefix and its name.
func splitPath(path string) (prefix, name string) {
	i := strings.LastIndexByte(path, '/')
	return path[:i+1], path[i+1:]
}

// get returns the fresh entry for path, if any.
func (c *metaCache) get(path string) (entry, bool) {
	prefix, name := splitPath(path)
	now := c.now()
	c.mu.Lock()
	defer c.mu.Unlock()
	d, ok := c.dirs.Get(prefix)
	if !ok {
		c.misses.Add(1)
		return entry{}, false
	}
	e, ok := d.fresh(name, now)
	if ok {
		c.hits.Add(1)
	} else {
		c.misses.Add(1)
	}
	return e, ok
}

// fresh is the newest fresh answer d holds for name.
func (d *dirMeta) fresh(name string, now time.Time) (entry, bool) {
	s, sok := d.single[name]
	sok = sok && now.Before(s.expires)
	l, lok := d.list.lookup(name, now)
	switch {
	case sok && lok && l.gen > s.gen:
		return l, true
	case sok:
		return s, true
	}
	return l, lok
}

// put stores an answer obtained by a request started at generation gen,
// unless a fresh answer from a later request is already there. It returns
// the entry that now stands (with its expiry).
func (c *metaCache) put(path string, k kind, info objectMeta, gen uint64) entry {
	now := c.now()
	ttl := c.posTTL
	if k == kindMissing {
		ttl = c.negTTL
	}
	e := entry{kind: k, info: info, expires: expiry(now, ttl), gen: gen}
	prefix, name := splitPath(path)
	c.mu.Lock()
	defer c.unlock()
	d, ok := c.dirs.Get(prefix)
	if ok {
		if cur, fresh := d.fresh(name, now); fresh && cur.gen > gen {
			return cur
		}
	}
	if ttl == 0 {
		if ok {
			c.dropSingleLocked(d, name)
		}
		return e
	}
	if !ok {
		d = c.addDirLocked(prefix)
	}
	c.dropSingleLocked(d, name)
	if d.single == nil {
		d.single = make(map[string]entry)
	}
	d.single[name] = e
	d.singleBytes += singleCost(name, e)
	c.bytes += singleCost(name, e)
	c.evictLocked(d)
	return e
}

// forget drops what the cache believes about path if it is still the
// file with etag: a read found that object replaced or gone, so the next
// lookup asks the store. A newer answer (another ETag, a directory) is
// kept.
func (c *metaCache) forget(path, etag string) {
	prefix, name := splitPath(path)
	c.mu.Lock()
	defer c.mu.Unlock()
	d, ok := c.dirs.Peek(prefix)
	if !ok {
		return
	}
	if e, ok := d.single[name]; ok && e.kind == kindFile && e.info.ETag == etag {
		c.dropSingleLocked(d, name)
	}
	if l := d.list; l != nil {
		if i, ok := l.find(name); ok && l.slots.at(i).kind == kindFile && l.slots.at(i).etag(l.rawETags) == etag {
			l.slots.at(i).flags |= slotForgotten
		}
	}
}

func (c *metaCache) dropSingleLocked(d *dirMeta, name string) {
	if old, ok := d.single[name]; ok {
		delete(d.single, name)
		d.singleBytes -= singleCost(name, old)
		c.bytes -= singleCost(name, old)
	}
}

func (c *metaCache) addDirLocked(prefix string) *dirMeta {
	d := &dirMeta{}
	c.dirs.Add(prefix, d)
	return d
}

// evictLocked removes whole directories, least recently used first, until
// the cache fits its limit. keep (the directory being added to, the most
// recently used) goes last: if it alone is over the limit, its listing is
// no longer kept, then its single names.
func (c *metaCache) evictLocked(keep *dirMeta) {
	for c.bytes > c.limit {
		prefix, d, ok := c.dirs.GetOldest()
		if !ok {
			return
		}
		if d != keep {
			c.removeDirLocked(prefix, d)
			continue
		}
		if c.dirs.Len() > 1 {
			// keep is the oldest only when it was not touched: move it up.
			c.dirs.Get(prefix)
			continue
		}
		if l := d.list; l != nil {
			if !c.tooBig[prefix] && len(c.tooBig) < maxShadowLogged {
				c.tooBig[prefix] = true
				c.tooBigNew = append(c.tooBigNew, prefix)
			}
			c.dropListingLocked(d)
			continue
		}
		c.bytes -= d.singleBytes
		d.single, d.singleBytes = nil, 0
		return
	}
}

func (c *metaCache) removeDirLocked(prefix string, d *dirMeta) {
	c.evicted.Add(int64(d.names()))
	c.bytes -= d.cost()
	if d.list != nil {
		d.list.dir = nil
	}
	c.dirs.Remove(prefix)
}

// dropListingLocked stops keeping d's listing (and stops recording it).
func (c *metaCache) dropListingLocked(d *dirMeta) {
	l := d.list
	c.bytes -= l.bytes
	l.dir, l.dropped, l.slots, l.rawETags, l.bytes = nil, true, slotList{}, nil, 0
	d.list = nil
}

// newListing starts recording a listing of prefix whose first page was
// requested at start with generation gen. It answers lookups at once,
// unless the directory has a fresh complete listing: then it replaces
// that one only when complete. With MetadataTTL 0 nothing is recorded.
func (c *metaCache) newListing(prefix string, start time.Time, gen uint64) *listing {
	l := &listing{start: start, expires: expiry(start, c.posTTL), absentTo: expiry(start, c.negTTL), gen: gen}
	if c.posTTL == 0 {
		l.dropped = true
		return l
	}
	c.mu.Lock()
	defer c.unlock()
	d, ok := c.dirs.Get(prefix)
	if !ok {
		d = c.addDirLocked(prefix)
	}
	if cur := d.list; cur != nil && cur.complete && !cur.dropped && c.now().Before(cur.expires) {
		return l // installed by complete
	}
	c.installLocked(d, l)
	return l
}

func (c *metaCache) installLocked(d *dirMeta, l *listing) {
	if old := d.list; old != nil {
		c.bytes -= old.bytes
		old.dir = nil
	}
	d.list, l.dir = l, d
	c.bytes += l.bytes
	c.evictLocked(d)
}

// addPage records one page of l (entries sorted by name, their e filled
// from the page), whose request was sent at sent, and returns the entries
// to show: each with the newest answer the cache holds, without names a
// later lookup found missing.
func (c *metaCache) addPage(l *listing, prefix string, page []dirent, sent time.Time) []dirent {
	now := c.now()
	expires := expiry(sent, c.posTTL)
	c.mu.Lock()
	defer c.unlock()
	added := l.add(page, expires)
	d := l.dir
	if d != nil {
		c.bytes += added
		c.dirs.Get(prefix) // used
		c.evictLocked(d)
	}
	if d == nil {
		d, _ = c.dirs.Peek(prefix)
	}
	for i := range page {
		page[i].e.expires, page[i].e.gen = expires, l.gen
	}
	if d == nil || len(d.single) == 0 {
		return page
	}
	kept := page[:0]
	for _, p := range page {
		if s, ok := d.single[p.name]; ok && now.Before(s.expires) && s.gen > l.gen {
			p.e = s
		}
		if p.e.kind != kindMissing {
			kept = append(kept, p)
		}
	}
	return kept
}

// complete marks l as read to the end and installs it if it was waiting.
func (c *metaCache) complete(l *listing, prefix string) {
	if l.dropped {
		return
	}
	c.mu.Lock()
	defer c.unlock()
	l.complete = true
	if l.dir != nil {
		return
	}
	d, ok := c.dirs.Get(prefix)
	if !ok {
		d = c.addDirLocked(prefix)
	}
	if cur := d.list; cur != nil && cur.gen > l.gen {
		return // a newer listing is already there
	}
	c.installLocked(d, l)
}

// completeListing returns the fresh, complete listing of prefix, if the
// cache holds one, for a readdir to replay without a request.
func (c *metaCache) completeListing(prefix string) (listingView, bool) {
	now := c.now()
	c.mu.Lock()
	defer c.mu.Unlock()
	d, ok := c.dirs.Get(prefix)
	if !ok || d.list == nil {
		return listingView{}, false
	}
	l := d.list
	if !l.complete || l.dropped || !now.Before(l.expires) {
		return listingView{}, false
	}
	return listingView{l: l, slots: l.slots, raw: l.rawETags}, true
}

// replay returns up to n entries of v from index from, each with the
// newest answer the cache holds (names a later lookup found missing are
// left out; names whose object changed are marked for a new lookup).
func (c *metaCache) replay(v listingView, prefix string, from, n int) []dirent {
	now := c.now()
	c.mu.Lock()
	defer c.mu.Unlock()
	d, _ := c.dirs.Peek(prefix)
	end := min(from+n, v.slots.len())
	out := make([]dirent, 0, end-from)
	for i := from; i < end; i++ {
		s := v.slots.at(i)
		de := dirent{name: s.name, recheck: s.flags&slotForgotten != 0,
			e: entry{kind: s.kind, info: s.meta(v.raw), expires: v.slots.expiry(i), gen: v.l.gen}}
		if d != nil {
			if one, ok := d.single[s.name]; ok && now.Before(one.expires) && one.gen > v.l.gen {
				de.e, de.recheck = one, false
			}
		}
		if de.e.kind != kindMissing {
			out = append(out, de)
		}
	}
	return out
}

// ttlLeft is the time until e expires, never negative.
func (c *metaCache) ttlLeft(e entry) time.Duration {
	if d := e.expires.Sub(c.now()); d > 0 {
		return d
	}
	return 0
}

// entries is how many names the cache holds (metrics).
func (c *metaCache) entries() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for _, d := range c.dirs.Values() {
		n += d.names()
	}
	return n
}

// usage reports the bytes the cache counts and its directories (tests,
// benchmarks).
func (c *metaCache) usage() (bytes int64, dirs int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.bytes, c.dirs.Len()
}
