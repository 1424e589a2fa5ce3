package emulator_test

import (
	"fmt"
	"io"
	"net/http"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss"

	"github.com/ossmount/ossmount/test/emulator"
)

// oddKeys are keys no filesystem can hold, mixed into the big listing.
var oddKeys = []string{"a", "a/b", "a//b", "x/./y", "x/../y", "\xff\xfe-invalid-utf8", "line\nbreak",
	strings.Repeat("L", 300), "sp ace+plus/é", "dir050/file050000x", "dir050/"}

// expectedListing is the naive reference: every key or common prefix under
// prefix, in order.
func expectedListing(sorted []string, prefix, delim string) (keys, prefixes []string) {
	for _, k := range sorted {
		if !strings.HasPrefix(k, prefix) {
			continue
		}
		if delim != "" {
			if i := strings.Index(k[len(prefix):], delim); i >= 0 {
				cp := k[:len(prefix)+i+len(delim)]
				if len(prefixes) == 0 || prefixes[len(prefixes)-1] != cp {
					prefixes = append(prefixes, cp)
				}
				continue
			}
		}
		keys = append(keys, k)
	}
	return keys, prefixes
}

func TestListGeneratedPaging(t *testing.T) {
	s := startServer(t, emulator.Config{})
	s.AddGenerated("big", emulator.Generated{Count: 100000, KeyFormat: "dir%03d/file%06d", PerDir: 1000, Size: 10, Seed: 1})
	s.AddGenerated("big", emulator.Generated{Keys: oddKeys, Size: 3, Seed: 2})
	all := slices.Clone(oddKeys)
	for i := 0; i < 100000; i++ {
		all = append(all, fmt.Sprintf("dir%03d/file%06d", i/1000, i))
	}
	sort.Strings(all)
	c := staticClient(s, false)

	cases := []struct {
		prefix, delim string
		max           int32
		v1            bool
	}{
		{"", "", 1000, false},
		{"", "/", 10, false},
		{"dir042/", "/", 7, false},
		{"a", "/", 1, false},
		{"x/", "", 1, false},
		{"", "/", 3, true},
		{"dir050/", "/", 100, true},
	}
	for _, tc := range cases {
		t.Run(fmt.Sprintf("v1=%v prefix=%q delim=%q max=%d", tc.v1, tc.prefix, tc.delim, tc.max), func(t *testing.T) {
			wantKeys, wantPrefixes := expectedListing(all, tc.prefix, tc.delim)
			var gotKeys, gotPrefixes []string
			pages := 0
			if tc.v1 {
				p := c.NewListObjectsPaginator(&oss.ListObjectsRequest{Bucket: oss.Ptr("big"), Prefix: oss.Ptr(tc.prefix),
					Delimiter: oss.Ptr(tc.delim), MaxKeys: tc.max, EncodingType: oss.Ptr("url")})
				for p.HasNext() {
					page, err := p.NextPage(ctx(t))
					if err != nil {
						t.Fatal(err)
					}
					pages++
					for _, o := range page.Contents {
						gotKeys = append(gotKeys, *o.Key)
					}
					for _, cp := range page.CommonPrefixes {
						gotPrefixes = append(gotPrefixes, *cp.Prefix)
					}
				}
			} else {
				p := c.NewListObjectsV2Paginator(&oss.ListObjectsV2Request{Bucket: oss.Ptr("big"), Prefix: oss.Ptr(tc.prefix),
					Delimiter: oss.Ptr(tc.delim), MaxKeys: tc.max, EncodingType: oss.Ptr("url")})
				for p.HasNext() {
					page, err := p.NextPage(ctx(t))
					if err != nil {
						t.Fatal(err)
					}
					pages++
					if n := len(page.Contents) + len(page.CommonPrefixes); n != page.KeyCount || n > int(tc.max) {
						t.Fatalf("page %d: %d entries, KeyCount %d, max %d", pages, n, page.KeyCount, tc.max)
					}
					for _, o := range page.Contents {
						gotKeys = append(gotKeys, *o.Key)
					}
					for _, cp := range page.CommonPrefixes {
						gotPrefixes = append(gotPrefixes, *cp.Prefix)
					}
				}
			}
			if !slices.Equal(gotKeys, wantKeys) {
				t.Fatalf("keys: got %d, want %d; first diff at %d", len(gotKeys), len(wantKeys), firstDiff(gotKeys, wantKeys))
			}
			if !slices.Equal(gotPrefixes, wantPrefixes) {
				t.Fatalf("prefixes: got %q, want %q", gotPrefixes, wantPrefixes)
			}
			total := len(wantKeys) + len(wantPrefixes)
			if wantPages := (total + int(tc.max) - 1) / int(tc.max); pages != max(wantPages, 1) {
				t.Fatalf("%d pages for %d entries at %d per page", pages, total, tc.max)
			}
		})
	}
}

func firstDiff(a, b []string) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}

func TestListRawXML(t *testing.T) {
	s := startServer(t, emulator.Config{})
	s.CreateBucket("pub", true)
	s.PutObject("pub", "sp ace+plus/é", []byte("x"))
	get := func(q string) (int, string) {
		resp, err := http.Get(s.OSSURL() + "/pub/?" + q)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	cases := []struct {
		q      string
		status int
		want   []string
	}{
		{"list-type=2&encoding-type=url", 200, []string{"<Key>sp+ace%2Bplus%2F%C3%A9</Key>", "<KeyCount>1</KeyCount>", "<MaxKeys>100</MaxKeys>", "<EncodingType>url</EncodingType>"}},
		{"list-type=2&delimiter=/&encoding-type=url", 200, []string{"<Prefix>sp+ace%2Bplus%2F</Prefix>", "<Delimiter>%2F</Delimiter>"}},
		{"list-type=2", 200, []string{"<Key>sp ace+plus/é</Key>", "<IsTruncated>false</IsTruncated>"}},
		{"list-type=2&max-keys=0", 400, []string{"<Code>InvalidArgument</Code>"}},
		{"list-type=2&max-keys=1001", 400, []string{"<Code>InvalidArgument</Code>"}},
		{"list-type=3", 400, []string{"<Code>InvalidArgument</Code>"}},
		{"", 200, []string{"<Marker></Marker>", "<Owner>"}},
	}
	for _, tc := range cases {
		t.Run(tc.q, func(t *testing.T) {
			st, body := get(tc.q)
			if st != tc.status {
				t.Fatalf("status %d: %s", st, body)
			}
			for _, w := range tc.want {
				if !strings.Contains(body, w) {
					t.Fatalf("missing %q in %s", w, body)
				}
			}
		})
	}
}
