package fs

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/ossmount/ossmount/oss"
)

// fakeStore is an in-memory Store with ListObjectsV2 semantics, request
// counters, error injection and replace/delete while mounted.
type fakeStore struct {
	mu      sync.Mutex // guards the fields below
	objects map[string]fakeObject
	counts  map[string]int // by op: list, head, get
	seq     int
	// inject, if set, is asked before each request; a non-nil error is returned instead.
	inject func(op, key string) error
	// headGate, if set, is waited on by every HEAD (to hold lookups in flight).
	headGate chan struct{}
}

type fakeObject struct {
	data  []byte
	etag  string
	mtime time.Time
}

var fakeEpoch = time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC)

func newFakeStore() *fakeStore {
	return &fakeStore{objects: make(map[string]fakeObject), counts: make(map[string]int)}
}

// put creates or replaces key with a new ETag and a later mtime.
func (s *fakeStore) put(key string, data []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.seq++
	s.objects[key] = fakeObject{
		data:  slices.Clone(data),
		etag:  fmt.Sprintf("\"etag-%d\"", s.seq),
		mtime: fakeEpoch.Add(time.Duration(s.seq) * time.Second),
	}
}

func (s *fakeStore) del(key string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.objects, key)
}

func (s *fakeStore) object(key string) (fakeObject, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	o, ok := s.objects[key]
	return o, ok
}

func (s *fakeStore) count(op string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.counts[op]
}

func (s *fakeStore) total() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, c := range s.counts {
		n += c
	}
	return n
}

func (s *fakeStore) resetCounts() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.counts = make(map[string]int)
}

func (s *fakeStore) setInject(f func(op, key string) error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.inject = f
}

// begin counts a request and returns an injected error, if any.
func (s *fakeStore) begin(op, key string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.counts[op]++
	if s.inject != nil {
		return s.inject(op, key)
	}
	return nil
}

func serviceError(op, key string, status int, code string) error {
	return &oss.ServiceError{StatusCode: status, Code: code, Op: op, Key: key, RequestID: "fake-" + op + "-" + code}
}

func (s *fakeStore) List(ctx context.Context, in oss.ListInput) (oss.ListPage, error) {
	if err := s.begin("list", in.Prefix); err != nil {
		return oss.ListPage{}, err
	}
	if err := ctx.Err(); err != nil {
		return oss.ListPage{}, err
	}
	maxKeys := in.MaxKeys
	if maxKeys <= 0 || maxKeys > 1000 {
		maxKeys = 1000
	}
	marker := in.StartAfter
	if in.ContinuationToken != "" {
		t, ok := strings.CutPrefix(in.ContinuationToken, "tok:")
		if !ok {
			return oss.ListPage{}, serviceError("list", in.Prefix, http.StatusBadRequest, "InvalidArgument")
		}
		marker = t
	}
	s.mu.Lock()
	keys := make([]string, 0, len(s.objects))
	for k := range s.objects {
		if strings.HasPrefix(k, in.Prefix) && k > marker {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	var page oss.ListPage
	var last string
	for _, k := range keys {
		item, rolled := k, false
		if in.Delimiter != "" {
			if i := strings.Index(k[len(in.Prefix):], in.Delimiter); i >= 0 {
				item, rolled = k[:len(in.Prefix)+i+len(in.Delimiter)], true
			}
		}
		if item == last || item == marker {
			continue // same common prefix as the previous key, or the one the token ended on
		}
		if len(page.Objects)+len(page.CommonPrefixes) == maxKeys {
			page.IsTruncated = true
			page.NextContinuationToken = "tok:" + last
			break
		}
		last = item
		if rolled {
			page.CommonPrefixes = append(page.CommonPrefixes, item)
			continue
		}
		o := s.objects[k]
		page.Objects = append(page.Objects, oss.ObjectInfo{
			Key: k, Size: int64(len(o.data)), ETag: o.etag, LastModified: o.mtime,
			ObjectType: "Normal",
		})
	}
	s.mu.Unlock()
	return page, nil
}

// holdHeads makes every HEAD wait until the returned channel is closed.
func (s *fakeStore) holdHeads() chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.headGate = make(chan struct{})
	return s.headGate
}

func (s *fakeStore) Head(ctx context.Context, key string) (oss.ObjectInfo, error) {
	if err := s.begin("head", key); err != nil {
		return oss.ObjectInfo{}, err
	}
	s.mu.Lock()
	gate := s.headGate
	s.mu.Unlock()
	if gate != nil {
		select {
		case <-gate:
		case <-ctx.Done():
			return oss.ObjectInfo{}, ctx.Err()
		}
	}
	o, ok := s.object(key)
	if !ok {
		return oss.ObjectInfo{}, serviceError("head", key, http.StatusNotFound, "NoSuchKey")
	}
	return oss.ObjectInfo{
		Key: key, Size: int64(len(o.data)), ETag: o.etag, LastModified: o.mtime,
		ObjectType: "Normal",
	}, nil
}

func (s *fakeStore) GetRange(ctx context.Context, key, etag string, off, n int64) (io.ReadCloser, error) {
	if err := s.begin("get", key); err != nil {
		return nil, err
	}
	o, ok := s.object(key)
	switch {
	case !ok:
		return nil, serviceError("get", key, http.StatusNotFound, "NoSuchKey")
	case etag != "" && etag != o.etag:
		return nil, serviceError("get", key, http.StatusPreconditionFailed, "PreconditionFailed")
	case off >= int64(len(o.data)):
		return io.NopCloser(bytes.NewReader(nil)), nil
	}
	end := int64(len(o.data))
	if n >= 0 {
		end = min(end, off+n)
	}
	return io.NopCloser(bytes.NewReader(o.data[off:end])), nil
}
