package main

import (
	"fmt"
	"regexp"
	"strings"
)

// target is what to mount: a bucket and an optional prefix inside it.
type target struct {
	Bucket string
	Prefix string // "" or ending in "/", no leading "/"
}

var bucketName = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$`)

// parseTarget accepts BUCKET, BUCKET:/PREFIX, BUCKET:PREFIX and oss://BUCKET/PREFIX.
func parseTarget(s string) (target, error) {
	var bucket, prefix string
	if rest, ok := strings.CutPrefix(s, "oss://"); ok {
		bucket, prefix, _ = strings.Cut(rest, "/")
	} else {
		bucket, prefix, _ = strings.Cut(s, ":")
	}
	if !bucketName.MatchString(bucket) {
		return target{}, fmt.Errorf("%q is not a bucket name: OSS bucket names are 3-63 characters of a-z, 0-9 and '-', not starting or ending with '-' (write BUCKET or BUCKET:/PREFIX)", bucket)
	}
	prefix = strings.Trim(prefix, "/")
	if strings.Contains(prefix, "//") {
		return target{}, fmt.Errorf("prefix %q has an empty path segment", prefix)
	}
	if prefix != "" {
		prefix += "/"
	}
	return target{Bucket: bucket, Prefix: prefix}, nil
}

func (t target) String() string {
	if t.Prefix == "" {
		return "oss://" + t.Bucket + "/"
	}
	return "oss://" + t.Bucket + "/" + t.Prefix
}
