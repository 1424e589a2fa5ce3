package main

import (
	"fmt"
	"strings"

	"github.com/ossmount/ossmount/oss"
)

// target is what to mount: a bucket and an optional prefix inside it.
type target struct {
	Bucket string
	Prefix string // "" or ending in "/", no leading "/"
}

// parseTarget accepts BUCKET, BUCKET:/PREFIX, BUCKET:PREFIX and
// oss://BUCKET/PREFIX. It sends nothing: a bad bucket name or prefix fails
// before credentials are read or OSS is asked.
func parseTarget(s string) (target, error) {
	var bucket, prefix string
	if rest, ok := strings.CutPrefix(s, "oss://"); ok {
		bucket, prefix, _ = strings.Cut(rest, "/")
	} else {
		bucket, prefix, _ = strings.Cut(s, ":")
	}
	if err := oss.CheckBucket(bucket); err != nil {
		return target{}, fmt.Errorf("%w (write BUCKET or BUCKET:/PREFIX)", err)
	}
	prefix = strings.Trim(prefix, "/")
	if err := oss.CheckPrefix(prefix); err != nil {
		return target{}, err
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
