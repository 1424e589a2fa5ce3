package oss

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/ossmount/ossmount/creds"
	"github.com/ossmount/ossmount/test/emulator"
)

// BenchmarkSignV4 measures signing one ranged GET with STS credentials, the
// request the read path sends most.
func BenchmarkSignV4(b *testing.B) {
	cred := creds.Credentials{AccessKeyID: "STS.NTestAccessKeyId", AccessKeySecret: creds.NewSecret("TestAccessKeySecret"),
		SecurityToken: creds.NewSecret("CAISTestSecurityToken+/=")}
	c, err := New(Config{Endpoint: "oss-cn-hangzhou.aliyuncs.com", Bucket: "my-bucket"}, staticProvider{cred})
	if err != nil {
		b.Fatal(err)
	}
	cl := &call{op: "get", method: "GET", key: "data/2024/a b+c~(1).txt", rng: "bytes=0-1048575", ifMatch: `"5B3C1A2E053D763E1B002CC607C5A0FE"`}
	req, err := c.newRequest(context.Background(), cl)
	if err != nil {
		b.Fatal(err)
	}
	when := time.Unix(1714564800, 0)
	b.ReportAllocs()
	for b.Loop() {
		c.sign.signRequest(req, cl.key, cred, when, nil, nil)
	}
}

// BenchmarkGetThroughput reads one object in a single stream through
// GetRange and through a plain net/http GET of the same object on the same
// emulator, alternating, and reports both rates and their ratio (the
// client's overhead: signing, checks, the range reader).
func BenchmarkGetThroughput(b *testing.B) {
	const bucketName, key, size = "bench", "obj", 32 << 20
	s, err := emulator.Start(emulator.Config{})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	s.CreateBucket(bucketName, true) // public-read: the plain GET is anonymous
	s.AddGenerated(bucketName, emulator.Generated{Keys: []string{key}, Size: size, Seed: 1})
	demo := creds.Credentials{AccessKeyID: emulator.DemoAccessKeyID, AccessKeySecret: creds.NewSecret(emulator.DemoAccessKeySecret)}
	c, err := New(Config{Endpoint: s.OSSURL(), Region: s.Region(), Bucket: bucketName}, staticProvider{demo})
	if err != nil {
		b.Fatal(err)
	}
	plain := &http.Client{Transport: newTransport(30 * time.Second)}
	sink := struct{ io.Writer }{io.Discard} // hides ReaderFrom: both paths copy through buf
	buf := make([]byte, 256<<10)
	read := func(r io.Reader) {
		if n, err := io.CopyBuffer(sink, r, buf); err != nil || n != size {
			b.Fatalf("read %d bytes: %v", n, err)
		}
	}
	var viaClient, viaPlain time.Duration
	ctx := context.Background()
	b.SetBytes(2 * size)
	for b.Loop() {
		start := time.Now()
		r, err := c.GetRange(ctx, key, "", 0, -1)
		if err != nil {
			b.Fatal(err)
		}
		read(r)
		r.Close()
		viaClient += time.Since(start)

		start = time.Now()
		resp, err := plain.Get(s.OSSURL() + "/" + bucketName + "/" + key)
		if err != nil || resp.StatusCode != 200 {
			b.Fatalf("plain GET: %v %v", resp, err)
		}
		read(resp.Body)
		resp.Body.Close()
		viaPlain += time.Since(start)
	}
	b.ReportMetric(float64(size)*float64(b.N)/viaClient.Seconds()/1e6, "client-MB/s")
	b.ReportMetric(float64(size)*float64(b.N)/viaPlain.Seconds()/1e6, "plain-MB/s")
	b.ReportMetric(viaPlain.Seconds()/viaClient.Seconds(), "client/plain")
}

// BenchmarkParseListXML parses one full page (1000 keys, url-encoded, as
// the emulator and OSS send it): the CPU cost of every LIST of a large
// directory, which dominates `ls` of one on a fast network.
func BenchmarkParseListXML(b *testing.B) {
	var page strings.Builder
	page.WriteString(`<?xml version="1.0" encoding="UTF-8"?><ListBucketResult><Name>b</Name><Prefix>dir%2F</Prefix><MaxKeys>1000</MaxKeys><Delimiter>%2F</Delimiter><EncodingType>url</EncodingType><IsTruncated>true</IsTruncated><NextContinuationToken>ZGlyL2ZpbGUwMDA5OTk-</NextContinuationToken>`)
	for i := range 1000 {
		fmt.Fprintf(&page, `<Contents><Key>dir%%2Ffile%06d.bin</Key><LastModified>2024-05-01T12:00:00.000Z</LastModified><ETag>"5B3C1A2E053D763E1B002CC607C5A0FE"</ETag><Type>Normal</Type><Size>16384</Size><StorageClass>Standard</StorageClass></Contents>`, i)
	}
	page.WriteString(`<KeyCount>1000</KeyCount></ListBucketResult>`)
	body := []byte(page.String())
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		p, err := parseListXML(body)
		if err != nil || len(p.Objects) != 1000 {
			b.Fatalf("%d objects, %v", len(p.Objects), err)
		}
	}
}
