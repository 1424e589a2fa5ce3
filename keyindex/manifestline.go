package keyindex

import (
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/ossmount/ossmount/oss"
)

// parseObjectLine reads KEY<TAB>SIZE<TAB>ETAG<TAB>LAST-MODIFIED, with a
// fifth field "symlink" for a symbolic link.
func parseObjectLine(l string) (oss.ObjectInfo, error) {
	if strings.HasPrefix(l, "#") {
		return oss.ObjectInfo{}, fmt.Errorf("unexpected %.40q: only the end line may start with '#' here", l)
	}
	f := strings.Split(l, "\t")
	var o oss.ObjectInfo
	switch {
	case len(f) == 5 && f[4] == "symlink":
		o.ObjectType = oss.ObjectTypeSymlink
	case len(f) == 5:
		return o, fmt.Errorf("fifth field %.30q, want \"symlink\" or none", f[4])
	case len(f) != 4:
		return o, fmt.Errorf("%d tab-separated fields, want 4 (key, size, ETag, last-modified) or 5 (then \"symlink\")", len(f))
	}
	var err error
	if o.Key, err = unescapeField(f[0]); err != nil {
		return o, fmt.Errorf("key: %v", err)
	}
	if o.Key == "" {
		return o, fmt.Errorf("empty key")
	}
	o.Size, err = strconv.ParseInt(f[1], 10, 64)
	if err != nil || o.Size < 0 || strconv.FormatInt(o.Size, 10) != f[1] {
		return o, fmt.Errorf("size %.30q is not a byte count", f[1])
	}
	if o.ETag, err = unescapeField(f[2]); err != nil {
		return o, fmt.Errorf("ETag: %v", err)
	}
	if o.ETag == "" {
		return o, fmt.Errorf("empty ETag: every read needs one")
	}
	if f[3] != "-" {
		t, err := time.Parse(time.RFC3339Nano, f[3])
		// The index keeps Unix nanoseconds: years 1678 to 2262.
		if err != nil || t.Year() < 1700 || t.Year() > 2200 || string(appendTime(nil, t)) != f[3] {
			return o, fmt.Errorf("last-modified %.40q is not an RFC 3339 UTC time such as 2024-01-01T00:00:00Z", f[3])
		}
		o.LastModified = t.UTC()
	}
	return o, nil
}

// mustEscape says whether byte c is written %XX when it stands alone
// (bytes of valid multi-byte UTF-8 are written as is).
func mustEscape(c byte) bool { return c < 0x21 || c == '#' || c == '%' || c == 0x7f }

const upperHex = "0123456789ABCDEF"

func escapeField(s string) string { return string(appendEscaped(nil, s)) }

// needsEscape says whether appendEscaped would change s.
func needsEscape(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < utf8.RuneSelf && mustEscape(c) {
			return true
		}
	}
	return !utf8.ValidString(s)
}

func appendEscaped(b []byte, s string) []byte {
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if mustEscape(c) {
				b = append(b, '%', upperHex[c>>4], upperHex[c&15])
			} else {
				b = append(b, c)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, '%', upperHex[c>>4], upperHex[c&15])
		} else {
			b = append(b, s[i:i+size]...)
		}
		i += size
	}
	return b
}

// unescapeField undoes appendEscaped and accepts only its spelling.
func unescapeField(s string) (string, error) {
	if !strings.Contains(s, "%") {
		if needsEscape(s) {
			return "", fmt.Errorf("%.60q has a byte that must be written %%XX", s)
		}
		return s, nil
	}
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		if s[i] != '%' {
			b = append(b, s[i])
			continue
		}
		if i+2 >= len(s) {
			return "", fmt.Errorf("%.60q: %% must be followed by two hex digits", s)
		}
		hi, lo := strings.IndexByte(upperHex, s[i+1]), strings.IndexByte(upperHex, s[i+2])
		if hi < 0 || lo < 0 {
			return "", fmt.Errorf("%.60q: %% must be followed by two upper-case hex digits", s)
		}
		b = append(b, byte(hi<<4|lo))
		i += 2
	}
	out := string(b)
	if escapeField(out) != s {
		return "", fmt.Errorf("%.60q is not written the one way the format allows (escape exactly controls, space, '#', '%%', 0x7F and invalid UTF-8)", s)
	}
	return out, nil
}
