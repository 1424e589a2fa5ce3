package oss

// unreserved reports whether c is kept as is in paths and queries (RFC 3986).
func unreserved(c byte) bool {
	return 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' ||
		c == '-' || c == '.' || c == '_' || c == '~'
}

const upperHex = "0123456789ABCDEF"

// appendEscapedPath percent-encodes s byte by byte, keeping unreserved
// characters and "/" (the canonical URI encoding, also used on the wire).
func appendEscapedPath(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if unreserved(c) || c == '/' {
			b = append(b, c)
		} else {
			b = append(b, '%', upperHex[c>>4], upperHex[c&15])
		}
	}
	return b
}

// appendEscapedQuery percent-encodes s for a query name or value: RFC 3986
// unreserved characters stay, everything else (space too) becomes %XX.
func appendEscapedQuery(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if unreserved(c) {
			b = append(b, c)
		} else {
			b = append(b, '%', upperHex[c>>4], upperHex[c&15])
		}
	}
	return b
}

// encodeQuery builds a wire query string from raw pairs, in order. A pair
// with an empty value is written as the bare name, as the SDK does.
func encodeQuery(pairs []queryPair) string {
	if len(pairs) == 0 {
		return ""
	}
	b := make([]byte, 0, 128)
	for i, p := range pairs {
		if i > 0 {
			b = append(b, '&')
		}
		b = appendEscapedQuery(b, p.name)
		if p.value != "" {
			b = append(b, '=')
			b = appendEscapedQuery(b, p.value)
		}
	}
	return string(b)
}
