package oss

import "testing"

// FuzzParseListXML feeds arbitrary bodies to the listing parser: it must
// never panic, and a page it accepts must be internally consistent.
func FuzzParseListXML(f *testing.F) {
	f.Add([]byte(`<ListBucketResult><EncodingType>url</EncodingType><IsTruncated>true</IsTruncated>` +
		`<NextContinuationToken>a%2B</NextContinuationToken><Contents><Key>a%20b</Key><Size>3</Size>` +
		`<LastModified>2020-05-18T05:45:47.000Z</LastModified><ETag>"x"</ETag></Contents>` +
		`<CommonPrefixes><Prefix>d%2F</Prefix></CommonPrefixes></ListBucketResult>`))
	f.Add([]byte(`<ListBucketResult xmlns="http://doc.oss-cn-hangzhou.aliyuncs.com"><IsTruncated>false</IsTruncated></ListBucketResult>`))
	f.Add([]byte(`<ListBucketResult><Contents><Key>`))
	f.Fuzz(func(t *testing.T, body []byte) {
		page, err := parseListXML(body)
		if err != nil {
			return
		}
		if page.IsTruncated && page.NextContinuationToken == "" {
			t.Fatalf("truncated page without a token accepted")
		}
		for _, o := range page.Objects {
			if o.Key == "" || o.Size < 0 {
				t.Fatalf("bad object accepted: %+v", o)
			}
		}
	})
}

// FuzzParseError feeds arbitrary bodies to the error parser: it must never
// panic and always keep the status.
func FuzzParseError(f *testing.F) {
	f.Add(404, []byte(`<?xml version="1.0"?><Error><Code>NoSuchKey</Code><Message>m</Message><RequestId>r</RequestId><EC>0026-00000001</EC></Error>`))
	f.Add(403, []byte(`<Error xmlns="x"><Code>SecurityTokenExpired</Code>`))
	f.Add(503, []byte(`<html>busy</html>`))
	f.Fuzz(func(t *testing.T, status int, body []byte) {
		e := parseServiceError(status, body)
		if e == nil || e.StatusCode != status {
			t.Fatalf("status lost: %+v", e)
		}
		_ = e.Error()
		for _, s := range []error{ErrNotFound, ErrAccessDenied, ErrPreconditionFailed, ErrCredentials} {
			_ = e.Is(s)
		}
	})
}
