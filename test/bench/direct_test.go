package bench

import (
	"context"
	"encoding/xml"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/ossmount/ossmount/test/emulator"
	"golang.org/x/sync/errgroup"
)

// direct is a baseline client: plain net/http against the emulator, no
// FUSE, anonymous requests to the public-read bench bucket, keep-alive
// connections, bodies copied into io.Discard through 1 MiB buffers.
type direct struct {
	base   string // http://127.0.0.1:PORT/bench/
	client *http.Client
}

func newDirect(emu *emulator.Server) *direct {
	tr := &http.Transport{
		MaxIdleConns:        256,
		MaxIdleConnsPerHost: 256,
		DisableCompression:  true,
		ReadBufferSize:      256 * KiB,
	}
	return &direct{base: emu.OSSURL() + "/" + bucket + "/", client: &http.Client{Transport: tr}}
}

func (d *direct) close() { d.client.CloseIdleConnections() }

var bufPool = sync.Pool{New: func() any { b := make([]byte, MiB); return &b }}

// get reads n bytes at off of key (the whole object when n < 0) and
// discards them; it returns how many bytes arrived.
func (d *direct) get(ctx context.Context, key string, off, n int64) (int64, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, d.base+escapeKey(key), nil)
	if err != nil {
		return 0, err
	}
	want := http.StatusOK
	if n >= 0 {
		req.Header.Set("Range", fmt.Sprintf("bytes=%d-%d", off, off+n-1))
		want = http.StatusPartialContent
	}
	resp, err := d.client.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != want {
		return 0, fmt.Errorf("GET %s: %s", key, resp.Status)
	}
	buf := bufPool.Get().(*[]byte)
	defer bufPool.Put(buf)
	got, err := drain(resp.Body, *buf)
	if err == nil && n >= 0 && got != n {
		err = fmt.Errorf("GET %s range %d+%d: got %d bytes", key, off, n, got)
	}
	return got, err
}

// parallelGet reads size bytes of key as ranged GETs of part bytes with
// inflight requests at a time, the way a download tool does.
func (d *direct) parallelGet(ctx context.Context, key string, size, part int64, inflight int) error {
	var next atomic.Int64
	g, ctx := errgroup.WithContext(ctx)
	for range inflight {
		g.Go(func() error {
			for {
				off := next.Add(part) - part
				if off >= size {
					return nil
				}
				if _, err := d.get(ctx, key, off, min(part, size-off)); err != nil {
					return err
				}
			}
		})
	}
	return g.Wait()
}

// listPage is the part of a ListObjectsV2 answer the baselines use.
type listPage struct {
	Contents []struct {
		Key  string `xml:"Key"`
		Size int64  `xml:"Size"`
	} `xml:"Contents"`
	CommonPrefixes []struct {
		Prefix string `xml:"Prefix"`
	} `xml:"CommonPrefixes"`
	IsTruncated           bool   `xml:"IsTruncated"`
	NextContinuationToken string `xml:"NextContinuationToken"`
}

// listing is everything under one prefix.
type listing struct {
	keys     []string
	sizes    []int64
	prefixes []string
	pages    int
}

// listAll pages through ListObjectsV2 (1000 keys per page) under prefix.
func (d *direct) listAll(ctx context.Context, prefix, delimiter string) (listing, error) {
	var out listing
	token := ""
	for {
		q := url.Values{"list-type": {"2"}, "max-keys": {"1000"}, "prefix": {prefix}}
		if delimiter != "" {
			q.Set("delimiter", delimiter)
		}
		if token != "" {
			q.Set("continuation-token", token)
		}
		page, err := d.listPage(ctx, q)
		if err != nil {
			return out, err
		}
		out.pages++
		for _, c := range page.Contents {
			out.keys = append(out.keys, c.Key)
			out.sizes = append(out.sizes, c.Size)
		}
		for _, p := range page.CommonPrefixes {
			out.prefixes = append(out.prefixes, p.Prefix)
		}
		if !page.IsTruncated {
			return out, nil
		}
		if page.NextContinuationToken == "" {
			return out, fmt.Errorf("list %q: truncated page without a continuation token", prefix)
		}
		token = page.NextContinuationToken
	}
}

func (d *direct) listPage(ctx context.Context, q url.Values) (*listPage, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, d.base+"?"+q.Encode(), nil)
	if err != nil {
		return nil, err
	}
	resp, err := d.client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("list %v: %s", q, resp.Status)
	}
	var page listPage
	if err := xml.NewDecoder(resp.Body).Decode(&page); err != nil {
		return nil, fmt.Errorf("list %v: %w", q, err)
	}
	return &page, nil
}

// walk lists the tree under prefix directory by directory (delimiter "/"),
// one level at a time with up to workers directories listed in parallel, as
// a tool that walks directories does. It returns every key and the number of
// list pages.
func (d *direct) walk(ctx context.Context, prefix string, workers int) ([]string, int, error) {
	var (
		mu    sync.Mutex
		keys  []string
		pages int
	)
	level := []string{prefix}
	for len(level) > 0 {
		var next []string
		g, ctx := errgroup.WithContext(ctx)
		g.SetLimit(workers)
		for _, p := range level {
			g.Go(func() error {
				l, err := d.listAll(ctx, p, "/")
				if err != nil {
					return err
				}
				mu.Lock()
				defer mu.Unlock()
				keys = append(keys, l.keys...)
				next = append(next, l.prefixes...)
				pages += l.pages
				return nil
			})
		}
		if err := g.Wait(); err != nil {
			return nil, pages, err
		}
		level = next
	}
	return keys, pages, nil
}

// escapeKey escapes each path segment of key.
func escapeKey(key string) string {
	segs := strings.Split(key, "/")
	for i, s := range segs {
		segs[i] = url.PathEscape(s)
	}
	return strings.Join(segs, "/")
}
