package fs

import (
	"strings"
	"sync"
)

// maxNameLen is the longest path component Linux accepts (NAME_MAX).
const maxNameLen = 255

// validName reports whether s can be one path component: not empty, not "."
// or "..", no "/" or NUL byte, at most 255 bytes, not outsideMount (the
// name reserved for dangling links, symlink.go). Keys with a component
// that fails this are skipped (and counted), never shown.
func validName(s string) bool {
	return s != "" && s != "." && s != ".." && len(s) <= maxNameLen &&
		!strings.ContainsAny(s, "/\x00") && s != outsideMount
}

// validPrefix reports whether p is "" or a sequence of valid components
// each followed by "/".
func validPrefix(p string) bool {
	if p == "" {
		return true
	}
	if !strings.HasSuffix(p, "/") {
		return false
	}
	for _, seg := range strings.Split(strings.TrimSuffix(p, "/"), "/") {
		if !validName(seg) {
			return false
		}
	}
	return true
}

// maxShadowLogged bounds the memory spent on remembering which shadowed
// files were already logged; beyond it shadowing is only counted.
const maxShadowLogged = 10000

// onceSet remembers keys already logged, so that each shadowed file is
// logged once per mount, with a bounded set.
type onceSet struct {
	mu   sync.Mutex // guards seen
	seen map[string]struct{}
}

// first reports whether key was not seen before (and remembers it while
// there is room).
func (s *onceSet) first(key string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.seen[key]; ok {
		return false
	}
	if s.seen == nil {
		s.seen = make(map[string]struct{})
	}
	if len(s.seen) >= maxShadowLogged {
		return false
	}
	s.seen[key] = struct{}{}
	return true
}
