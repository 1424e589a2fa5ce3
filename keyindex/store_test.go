package keyindex

import (
	"context"
	"errors"
	"io"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ossmount/ossmount/oss"
)

// recordingBackend counts calls and answers List from an index of its own
// (so the index's tokens are not its tokens) and Head from a map.
type recordingBackend struct {
	x                  *Index
	lists, heads, gets atomic.Int64
	lastList           oss.ListInput
}

func (r *recordingBackend) List(ctx context.Context, in oss.ListInput) (oss.ListPage, error) {
	r.lists.Add(1)
	r.lastList = in
	if in.ContinuationToken != "" && !strings.HasPrefix(in.ContinuationToken, "backend:") {
		return oss.ListPage{}, errors.New("a token the backend never gave")
	}
	in.ContinuationToken = strings.TrimPrefix(in.ContinuationToken, "backend:")
	if in.ContinuationToken != "" {
		in.ContinuationToken = tokenPrefix + in.ContinuationToken
	}
	p := r.x.list(in)
	if p.IsTruncated {
		p.NextContinuationToken = "backend:" + strings.TrimPrefix(p.NextContinuationToken, tokenPrefix)
	}
	return p, nil
}

func (r *recordingBackend) Head(ctx context.Context, key string) (oss.ObjectInfo, error) {
	r.heads.Add(1)
	if i, ok := r.x.find(key); ok {
		return r.x.Object(i), nil
	}
	return oss.ObjectInfo{}, oss.ErrNotFound
}

func (r *recordingBackend) GetRange(ctx context.Context, key, etag string, off, n int64) (io.ReadCloser, error) {
	r.gets.Add(1)
	return io.NopCloser(strings.NewReader("")), nil
}

func indexOf(t *testing.T, root string, keys ...string) *Index {
	t.Helper()
	b := newBuilder(root)
	for _, k := range keys {
		if err := b.add(oss.ObjectInfo{Key: k, Size: int64(len(k)), ETag: `"` + k + `"`}); err != nil {
			t.Fatal(err)
		}
	}
	x, err := b.finish()
	if err != nil {
		t.Fatal(err)
	}
	return x
}

type clock struct{ now atomic.Int64 }

func (c *clock) Now() time.Time { return time.Unix(0, c.now.Load()) }

// Inside the root and within the TTL, List and Head cost no request (a
// missing key is ErrNotFound); outside the root, or after the TTL, they go
// to the backend; GetRange always does.
func TestStoreAnswersUntilTTL(t *testing.T) {
	x := indexOf(t, "r/", "r/a", "r/d/b", "r/d/c")
	backend := &recordingBackend{x: indexOf(t, "", "r/a", "r/d/b", "r/d/c", "r/new", "other")}
	clk := &clock{}
	clk.now.Store(time.Unix(2000, 0).UnixNano()) // the index was listed at 1000 s: the TTL starts now
	s, err := New(Config{TTL: time.Minute, Now: clk.Now}, x, backend)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if o, err := s.Head(ctx, "r/d/b"); err != nil || o.Size != 5 || o.ETag != `"r/d/b"` {
		t.Fatalf("head: %+v %v", o, err)
	}
	if _, err := s.Head(ctx, "r/new"); !errors.Is(err, oss.ErrNotFound) {
		t.Fatalf("head of a key the index lacks: %v, want ErrNotFound", err)
	}
	if p, err := s.List(ctx, oss.ListInput{Prefix: "r/", Delimiter: "/"}); err != nil || len(p.Objects) != 1 || len(p.CommonPrefixes) != 1 {
		t.Fatalf("list: %+v %v", p, err)
	}
	s.GetRange(ctx, "r/a", `"r/a"`, 0, 1)
	if backend.lists.Load() != 0 || backend.heads.Load() != 0 || backend.gets.Load() != 1 {
		t.Fatalf("backend saw %d LIST %d HEAD %d GET within the TTL, want 0 0 1", backend.lists.Load(), backend.heads.Load(), backend.gets.Load())
	}
	s.Head(ctx, "other")
	s.List(ctx, oss.ListInput{Prefix: ""})
	if backend.lists.Load() != 1 || backend.heads.Load() != 1 {
		t.Fatalf("calls outside the root did not reach the backend")
	}

	// A listing begun from the index, paged one entry at a time.
	first, _ := s.List(ctx, oss.ListInput{Prefix: "r/", MaxKeys: 1})
	clk.now.Add(int64(time.Minute - 1))
	if _, err := s.Head(ctx, "r/new"); !errors.Is(err, oss.ErrNotFound) {
		t.Fatalf("head just before the TTL: %v, want the index's answer", err)
	}
	clk.now.Add(1)
	if _, err := s.Head(ctx, "r/new"); err != nil {
		t.Fatalf("head after the TTL: %v, want the backend's answer", err)
	}
	// ...continues from the backend, from its last key, after the TTL.
	next, err := s.List(ctx, oss.ListInput{Prefix: "r/", MaxKeys: 1, ContinuationToken: first.NextContinuationToken})
	if err != nil || len(next.Objects) != 1 || next.Objects[0].Key != "r/d/b" {
		t.Fatalf("listing continued after the TTL: %+v %v, want r/d/b", next, err)
	}
	if backend.lastList.StartAfter != "r/a" || backend.lastList.ContinuationToken != "" {
		t.Fatalf("backend asked %+v, want start-after r/a", backend.lastList)
	}
	if s.index.Load() != nil {
		t.Fatal("the index is still held after its TTL")
	}
}

// Forever never expires, whatever the clock says.
func TestStoreForever(t *testing.T) {
	x := indexOf(t, "", "a")
	backend := &recordingBackend{x: x}
	clk := &clock{}
	s, _ := New(Config{TTL: Forever, Now: clk.Now}, x, backend)
	clk.now.Store(1 << 62)
	if _, err := s.Head(context.Background(), "b"); !errors.Is(err, oss.ErrNotFound) || backend.heads.Load() != 0 {
		t.Fatalf("head after a long time: %v, backend HEADs %d", err, backend.heads.Load())
	}
}
