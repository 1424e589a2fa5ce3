package oss

import (
	"fmt"
	"strings"
)

// CheckBucket checks OSS's bucket naming rule: 3-63 characters of a-z, 0-9
// and '-', not starting or ending with '-'. Names therefore never contain
// dots or need escaping.
func CheckBucket(name string) error {
	ok := len(name) >= 3 && len(name) <= 63 && name[0] != '-' && name[len(name)-1] != '-'
	for i := 0; ok && i < len(name); i++ {
		c := name[i]
		ok = 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-'
	}
	if !ok {
		return fmt.Errorf("%q is not a bucket name: OSS bucket names are 3-63 characters of a-z, 0-9 and '-', not starting or ending with '-'", name)
	}
	return nil
}

// maxKeyLen is OSS's limit on a key, in bytes; maxSegmentLen is Linux's on
// a file name (NAME_MAX).
const (
	maxKeyLen     = 1023
	maxSegmentLen = 255
)

// CheckPrefix checks that prefix ("", "a/b" or "a/b/": the trailing "/" is
// optional) names a directory a mount can show: every "/"-separated
// segment a file name (not empty, ".", "..", nor over 255 bytes), no NUL
// byte, and prefix plus its trailing "/" a possible key (at most 1023
// bytes). The error is one line naming the prefix and the rule it breaks.
func CheckPrefix(prefix string) error {
	p := strings.TrimSuffix(prefix, "/")
	if p == "" {
		return nil
	}
	if len(p)+1 > maxKeyLen {
		return fmt.Errorf("prefix %q is %d bytes with its trailing '/', over OSS's key limit of %d", prefix, len(p)+1, maxKeyLen)
	}
	if strings.IndexByte(p, 0) >= 0 {
		return fmt.Errorf("prefix %q contains a NUL byte, which no file name can hold", prefix)
	}
	for seg := range strings.SplitSeq(p, "/") {
		switch {
		case seg == "":
			return fmt.Errorf("prefix %q has an empty path segment", prefix)
		case seg == "." || seg == "..":
			return fmt.Errorf("prefix %q has a %q segment, which cannot be a file name", prefix, seg)
		case len(seg) > maxSegmentLen:
			return fmt.Errorf("prefix %q has a segment of %d bytes, over the file name limit of %d", prefix, len(seg), maxSegmentLen)
		}
	}
	return nil
}
