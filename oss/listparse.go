package oss

import (
	"bytes"
	"strings"
	"unicode/utf8"
)

// The hand-written ListBucketResult parser. encoding/xml spends ~100
// allocations and ~20 µs per listed object, which made
// parsing most of the CPU of `ls -l` on a large directory. parseListFast
// reads only the XML that OSS and the emulator send: an optional
// <?xml version="1.0" encoding="UTF-8"?>, tags without attributes but an
// optional xmlns="...", ASCII names without prefixes, text of printable
// characters with the five named entities and ASCII character references.
// At the first byte outside that, or at anything encoding/xml would reject
// or read differently (a bad size, key, escape or IsTruncated), it gives up
// and parseListXML hands the whole body to encoding/xml, which alone
// reports errors. FuzzListParsersAgree checks that every page it returns
// is the one encoding/xml decodes.

// parseListXML parses and decodes one ListObjectsV2 answer. It never
// panics; anything it cannot trust is an error.
func parseListXML(body []byte) (ListPage, error) {
	if page, ok := parseListFast(body); ok {
		return page, nil
	}
	return parseListXMLStd(body)
}

// xmlDecl is the declaration OSS starts every document with.
var xmlDecl = []byte(`<?xml version="1.0" encoding="UTF-8"?>`)

// maxListDepth bounds nesting on the fast path (OSS nests four deep).
const maxListDepth = 8

// parseListFast returns what parseListXMLStd returns for body, or false.
// Fields are matched by name and the last occurrence wins, as with
// xml.Unmarshal; EncodingType may come after the keys it applies to, so
// keys, prefixes and the token are decoded once the root has closed.
func parseListFast(body []byte) (ListPage, bool) {
	s := listScanner{b: bytes.TrimPrefix(body, xmlDecl)}
	var encType, truncated, token []byte
	var keys, prefixes [][]byte
	page := ListPage{Objects: []ObjectInfo{}}
	if _, ok := s.text(); !ok {
		return ListPage{}, false
	}
	root, ok := s.open()
	if !ok || string(root) != "ListBucketResult" || !s.children(root, func(name []byte) (ok bool) {
		switch string(name) {
		case "EncodingType":
			encType, ok = s.field(name)
		case "IsTruncated":
			truncated, ok = s.field(name)
		case "NextContinuationToken":
			token, ok = s.field(name)
		case "Contents":
			var o ObjectInfo
			var key []byte
			if o, key, ok = s.contents(name); ok {
				page.Objects = append(page.Objects, o)
				keys = append(keys, key)
			}
		case "CommonPrefixes":
			var p []byte
			ok = s.children(name, func(name []byte) bool {
				if string(name) != "Prefix" {
					return s.skip(name)
				}
				p, ok = s.field(name)
				return ok
			})
			prefixes = append(prefixes, p)
		default:
			ok = s.skip(name)
		}
		return ok
	}) {
		return ListPage{}, false
	}

	encoded := bytes.EqualFold(bytes.TrimSpace(encType), []byte("url"))
	switch string(bytes.TrimSpace(truncated)) {
	case "true":
		page.IsTruncated = true
	case "false", "":
	default:
		return ListPage{}, false
	}
	if page.NextContinuationToken, ok = decodeListField(bytes.TrimSpace(token), encoded); !ok ||
		page.IsTruncated && page.NextContinuationToken == "" {
		return ListPage{}, false
	}
	for i, k := range keys {
		if page.Objects[i].Key, ok = decodeListField(k, encoded); !ok || page.Objects[i].Key == "" {
			return ListPage{}, false
		}
	}
	if len(prefixes) > 0 {
		page.CommonPrefixes = make([]string, len(prefixes))
	}
	for i, p := range prefixes {
		if page.CommonPrefixes[i], ok = decodeListField(p, encoded); !ok {
			return ListPage{}, false
		}
	}
	return page, true
}

// contents reads one Contents element: everything but the key, which
// waits for EncodingType, is converted here.
func (s *listScanner) contents(name []byte) (o ObjectInfo, key []byte, ok bool) {
	var size, etag, modified, typ []byte
	ok = s.children(name, func(name []byte) (ok bool) {
		var text *[]byte
		switch string(name) {
		case "Key":
			text = &key
		case "Size":
			text = &size
		case "ETag":
			text = &etag
		case "LastModified":
			text = &modified
		case "Type":
			text = &typ
		default:
			return s.skip(name)
		}
		*text, ok = s.field(name)
		return ok
	})
	o.ETag = string(bytes.TrimSpace(etag))
	o.LastModified = parseListTime(modified)
	o.ObjectType = objectType(bytes.TrimSpace(typ))
	// Sizes OSS sends are plain digits; anything else is encoding/xml's.
	if len(size) == 0 || len(size) > 18 {
		return o, nil, false
	}
	for _, c := range size {
		if c < '0' || c > '9' {
			return o, nil, false
		}
		o.Size = o.Size*10 + int64(c-'0')
	}
	return o, key, ok
}

// objectTypes are the Type values returned without allocating.
var objectTypes = [...]string{"Normal", "Multipart", "Appendable", ObjectTypeSymlink}

func objectType(b []byte) string {
	for _, t := range objectTypes {
		if string(b) == t {
			return t
		}
	}
	return string(b)
}

// listScanner reads the subset of XML parseListFast accepts. Every method
// returns false at the first byte outside it. Names and text are subslices
// of the body or, for text that held references, of arena.
type listScanner struct {
	b     []byte
	i     int
	depth int    // elements open
	arena []byte // decoded text; only ever grows
}

// open reads a start tag at s.i and returns the element's name.
func (s *listScanner) open() ([]byte, bool) {
	s.depth++
	i := s.i + 1
	// Digits, '-' and '.', all below ':', may not start a name.
	if s.depth > maxListDepth || i >= len(s.b) || !nameByte[s.b[i]] || s.b[i] < ':' {
		return nil, false
	}
	for i < len(s.b) && nameByte[s.b[i]] {
		i++
	}
	name := s.b[s.i+1 : i]
	if ns := []byte(` xmlns="`); bytes.HasPrefix(s.b[i:], ns) {
		i += len(ns)
		for i < len(s.b) && plainText[s.b[i]] && s.b[i] != '"' {
			i++
		}
		if i >= len(s.b) || s.b[i] != '"' {
			return nil, false
		}
		i++
	}
	if i >= len(s.b) || s.b[i] != '>' {
		return nil, false
	}
	s.i = i + 1
	return name, true
}

// children reads the content of the element name, just opened, through
// its end tag, calling child just after the start tag of each element
// in it. Text between elements is checked and dropped.
func (s *listScanner) children(name []byte, child func(name []byte) bool) bool {
	for {
		if _, ok := s.text(); !ok || s.i+1 >= len(s.b) {
			return false
		}
		if s.b[s.i+1] == '/' {
			return s.close(name)
		}
		n, ok := s.open()
		if !ok || !child(n) {
			return false
		}
	}
}

// skip reads the element name, just opened, and drops it.
func (s *listScanner) skip(name []byte) bool {
	return s.children(name, s.skip)
}

// field reads the text of the element name, just opened, which must hold
// no elements.
func (s *listScanner) field(name []byte) ([]byte, bool) {
	t, ok := s.text()
	return t, ok && s.close(name)
}

// close reads the end tag of name at s.i.
func (s *listScanner) close(name []byte) bool {
	rest := s.b[s.i:]
	n := len(name)
	if len(rest) < n+3 || rest[1] != '/' || !bytes.Equal(rest[2:2+n], name) || rest[2+n] != '>' {
		return false
	}
	s.i += n + 3
	s.depth--
	return true
}

// text reads character data up to the next '<' and returns it with
// references decoded.
func (s *listScanner) text() ([]byte, bool) {
	b := s.b
	start, run := s.i, s.i // run: the raw bytes not yet copied to the arena
	mark := -1             // arena offset of this text once it held a reference
	i := s.i
	for i < len(b) && b[i] != '<' {
		switch c := b[i]; {
		case plainText[c]:
			i++
		case c == '&':
			r, n := entity(b[i:])
			if n == 0 {
				return nil, false
			}
			if mark < 0 {
				mark = len(s.arena)
			}
			s.arena = append(append(s.arena, b[run:i]...), r)
			i += n
			run = i
		case c >= utf8.RuneSelf:
			r, n := utf8.DecodeRune(b[i:])
			if r == utf8.RuneError && n == 1 || r > 0xFFFD && r < 0x10000 {
				return nil, false
			}
			i += n
		default:
			return nil, false // controls, '\r' (rewritten by encoding/xml), ']' (of "]]>")
		}
	}
	s.i = i
	if mark < 0 {
		return b[start:i:i], true
	}
	s.arena = append(s.arena, b[run:i]...)
	return s.arena[mark:len(s.arena):len(s.arena)], true
}

// entity decodes the reference at the start of b, which is one of the
// five named entities or a reference to a printable ASCII character, tab
// or newline, and returns its byte and length; n is 0 for any other.
func entity(b []byte) (c byte, n int) {
	for _, e := range [...]struct {
		name string
		c    byte
	}{{"&amp;", '&'}, {"&lt;", '<'}, {"&gt;", '>'}, {"&quot;", '"'}, {"&apos;", '\''}} {
		if bytes.HasPrefix(b, []byte(e.name)) {
			return e.c, len(e.name)
		}
	}
	if len(b) < 4 || b[1] != '#' {
		return 0, 0
	}
	i, base := 2, 10
	if b[2] == 'x' {
		i, base = 3, 16
	}
	v, first := 0, i
	for ; i < len(b) && i < first+4; i++ {
		d := unhex(b[i])
		if d < 0 || d >= base {
			break
		}
		v = v*base + d
	}
	if i == first || i >= len(b) || b[i] != ';' || v >= utf8.RuneSelf || v < ' ' && v != '\t' && v != '\n' {
		return 0, 0
	}
	return byte(v), i + 1
}

// decodeListField is url.QueryUnescape (when encoded) straight from the
// body's bytes, allocating only the result; false for a bad escape.
func decodeListField(b []byte, encoded bool) (string, bool) {
	if !encoded {
		return string(b), true
	}
	n := len(b)
	for i := 0; i < len(b); i++ {
		if b[i] == '%' {
			if i+2 >= len(b) || unhex(b[i+1]) < 0 || unhex(b[i+2]) < 0 {
				return "", false
			}
			n -= 2
			i += 2
		}
	}
	var sb strings.Builder
	sb.Grow(n)
	for i := 0; i < len(b); i++ {
		switch c := b[i]; c {
		case '%':
			sb.WriteByte(byte(unhex(b[i+1])<<4 | unhex(b[i+2])))
			i += 2
		case '+':
			sb.WriteByte(' ')
		default:
			sb.WriteByte(c)
		}
	}
	return sb.String(), true
}

// unhex is the value of the hex digit c, or -1.
func unhex(c byte) int {
	switch {
	case '0' <= c && c <= '9':
		return int(c - '0')
	case 'a' <= c && c <= 'f':
		return int(c-'a') + 10
	case 'A' <= c && c <= 'F':
		return int(c-'A') + 10
	}
	return -1
}

// nameByte and plainText classify bytes: those of a name without a
// prefix, and text that needs no further checks.
var nameByte, plainText = byteClass(func(c byte) bool {
	return 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '_' || c == '-' || c == '.'
}), byteClass(func(c byte) bool {
	return ' ' <= c && c < utf8.RuneSelf && c != '<' && c != '&' && c != ']' || c == '\t' || c == '\n'
})

func byteClass(in func(byte) bool) (t [256]bool) {
	for c := range 256 {
		t[c] = in(byte(c))
	}
	return t
}
