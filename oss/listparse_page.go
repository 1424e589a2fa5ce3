package oss

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// parseListFast is parseListXML without encoding/xml: it returns what
// parseListXMLStd returns, or errFallback for a document it leaves to it.
// Fields are matched by local name and the last occurrence wins, as with
// xml.Unmarshal; EncodingType may come after the keys it applies to, so
// keys, prefixes and the token are decoded once the root has closed.
func parseListFast(body []byte) (ListPage, error) {
	l := listLexer{b: body}
	if bytes.HasPrefix(body, xmlDecl) {
		l.i = len(xmlDecl)
	}
	var root []byte
	for root == nil {
		kind, name, err := l.next(false)
		if err != nil {
			return ListPage{}, listErr(err)
		}
		switch kind {
		case tokEOF:
			return ListPage{}, errors.New("parsing list result: no root element")
		case tokStart:
			root = name
		}
	}
	if string(localName(root)) != "ListBucketResult" {
		return ListPage{}, fmt.Errorf("parsing list result: root element <%s>, want <ListBucketResult>", localName(root))
	}

	var (
		encType, truncated, token []byte
		keys, prefixes            [][]byte
		page                      ListPage
	)
	for {
		kind, name, err := l.next(false)
		if err != nil {
			return ListPage{}, listErr(err)
		}
		if kind == tokEnd {
			break // the root: only elements can be open here
		}
		if kind != tokStart {
			continue
		}
		switch string(localName(name)) {
		case "EncodingType":
			encType, err = l.field()
		case "IsTruncated":
			truncated, err = l.field()
		case "NextContinuationToken":
			token, err = l.field()
		case "Contents":
			var o ObjectInfo
			var key []byte
			if o, key, err = l.contents(); err == nil {
				page.Objects = append(page.Objects, o)
				keys = append(keys, key)
			}
		case "CommonPrefixes":
			var p []byte
			if p, err = l.commonPrefix(); err == nil {
				prefixes = append(prefixes, p)
			}
		default:
			err = l.skip()
		}
		if err != nil {
			return ListPage{}, listErr(err)
		}
	}

	encoded := bytes.EqualFold(bytes.TrimSpace(encType), []byte("url"))
	switch string(bytes.TrimSpace(truncated)) {
	case "true":
		page.IsTruncated = true
	case "false", "":
	default:
		return ListPage{}, fmt.Errorf("parsing list result: IsTruncated %q", truncated)
	}
	var err error
	if page.NextContinuationToken, err = decodeListField("NextContinuationToken", bytes.TrimSpace(token), encoded); err != nil {
		return ListPage{}, err
	}
	if page.IsTruncated && page.NextContinuationToken == "" {
		return ListPage{}, errors.New("parsing list result: truncated page without NextContinuationToken")
	}
	if page.Objects == nil {
		page.Objects = []ObjectInfo{}
	}
	for i, k := range keys {
		if page.Objects[i].Key, err = decodeListField("Key", k, encoded); err != nil {
			return ListPage{}, err
		}
		if page.Objects[i].Key == "" {
			return ListPage{}, errors.New("parsing list result: object without a key")
		}
	}
	if len(prefixes) > 0 {
		page.CommonPrefixes = make([]string, len(prefixes))
	}
	for i, p := range prefixes {
		if page.CommonPrefixes[i], err = decodeListField("Prefix", p, encoded); err != nil {
			return ListPage{}, err
		}
	}
	return page, nil
}

func listErr(err error) error {
	if err == errFallback {
		return err
	}
	return fmt.Errorf("parsing list result: %w", err)
}

// field reads the element just opened as a string field: its direct text,
// concatenated; child elements and their text are skipped.
func (l *listLexer) field() ([]byte, error) {
	var text []byte
	owned := false
	for {
		kind, seg, err := l.next(true)
		if err != nil {
			return nil, err
		}
		switch kind {
		case tokEnd:
			return text, nil
		case tokStart:
			if err := l.skip(); err != nil {
				return nil, err
			}
		case tokText:
			switch {
			case text == nil:
				text = seg
			case !owned:
				text = append(append([]byte(nil), text...), seg...)
				owned = true
			default:
				text = append(text, seg...)
			}
		}
	}
}

// skip consumes the element just opened, checking everything in it.
func (l *listLexer) skip() error {
	depth := len(l.stack) - 1
	for {
		kind, _, err := l.next(false)
		if err != nil {
			return err
		}
		if kind == tokEnd && len(l.stack) == depth {
			return nil
		}
	}
}

// contents reads one Contents element: everything but the key, which
// waits for EncodingType, is converted here.
func (l *listLexer) contents() (ObjectInfo, []byte, error) {
	var key, lastModified, etag, typ, size []byte
	for {
		kind, name, err := l.next(false)
		if err != nil {
			return ObjectInfo{}, nil, err
		}
		if kind == tokEnd {
			break
		}
		if kind != tokStart {
			continue
		}
		switch string(localName(name)) {
		case "Key":
			key, err = l.field()
		case "LastModified":
			lastModified, err = l.field()
		case "ETag":
			etag, err = l.field()
		case "Type":
			typ, err = l.field()
		case "Size":
			size, err = l.field()
		default:
			err = l.skip()
		}
		if err != nil {
			return ObjectInfo{}, nil, err
		}
	}
	n, ok := parseListSize(size)
	if !ok {
		return ObjectInfo{}, nil, fmt.Errorf("size %q of %q", size, key)
	}
	return ObjectInfo{
		Size:         n,
		ETag:         string(bytes.TrimSpace(etag)),
		LastModified: parseListTimeBytes(lastModified),
		ObjectType:   internListValue(bytes.TrimSpace(typ)),
	}, key, nil
}

// commonPrefix reads one CommonPrefixes element's Prefix.
func (l *listLexer) commonPrefix() ([]byte, error) {
	var prefix []byte
	for {
		kind, name, err := l.next(false)
		if err != nil {
			return nil, err
		}
		switch {
		case kind == tokEnd:
			return prefix, nil
		case kind != tokStart:
		case string(localName(name)) == "Prefix":
			if prefix, err = l.field(); err != nil {
				return nil, err
			}
		default:
			if err := l.skip(); err != nil {
				return nil, err
			}
		}
	}
}

// parseListSize parses a Size as strconv.ParseInt of the trimmed text
// does, accepting only sizes >= 0.
func parseListSize(b []byte) (int64, bool) {
	if len(b) > 0 && len(b) <= 18 {
		var n int64
		for _, c := range b {
			if c < '0' || c > '9' {
				goto slow
			}
			n = n*10 + int64(c-'0')
		}
		return n, true
	}
slow:
	n, err := strconv.ParseInt(string(bytes.TrimSpace(b)), 10, 64)
	return n, err == nil && n >= 0
}

// parseListTimeBytes is parseListTime with a fast path for the layout OSS
// sends, 2006-01-02T15:04:05.000Z.
func parseListTimeBytes(b []byte) time.Time {
	if len(b) != 24 || b[4] != '-' || b[7] != '-' || b[10] != 'T' || b[13] != ':' || b[16] != ':' ||
		b[19] != '.' || b[23] != 'Z' {
		return parseListTime(string(b))
	}
	num := func(i, n int) int {
		v := 0
		for _, c := range b[i : i+n] {
			if c < '0' || c > '9' {
				return -1
			}
			v = v*10 + int(c-'0')
		}
		return v
	}
	year, month, day := num(0, 4), num(5, 2), num(8, 2)
	hour, minute, sec, ms := num(11, 2), num(14, 2), num(17, 2), num(20, 3)
	if year < 0 || month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month) ||
		hour < 0 || hour > 23 || minute < 0 || minute > 59 || sec < 0 || sec > 59 || ms < 0 {
		return parseListTime(string(b))
	}
	return time.Date(year, time.Month(month), day, hour, minute, sec, ms*1e6, time.UTC)
}

func daysInMonth(year, month int) int {
	switch month {
	case 2:
		if year%4 == 0 && (year%100 != 0 || year%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

// internListValue returns Type values without allocating
// for the common ones.
func internListValue(b []byte) string {
	switch string(b) {
	case "":
		return ""
	case "Normal":
		return "Normal"
	case "Multipart":
		return "Multipart"
	case "Appendable":
		return "Appendable"
	case "Symlink":
		return "Symlink"
	}
	return string(b)
}

// decodeListField is url.QueryUnescape (when encoded) straight from the
// body's bytes, allocating only the result.
func decodeListField(field string, b []byte, encoded bool) (string, error) {
	if !encoded {
		return string(b), nil
	}
	n := 0
	for i := 0; i < len(b); i++ {
		switch b[i] {
		case '%':
			if i+2 >= len(b) || !isHex(b[i+1]) || !isHex(b[i+2]) {
				return "", fmt.Errorf("decoding %s %q: invalid URL escape", field, b)
			}
			n++
			i += 2
		}
	}
	var sb strings.Builder
	sb.Grow(len(b) - 2*n)
	for i := 0; i < len(b); i++ {
		switch c := b[i]; c {
		case '%':
			sb.WriteByte(unhex(b[i+1])<<4 | unhex(b[i+2]))
			i += 2
		case '+':
			sb.WriteByte(' ')
		default:
			sb.WriteByte(c)
		}
	}
	return sb.String(), nil
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case c <= '9':
		return c - '0'
	case c >= 'a':
		return c - 'a' + 10
	}
	return c - 'A' + 10
}
