package emulator

import "strings"

// mergeIter walks the union of several sorted key sources in byte-wise
// order, yielding each distinct key once.
type mergeIter struct {
	srcs []sortedKeys
	idx  []int
	cur  []string // srcs[i].Key(idx[i]), cached: generated keys cost a Sprintf
	ok   []bool   // idx[i] < srcs[i].Len()
}

func newMergeIter(srcs []sortedKeys) *mergeIter {
	return &mergeIter{srcs: srcs, idx: make([]int, len(srcs)), cur: make([]string, len(srcs)), ok: make([]bool, len(srcs))}
}

func (m *mergeIter) load(i int) {
	m.ok[i] = m.idx[i] < m.srcs[i].Len()
	if m.ok[i] {
		m.cur[i] = m.srcs[i].Key(m.idx[i])
	}
}

// seek positions every source at its first key >= k.
func (m *mergeIter) seek(k string) {
	for i, s := range m.srcs {
		m.idx[i] = searchKeys(s, k)
		m.load(i)
	}
}

// peek returns the smallest current key and the first source (in
// precedence order) holding it, with its index there.
func (m *mergeIter) peek() (key string, src, idx int, ok bool) {
	src = -1
	for i := range m.srcs {
		if m.ok[i] && (src < 0 || m.cur[i] < key) {
			key, src = m.cur[i], i
		}
	}
	if src < 0 {
		return "", 0, 0, false
	}
	return key, src, m.idx[src], true
}

// advance moves every source past key k.
func (m *mergeIter) advance(k string) {
	for i := range m.srcs {
		if m.ok[i] && m.cur[i] == k {
			m.idx[i]++
			m.load(i)
		}
	}
}

// prefixEnd is the smallest string greater than every string starting with
// p; ok=false when there is none (p is all 0xff bytes).
func prefixEnd(p string) (string, bool) {
	b := []byte(p)
	for i := len(b) - 1; i >= 0; i-- {
		if b[i] < 0xff {
			b[i]++
			return string(b[:i+1]), true
		}
	}
	return "", false
}

// listResult is one page of a listing.
type listResult struct {
	Keys           []string
	Src, Idx       []int // where each key came from: source and index in it
	CommonPrefixes []string
	Truncated      bool
	Next           string // last key or common prefix of the page, when truncated
}

// listKeys pages through srcs like OSS: keys after marker that start with
// prefix, keys holding delim after the prefix rolled up into common
// prefixes (each counted once toward max, and only if greater than marker).
func listKeys(srcs []sortedKeys, prefix, delim, marker string, max int) listResult {
	var res listResult
	it := newMergeIter(srcs)
	start := prefix
	if marker+"\x00" > start {
		start = marker + "\x00"
	}
	it.seek(start)
	count := 0
	last := ""
	for {
		k, src, idx, ok := it.peek()
		if !ok || !strings.HasPrefix(k, prefix) {
			return res
		}
		item, isPrefix := k, false
		if delim != "" {
			if i := strings.Index(k[len(prefix):], delim); i >= 0 {
				item, isPrefix = k[:len(prefix)+i+len(delim)], true
			}
		}
		if isPrefix && item <= marker {
			// Already returned on an earlier page: skip the whole group.
			end, ok := prefixEnd(item)
			if !ok {
				return res
			}
			it.seek(end)
			continue
		}
		if count == max {
			res.Truncated, res.Next = true, last
			return res
		}
		count++
		last = item
		if isPrefix {
			res.CommonPrefixes = append(res.CommonPrefixes, item)
			end, ok := prefixEnd(item)
			if !ok {
				return res
			}
			it.seek(end)
		} else {
			res.Keys = append(res.Keys, k)
			res.Src, res.Idx = append(res.Src, src), append(res.Idx, idx)
			it.advance(k)
		}
	}
}
