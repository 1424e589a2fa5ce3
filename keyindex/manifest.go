package keyindex

import (
	"bufio"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/ossmount/ossmount/oss"
)

// The manifest format, version 1. A text file of lines ending in "\n":
//
//	# ossmount-manifest v1
//	# bucket<TAB>BUCKET
//	# prefix<TAB>PREFIX
//	KEY<TAB>SIZE<TAB>ETAG<TAB>LAST-MODIFIED[<TAB>symlink]   one line per object, keys in byte order
//	# end<TAB>COUNT
//
// KEY and PREFIX are full keys of the bucket; every KEY starts with PREFIX
// ("" for the whole bucket). SIZE is a decimal byte count; ETAG is as OSS
// sends it, quotes included; LAST-MODIFIED is RFC 3339 in UTC with the
// fraction OSS gave, or "-" when unknown. A fifth field "symlink" marks an
// OSS symbolic link (ObjectType Symlink); other objects have four fields,
// so manifests without links read the same in every version. Text fields are escaped: bytes
// below 0x21 (controls, space), '#', '%', 0x7F and bytes that are not
// part of valid UTF-8 are written %XX (upper-case hex), everything else
// as is, so a key of any bytes fits on one line and an object line never
// starts with '#'. Every field has exactly one spelling; the reader
// rejects any other. The last line gives the number of objects, so a
// truncated file is detected. The whole file may be gzip-compressed.
const (
	manifestVersionLine = "# ossmount-manifest v1"
	maxManifestLine     = 64 << 10
)

// Manifest is a parsed manifest: the bucket it describes and its objects.
type Manifest struct {
	Bucket string
	Index  *Index // Root() is the manifest's prefix
}

// LineError is a manifest that cannot be used, with the 1-based line
// where the reader found the problem.
type LineError struct {
	Line int
	Err  error
}

func (e *LineError) Error() string { return fmt.Sprintf("line %d: %v", e.Line, e.Err) }
func (e *LineError) Unwrap() error { return e.Err }

// WriteManifest writes x as a version 1 manifest of bucket.
func WriteManifest(w io.Writer, bucket string, x *Index) error {
	bw := bufio.NewWriterSize(w, 256<<10)
	fmt.Fprintf(bw, "%s\n# bucket\t%s\n# prefix\t%s\n", manifestVersionLine, escapeField(bucket), escapeField(x.root))
	line := make([]byte, 0, 256)
	for i := range x.entries {
		line = appendObjectLine(line[:0], x, i)
		if _, err := bw.Write(line); err != nil {
			return err
		}
	}
	fmt.Fprintf(bw, "# end\t%d\n", len(x.entries))
	return bw.Flush()
}

func appendObjectLine(line []byte, x *Index, i int) []byte {
	o := x.Object(i)
	line = appendEscaped(line, o.Key)
	line = append(line, '\t')
	line = strconv.AppendInt(line, o.Size, 10)
	line = append(line, '\t')
	line = appendEscaped(line, o.ETag)
	line = append(line, '\t')
	line = appendTime(line, o.LastModified)
	if o.ObjectType == oss.ObjectTypeSymlink {
		line = append(line, "\tsymlink"...)
	}
	return append(line, '\n')
}

func appendTime(b []byte, t time.Time) []byte {
	if t.IsZero() {
		return append(b, '-')
	}
	return t.UTC().AppendFormat(b, time.RFC3339Nano)
}

// ReadManifest parses a manifest (plain or gzip-compressed). Any problem,
// a truncated file included, is a *LineError naming the line.
func ReadManifest(r io.Reader) (Manifest, error) {
	br := bufio.NewReaderSize(r, maxManifestLine+1)
	if magic, _ := br.Peek(2); len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return Manifest{}, &LineError{1, fmt.Errorf("gzip: %w", err)}
		}
		br = bufio.NewReaderSize(zr, maxManifestLine+1)
	}
	p := manifestParser{r: br}
	return p.parse()
}

type manifestParser struct {
	r    *bufio.Reader
	line int
}

// next returns the next line without its "\n"; io.EOF at a clean end.
func (p *manifestParser) next() (string, error) {
	p.line++
	b, err := p.r.ReadSlice('\n')
	switch {
	case err == nil:
		return string(b[:len(b)-1]), nil
	case errors.Is(err, bufio.ErrBufferFull):
		return "", p.fail("longer than %d bytes", maxManifestLine)
	case errors.Is(err, io.EOF) && len(b) == 0:
		return "", io.EOF
	case errors.Is(err, io.EOF):
		return "", p.fail("ends without a newline: the file is truncated")
	default:
		return "", p.fail("reading: %v", err)
	}
}

func (p *manifestParser) fail(format string, args ...any) error {
	return &LineError{p.line, fmt.Errorf(format, args...)}
}

// header reads "# name<TAB>value" and returns the unescaped value.
func (p *manifestParser) header(name string) (string, error) {
	l, err := p.next()
	if err == io.EOF {
		return "", p.fail("missing the %q header: the file is truncated", "# "+name)
	}
	if err != nil {
		return "", err
	}
	v, ok := strings.CutPrefix(l, "# "+name+"\t")
	if !ok {
		return "", p.fail("want the header %q, got %.60q", "# "+name+"<TAB>...", l)
	}
	s, err := unescapeField(v)
	if err != nil {
		return "", p.fail("%s: %v", name, err)
	}
	return s, nil
}

func (p *manifestParser) parse() (Manifest, error) {
	first, err := p.next()
	if err == io.EOF {
		return Manifest{}, p.fail("empty file, not an ossmount manifest")
	}
	if err != nil {
		return Manifest{}, err
	}
	if first != manifestVersionLine {
		if strings.HasPrefix(first, "# ossmount-manifest ") {
			return Manifest{}, p.fail("unsupported version %.40q: this ossmount reads %q", first, manifestVersionLine)
		}
		return Manifest{}, p.fail("not an ossmount manifest: the first line must be %q", manifestVersionLine)
	}
	bucket, err := p.header("bucket")
	if err != nil {
		return Manifest{}, err
	}
	prefix, err := p.header("prefix")
	if err != nil {
		return Manifest{}, err
	}
	b := newBuilder(prefix)
	prev := ""
	for n := 0; ; n++ {
		l, err := p.next()
		if err == io.EOF {
			return Manifest{}, p.fail("missing the %q line: the file is truncated", "# end")
		}
		if err != nil {
			return Manifest{}, err
		}
		if rest, ok := strings.CutPrefix(l, "# end\t"); ok {
			if rest != strconv.Itoa(n) {
				return Manifest{}, p.fail("the end line counts %.20q objects, the manifest has %d", rest, n)
			}
			if _, err := p.next(); err != io.EOF {
				return Manifest{}, p.fail("text after the end line")
			}
			x, err := b.finish()
			if err != nil { // unreachable: order was checked line by line
				return Manifest{}, p.fail("%v", err)
			}
			return Manifest{Bucket: bucket, Index: x}, nil
		}
		o, err := parseObjectLine(l)
		if err != nil {
			return Manifest{}, p.fail("%v", err)
		}
		if n > 0 && o.Key <= prev {
			what := "out of order"
			if o.Key == prev {
				what = "duplicated"
			}
			return Manifest{}, p.fail("key %q is %s (keys must be in increasing byte order)", o.Key, what)
		}
		if err := b.add(o); err != nil {
			return Manifest{}, p.fail("%v", err)
		}
		prev = o.Key
	}
}
