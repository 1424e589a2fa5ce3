package keyindex

import (
	"bytes"
	"strings"

	"github.com/ossmount/ossmount/oss"
)

// maxListKeys is what OSS returns at most per page; MaxKeys 0 means it.
const maxListKeys = 1000

// tokenPrefix marks continuation tokens made by the index: the rest is
// the last key or common prefix returned, which OSS's start-after
// understands the same way (a common prefix at or before it is skipped).
const tokenPrefix = "keyindex:"

// list answers one ListObjectsV2 page from the index, as OSS would:
// objects and common prefixes in key order, at most MaxKeys of them
// together, and a continuation token when more follow. The caller checks
// that in.Prefix is inside the root and that the token, if any, is ours.
func (x *Index) list(in oss.ListInput) oss.ListPage {
	max := in.MaxKeys
	if max <= 0 || max > maxListKeys {
		max = maxListKeys
	}
	marker := in.StartAfter
	if tok, ok := strings.CutPrefix(in.ContinuationToken, tokenPrefix); ok && tok > marker {
		marker = tok
	}
	start := in.Prefix
	if marker+"\x00" > start {
		start = marker + "\x00"
	}
	var page oss.ListPage
	count, last := 0, ""
	prefix, delim := []byte(in.Prefix), []byte(in.Delimiter)
	for i := x.search(start); i < len(x.entries); {
		k := x.key(i) // the arena's bytes: compared, copied only into answers
		if !bytes.HasPrefix(k, prefix) {
			break
		}
		var item []byte
		isPrefix := false
		if len(delim) > 0 {
			if j := bytes.Index(k[len(prefix):], delim); j >= 0 {
				item, isPrefix = k[:len(prefix)+j+len(delim)], true
			}
		}
		if isPrefix && string(item) <= marker {
			// Returned on an earlier page: skip the whole group.
			end, ok := prefixEnd(string(item))
			if !ok {
				break
			}
			i = x.search(end)
			continue
		}
		if count == max {
			page.IsTruncated, page.NextContinuationToken = true, tokenPrefix+last
			break
		}
		count++
		if isPrefix {
			last = string(item)
			page.CommonPrefixes = append(page.CommonPrefixes, last)
			end, ok := prefixEnd(last)
			if !ok {
				break
			}
			i = x.search(end)
			continue
		}
		o := x.Object(i)
		last = o.Key
		page.Objects = append(page.Objects, o)
		i++
	}
	return page
}

// prefixEnd is the smallest string greater than every string that starts
// with p; false if there is none (p is all 0xff bytes).
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
