package oss

import (
	"encoding/base64"
	"errors"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestParseListXML(t *testing.T) {
	const full = `<?xml version="1.0" encoding="UTF-8"?>
<ListBucketResult xmlns="http://doc.oss-cn-hangzhou.aliyuncs.com">
  <Name>b</Name><Prefix>a%2F</Prefix><MaxKeys>3</MaxKeys><Delimiter>%2F</Delimiter>
  <EncodingType>url</EncodingType><IsTruncated>true</IsTruncated>
  <NextContinuationToken>CgJi%2BYw--</NextContinuationToken>
  <Contents><Key>a%2Fx+y%01%E6%96%87</Key><LastModified>2020-05-18T05:45:47.000Z</LastModified>
    <ETag>"35A27C2B9EAEEB6F48FD7FB5861D0000"</ETag><Type>Normal</Type><Size>25</Size>
    <StorageClass>Standard</StorageClass><Owner><ID>1</ID></Owner><Unknown/></Contents>
  <CommonPrefixes><Prefix>a%2Fb+c%2F</Prefix></CommonPrefixes>
  <KeyCount>2</KeyCount>
</ListBucketResult>`
	page, err := parseListXML([]byte(full))
	if err != nil {
		t.Fatal(err)
	}
	want := ObjectInfo{Key: "a/x y\x01文", Size: 25, ETag: `"35A27C2B9EAEEB6F48FD7FB5861D0000"`,
		LastModified: time.Date(2020, 5, 18, 5, 45, 47, 0, time.UTC), ObjectType: "Normal"}
	if len(page.Objects) != 1 || page.Objects[0].Key != want.Key || page.Objects[0].Size != want.Size ||
		page.Objects[0].ETag != want.ETag || !page.Objects[0].LastModified.Equal(want.LastModified) ||
		page.Objects[0].ObjectType != want.ObjectType {
		t.Errorf("objects %+v, want %+v", page.Objects, want)
	}
	if !slices.Equal(page.CommonPrefixes, []string{"a/b c/"}) || !page.IsTruncated || page.NextContinuationToken != "CgJi+Yw--" {
		t.Errorf("page %+v", page)
	}

	for _, tc := range []struct{ name, body string }{
		{"empty", ""},
		{"truncated", full[:len(full)/2]},
		{"other root", `<Error><Code>x</Code></Error>`},
		{"bad size", `<ListBucketResult><Contents><Key>k</Key><Size>x</Size></Contents></ListBucketResult>`},
		{"negative size", `<ListBucketResult><Contents><Key>k</Key><Size>-1</Size></Contents></ListBucketResult>`},
		{"no key", `<ListBucketResult><Contents><Size>1</Size></Contents></ListBucketResult>`},
		{"bad escape", `<ListBucketResult><EncodingType>url</EncodingType><Contents><Key>%zz</Key><Size>1</Size></Contents></ListBucketResult>`},
		{"truncated without token", `<ListBucketResult><IsTruncated>true</IsTruncated></ListBucketResult>`},
		{"bad IsTruncated", `<ListBucketResult><IsTruncated>maybe</IsTruncated></ListBucketResult>`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if p, err := parseListXML([]byte(tc.body)); err == nil {
				t.Fatalf("no error; page %+v", p)
			}
		})
	}
	t.Run("not encoded", func(t *testing.T) {
		p, err := parseListXML([]byte(`<ListBucketResult><Contents><Key>a+b%20</Key><Size>0</Size></Contents></ListBucketResult>`))
		if err != nil || p.Objects[0].Key != "a+b%20" || p.IsTruncated {
			t.Fatalf("%+v, %v", p, err)
		}
	})
}

func TestListQuery(t *testing.T) {
	for _, tc := range []struct {
		in   ListInput
		want string
	}{
		{ListInput{}, "list-type=2&encoding-type=url&max-keys=1000"},
		{ListInput{MaxKeys: 5000}, "list-type=2&encoding-type=url&max-keys=1000"},
		{ListInput{MaxKeys: 7, Prefix: "a b/", Delimiter: "/", StartAfter: "x+y", ContinuationToken: "t=="},
			"list-type=2&encoding-type=url&max-keys=7&prefix=a%20b%2F&delimiter=%2F&start-after=x%2By&continuation-token=t%3D%3D"},
	} {
		if got := listQuery(tc.in); got != tc.want {
			t.Errorf("listQuery(%+v) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestServiceError(t *testing.T) {
	body := func(code string) string {
		return `<?xml version="1.0" encoding="UTF-8"?><Error xmlns="x"><Code>` + code + `</Code><Message>m</Message>` +
			`<RequestId>RID</RequestId><HostId>h</HostId><EC>0002-00000007</EC><Extra>e</Extra></Error>`
	}
	all := []error{ErrNotFound, ErrAccessDenied, ErrPreconditionFailed, ErrCredentials}
	for _, tc := range []struct {
		status int
		code   string
		want   error // nil: none of the sentinels
	}{
		{404, "NoSuchKey", ErrNotFound},
		{404, "NoSuchBucket", ErrNotFound},
		{404, "", ErrNotFound},
		{412, "PreconditionFailed", ErrPreconditionFailed},
		{412, "", ErrPreconditionFailed},
		{403, "SecurityTokenExpired", ErrCredentials},
		{403, "InvalidSecurityToken", ErrCredentials},
		{403, "AccessKeyIdAndSecurityTokenNotMatch", ErrCredentials},
		{403, "InvalidAccessKeyId", ErrCredentials},
		{403, "AccessDenied", ErrAccessDenied},
		{403, "SignatureDoesNotMatch", ErrAccessDenied},
		{403, "", ErrAccessDenied},
		{400, "InvalidSecurityToken", nil},
		{500, "InternalError", nil},
		{416, "InvalidRange", nil},
	} {
		t.Run(tc.code+"/"+http.StatusText(tc.status), func(t *testing.T) {
			var e *ServiceError
			if tc.code == "" {
				e = parseServiceError(tc.status, nil)
			} else {
				e = parseServiceError(tc.status, []byte(body(tc.code)))
				if e.Code != tc.code || e.Message != "m" || e.RequestID != "RID" || e.EC != "0002-00000007" || e.HostID != "h" {
					t.Fatalf("parsed %+v", e)
				}
			}
			e.temporaryKey = true // signed with an STS triple, as ossmount's requests are
			for _, s := range all {
				if got := errors.Is(e, s); got != (s == tc.want) {
					t.Errorf("errors.Is(%v) = %v", s, got)
				}
			}
		})
	}
}

func TestServiceErrorFromResponse(t *testing.T) {
	doc := `<Error><Code>NoSuchKey</Code><Message>gone</Message><RequestId>R1</RequestId></Error>`
	for _, tc := range []struct {
		name string
		resp *http.Response
		want string
	}{
		{"body", &http.Response{StatusCode: 404, Header: http.Header{"X-Oss-Ec": {"0026-00000001"}}, Body: io.NopCloser(strings.NewReader(doc))},
			`oss: get "k": 404 NoSuchKey: gone (request id R1, ec 0026-00000001)`},
		{"head x-oss-err", &http.Response{StatusCode: 404, Header: http.Header{"X-Oss-Err": {base64.StdEncoding.EncodeToString([]byte(doc))},
			"X-Oss-Request-Id": {"R2"}}, Body: http.NoBody}, `oss: get "k": 404 NoSuchKey: gone (request id R1)`},
		{"status only", &http.Response{StatusCode: 403, Header: http.Header{"X-Oss-Request-Id": {"R3"}}, Body: http.NoBody},
			`oss: get "k": 403 (request id R3)`},
		{"garbage", &http.Response{StatusCode: 503, Header: http.Header{}, Body: io.NopCloser(strings.NewReader("<html>busy"))},
			`oss: get "k": 503`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := newServiceError(tc.resp, "get", "k").Error(); got != tc.want {
				t.Errorf("got  %s\nwant %s", got, tc.want)
			}
		})
	}
}

func TestSigningRegion(t *testing.T) {
	for _, tc := range []struct {
		given, host, region, product string
		fails                        bool
	}{
		{"", "oss-cn-hangzhou.aliyuncs.com", "cn-hangzhou", "oss", false},
		{"", "oss-cn-hangzhou-internal.aliyuncs.com", "cn-hangzhou", "oss", false},
		{"", "ap-southeast-1.oss.aliyuncs.com", "ap-southeast-1", "oss", false},
		{"", "cb-123.cn-hangzhou.oss-cloudbox.aliyuncs.com", "cb-123", "oss-cloudbox", false},
		{"", "oss-accelerate.aliyuncs.com", "", "", true},
		{"", "oss-accelerate-overseas.aliyuncs.com", "", "", true},
		{"cn-beijing", "oss-accelerate.aliyuncs.com", "cn-beijing", "oss", false},
		{"oss-cn-beijing", "gateway.example.com", "cn-beijing", "oss", false},
		{"", "127.0.0.1", "", "", true},
		{"", "example.com", "", "", true},
	} {
		r, p, err := signingRegion(tc.given, tc.host)
		if (err != nil) != tc.fails || r != tc.region || p != tc.product {
			t.Errorf("signingRegion(%q, %q) = %q, %q, %v", tc.given, tc.host, r, p, err)
		}
	}
}

func TestNewAddressing(t *testing.T) {
	for _, tc := range []struct {
		endpoint  string
		pathStyle bool
		wantURL   string
		fails     bool
	}{
		{"oss-cn-hangzhou.aliyuncs.com", false, "https://my-bucket.oss-cn-hangzhou.aliyuncs.com/a%20b/%E6%96%87+", false},
		{"http://oss-cn-hangzhou.aliyuncs.com/", false, "http://my-bucket.oss-cn-hangzhou.aliyuncs.com/a%20b/%E6%96%87+", false},
		{"http://gw.example.com:8080", true, "http://gw.example.com:8080/my-bucket/a%20b/%E6%96%87+", false},
		{"http://127.0.0.1:9000", false, "http://127.0.0.1:9000/my-bucket/a%20b/%E6%96%87+", false},
		{"http://[::1]:9000", false, "http://[::1]:9000/my-bucket/a%20b/%E6%96%87+", false},
		{"", false, "", true},
		{"ftp://x", false, "", true},
		{"https://x/y", false, "", true},
	} {
		c, err := New(Config{Endpoint: tc.endpoint, Region: "cn-hangzhou", Bucket: "my-bucket", PathStyle: tc.pathStyle}, staticProvider{})
		if (err != nil) != tc.fails {
			t.Errorf("New(%q): %v", tc.endpoint, err)
			continue
		}
		if err != nil {
			continue
		}
		req, err := c.newRequest(t.Context(), &call{method: "GET", key: "a b/文+"})
		if err != nil {
			t.Fatal(err)
		}
		// "+" is escaped as %2B on the wire; url.URL.String keeps RawPath.
		if got := strings.ReplaceAll(req.URL.String(), "%2B", "+"); got != tc.wantURL {
			t.Errorf("%q: URL %s, want %s", tc.endpoint, got, tc.wantURL)
		}
	}
	for _, b := range []string{"", "ab", "-ab", "ab-", "A-b", "a.b", strings.Repeat("a", 64)} {
		if _, err := New(Config{Endpoint: "oss-cn-hangzhou.aliyuncs.com", Bucket: b}, staticProvider{}); err == nil {
			t.Errorf("bucket %q accepted", b)
		}
	}
	if _, err := New(Config{Endpoint: "oss-cn-hangzhou.aliyuncs.com", Bucket: "abc", SignatureVersion: "v2"}, staticProvider{}); err == nil {
		t.Errorf("signature version v2 accepted")
	}
}

func TestParseContentRange(t *testing.T) {
	for _, tc := range []struct {
		in                 string
		first, last, total int64
		ok                 bool
	}{
		{"bytes 0-499/1000", 0, 499, 1000, true},
		{"bytes 5-5/*", 5, 5, -1, true},
		{"bytes 5-4/10", 0, 0, 0, false},
		{"bytes 0-10/10", 0, 0, 0, false},
		{"bytes -1-3/10", 0, 0, 0, false},
		{"items 0-1/2", 0, 0, 0, false},
		{"bytes 0-1", 0, 0, 0, false},
		{"", 0, 0, 0, false},
	} {
		f, l, tot, err := parseContentRange(tc.in)
		if (err == nil) != tc.ok || f != tc.first || l != tc.last || tot != tc.total {
			t.Errorf("parseContentRange(%q) = %d %d %d %v", tc.in, f, l, tot, err)
		}
	}
}
