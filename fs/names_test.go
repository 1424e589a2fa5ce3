package fs

import (
	"strings"
	"testing"
)

func TestValidName(t *testing.T) {
	cases := []struct {
		name string
		in   string
		want bool
	}{
		{"plain", "a.txt", true},
		{"unicode", "文件.bin", true},
		{"space and dots", " .. x", true},
		{"255 bytes", strings.Repeat("x", 255), true},
		{"empty", "", false},
		{"dot", ".", false},
		{"dotdot", "..", false},
		{"slash", "a/b", false},
		{"nul", "a\x00b", false},
		{"256 bytes", strings.Repeat("x", 256), false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := validName(c.in); got != c.want {
				t.Errorf("validName(%q) = %v, want %v", c.in, got, c.want)
			}
		})
	}
}

func TestValidPrefix(t *testing.T) {
	cases := []struct {
		in   string
		want bool
	}{
		{"", true}, {"a/", true}, {"a/b/", true},
		{"a", false}, {"/", false}, {"a//", false}, {"./", false}, {"a/../", false},
	}
	for _, c := range cases {
		t.Run(c.in, func(t *testing.T) {
			if got := validPrefix(c.in); got != c.want {
				t.Errorf("validPrefix(%q) = %v, want %v", c.in, got, c.want)
			}
		})
	}
}
