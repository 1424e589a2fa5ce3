package emulator_test

import (
	"bytes"
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"hash/crc64"
	"io"
	"strings"
	"testing"

	"github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss"

	"github.com/ossmount/ossmount/test/emulator"
)

// TestSDKReadPath drives the official SDK through list, head, get and range
// get with V4 and V1 signing, with a static key and with STS credentials
// from the emulator's own AssumeRole.
func TestSDKReadPath(t *testing.T) {
	s := startServer(t, emulator.Config{})
	content := []byte(strings.Repeat("0123456789abcdef", 1000)) // 16000 bytes
	s.PutObjectWithMeta("bkt", "dir/a b+c~(1).txt", content, "text/plain", map[string]string{"Author": "alice"})
	s.PutObject("bkt", "dir/sub/x.bin", []byte("x"))
	s.PutObject("bkt", "top.txt", []byte("top"))
	s.AddGenerated("bkt", emulator.Generated{Keys: []string{"gen/blob"}, Size: 3 << 20, Seed: 7})
	sum := md5.Sum(content)
	wantETag := `"` + strings.ToUpper(hex.EncodeToString(sum[:])) + `"`

	type mk func(t *testing.T) *oss.Client
	clients := map[string]mk{
		"v4-static": func(t *testing.T) *oss.Client { return staticClient(s, false) },
		"v1-static": func(t *testing.T) *oss.Client { return staticClient(s, true) },
		"v4-sts":    func(t *testing.T) *oss.Client { c, _ := demoSTS(t, s, false, ""); return c },
		"v1-sts":    func(t *testing.T) *oss.Client { c, _ := demoSTS(t, s, true, ""); return c },
	}
	for name, mkClient := range clients {
		t.Run(name, func(t *testing.T) {
			c := mkClient(t)
			cx := ctx(t)
			lr, err := c.ListObjectsV2(cx, &oss.ListObjectsV2Request{Bucket: oss.Ptr("bkt"),
				Prefix: oss.Ptr("dir/"), Delimiter: oss.Ptr("/"), EncodingType: oss.Ptr("url")})
			if err != nil {
				t.Fatal(err)
			}
			if len(lr.Contents) != 1 || *lr.Contents[0].Key != "dir/a b+c~(1).txt" || lr.Contents[0].Size != 16000 ||
				*lr.Contents[0].ETag != wantETag {
				t.Fatalf("contents: %+v", lr.Contents)
			}
			if len(lr.CommonPrefixes) != 1 || *lr.CommonPrefixes[0].Prefix != "dir/sub/" || lr.KeyCount != 2 {
				t.Fatalf("prefixes %+v keycount %d", lr.CommonPrefixes, lr.KeyCount)
			}
			v1r, err := c.ListObjects(cx, &oss.ListObjectsRequest{Bucket: oss.Ptr("bkt"), Delimiter: oss.Ptr("/")})
			if err != nil {
				t.Fatal(err)
			}
			if got := fmt.Sprint(len(v1r.Contents), len(v1r.CommonPrefixes)); got != "1 2" {
				t.Fatalf("V1 root listing: contents+prefixes = %s", got)
			}

			h, err := c.HeadObject(cx, &oss.HeadObjectRequest{Bucket: oss.Ptr("bkt"), Key: oss.Ptr("dir/a b+c~(1).txt")})
			if err != nil {
				t.Fatal(err)
			}
			wantCRC := fmt.Sprint(crc64.Checksum(content, crc64.MakeTable(crc64.ECMA)))
			if h.ContentLength != 16000 || *h.ETag != wantETag || *h.HashCRC64 != wantCRC ||
				h.Metadata["author"] != "alice" || *h.ContentType != "text/plain" || *h.ObjectType != "Normal" {
				t.Fatalf("head: len %d etag %s crc %v meta %v", h.ContentLength, *h.ETag, *h.HashCRC64, h.Metadata)
			}

			g, err := c.GetObject(cx, &oss.GetObjectRequest{Bucket: oss.Ptr("bkt"), Key: oss.Ptr("dir/a b+c~(1).txt")})
			if err != nil {
				t.Fatal(err)
			}
			if got := readAll(t, g.Body); !bytes.Equal(got, content) {
				t.Fatalf("get: %d bytes differ", len(got))
			}
			g.Body.Close()

			rg, err := c.GetObject(cx, &oss.GetObjectRequest{Bucket: oss.Ptr("bkt"), Key: oss.Ptr("gen/blob"),
				Range: oss.Ptr("bytes=1048570-1048589"), RangeBehavior: oss.Ptr("standard")})
			if err != nil {
				t.Fatal(err)
			}
			want := make([]byte, 20)
			emulator.GeneratedContent(7, "gen/blob", 3<<20).(io.ReaderAt).ReadAt(want, 1048570)
			if got := readAll(t, rg.Body); !bytes.Equal(got, want) || rg.StatusCode != 206 ||
				*rg.ContentRange != "bytes 1048570-1048589/3145728" {
				t.Fatalf("range get: status %d range %v body %x want %x", rg.StatusCode, rg.ContentRange, got, want)
			}
			rg.Body.Close()
		})
	}
	if c := s.Counters(); c.Requests["Denied"] != 0 || c.Requests["AssumeRole"] != 2 {
		t.Fatalf("counters: %+v", c.Requests)
	}
}

// TestSDKDownloaderCRC lets the SDK downloader check x-oss-hash-crc64ecma
// of a generated object against the bytes it received.
func TestSDKDownloaderCRC(t *testing.T) {
	s := startServer(t, emulator.Config{})
	s.AddGenerated("bkt", emulator.Generated{Keys: []string{"blob"}, Size: 5<<20 + 3, Seed: 42})
	c := staticClient(s, false)
	h, err := c.HeadObject(ctx(t), &oss.HeadObjectRequest{Bucket: oss.Ptr("bkt"), Key: oss.Ptr("blob")})
	if err != nil {
		t.Fatal(err)
	}
	crc := crc64.New(crc64.MakeTable(crc64.ECMA))
	io.Copy(crc, emulator.GeneratedContent(42, "blob", 5<<20+3))
	if h.HashCRC64 == nil || *h.HashCRC64 != fmt.Sprint(crc.Sum64()) {
		t.Fatalf("x-oss-hash-crc64ecma %v, want %d", h.HashCRC64, crc.Sum64())
	}
	path := t.TempDir() + "/blob"
	d := c.NewDownloader()
	if _, err := d.DownloadFile(ctx(t), &oss.GetObjectRequest{Bucket: oss.Ptr("bkt"), Key: oss.Ptr("blob")}, path); err != nil {
		t.Fatal(err)
	}
}
