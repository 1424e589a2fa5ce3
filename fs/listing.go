package fs

import (
	"encoding/hex"
	"sort"
	"strconv"
	"strings"
	"time"
	"unsafe"
)

// listing is what one listing of a directory said, in compact form: one
// 56-byte slot per name in chunks, sorted by name, names packed per page
// into one string. It answers lookups of the names it holds while fresh and, once
// complete, says that a name it does not hold is missing. The metadata
// cache owns it (cache.go); every method runs under metaCache.mu.
type listing struct {
	dir      *dirMeta  // the directory it belongs to, nil once evicted or replaced
	start    time.Time // when its first page was requested
	expires  time.Time // start + MetadataTTL
	absentTo time.Time // start + NegativeTTL: names it lacks are missing until then (complete only)
	gen      uint64    // generation of its first page: later answers win over it
	complete bool      // every page was read
	dropped  bool      // larger than the whole cache: no longer recorded

	slots    slotList
	rawETags map[string]string // by name: ETags that do not fit slot.sum
	bytes    int64             // what it costs, as the cache counts it
}

// slot is one listed name. The ETag of almost every object is the quoted
// hex MD5 of its content (or of its parts, with "-N"), kept as 16 bytes.
type slot struct {
	name  string   // shares the page's packed string
	size  int64    // bytes
	mtime int64    // Unix nanoseconds; 0: unknown
	sum   [16]byte // the ETag's MD5 when form is etagUpperMD5 or etagLowerMD5
	parts uint32   // the N of a multipart ETag "<md5>-N"; 0: none
	kind  kind
	flags slotFlags
}

// slotSize is what one slot costs in the slice.
const slotSize = int64(unsafe.Sizeof(slot{}))

// chunkSlots is the size of every chunk of a slotList but the first.
const chunkSlots = 4096

// slotList is a sequence of slots in fixed-size chunks: a million names
// grow it without ever copying it (a doubling slice would hold the old
// and the new array at once, 2.25 times the slots at the peak), and
// without the up to 25% spare capacity of a grown slice. The first chunk
// grows as a slice, so a small directory costs no more than its names.
type slotList struct {
	chunks  [][]slot
	expires []time.Time // per chunk: when its earliest page stops being trusted
	n       int
}

func (sl *slotList) len() int { return sl.n }

func (sl *slotList) at(i int) *slot { return &sl.chunks[i/chunkSlots][i%chunkSlots] }

// bytes is what the chunks hold, used or not.
func (sl *slotList) bytes() int64 {
	var n int64
	for _, c := range sl.chunks {
		n += int64(cap(c))
	}
	return n * slotSize
}

// expiry is when the slot at i stops being trusted: each name counts
// its TTL from its own page, so the last names of a long listing get as
// long as the first.
func (sl *slotList) expiry(i int) time.Time { return sl.expires[i/chunkSlots] }

// append adds s, from a page trusted until expires.
func (sl *slotList) append(s slot, expires time.Time) {
	if sl.n%chunkSlots == 0 && sl.n > 0 || len(sl.chunks) == 0 {
		c := []slot(nil)
		if sl.n > 0 {
			c = make([]slot, 0, chunkSlots)
		}
		sl.chunks = append(sl.chunks, c)
		sl.expires = append(sl.expires, expires)
	}
	last := &sl.chunks[len(sl.chunks)-1]
	*last = append(*last, s)
	sl.n++
}

// search is the index of the first slot whose name is not below name.
func (sl *slotList) search(from, to int, name string) int {
	return from + sort.Search(to-from, func(i int) bool { return sl.at(from+i).name >= name })
}

// sortFrom sorts the slots from index from on by name.
func (sl *slotList) sortFrom(from int) { sort.Stable(slotRange{sl, from}) }

type slotRange struct {
	sl   *slotList
	from int
}

func (r slotRange) Len() int           { return r.sl.n - r.from }
func (r slotRange) Less(i, j int) bool { return r.sl.at(r.from+i).name < r.sl.at(r.from+j).name }
func (r slotRange) Swap(i, j int) {
	a, b := r.sl.at(r.from+i), r.sl.at(r.from+j)
	*a, *b = *b, *a
}

type slotFlags uint8

const (
	etagEmpty    slotFlags = iota // no ETag
	etagUpperMD5                  // `"` + 32 upper-case hex digits + optional "-N" + `"`
	etagLowerMD5                  // the same in lower case
	etagRaw                       // anything else: in listing.rawETags
	etagFormMask slotFlags = 3
	// slotForgotten: the name must be asked again (its object changed).
	slotForgotten slotFlags = 4
)

// packETag splits an ETag into the compact form, or says it does not fit.
func packETag(etag string) (sum [16]byte, parts uint32, form slotFlags) {
	if etag == "" {
		return sum, 0, etagEmpty
	}
	inner, quoted := strings.CutPrefix(etag, `"`)
	inner, closed := strings.CutSuffix(inner, `"`)
	if !quoted || !closed || len(inner) < 32 {
		return sum, 0, etagRaw
	}
	digits, rest := inner[:32], inner[32:]
	switch {
	case digits == strings.ToUpper(digits):
		form = etagUpperMD5
	case digits == strings.ToLower(digits):
		form = etagLowerMD5
	default:
		return sum, 0, etagRaw
	}
	if _, err := hex.Decode(sum[:], []byte(digits)); err != nil {
		return sum, 0, etagRaw
	}
	if rest != "" {
		n, err := strconv.ParseUint(strings.TrimPrefix(rest, "-"), 10, 32)
		if err != nil || n == 0 || rest != "-"+strconv.FormatUint(n, 10) {
			return sum, 0, etagRaw
		}
		parts = uint32(n)
	}
	return sum, parts, form
}

// etag rebuilds the ETag of s exactly as the listing gave it; raw is
// the listing's rawETags.
func (s *slot) etag(raw map[string]string) string {
	switch s.flags & etagFormMask {
	case etagEmpty:
		return ""
	case etagRaw:
		return raw[s.name]
	}
	digits := hex.EncodeToString(s.sum[:])
	if s.flags&etagFormMask == etagUpperMD5 {
		digits = strings.ToUpper(digits)
	}
	if s.parts > 0 {
		digits += "-" + strconv.FormatUint(uint64(s.parts), 10)
	}
	return `"` + digits + `"`
}

// unixNano is t as slot.mtime: 0 for the zero time and for times a
// nanosecond count cannot hold (they show the mount time instead).
func unixNano(t time.Time) int64 {
	if t.IsZero() || t.Year() < 1678 || t.Year() > 2261 {
		return 0
	}
	return t.UnixNano()
}

func (s *slot) meta(raw map[string]string) objectMeta {
	m := objectMeta{Size: s.size, ETag: s.etag(raw)}
	if s.mtime != 0 {
		m.LastModified = time.Unix(0, s.mtime).UTC()
	}
	return m
}

// add appends one page's entries (sorted by name), trusted until
// expires, and returns what it added to l.bytes. Names are copied into
// one string for the page, so that the decoded response can be freed.
func (l *listing) add(page []dirent, expires time.Time) int64 {
	if l.dropped || len(page) == 0 {
		return 0
	}
	total := 0
	for _, d := range page {
		total += len(d.name)
	}
	var b strings.Builder
	b.Grow(total)
	for _, d := range page {
		b.WriteString(d.name)
	}
	packed := b.String()
	before := l.slots.bytes()
	first := l.slots.len()
	for i, d := range page {
		name := packed[:len(d.name)]
		packed = packed[len(d.name):]
		page[i].name = name // what the kernel's node keeps, too
		s := slot{name: name, kind: d.e.kind}
		if d.e.kind != kindDir { // files and links
			s.size, s.mtime = d.e.info.Size, unixNano(d.e.info.LastModified)
			var form slotFlags
			s.sum, s.parts, form = packETag(d.e.info.ETag)
			s.flags = form
			if form == etagRaw {
				if l.rawETags == nil {
					l.rawETags = make(map[string]string)
				}
				l.rawETags[name] = d.e.info.ETag
				total += len(d.e.info.ETag) + 64 // the map's slot and the string
			}
		}
		l.slots.append(s, expires)
	}
	// Pages come in key order, which is name order except where a
	// directory "a" (key "a/") follows files such as "a-1" or "a.txt".
	if first > 0 && l.slots.at(first-1).name > l.slots.at(first).name {
		l.slots.sortFrom(l.slots.search(0, first, l.slots.at(first).name))
	}
	added := l.slots.bytes() - before + int64(total)
	l.bytes += added
	return added
}

// find returns the index of name, if the listing holds it.
func (l *listing) find(name string) (int, bool) {
	i := l.slots.search(0, l.slots.len(), name)
	return i, i < l.slots.len() && l.slots.at(i).name == name
}

// lookup answers for name from the listing when it can: the entry it
// listed, or missing when a complete listing lacks it.
func (l *listing) lookup(name string, now time.Time) (entry, bool) {
	if l == nil || l.dropped {
		return entry{}, false
	}
	i, ok := l.find(name)
	switch {
	case ok && (l.slots.at(i).flags&slotForgotten != 0 || !now.Before(l.slots.expiry(i))):
		return entry{}, false
	case ok:
		return l.entry(i), true
	case l.complete && now.Before(l.absentTo):
		return entry{kind: kindMissing, expires: l.absentTo, gen: l.gen}, true
	}
	return entry{}, false
}

func (l *listing) entry(i int) entry {
	s := l.slots.at(i)
	return entry{kind: s.kind, info: s.meta(l.rawETags), expires: l.slots.expiry(i), gen: l.gen}
}

// listingView is a complete listing as a dirStream replays it: the slots
// and raw ETags are never changed once complete, so they stay readable
// even after the cache lets the listing go.
type listingView struct {
	l     *listing
	slots slotList
	raw   map[string]string
}
