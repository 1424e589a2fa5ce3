package oss

import (
	"bytes"
	"errors"
	"fmt"
	"unicode"
	"unicode/utf8"
)

// The hand-written ListBucketResult parser. encoding/xml spends ~70
// allocations and several microseconds per listed object, which made
// parsing most of the CPU of `ls -l` on a large directory. This parser
// accepts exactly what xml.Unmarshal into listResult accepts (strict mode:
// the same checks on names, end tags, entities, characters and comments),
// returns the same ListPage, and hands the constructs OSS never sends
// (processing instructions other than the usual declaration, DOCTYPE,
// CDATA, raw carriage returns, non-ASCII names, piles of xmlns
// declarations) to encoding/xml by returning errFallback. FuzzListParsersAgree
// checks the equivalence.

// errFallback says the document uses a construct the fast parser leaves to
// encoding/xml; it never reaches callers of parseListXML.
var errFallback = errors.New("oss: list document needs encoding/xml")

// parseListXML parses and decodes one ListObjectsV2 answer. It never
// panics; anything it cannot trust is an error.
func parseListXML(body []byte) (ListPage, error) {
	page, err := parseListFast(body)
	if err == errFallback {
		return parseListXMLStd(body)
	}
	return page, err
}

// xmlDecl is the declaration OSS starts every document with.
var xmlDecl = []byte(`<?xml version="1.0" encoding="UTF-8"?>`)

// maxNSDecls bounds xmlns attributes on the fast path: encoding/xml counts
// them towards its nesting limit, which this parser does not model.
const maxNSDecls = 1000

type tokKind uint8

const (
	tokEOF tokKind = iota
	tokText
	tokStart
	tokEnd
)

// listLexer is a strict XML tokenizer over one in-memory document.
// Element names are subslices of the body; text is a subslice of the body
// or, when it held entities, of arena, which only ever grows.
type listLexer struct {
	b          []byte
	i          int
	stack      [][]byte // raw names of the open elements
	pendingEnd bool     // the last start tag was self-closing
	arena      []byte
	nsDecls    int
}

// next returns the next token. want says whether text is needed decoded;
// text is validated either way.
func (l *listLexer) next(want bool) (tokKind, []byte, error) {
	if l.pendingEnd {
		l.pendingEnd = false
		name := l.stack[len(l.stack)-1]
		l.stack = l.stack[:len(l.stack)-1]
		return tokEnd, name, nil
	}
	for {
		if l.i >= len(l.b) {
			if len(l.stack) > 0 {
				return 0, nil, errors.New("unexpected EOF")
			}
			return tokEOF, nil, nil
		}
		if l.b[l.i] != '<' {
			t, err := l.text(0, want)
			return tokText, t, err
		}
		l.i++
		if l.i >= len(l.b) {
			return 0, nil, errors.New("unexpected EOF after <")
		}
		switch l.b[l.i] {
		case '/':
			l.i++
			name, err := l.name()
			if err != nil {
				return 0, nil, err
			}
			l.space()
			if l.i >= len(l.b) || l.b[l.i] != '>' {
				return 0, nil, fmt.Errorf("invalid characters after </%s", name)
			}
			l.i++
			if len(l.stack) == 0 || !bytes.Equal(l.stack[len(l.stack)-1], name) {
				return 0, nil, fmt.Errorf("unexpected end element </%s>", name)
			}
			l.stack = l.stack[:len(l.stack)-1]
			return tokEnd, name, nil
		case '!':
			if !bytes.HasPrefix(l.b[l.i:], []byte("!-")) {
				return 0, nil, errFallback // CDATA, DOCTYPE and other directives
			}
			if l.i+2 >= len(l.b) || l.b[l.i+2] != '-' {
				return 0, nil, errors.New("invalid sequence <!- not part of <!--")
			}
			rest := l.b[l.i+3:]
			end := bytes.Index(rest, []byte("--"))
			if end < 0 || end+2 >= len(rest) {
				return 0, nil, errors.New("unexpected EOF in comment")
			}
			if rest[end+2] != '>' {
				return 0, nil, errors.New(`invalid sequence "--" in comment`)
			}
			l.i += 3 + end + 3
			continue
		case '?':
			return 0, nil, errFallback
		}
		name, err := l.name()
		if err != nil {
			return 0, nil, err
		}
		if err := l.attrs(); err != nil {
			return 0, nil, err
		}
		l.stack = append(l.stack, name)
		return tokStart, name, nil
	}
}

// attrs reads (and validates, then forgets) the attributes of a start tag
// up to and including its '>' or "/>".
func (l *listLexer) attrs() error {
	for {
		l.space()
		if l.i >= len(l.b) {
			return errors.New("unexpected EOF in start tag")
		}
		switch l.b[l.i] {
		case '/':
			if l.i+1 >= len(l.b) || l.b[l.i+1] != '>' {
				return errors.New("expected /> in element")
			}
			l.i += 2
			l.pendingEnd = true
			return nil
		case '>':
			l.i++
			return nil
		}
		name, err := l.name()
		if err != nil {
			return err
		}
		if bytes.HasPrefix(name, []byte("xmlns")) {
			if l.nsDecls++; l.nsDecls > maxNSDecls {
				return errFallback
			}
		}
		l.space()
		if l.i >= len(l.b) || l.b[l.i] != '=' {
			return errors.New("attribute name without = in element")
		}
		l.i++
		l.space()
		if l.i >= len(l.b) || l.b[l.i] != '"' && l.b[l.i] != '\'' {
			return errors.New("unquoted or missing attribute value in element")
		}
		q := l.b[l.i]
		l.i++
		if _, err := l.text(q, false); err != nil {
			return err
		}
		if l.i >= len(l.b) {
			return errors.New("unexpected EOF in attribute value")
		}
		l.i++ // the closing quote
	}
}

func (l *listLexer) space() {
	for l.i < len(l.b) {
		switch l.b[l.i] {
		case ' ', '\t', '\n', '\r':
			l.i++
		default:
			return
		}
	}
}

// name reads an XML name as encoding/xml's nsname does: ASCII name
// characters, a letter, '_' or ':' first, at most one colon.
func (l *listLexer) name() ([]byte, error) {
	start := l.i
	for l.i < len(l.b) && nameByte[l.b[l.i]] {
		l.i++
	}
	if l.i >= len(l.b) {
		return nil, errors.New("unexpected EOF in name")
	}
	if l.b[l.i] >= utf8.RuneSelf {
		return nil, errFallback
	}
	name := l.b[start:l.i]
	if len(name) == 0 {
		return nil, errors.New("expected a name")
	}
	if c := name[0]; c >= '0' && c <= '9' || c == '.' || c == '-' ||
		bytes.IndexByte(name, ':') >= 0 && bytes.Count(name, []byte(":")) > 1 {
		return nil, fmt.Errorf("invalid XML name %q", name)
	}
	return name, nil
}

// nameByte and plainText classify bytes for name and text.
var nameByte, plainText [256]bool

func init() {
	for c := range 256 {
		b := byte(c)
		nameByte[c] = 'A' <= b && b <= 'Z' || 'a' <= b && b <= 'z' || '0' <= b && b <= '9' ||
			b == '_' || b == ':' || b == '.' || b == '-'
		plainText[c] = b >= 0x20 && b < 0x80 && b != '<' && b != '&' && b != ']' && b != '"' && b != '\'' ||
			b == '\t' || b == '\n'
	}
}

// localName is the part of a raw name after its prefix, as nsname splits it.
func localName(name []byte) []byte {
	if i := bytes.IndexByte(name, ':'); i > 0 && i < len(name)-1 {
		return name[i+1:]
	}
	return name
}

// text reads character data up to '<' (quote 0) or up to the closing quote
// of an attribute value, leaving l.i on it. It checks what encoding/xml's
// strict mode checks and, if want, returns the text with entities decoded.
func (l *listLexer) text(quote byte, want bool) ([]byte, error) {
	b := l.b
	start, i := l.i, l.i
	decoded := -1 // arena offset once an entity has been decoded
	run := start  // start of the raw bytes not yet copied to the arena
	for i < len(b) {
		c := b[i]
		if plainText[c] {
			i++
			continue
		}
		switch {
		case c == '<':
			if quote != 0 {
				return nil, errors.New("unescaped < inside quoted string")
			}
			goto done
		case c == quote && quote != 0:
			goto done
		case c == '"' || c == '\'':
			i++
		case c == ']':
			if quote == 0 && i+2 < len(b) && b[i+1] == ']' && b[i+2] == '>' {
				return nil, errors.New("unescaped ]]> not in CDATA section")
			}
			i++
		case c == '&':
			r, n, err := entity(b[i:])
			if err != nil {
				return nil, err
			}
			if want {
				if decoded < 0 {
					decoded = len(l.arena)
				}
				l.arena = append(l.arena, b[run:i]...)
				l.arena = utf8.AppendRune(l.arena, r)
			}
			i += n
			run = i
		case c == '\r':
			return nil, errFallback // encoding/xml rewrites \r and \r\n to \n
		case c < 0x20:
			return nil, fmt.Errorf("illegal character code %U", rune(c))
		default:
			r, n := utf8.DecodeRune(b[i:])
			if r == utf8.RuneError && n == 1 {
				return nil, errors.New("invalid UTF-8")
			}
			if !isInCharacterRange(r) {
				return nil, fmt.Errorf("illegal character code %U", r)
			}
			i += n
		}
	}
done:
	l.i = i
	if !want {
		return nil, nil
	}
	if decoded < 0 {
		return b[start:i:i], nil
	}
	l.arena = append(l.arena, b[run:i]...)
	return l.arena[decoded:len(l.arena):len(l.arena)], nil
}

// entity decodes the character reference at the start of b (which begins
// with '&') and returns the rune and the reference's length.
func entity(b []byte) (rune, int, error) {
	if len(b) > 1 && b[1] == '#' {
		i, base := 2, rune(10)
		if i < len(b) && b[i] == 'x' {
			i, base = 3, 16
		}
		var n rune
		digits := 0
		for ; i < len(b); i++ {
			d := rune(-1)
			switch c := b[i]; {
			case '0' <= c && c <= '9':
				d = rune(c - '0')
			case base == 16 && 'a' <= c && c <= 'f':
				d = rune(c-'a') + 10
			case base == 16 && 'A' <= c && c <= 'F':
				d = rune(c-'A') + 10
			}
			if d < 0 {
				break
			}
			if n <= unicode.MaxRune {
				n = n*base + d
			}
			digits++
		}
		if digits == 0 || i >= len(b) || b[i] != ';' || n > unicode.MaxRune {
			return 0, 0, badEntity(b)
		}
		if 0xD800 <= n && n <= 0xDFFF {
			n = utf8.RuneError // string(rune(n)) of a surrogate
		}
		if !isInCharacterRange(n) {
			return 0, 0, fmt.Errorf("illegal character code %U", n)
		}
		return n, i + 1, nil
	}
	for _, e := range [...]struct {
		name string
		r    rune
	}{{"&amp;", '&'}, {"&lt;", '<'}, {"&gt;", '>'}, {"&quot;", '"'}, {"&apos;", '\''}} {
		if bytes.HasPrefix(b, []byte(e.name)) {
			return e.r, len(e.name), nil
		}
	}
	return 0, 0, badEntity(b)
}

func badEntity(b []byte) error {
	return fmt.Errorf("invalid character entity %.12q", b)
}

// isInCharacterRange is the XML Char production, as encoding/xml has it.
func isInCharacterRange(r rune) bool {
	return r == 0x09 || r == 0x0A || r == 0x0D || r >= 0x20 && r <= 0xD7FF ||
		r >= 0xE000 && r <= 0xFFFD || r >= 0x10000 && r <= 0x10FFFF
}
