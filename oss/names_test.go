package oss

import (
	"strconv"
	"strings"
	"testing"
)

func TestCheckBucket(t *testing.T) {
	for _, b := range []string{"abc", "my-bucket", "0-9", strings.Repeat("a", 63)} {
		if err := CheckBucket(b); err != nil {
			t.Errorf("CheckBucket(%q): %v", b, err)
		}
	}
	for _, b := range []string{"", "ab", "-ab", "ab-", "A-b", "a.b", "a_b", "a b", "ab\x00", strings.Repeat("a", 64)} {
		err := CheckBucket(b)
		if err == nil || !strings.Contains(err.Error(), "is not a bucket name") {
			t.Errorf("CheckBucket(%q) = %v, want an error", b, err)
		}
	}
}

func TestCheckPrefix(t *testing.T) {
	for _, p := range []string{"", "/", "a", "a/", "a/b/c/", "a b/文件/.../.hidden/..a/a../~$%&*?+", "a/" + strings.Repeat("x", 255),
		strings.Repeat("x/", 511), strings.Repeat(strings.Repeat("x", 254)+"/", 4) + "ab/"} {
		if err := CheckPrefix(p); err != nil {
			t.Errorf("CheckPrefix(%.40q): %.200v", p, err)
		}
	}
	for _, tc := range []struct{ name, prefix, rule string }{
		{"dot-dot", "a/../x", `a ".." segment`},
		{"dot-dot alone", "..", `a ".." segment`},
		{"dot", "a/./x/", `a "." segment`},
		{"trailing dot", "a/.", `a "." segment`},
		{"NUL", "a/b\x00c", "NUL byte"},
		{"empty segment", "a//b", "empty path segment"},
		{"leading slash", "/a", "empty path segment"},
		{"long segment", "a/" + strings.Repeat("x", 256) + "/b", "segment of 256 bytes, over the file name limit of 255"},
		{"long prefix", strings.Repeat("x/", 512), "is 1024 bytes with its trailing '/', over OSS's key limit of 1023"},
		{"long prefix without slash", strings.Repeat("x", 1023), "is 1024 bytes"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := CheckPrefix(tc.prefix)
			if err == nil || !strings.Contains(err.Error(), tc.rule) || !strings.Contains(err.Error(), "prefix "+quoteShort(tc.prefix)) ||
				strings.Contains(err.Error(), "\n") {
				t.Fatalf("CheckPrefix(%.40q) = %.200v; want one line naming the prefix and %q", tc.prefix, err, tc.rule)
			}
		})
	}
}

// quoteShort is the start of %q of s, enough to find it in a message.
func quoteShort(s string) string {
	q := strconv.Quote(s)
	return q[:min(len(q), 20)]
}
