package fs

import (
	"strings"
	"testing"
)

func TestLinkTarget(t *testing.T) {
	const out = outsideMount + "/"
	tests := []struct {
		name, root, link, target, want string
	}{
		{"sibling", "", "a/link", "a/file", "file"},
		{"at root", "", "link", "file", "file"},
		{"down", "", "link", "a/b/file", "a/b/file"},
		{"up and across", "", "a/b/link", "a/c/file", "../c/file"},
		{"up to root", "", "a/b/link", "file", "../../file"},
		{"under a prefix", "p/q/", "p/q/a/link", "p/q/x/file", "../x/file"},
		{"own directory", "", "a/link", "a", "."},
		{"directory marker", "", "a/link", "b/", "../b"},
		{"mount root", "p/", "p/a/link", "p/", ".."},
		{"outside the prefix", "p/", "p/a/link", "q/file", "../" + out + "q/file"},
		{"prefix of the prefix", "p/", "link", "p", out + "p"},
		{"outside from root", "p/", "p/link", "other", out + "other"},
		{"dot-dot segment", "", "a/link", "a/../etc/passwd", "../" + out + "a/../etc/passwd"},
		{"empty segment", "", "link", "a//b", out + "a//b"},
		{"empty target", "", "link", "", out},
		{"long segment", "", "link", strings.Repeat("x", 256), out + strings.Repeat("x", 256)},
		{"itself", "", "a/link", "a/link", "link"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := linkTarget(tc.root, tc.link, tc.target); got != tc.want {
				t.Errorf("linkTarget(%q, %q, %q) = %q, want %q", tc.root, tc.link, tc.target, got, tc.want)
			}
		})
	}
}

// TestOutsideMountIsNoName: the marker a dangling link reads as can never
// be a listed or looked-up name, so such a link never resolves.
func TestOutsideMountIsNoName(t *testing.T) {
	if validName(outsideMount) {
		t.Fatalf("validName(%q) = true: a key could shadow the dangling-link marker", outsideMount)
	}
}
