package emulator

import (
	"crypto/md5"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"hash/fnv"
	"io"
	"sort"
	"strings"
	"sync"
)

// Generated describes objects whose content is never stored: every byte is a
// deterministic function of Seed, the key and the offset (see
// GeneratedContent), so a set can hold a 4 GiB object or a million keys,
// including keys no filesystem could hold.
//
// The key set is either Keys (any byte strings, used as given) or, when Keys
// is empty, Count keys made from KeyFormat. KeyFormat is a fmt format whose
// verbs all take integers: for key index i (0..Count-1) the LAST verb receives
// i, the one before it i/PerDir, the one before that i/PerDir², and so on.
// So {Count: 100000, KeyFormat: "dir%03d/file%06d", PerDir: 1000} makes
// dir000/file000000 .. dir099/file099999, one thousand files per directory.
// PerDir 0 means 1000. A KeyFormat without verbs is used as is when Count
// is 1 and gets the decimal index appended otherwise. Every object has Size
// bytes, the same Last-Modified (2024-01-01) and cannot be deleted singly.
//
// Keys are kept as a sorted index: when the formatted keys are already in
// byte-wise order (zero-padded numbers) nothing is materialised and a key is
// formatted on demand; otherwise the keys are built and sorted once, on first
// use.
type Generated struct {
	Keys      []string
	Count     int
	KeyFormat string
	PerDir    int
	Size      int64
	Seed      int64
}

// generatedSet is one AddGenerated call: a sorted, immutable key index.
type generatedSet struct {
	g     Generated
	verbs int

	once   sync.Once
	sorted []string // nil when the formula is monotonic
	n      int
}

func newGeneratedSet(g Generated) *generatedSet {
	gs := &generatedSet{g: g}
	if len(g.Keys) == 0 {
		gs.verbs = countVerbs(g.KeyFormat)
	}
	return gs
}

// countVerbs counts the fmt verbs in f ("%%" is not a verb).
func countVerbs(f string) int {
	n := 0
	for i := 0; i < len(f); i++ {
		if f[i] != '%' {
			continue
		}
		if i+1 < len(f) && f[i+1] == '%' {
			i++
			continue
		}
		n++
	}
	return n
}

func (gs *generatedSet) formatKey(i int) string {
	if gs.verbs == 0 {
		if gs.g.Count == 1 {
			return gs.g.KeyFormat
		}
		return fmt.Sprintf("%s%d", gs.g.KeyFormat, i)
	}
	per := gs.g.PerDir
	if per <= 0 {
		per = 1000
	}
	args := make([]any, gs.verbs)
	v := i
	for j := gs.verbs - 1; j >= 0; j-- {
		args[j] = v
		v /= per
	}
	return fmt.Sprintf(gs.g.KeyFormat, args...)
}

func (gs *generatedSet) init() {
	gs.once.Do(func() {
		if len(gs.g.Keys) > 0 {
			keys := append([]string(nil), gs.g.Keys...)
			sort.Strings(keys)
			keys = dedupSorted(keys)
			gs.sorted, gs.n = keys, len(keys)
			return
		}
		gs.n = gs.g.Count
		prev := ""
		for i := 0; i < gs.g.Count; i++ {
			k := gs.formatKey(i)
			if i > 0 && k <= prev {
				gs.materialise()
				return
			}
			prev = k
		}
	})
}

func (gs *generatedSet) materialise() {
	keys := make([]string, gs.g.Count)
	for i := range keys {
		keys[i] = gs.formatKey(i)
	}
	sort.Strings(keys)
	gs.sorted = dedupSorted(keys)
	gs.n = len(gs.sorted)
}

func dedupSorted(keys []string) []string {
	out := keys[:0]
	for i, k := range keys {
		if i == 0 || k != keys[i-1] {
			out = append(out, k)
		}
	}
	return out
}

// Len and Key make the set a sortedKeys source.
func (gs *generatedSet) Len() int { gs.init(); return gs.n }

func (gs *generatedSet) Key(i int) string {
	gs.init()
	if gs.sorted != nil {
		return gs.sorted[i]
	}
	return gs.formatKey(i)
}

func (gs *generatedSet) has(key string) bool {
	i := searchKeys(gs, key)
	return i < gs.Len() && gs.Key(i) == key
}

// sortedKeys is a byte-wise sorted list of distinct keys.
type sortedKeys interface {
	Len() int
	Key(i int) string
}

// searchKeys returns the index of the first key >= k.
func searchKeys(s sortedKeys, k string) int {
	return sort.Search(s.Len(), func(i int) bool { return s.Key(i) >= k })
}

// GeneratedContent returns the content of a generated object: size bytes of a
// pseudo-random stream that depends only on seed and key. The returned reader
// also implements io.ReaderAt and io.Seeker. Byte at offset o is byte o%8 (little
// endian) of splitmix64(base + o/8), base derived from seed and key by FNV-1a.
func GeneratedContent(seed int64, key string, size int64) io.Reader {
	return newGenReader(seed, key, size)
}

type genReader struct {
	base uint64
	size int64
	off  int64
}

func newGenReader(seed int64, key string, size int64) *genReader {
	h := fnv.New64a()
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], uint64(seed))
	h.Write(b[:])
	io.WriteString(h, key)
	return &genReader{base: h.Sum64(), size: size}
}

func splitmix64(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

func (g *genReader) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, fmt.Errorf("emulator: negative offset %d", off)
	}
	if off >= g.size {
		return 0, io.EOF
	}
	n := len(p)
	var err error
	if int64(n) > g.size-off {
		n = int(g.size - off)
		err = io.EOF
	}
	var w [8]byte
	i := 0
	for i < n {
		o := off + int64(i)
		word := uint64(o / 8)
		binary.LittleEndian.PutUint64(w[:], splitmix64(g.base+word))
		c := copy(p[i:n], w[o%8:])
		i += c
	}
	return n, err
}

func (g *genReader) Read(p []byte) (int, error) {
	n, err := g.ReadAt(p, g.off)
	g.off += int64(n)
	if err == io.EOF && n > 0 {
		err = nil
	}
	return n, err
}

func (g *genReader) Seek(offset int64, whence int) (int64, error) {
	switch whence {
	case io.SeekStart:
	case io.SeekCurrent:
		offset += g.off
	case io.SeekEnd:
		offset += g.size
	default:
		return 0, fmt.Errorf("emulator: bad whence %d", whence)
	}
	if offset < 0 {
		return 0, fmt.Errorf("emulator: negative position %d", offset)
	}
	g.off = offset
	return offset, nil
}

// generatedETag is a stable fake ETag: the MD5 of seed, key and size (not of
// the content, as for multipart objects on real OSS).
func generatedETag(seed int64, key string, size int64) string {
	h := md5.New()
	fmt.Fprintf(h, "%d\x00%s\x00%d", seed, key, size)
	return `"` + strings.ToUpper(hex.EncodeToString(h.Sum(nil))) + `"`
}
