package keyindex

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/ossmount/ossmount/oss"
)

// Limits of one entry; OSS keys are at most 1023 bytes and ETags about 40.
const (
	maxKeyLen  = math.MaxUint16
	maxETagLen = math.MaxUint8
	chunkSize  = 1 << 20 // arena chunk; an entry never straddles two
	maxChunks  = math.MaxUint32 / chunkSize
	noTime     = math.MinInt64 // mtime of an object whose LastModified is unknown
)

// entry is one object. Its key and ETag bytes live in the arena at pos: the
// key, then the ETag (16 raw bytes when packedETag is set). 24 bytes.
type entry struct {
	size    int64
	mtime   int64  // Unix nanoseconds, or noTime
	pos     uint32 // chunk<<20 | offset in the chunk
	keyLen  uint16
	etagLen uint8
	flags   uint8
}

// flags of an entry.
const (
	// packedETag: the ETag is `"` + 32 upper-case hex digits + `"` (an MD5,
	// what OSS sends for simple uploads), stored as its 16 bytes.
	packedETag uint8 = 1 << iota
	// symlink: the object is an OSS symbolic link (ObjectType Symlink).
	symlink
)

// Index is an immutable, sorted set of objects under one root prefix (their
// key, size, ETag, last-modified and whether each is a symbolic link): keys
// packed into one arena of 1 MiB chunks plus a 24-byte entry per key, with
// no per-key allocation. Safe for concurrent use.
type Index struct {
	root    string // every key starts with it
	chunks  [][]byte
	entries []entry // sorted by key, no duplicates
}

// Root is the prefix every key of the index starts with.
func (x *Index) Root() string { return x.root }

// Len is the number of objects.
func (x *Index) Len() int { return len(x.entries) }

// Bytes is the memory the index holds: entries plus arena chunks.
func (x *Index) Bytes() int64 {
	n := int64(cap(x.entries)) * 24
	for _, c := range x.chunks {
		n += int64(cap(c))
	}
	return n
}

// key returns the i-th key as bytes of the arena (not a copy).
func (x *Index) key(i int) []byte {
	e := &x.entries[i]
	c := x.chunks[e.pos/chunkSize]
	off := e.pos % chunkSize
	return c[off : off+uint32(e.keyLen)]
}

// Key returns the i-th key.
func (x *Index) Key(i int) string { return string(x.key(i)) }

// Object returns what the index knows of the i-th object.
func (x *Index) Object(i int) oss.ObjectInfo {
	e := &x.entries[i]
	c := x.chunks[e.pos/chunkSize]
	off := e.pos % chunkSize
	key := c[off : off+uint32(e.keyLen)]
	etag := c[off+uint32(e.keyLen) : off+uint32(e.keyLen)+uint32(e.etagLen)]
	info := oss.ObjectInfo{Key: string(key), Size: e.size}
	if e.flags&packedETag != 0 {
		info.ETag = unpackETag(etag)
	} else {
		info.ETag = string(etag)
	}
	if e.mtime != noTime {
		info.LastModified = time.Unix(0, e.mtime).UTC()
	}
	if e.flags&symlink != 0 {
		info.ObjectType = oss.ObjectTypeSymlink
	}
	return info
}

// search returns the index of the first key >= k.
func (x *Index) search(k string) int {
	return sort.Search(len(x.entries), func(i int) bool { return string(x.key(i)) >= k })
}

// find returns the position of key and whether it is there.
func (x *Index) find(key string) (int, bool) {
	i := x.search(key)
	return i, i < len(x.entries) && string(x.key(i)) == key
}

// builder collects objects in any order and sorts them once at the end.
// Not safe for concurrent use.
type builder struct {
	root   string
	chunks [][]byte
	ents   []entry
	runs   []int // where each sorted run of ents starts (see startRun)
}

// startRun says that the objects added next, up to the next startRun,
// are in key order and that no other run's keys fall between them (a
// page of a span, or one object): finish then orders runs, not keys.
func (b *builder) startRun() { b.runs = append(b.runs, len(b.ents)) }

func newBuilder(root string) *builder { return &builder{root: root} }

// add appends one object. Keys must start with the root; order and
// duplicates are checked by finish.
func (b *builder) add(o oss.ObjectInfo) error {
	if !strings.HasPrefix(o.Key, b.root) {
		return fmt.Errorf("key %q is outside the prefix %q", o.Key, b.root)
	}
	if len(o.Key) == 0 || len(o.Key) > maxKeyLen {
		return fmt.Errorf("key of %d bytes (want 1..%d)", len(o.Key), maxKeyLen)
	}
	if o.Size < 0 {
		return fmt.Errorf("key %q: negative size %d", o.Key, o.Size)
	}
	e := entry{size: o.Size, mtime: noTime, keyLen: uint16(len(o.Key))}
	if !o.LastModified.IsZero() {
		e.mtime = o.LastModified.UnixNano()
	}
	etag := []byte(o.ETag)
	if packed, ok := packETag(o.ETag); ok {
		etag, e.flags = packed, packedETag
	} else if len(etag) > maxETagLen {
		return fmt.Errorf("key %q: ETag of %d bytes (at most %d)", o.Key, len(etag), maxETagLen)
	}
	e.etagLen = uint8(len(etag))
	if o.ObjectType == oss.ObjectTypeSymlink {
		e.flags |= symlink
	}
	need := len(o.Key) + len(etag)
	last := len(b.chunks) - 1
	if last < 0 || len(b.chunks[last])+need > chunkSize {
		if len(b.chunks) >= maxChunks {
			return fmt.Errorf("more than %d GiB of keys", maxChunks*chunkSize>>30)
		}
		b.chunks = append(b.chunks, make([]byte, 0, chunkSize))
		last++
	}
	c := b.chunks[last]
	e.pos = uint32(last)*chunkSize + uint32(len(c))
	c = append(c, o.Key...)
	b.chunks[last] = append(c, etag...)
	b.ents = append(b.ents, e)
	return nil
}

// finish sorts the objects and returns the index; a key seen twice is an
// error. The builder must not be used afterwards.
func (b *builder) finish() (*Index, error) {
	x := &Index{root: b.root, chunks: b.chunks, entries: slices.Clip(b.ents)}
	x.entries = x.orderRuns(b.runs)
	if !x.sorted() { // runs that overlap after all, or no runs
		sort.Sort(byKey{x})
	}
	for i := 1; i < len(x.entries); i++ {
		if bytes.Equal(x.key(i-1), x.key(i)) {
			return nil, fmt.Errorf("key %q listed twice", x.key(i))
		}
	}
	// Trim the last chunk's unused capacity.
	if n := len(x.chunks); n > 0 {
		if c := x.chunks[n-1]; cap(c) > len(c) {
			x.chunks[n-1] = append([]byte(nil), c...)
		}
	}
	return x, nil
}

// orderRuns returns the entries with the runs that start at runs (in
// x.entries) ordered by their first key: sorted if runs hold disjoint key
// ranges, each in order. Without runs the entries are returned as they are.
func (x *Index) orderRuns(runs []int) []entry {
	if len(runs) < 2 || runs[0] != 0 {
		return x.entries
	}
	type run struct{ start, end int }
	rs := make([]run, 0, len(runs))
	for i, start := range runs {
		end := len(x.entries)
		if i+1 < len(runs) {
			end = runs[i+1]
		}
		if end > start {
			rs = append(rs, run{start, end})
		}
	}
	slices.SortFunc(rs, func(a, b run) int { return bytes.Compare(x.key(a.start), x.key(b.start)) })
	out := make([]entry, 0, len(x.entries))
	for _, r := range rs {
		out = append(out, x.entries[r.start:r.end]...)
	}
	return out
}

func (x *Index) sorted() bool {
	for i := 1; i < len(x.entries); i++ {
		if bytes.Compare(x.key(i-1), x.key(i)) > 0 {
			return false
		}
	}
	return true
}

type byKey struct{ x *Index }

func (s byKey) Len() int           { return len(s.x.entries) }
func (s byKey) Less(i, j int) bool { return bytes.Compare(s.x.key(i), s.x.key(j)) < 0 }
func (s byKey) Swap(i, j int)      { s.x.entries[i], s.x.entries[j] = s.x.entries[j], s.x.entries[i] }

// unpackETag is the inverse of packETag.
func unpackETag(b []byte) string {
	const upper = "0123456789ABCDEF"
	var s [34]byte
	s[0], s[33] = '"', '"'
	for i, c := range b[:16] {
		s[1+2*i], s[2+2*i] = upper[c>>4], upper[c&15]
	}
	return string(s[:])
}

// packETag returns the 16 bytes of an ETag `"<32 upper-case hex>"`.
func packETag(etag string) ([]byte, bool) {
	if len(etag) != 34 || etag[0] != '"' || etag[33] != '"' {
		return nil, false
	}
	for i := 1; i < 33; i++ {
		if c := etag[i]; !(c >= '0' && c <= '9' || c >= 'A' && c <= 'F') {
			return nil, false
		}
	}
	b, err := hex.DecodeString(etag[1:33])
	return b, err == nil
}
