package oss

import "time"

// ObjectInfo is what a listing or a HeadObject says about one object: the
// fields ossmount reads, and no others (each costs on every listed name).
type ObjectInfo struct {
	Key          string
	Size         int64
	ETag         string // as the server sends it, with quotes
	LastModified time.Time
	ObjectType   string // Normal, Multipart, Appendable, Symlink
}

// ListInput is one ListObjectsV2 request. Keys in the answer are decoded.
type ListInput struct {
	Prefix            string
	Delimiter         string // "/" for directory listings; "" for a flat listing
	StartAfter        string
	ContinuationToken string // the previous page's NextContinuationToken
	MaxKeys           int    // 1..1000; 0 means 1000
}

// ListPage is one page of a ListObjectsV2 answer, decoded.
type ListPage struct {
	Objects               []ObjectInfo
	CommonPrefixes        []string // each ends in the delimiter
	IsTruncated           bool
	NextContinuationToken string // decoded; set when IsTruncated
}
