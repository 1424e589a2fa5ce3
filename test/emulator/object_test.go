package emulator_test

import (
	"bytes"
	"net/http"
	"testing"
	"time"

	"github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss"

	"github.com/ossmount/ossmount/test/emulator"
)

func TestRangeAndConditions(t *testing.T) {
	s := startServer(t, emulator.Config{})
	data := make([]byte, 1000)
	for i := range data {
		data[i] = byte(i * 7)
	}
	s.PutObject("bkt", "obj", data)
	c := staticClient(s, false)
	h, err := c.HeadObject(ctx(t), &oss.HeadObjectRequest{Bucket: oss.Ptr("bkt"), Key: oss.Ptr("obj")})
	if err != nil {
		t.Fatal(err)
	}
	etag := *h.ETag
	lm := h.LastModified.UTC()
	past, future := lm.Add(-time.Hour).Format(http.TimeFormat), lm.Add(time.Hour).Format(http.TimeFormat)

	cases := []struct {
		name         string
		req          oss.GetObjectRequest
		status       int
		code         string
		start, end   int // expected body data[start:end]
		contentRange string
	}{
		{name: "valid range", req: oss.GetObjectRequest{Range: oss.Ptr("bytes=0-499")}, status: 206, end: 500, contentRange: "bytes 0-499/1000"},
		{name: "end past EOF legacy", req: oss.GetObjectRequest{Range: oss.Ptr("bytes=500-2000")}, status: 200, end: 1000},
		{name: "end past EOF standard", req: oss.GetObjectRequest{Range: oss.Ptr("bytes=500-2000"), RangeBehavior: oss.Ptr("standard")}, status: 206, start: 500, end: 1000, contentRange: "bytes 500-999/1000"},
		{name: "start past EOF legacy", req: oss.GetObjectRequest{Range: oss.Ptr("bytes=1000-2000")}, status: 200, end: 1000},
		{name: "start past EOF standard", req: oss.GetObjectRequest{Range: oss.Ptr("bytes=1000-2000"), RangeBehavior: oss.Ptr("standard")}, status: 416, code: "InvalidRange"},
		{name: "suffix", req: oss.GetObjectRequest{Range: oss.Ptr("bytes=-100")}, status: 206, start: 900, end: 1000, contentRange: "bytes 900-999/1000"},
		{name: "open end", req: oss.GetObjectRequest{Range: oss.Ptr("bytes=990-"), RangeBehavior: oss.Ptr("standard")}, status: 206, start: 990, end: 1000},
		{name: "garbage range", req: oss.GetObjectRequest{Range: oss.Ptr("bytes=abc")}, status: 200, end: 1000},
		{name: "If-Match ok", req: oss.GetObjectRequest{IfMatch: oss.Ptr(etag), Range: oss.Ptr("bytes=10-19")}, status: 206, start: 10, end: 20},
		{name: "If-Match stale", req: oss.GetObjectRequest{IfMatch: oss.Ptr(`"0123"`)}, status: 412, code: "PreconditionFailed"},
		{name: "If-None-Match same", req: oss.GetObjectRequest{IfNoneMatch: oss.Ptr(etag)}, status: 304},
		{name: "If-None-Match other", req: oss.GetObjectRequest{IfNoneMatch: oss.Ptr(`"0123"`)}, status: 200, end: 1000},
		{name: "If-Modified-Since future", req: oss.GetObjectRequest{IfModifiedSince: oss.Ptr(future)}, status: 304},
		{name: "If-Modified-Since past", req: oss.GetObjectRequest{IfModifiedSince: oss.Ptr(past)}, status: 200, end: 1000},
		{name: "If-Unmodified-Since past", req: oss.GetObjectRequest{IfUnmodifiedSince: oss.Ptr(past)}, status: 412, code: "PreconditionFailed"},
		{name: "If-Unmodified-Since future", req: oss.GetObjectRequest{IfUnmodifiedSince: oss.Ptr(future)}, status: 200, end: 1000},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			req := tc.req
			req.Bucket, req.Key = oss.Ptr("bkt"), oss.Ptr("obj")
			res, err := c.GetObject(ctx(t), &req)
			if tc.status >= 300 {
				se := serviceError(t, err)
				if se.StatusCode != tc.status || (tc.code != "" && se.Code != tc.code) {
					t.Fatalf("got %d %q, want %d %q", se.StatusCode, se.Code, tc.status, tc.code)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer res.Body.Close()
			body := readAll(t, res.Body)
			if res.StatusCode != tc.status || !bytes.Equal(body, data[tc.start:tc.end]) {
				t.Fatalf("status %d, %d bytes; want %d, data[%d:%d]", res.StatusCode, len(body), tc.status, tc.start, tc.end)
			}
			if tc.contentRange != "" && (res.ContentRange == nil || *res.ContentRange != tc.contentRange) {
				t.Fatalf("Content-Range %v, want %s", res.ContentRange, tc.contentRange)
			}
		})
	}
}

func TestReplaceChangesETagAndLastModified(t *testing.T) {
	s := startServer(t, emulator.Config{})
	c := staticClient(s, false)
	head := func() (string, time.Time) {
		h, err := c.HeadObject(ctx(t), &oss.HeadObjectRequest{Bucket: oss.Ptr("bkt"), Key: oss.Ptr("k")})
		if err != nil {
			t.Fatal(err)
		}
		return *h.ETag, *h.LastModified
	}
	s.PutObject("bkt", "k", []byte("one"))
	e1, t1 := head()
	s.PutObject("bkt", "k", []byte("two"))
	e2, t2 := head()
	if e1 == e2 || !t2.After(t1) {
		t.Fatalf("replace: etag %s->%s, last-modified %v->%v", e1, e2, t1, t2)
	}
	s.DeleteObject("bkt", "k")
	_, err := c.HeadObject(ctx(t), &oss.HeadObjectRequest{Bucket: oss.Ptr("bkt"), Key: oss.Ptr("k")})
	if se := serviceError(t, err); se.StatusCode != 404 || se.Code != "NoSuchKey" {
		t.Fatalf("after delete: %d %s", se.StatusCode, se.Code)
	}
	_, err = c.HeadObject(ctx(t), &oss.HeadObjectRequest{Bucket: oss.Ptr("nobucket"), Key: oss.Ptr("k")})
	if se := serviceError(t, err); se.StatusCode != 404 || se.Code != "NoSuchBucket" {
		t.Fatalf("no bucket: %d %s", se.StatusCode, se.Code)
	}
}
