package emulator

import (
	"bytes"
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"hash/crc64"
	"io"
	"io/fs"
	"mime"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"
)

var crcTable = crc64.MakeTable(crc64.ECMA)

// crc64ECMA is the value OSS sends in x-oss-hash-crc64ecma: Go's crc64 with
// the ECMA table already applies the init/xorout inversion that the OSS SDK's
// NewCRC64(0) relies on.
func crc64ECMA(r io.Reader) (uint64, error) {
	h := crc64.New(crcTable)
	_, err := io.Copy(h, r)
	return h.Sum64(), err
}

// maxGeneratedCRC bounds the generated objects whose CRC is computed (lazily,
// once): above it x-oss-hash-crc64ecma is omitted, which clients must accept.
const maxGeneratedCRC = 256 << 20

// objectInfo is what HEAD reports about one object.
type objectInfo struct {
	Key          string
	Size         int64
	ETag         string // quoted
	LastModified time.Time
	ContentType  string
	Meta         map[string]string
	CRC          string // decimal, "" to omit
	Symlink      string // the target key of a symbolic link; "" for other objects
	open         func() (io.ReaderAt, func() error, error)
}

type memObject struct {
	data []byte
	info objectInfo
}

type dirEntry struct {
	key   string
	path  string
	size  int64
	mtime time.Time
}

// sliceKeys adapts a sorted []string to sortedKeys.
type sliceKeys []string

func (s sliceKeys) Len() int         { return len(s) }
func (s sliceKeys) Key(i int) string { return s[i] }

type dirKeys []dirEntry

func (s dirKeys) Len() int         { return len(s) }
func (s dirKeys) Key(i int) string { return s[i].key }

// bucket holds the three object sources. Precedence on a key present in
// several: memory, then directory, then generated.
type bucket struct {
	name       string
	publicRead bool
	created    time.Time

	mem     map[string]*memObject
	memKeys sliceKeys // sorted; replaced, never mutated (copy on write)
	dir     dirKeys   // sorted; replaced on AddDirectory
	gens    []*generatedSet
}

// store is the object data; mu guards buckets and every bucket's fields.
// Generated sets and directory/memory key slices are immutable once published,
// so a listing snapshot can read them without the lock.
type store struct {
	now func() time.Time

	mu      sync.RWMutex
	buckets map[string]*bucket

	etagMu    sync.Mutex
	fileETags map[string]fileDigest // by path; valid while size and mtime match
	genCRC    map[string]string     // by seed, key, size
}

type fileDigest struct {
	size  int64
	mtime time.Time
	etag  string
	crc   string
}

func newStore(now func() time.Time) *store {
	return &store{now: now, buckets: map[string]*bucket{},
		fileETags: map[string]fileDigest{}, genCRC: map[string]string{}}
}

func (st *store) bucketLocked(name string) *bucket {
	b := st.buckets[name]
	if b == nil {
		b = &bucket{name: name, created: st.now().UTC().Truncate(time.Second), mem: map[string]*memObject{}}
		st.buckets[name] = b
	}
	return b
}

func (st *store) createBucket(name string, publicRead bool) {
	st.mu.Lock()
	defer st.mu.Unlock()
	st.bucketLocked(name).publicRead = publicRead
}

func (st *store) hasBucket(name string) bool {
	st.mu.RLock()
	defer st.mu.RUnlock()
	return st.buckets[name] != nil
}

func (st *store) isPublic(name string) bool {
	st.mu.RLock()
	defer st.mu.RUnlock()
	b := st.buckets[name]
	return b != nil && b.publicRead
}

func (st *store) put(bucketName, key string, data []byte, contentType string, meta map[string]string) {
	st.putObject(bucketName, key, data, contentType, meta, "")
}

// putObject stores an in-memory object; symlink, when not "", makes it a
// symbolic link to that key (data is then the target's bytes as stored).
func (st *store) putObject(bucketName, key string, data []byte, contentType string, meta map[string]string, symlink string) {
	data = bytes.Clone(data)
	sum := md5.Sum(data)
	crc := crc64.Checksum(data, crcTable)
	if contentType == "" {
		contentType = contentTypeFor(key)
	}
	m := make(map[string]string, len(meta))
	for k, v := range meta {
		m[strings.ToLower(k)] = v
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	b := st.bucketLocked(bucketName)
	lm := st.now().UTC().Truncate(time.Second)
	old := b.mem[key]
	if old != nil && !lm.After(old.info.LastModified) {
		lm = old.info.LastModified.Add(time.Second) // a replacement is always newer
	}
	obj := &memObject{data: data}
	obj.info = objectInfo{
		Key: key, Size: int64(len(data)),
		ETag:         `"` + strings.ToUpper(hex.EncodeToString(sum[:])) + `"`,
		LastModified: lm, ContentType: contentType, Meta: m,
		CRC: fmt.Sprint(crc), Symlink: symlink,
		open: func() (io.ReaderAt, func() error, error) {
			return bytes.NewReader(obj.data), func() error { return nil }, nil
		},
	}
	b.mem[key] = obj
	if old == nil {
		i := sort.SearchStrings(b.memKeys, key)
		keys := make(sliceKeys, 0, len(b.memKeys)+1)
		keys = append(append(append(keys, b.memKeys[:i]...), key), b.memKeys[i:]...)
		b.memKeys = keys
	}
}

func (st *store) delete(bucketName, key string) {
	st.mu.Lock()
	defer st.mu.Unlock()
	b := st.buckets[bucketName]
	if b == nil {
		return
	}
	if b.mem[key] != nil {
		delete(b.mem, key)
		i := sort.SearchStrings(b.memKeys, key)
		keys := make(sliceKeys, 0, len(b.memKeys))
		b.memKeys = append(append(keys, b.memKeys[:i]...), b.memKeys[i+1:]...)
	}
	if i := searchKeys(b.dir, key); i < len(b.dir) && b.dir[i].key == key {
		d := make(dirKeys, 0, len(b.dir))
		b.dir = append(append(d, b.dir[:i]...), b.dir[i+1:]...)
	}
	// Generated objects cannot be deleted one by one; documented.
}

func (st *store) addGenerated(bucketName string, g Generated) {
	gs := newGeneratedSet(g)
	st.mu.Lock()
	defer st.mu.Unlock()
	b := st.bucketLocked(bucketName)
	b.gens = append(b.gens[:len(b.gens):len(b.gens)], gs)
}

// addDirectory makes each subdirectory of root a bucket and each regular
// file below it an object keyed by its slash-separated relative path.
func (st *store) addDirectory(root string) error {
	ents, err := os.ReadDir(root)
	if err != nil {
		return fmt.Errorf("emulator: add directory: %w", err)
	}
	for _, e := range ents {
		if !e.IsDir() {
			continue
		}
		base := filepath.Join(root, e.Name())
		var files dirKeys
		err := filepath.WalkDir(base, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if !d.Type().IsRegular() {
				return nil
			}
			fi, err := d.Info()
			if err != nil {
				return err
			}
			rel, err := filepath.Rel(base, p)
			if err != nil {
				return err
			}
			files = append(files, dirEntry{key: filepath.ToSlash(rel), path: p, size: fi.Size(),
				mtime: fi.ModTime().UTC().Truncate(time.Second)})
			return nil
		})
		if err != nil {
			return fmt.Errorf("emulator: add directory %s: %w", base, err)
		}
		sort.Slice(files, func(i, j int) bool { return files[i].key < files[j].key })
		st.mu.Lock()
		b := st.bucketLocked(e.Name())
		b.dir = mergeDir(b.dir, files)
		st.mu.Unlock()
	}
	return nil
}

func mergeDir(old, add dirKeys) dirKeys {
	byKey := make(map[string]dirEntry, len(old)+len(add))
	for _, e := range old {
		byKey[e.key] = e
	}
	for _, e := range add {
		byKey[e.key] = e
	}
	out := make(dirKeys, 0, len(byKey))
	for _, e := range byKey {
		out = append(out, e)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].key < out[j].key })
	return out
}

// lookup finds an object. ok=false with bucketOK=false means no such bucket.
func (st *store) lookup(bucketName, key string, withCRC bool) (info objectInfo, ok, bucketOK bool, err error) {
	st.mu.RLock()
	b := st.buckets[bucketName]
	if b == nil {
		st.mu.RUnlock()
		return objectInfo{}, false, false, nil
	}
	if m := b.mem[key]; m != nil {
		info := m.info
		st.mu.RUnlock()
		return info, true, true, nil
	}
	dir, gens := b.dir, b.gens
	st.mu.RUnlock()
	if i := searchKeys(dir, key); i < len(dir) && dir[i].key == key {
		info, err := st.fileInfo(dir[i])
		return info, err == nil, true, err
	}
	for _, gs := range gens {
		if gs.has(key) {
			return st.genInfo(gs, key, withCRC), true, true, nil
		}
	}
	return objectInfo{}, false, true, nil
}

func (st *store) fileInfo(e dirEntry) (objectInfo, error) {
	st.etagMu.Lock()
	d, ok := st.fileETags[e.path]
	st.etagMu.Unlock()
	if !ok || d.size != e.size || !d.mtime.Equal(e.mtime) {
		f, err := os.Open(e.path)
		if err != nil {
			return objectInfo{}, fmt.Errorf("emulator: %w", err)
		}
		h, c := md5.New(), crc64.New(crcTable)
		_, err = io.Copy(io.MultiWriter(h, c), f)
		f.Close()
		if err != nil {
			return objectInfo{}, fmt.Errorf("emulator: %w", err)
		}
		d = fileDigest{size: e.size, mtime: e.mtime,
			etag: `"` + strings.ToUpper(hex.EncodeToString(h.Sum(nil))) + `"`, crc: fmt.Sprint(c.Sum64())}
		st.etagMu.Lock()
		st.fileETags[e.path] = d
		st.etagMu.Unlock()
	}
	p := e.path
	return objectInfo{Key: e.key, Size: e.size, ETag: d.etag, LastModified: e.mtime,
		ContentType: contentTypeFor(e.key), CRC: d.crc,
		open: func() (io.ReaderAt, func() error, error) {
			f, err := os.Open(p)
			if err != nil {
				return nil, nil, err
			}
			return f, f.Close, nil
		}}, nil
}

// generatedEpoch is the Last-Modified of every generated object.
var generatedEpoch = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)

func (st *store) genInfo(gs *generatedSet, key string, withCRC bool) objectInfo {
	g := gs.g
	info := objectInfo{Key: key, Size: g.Size, ETag: generatedETag(g.Seed, key, g.Size),
		LastModified: generatedEpoch, ContentType: contentTypeFor(key),
		open: func() (io.ReaderAt, func() error, error) {
			return newGenReader(g.Seed, key, g.Size), func() error { return nil }, nil
		}}
	if withCRC && g.Size <= maxGeneratedCRC {
		id := fmt.Sprintf("%d\x00%s\x00%d", g.Seed, key, g.Size)
		st.etagMu.Lock()
		crc, ok := st.genCRC[id]
		st.etagMu.Unlock()
		if !ok {
			v, _ := crc64ECMA(newGenReader(g.Seed, key, g.Size))
			crc = fmt.Sprint(v)
			st.etagMu.Lock()
			st.genCRC[id] = crc
			st.etagMu.Unlock()
		}
		info.CRC = crc
	}
	return info
}

// snapshot returns the bucket's key sources for a listing.
func (st *store) snapshot(bucketName string) ([]sortedKeys, bool) {
	st.mu.RLock()
	defer st.mu.RUnlock()
	b := st.buckets[bucketName]
	if b == nil {
		return nil, false
	}
	srcs := []sortedKeys{b.memKeys, b.dir}
	for _, g := range b.gens {
		srcs = append(srcs, g)
	}
	return srcs, true
}

// listedMeta reports size, ETag and Last-Modified (no CRC) of key, found
// at index idx of srcs[src] of a snapshot.
func (st *store) listedMeta(bucketName string, srcs []sortedKeys, src, idx int, key string) (objectInfo, bool) {
	switch s := srcs[src].(type) {
	case dirKeys:
		info, err := st.fileInfo(s[idx])
		return info, err == nil
	case *generatedSet:
		return st.genInfo(s, key, false), true
	}
	info, ok, _, err := st.lookup(bucketName, key, false)
	return info, ok && err == nil
}

func contentTypeFor(key string) string {
	if t := mime.TypeByExtension(path.Ext(key)); t != "" {
		return t
	}
	return "application/octet-stream"
}
