package fs

import (
	"sync"
	"sync/atomic"
	"time"

	lru "github.com/hashicorp/golang-lru/v2"

	"github.com/ossmount/ossmount/oss"
)

// kind says what a path is.
type kind uint8

const (
	kindMissing kind = iota // no object and no prefix: a negative entry
	kindFile
	kindDir
)

// entry is what the metadata cache knows about one path (a key relative to
// the bucket, without a trailing "/"; a directory's prefix is path+"/").
// The cache holds one per name a listing showed, so it keeps only what
// nodes use; the key is the cache's own key, not stored again.
type entry struct {
	info    objectMeta // kindFile only
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

// object is the ObjectInfo of the object key with this metadata.
func (m objectMeta) object(key string) oss.ObjectInfo {
	return oss.ObjectInfo{Key: key, Size: m.Size, ETag: m.ETag, LastModified: m.LastModified}
}

// metaCache is the one metadata cache: count-bounded LRU with a TTL for
// positive entries and a shorter one for negative entries. Generations
// order answers: an answer to a request started before the one that
// produced the stored entry never replaces it.
type metaCache struct {
	now            func() time.Time
	posTTL, negTTL time.Duration
	gen            atomic.Uint64

	mu  sync.Mutex // makes compare-and-store in put atomic; lru has its own lock
	lru *lru.Cache[string, entry]

	size                    int // capacity in entries
	hits, misses, evictions atomic.Int64
}

func newMetaCache(size int, posTTL, negTTL time.Duration, now func() time.Time) (*metaCache, error) {
	l, err := lru.New[string, entry](size)
	if err != nil {
		return nil, err
	}
	return &metaCache{now: now, posTTL: posTTL, negTTL: negTTL, lru: l, size: size}, nil
}

// begin returns the generation to stamp on the answer of a request that is
// about to be sent.
func (c *metaCache) begin() uint64 { return c.gen.Add(1) }

// get returns the fresh entry for path, if any.
func (c *metaCache) get(path string) (entry, bool) {
	e, ok := c.lru.Get(path)
	if !ok || !c.now().Before(e.expires) {
		c.misses.Add(1)
		return entry{}, false
	}
	c.hits.Add(1)
	return e, true
}

// put stores an answer obtained by a request started at generation gen,
// unless a fresh entry from a later request is already there. It returns
// the stored entry (with its expiry).
func (c *metaCache) put(path string, k kind, info oss.ObjectInfo, gen uint64) entry {
	now := c.now()
	ttl := c.posTTL
	if k == kindMissing {
		ttl = c.negTTL
	}
	e := entry{kind: k, info: metaOf(info), expires: now.Add(ttl), gen: gen}
	c.mu.Lock()
	defer c.mu.Unlock()
	if old, ok := c.lru.Peek(path); ok && old.gen > gen && now.Before(old.expires) {
		return old
	}
	if c.lru.Add(path, e) {
		c.evictions.Add(1)
	}
	return e
}

// forget drops the entry of path if it is still the file with etag: a
// read found that object replaced or gone, so the next lookup asks the
// store. A newer entry (another ETag, a directory) is kept.
func (c *metaCache) forget(path, etag string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.lru.Peek(path); ok && e.kind == kindFile && e.info.ETag == etag {
		c.lru.Remove(path)
	}
}

// ttlLeft is the time until e expires, never negative.
func (c *metaCache) ttlLeft(e entry) time.Duration {
	if d := e.expires.Sub(c.now()); d > 0 {
		return d
	}
	return 0
}
