package fs

import (
	"context"
	"errors"
	"io"
	"slices"
	"testing"

	"github.com/ossmount/ossmount/oss"
)

// storeContract is the behaviour fs relies on from a Store. It runs on the
// fake here; the same table can run on oss.Client against the emulator,
// so that the fake cannot drift from the real thing. newStore returns a
// store holding exactly objects.
func storeContract(t *testing.T, newStore func(t *testing.T, objects map[string]string) Store) {
	ctx := context.Background()
	objects := map[string]string{
		"a":        "file a",
		"a.txt":    "text",
		"a/":       "",
		"a/b":      "bee",
		"a/c/d":    "deep",
		"a-1":      "dash",
		"z":        "zed",
		"dir/x":    "x",
		"dir/y/":   "",
		"dir//odd": "odd",
	}
	s := newStore(t, objects)

	// listAll pages through a listing with the given page size.
	listAll := func(t *testing.T, in oss.ListInput) (keys, prefixes []string, pages int) {
		t.Helper()
		for {
			page, err := s.List(ctx, in)
			if err != nil {
				t.Fatalf("List(%+v): %v", in, err)
			}
			pages++
			for _, o := range page.Objects {
				keys = append(keys, o.Key)
			}
			prefixes = append(prefixes, page.CommonPrefixes...)
			if !page.IsTruncated {
				return keys, prefixes, pages
			}
			if page.NextContinuationToken == "" {
				t.Fatal("truncated page without a continuation token")
			}
			in.ContinuationToken = page.NextContinuationToken
			if pages > 100 {
				t.Fatal("listing does not end")
			}
		}
	}

	cases := []struct {
		name         string
		in           oss.ListInput
		wantKeys     []string
		wantPrefixes []string
	}{
		{"root with delimiter", oss.ListInput{Delimiter: "/"},
			[]string{"a", "a-1", "a.txt", "z"}, []string{"a/", "dir/"}},
		{"directory with marker", oss.ListInput{Prefix: "a/", Delimiter: "/"},
			[]string{"a/", "a/b"}, []string{"a/c/"}},
		{"empty segment rolls up", oss.ListInput{Prefix: "dir/", Delimiter: "/"},
			[]string{"dir/x"}, []string{"dir//", "dir/y/"}},
		{"one page size", oss.ListInput{Delimiter: "/", MaxKeys: 1},
			[]string{"a", "a-1", "a.txt", "z"}, []string{"a/", "dir/"}},
		{"flat", oss.ListInput{Prefix: "a/"},
			[]string{"a/", "a/b", "a/c/d"}, nil},
		{"start after", oss.ListInput{Delimiter: "/", StartAfter: "a.txt"},
			[]string{"z"}, []string{"a/", "dir/"}},
		{"is it a directory", oss.ListInput{Prefix: "a/", Delimiter: "/", MaxKeys: 1},
			[]string{"a/", "a/b"}, []string{"a/c/"}},
		{"not a directory", oss.ListInput{Prefix: "z/", Delimiter: "/", MaxKeys: 1}, nil, nil},
	}
	for _, c := range cases {
		t.Run("list "+c.name, func(t *testing.T) {
			keys, prefixes, _ := listAll(t, c.in)
			if !slices.Equal(keys, c.wantKeys) || !slices.Equal(prefixes, c.wantPrefixes) {
				t.Errorf("got keys %q prefixes %q, want %q %q", keys, prefixes, c.wantKeys, c.wantPrefixes)
			}
		})
	}
	t.Run("list max keys bounds a page", func(t *testing.T) {
		page, err := s.List(ctx, oss.ListInput{Delimiter: "/", MaxKeys: 2})
		if err != nil {
			t.Fatal(err)
		}
		if n := len(page.Objects) + len(page.CommonPrefixes); n != 2 || !page.IsTruncated {
			t.Errorf("got %d items, truncated %v; want 2, true", n, page.IsTruncated)
		}
	})

	t.Run("head present", func(t *testing.T) {
		info, err := s.Head(ctx, "a/b")
		if err != nil {
			t.Fatal(err)
		}
		if info.Size != 3 || info.ETag == "" || info.LastModified.IsZero() {
			t.Errorf("got %+v", info)
		}
	})
	t.Run("head missing", func(t *testing.T) {
		_, err := s.Head(ctx, "a/nope")
		if !errors.Is(err, oss.ErrNotFound) {
			t.Errorf("got %v, want ErrNotFound", err)
		}
	})
	t.Run("head of a directory name", func(t *testing.T) {
		if _, err := s.Head(ctx, "dir"); !errors.Is(err, oss.ErrNotFound) {
			t.Errorf("got %v, want ErrNotFound", err)
		}
	})

	get := func(t *testing.T, key, etag string, off, n int64) (string, error) {
		t.Helper()
		body, err := s.GetRange(ctx, key, etag, off, n)
		if err != nil {
			return "", err
		}
		defer body.Close()
		b, err := io.ReadAll(body)
		return string(b), err
	}
	info, err := s.Head(ctx, "a")
	if err != nil {
		t.Fatal(err)
	}
	rangeCases := []struct {
		name   string
		off, n int64
		want   string
	}{
		{"whole", 0, 6, "file a"},
		{"middle", 2, 2, "le"},
		{"past the end is clipped", 4, 100, " a"},
		{"at the end is empty", 6, 10, ""},
	}
	for _, c := range rangeCases {
		t.Run("get "+c.name, func(t *testing.T) {
			got, err := get(t, "a", info.ETag, c.off, c.n)
			if err != nil || got != c.want {
				t.Errorf("got %q, %v; want %q", got, err, c.want)
			}
		})
	}
	t.Run("get with another etag", func(t *testing.T) {
		_, err := get(t, "a", `"not-the-etag"`, 0, 1)
		if !errors.Is(err, oss.ErrPreconditionFailed) {
			t.Errorf("got %v, want ErrPreconditionFailed", err)
		}
	})
	t.Run("get missing", func(t *testing.T) {
		_, err := get(t, "nope", "", 0, 1)
		if !errors.Is(err, oss.ErrNotFound) {
			t.Errorf("got %v, want ErrNotFound", err)
		}
	})
}

func TestFakeStoreContract(t *testing.T) {
	storeContract(t, func(t *testing.T, objects map[string]string) Store {
		s := newFakeStore()
		for k, v := range objects {
			s.put(k, []byte(v))
		}
		return s
	})
}
