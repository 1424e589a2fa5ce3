package oss_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ossmount/ossmount/creds"
	"github.com/ossmount/ossmount/oss"
	"github.com/ossmount/ossmount/test/emulator"
)

const bucket = "test-bucket"

func startEmulator(t *testing.T, cfg emulator.Config) *emulator.Server {
	t.Helper()
	s, err := emulator.Start(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	s.CreateBucket(bucket, false)
	return s
}

// static returns fixed credentials.
type static creds.Credentials

func (p static) Retrieve(context.Context) (creds.Credentials, error) {
	return creds.Credentials(p), nil
}

var demo = static{AccessKeyID: emulator.DemoAccessKeyID, AccessKeySecret: creds.NewSecret(emulator.DemoAccessKeySecret)}

// newClient returns a path-style client for s with fast retries.
func newClient(t *testing.T, s *emulator.Server, p creds.Provider, mutate ...func(*oss.Config)) *oss.Client {
	t.Helper()
	cfg := oss.Config{
		Endpoint:       s.OSSURL(),
		Region:         s.Region(),
		Bucket:         bucket,
		MaxAttempts:    8,
		RetryBaseDelay: time.Millisecond,
		RetryMaxDelay:  5 * time.Millisecond,
	}
	for _, m := range mutate {
		m(&cfg)
	}
	c, err := oss.New(cfg, p)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// listAll walks every page and returns keys and prefixes in order.
func listAll(t *testing.T, c *oss.Client, in oss.ListInput) (keys, prefixes []string, pages int) {
	t.Helper()
	for page := (oss.ListPage{IsTruncated: true}); page.IsTruncated; in.ContinuationToken = page.NextContinuationToken {
		var err error
		if page, err = c.List(context.Background(), in); err != nil {
			t.Fatalf("list %+v: %v", in, err)
		}
		pages++
		for _, o := range page.Objects {
			if o.ETag == "" || o.LastModified.IsZero() {
				t.Errorf("object %q: missing ETag or LastModified: %+v", o.Key, o)
			}
			keys = append(keys, o.Key)
		}
		prefixes = append(prefixes, page.CommonPrefixes...)
		if page.IsTruncated && page.NextContinuationToken == in.ContinuationToken {
			t.Fatalf("list %+v: the continuation token did not advance", in)
		}
	}
	return keys, prefixes, pages
}

// oddKeys need encoding-type=url to survive XML.
var oddKeys = []string{"enc/a b", "enc/文件.bin", "enc/ctl\x01\x1fx", "enc/plus+sign", "enc/100%", "enc/~t(1)*",
	"enc/amp&lt;", "enc/q?x=y#z", "enc/sub/deeper"}

func TestEmulatorListPagination(t *testing.T) {
	s := startEmulator(t, emulator.Config{})
	var bulk []string
	for i := range 2345 {
		bulk = append(bulk, fmt.Sprintf("d%d/f%04d", i%3, i))
	}
	s.AddGenerated(bucket, emulator.Generated{Keys: bulk, Size: 10, Seed: 1})
	for _, k := range oddKeys {
		s.PutObject(bucket, k, []byte(k))
	}
	s.PutObject(bucket, "top", []byte("x"))
	want := slices.Concat(bulk, oddKeys, []string{"top"})
	slices.Sort(want)
	c := newClient(t, s, demo)

	t.Run("flat", func(t *testing.T) {
		s.ResetCounters()
		keys, prefixes, pages := listAll(t, c, oss.ListInput{})
		if !slices.Equal(keys, want) || len(prefixes) != 0 {
			t.Fatalf("got %d keys (%d prefixes), want %d; first diff %s", len(keys), len(prefixes), len(want), firstDiff(keys, want))
		}
		if wantPages := (len(want) + 999) / 1000; pages != wantPages || s.Counters().Requests["ListObjectsV2"] != wantPages {
			t.Errorf("pages %d, requests %d, want %d", pages, s.Counters().Requests["ListObjectsV2"], wantPages)
		}
	})
	t.Run("delimiter", func(t *testing.T) {
		keys, prefixes, _ := listAll(t, c, oss.ListInput{Delimiter: "/"})
		if !slices.Equal(keys, []string{"top"}) || !slices.Equal(prefixes, []string{"d0/", "d1/", "d2/", "enc/"}) {
			t.Fatalf("keys %q prefixes %q", keys, prefixes)
		}
	})
	t.Run("delimiter over 1000 keys", func(t *testing.T) {
		keys, prefixes, pages := listAll(t, c, oss.ListInput{Prefix: "d1/", Delimiter: "/"})
		var wantKeys []string
		for _, k := range want {
			if strings.HasPrefix(k, "d1/") {
				wantKeys = append(wantKeys, k)
			}
		}
		if !slices.Equal(keys, wantKeys) || len(prefixes) != 0 || pages != 1 {
			t.Fatalf("got %d keys in %d pages, want %d", len(keys), pages, len(wantKeys))
		}
	})
	t.Run("encoded keys small pages", func(t *testing.T) {
		keys, prefixes, pages := listAll(t, c, oss.ListInput{Prefix: "enc/", Delimiter: "/", MaxKeys: 2})
		var wantKeys []string
		for _, k := range oddKeys {
			if !strings.Contains(strings.TrimPrefix(k, "enc/"), "/") {
				wantKeys = append(wantKeys, k)
			}
		}
		slices.Sort(wantKeys)
		if !slices.Equal(keys, wantKeys) || !slices.Equal(prefixes, []string{"enc/sub/"}) || pages < 4 {
			t.Fatalf("keys %q prefixes %q pages %d; want %q", keys, prefixes, pages, wantKeys)
		}
	})
	t.Run("start-after", func(t *testing.T) {
		keys, _, _ := listAll(t, c, oss.ListInput{StartAfter: "enc/plus+sign"})
		i := slices.Index(want, "enc/plus+sign")
		if !slices.Equal(keys, want[i+1:]) {
			t.Fatalf("got %d keys, want %d; %s", len(keys), len(want[i+1:]), firstDiff(keys, want[i+1:]))
		}
	})
	t.Run("max-keys above 1000 is capped", func(t *testing.T) {
		page, err := c.List(context.Background(), oss.ListInput{MaxKeys: 5000})
		if err != nil || len(page.Objects) != 1000 || !page.IsTruncated {
			t.Fatalf("got %d objects, truncated %v, err %v", len(page.Objects), page.IsTruncated, err)
		}
	})
}

func firstDiff(a, b []string) string {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return fmt.Sprintf("at %d: %q vs %q", i, a[i], b[i])
		}
	}
	return fmt.Sprintf("lengths %d vs %d", len(a), len(b))
}

func TestEmulatorHead(t *testing.T) {
	s := startEmulator(t, emulator.Config{})
	s.PutObjectWithMeta(bucket, "dir/文件 a+b.txt", []byte("hello world"), "text/plain", map[string]string{"Author": "alice"})
	c := newClient(t, s, demo)
	info, err := c.Head(context.Background(), "dir/文件 a+b.txt")
	if err != nil {
		t.Fatal(err)
	}
	if info.Size != 11 || info.ETag == "" || info.ETag[0] != '"' || info.LastModified.IsZero() ||
		info.ObjectType != "Normal" {
		t.Fatalf("head: %+v", info)
	}
	_, err = c.Head(context.Background(), "missing")
	var se *oss.ServiceError
	if !errors.Is(err, oss.ErrNotFound) || !errors.As(err, &se) || se.RequestID == "" || se.Code != "NoSuchKey" {
		t.Fatalf("head of a missing key: %v (%#v)", err, se)
	}
}

func readRange(c *oss.Client, key, etag string, off, n int64) ([]byte, error) {
	r, err := c.GetRange(context.Background(), key, etag, off, n)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	return io.ReadAll(r)
}

func randomData(n int, seed uint64) []byte {
	r := rand.New(rand.NewPCG(seed, seed))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

func TestEmulatorGetRange(t *testing.T) {
	s := startEmulator(t, emulator.Config{})
	data := randomData(1000, 1)
	s.PutObject(bucket, "obj", data)
	c := newClient(t, s, demo)
	info, err := c.Head(context.Background(), "obj")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name      string
		off, n    int64
		from, end int
	}{
		{"first byte", 0, 1, 0, 1},
		{"last byte", 999, 1, 999, 1000},
		{"last byte to end", 999, -1, 999, 1000},
		{"whole", 0, -1, 0, 1000},
		{"middle", 100, 200, 100, 300},
		{"end past EOF", 500, 2000, 500, 1000},
		{"start at EOF", 1000, 10, 1000, 1000},
		{"start past EOF", 5000, -1, 1000, 1000},
		{"empty", 10, 0, 10, 10},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, etag := range []string{"", info.ETag} {
				got, err := readRange(c, "obj", etag, tc.off, tc.n)
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(got, data[tc.from:tc.end]) {
					t.Fatalf("etag %q: got %d bytes, want %d (bytes differ: %v)", etag, len(got), tc.end-tc.from, len(got) == tc.end-tc.from)
				}
			}
		})
	}
	t.Run("if-match fails", func(t *testing.T) {
		_, err := c.GetRange(context.Background(), "obj", `"0123456789ABCDEF0123456789ABCDEF"`, 0, 10)
		if !errors.Is(err, oss.ErrPreconditionFailed) {
			t.Fatalf("got %v, want ErrPreconditionFailed", err)
		}
	})
	t.Run("object replaced", func(t *testing.T) {
		s.PutObject(bucket, "obj2", data)
		old, err := c.Head(context.Background(), "obj2")
		if err != nil {
			t.Fatal(err)
		}
		s.PutObject(bucket, "obj2", data[:500])
		if _, err := readRange(c, "obj2", old.ETag, 0, -1); !errors.Is(err, oss.ErrPreconditionFailed) {
			t.Fatalf("got %v, want ErrPreconditionFailed", err)
		}
	})
	t.Run("missing", func(t *testing.T) {
		if _, err := c.GetRange(context.Background(), "nope", "", 0, 10); !errors.Is(err, oss.ErrNotFound) {
			t.Fatalf("got %v, want ErrNotFound", err)
		}
	})
}

// TestEmulatorVirtualHostedV1 reaches the emulator through a standard OSS
// host name (virtual-hosted style, region derived) with both signatures.
func TestEmulatorVirtualHostedV1(t *testing.T) {
	s := startEmulator(t, emulator.Config{})
	s.PutObject(bucket, "a b/c+d", []byte("payload"))
	addr := strings.TrimPrefix(s.OSSURL(), "http://")
	var hosts sync.Map
	tr := &http.Transport{DialContext: func(ctx context.Context, network, a string) (net.Conn, error) {
		hosts.Store(a, true)
		return (&net.Dialer{}).DialContext(ctx, network, addr)
	}}
	t.Cleanup(tr.CloseIdleConnections)
	for _, v := range []string{"v4", "v1"} {
		t.Run(v, func(t *testing.T) {
			c := newClient(t, s, demo, func(cfg *oss.Config) {
				cfg.Endpoint = "http://oss-cn-hangzhou.aliyuncs.com"
				cfg.Region = ""
				cfg.SignatureVersion = v
				cfg.HTTPClient = &http.Client{Transport: tr}
			})
			got, err := readRange(c, "a b/c+d", "", 2, 3)
			if err != nil || string(got) != "ylo" {
				t.Fatalf("get: %q, %v", got, err)
			}
			page, err := c.List(context.Background(), oss.ListInput{Prefix: "a b/"})
			if err != nil || len(page.Objects) != 1 || page.Objects[0].Key != "a b/c+d" {
				t.Fatalf("list: %+v, %v", page, err)
			}
		})
	}
	if _, ok := hosts.Load(bucket + ".oss-cn-hangzhou.aliyuncs.com:80"); !ok {
		t.Errorf("no request went to the virtual host")
	}
}
