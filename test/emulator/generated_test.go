package emulator_test

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss"

	"github.com/ossmount/ossmount/test/emulator"
)

func TestGeneratedContent(t *testing.T) {
	a := readAll(t, emulator.GeneratedContent(5, "k", 1000))
	b := readAll(t, emulator.GeneratedContent(5, "k", 1000))
	other := readAll(t, emulator.GeneratedContent(5, "k2", 1000))
	if len(a) != 1000 || !bytes.Equal(a, b) || bytes.Equal(a, other) {
		t.Fatalf("not deterministic per (seed, key): len %d", len(a))
	}
	ra := emulator.GeneratedContent(5, "k", 1000).(io.ReaderAt)
	for _, off := range []int64{0, 1, 7, 8, 9, 500, 993} {
		p := make([]byte, 7)
		n, _ := ra.ReadAt(p, off)
		if !bytes.Equal(p[:n], a[off:off+int64(n)]) {
			t.Fatalf("ReadAt(%d) differs from the stream", off)
		}
	}
}

func TestGeneratedKeyFormats(t *testing.T) {
	s := startServer(t, emulator.Config{})
	// Unpadded numbers are not in byte order: the index must sort them.
	s.AddGenerated("bkt", emulator.Generated{Count: 12, KeyFormat: "f%d", Size: 1})
	c := staticClient(s, false)
	res, err := c.ListObjectsV2(ctx(t), &oss.ListObjectsV2Request{Bucket: oss.Ptr("bkt")})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, o := range res.Contents {
		got = append(got, *o.Key)
	}
	want := []string{"f0", "f1", "f10", "f11", "f2", "f3", "f4", "f5", "f6", "f7", "f8", "f9"}
	if len(got) != len(want) {
		t.Fatalf("got %q", got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("got %q, want %q", got, want)
		}
	}
	if _, err := c.HeadObject(ctx(t), &oss.HeadObjectRequest{Bucket: oss.Ptr("bkt"), Key: oss.Ptr("f11")}); err != nil {
		t.Fatal(err)
	}
	_, err = c.HeadObject(ctx(t), &oss.HeadObjectRequest{Bucket: oss.Ptr("bkt"), Key: oss.Ptr("f12")})
	if se := serviceError(t, err); se.StatusCode != 404 {
		t.Fatalf("f12: %d", se.StatusCode)
	}
}

func TestAddDirectory(t *testing.T) {
	root := t.TempDir()
	if err := os.MkdirAll(filepath.Join(root, "photos", "2024", "jan"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "photos", "2024", "jan", "a.jpg"), []byte("jpeg"), 0o644); err != nil {
		t.Fatal(err)
	}
	s := startServer(t, emulator.Config{})
	if err := s.AddDirectory(root); err != nil {
		t.Fatal(err)
	}
	s.PutObject("photos", "2024/jan/a.jpg", []byte("memory wins"))
	c := staticClient(s, true)
	g, err := c.GetObject(ctx(t), &oss.GetObjectRequest{Bucket: oss.Ptr("photos"), Key: oss.Ptr("2024/jan/a.jpg")})
	if err != nil {
		t.Fatal(err)
	}
	if got := string(readAll(t, g.Body)); got != "memory wins" {
		t.Fatalf("precedence: %q", got)
	}
	g.Body.Close()
	s.DeleteObject("photos", "2024/jan/a.jpg") // removes the memory copy and hides the file
	s2 := startServer(t, emulator.Config{})
	if err := s2.AddDirectory(root); err != nil {
		t.Fatal(err)
	}
	g, err = staticClient(s2, false).GetObject(ctx(t), &oss.GetObjectRequest{Bucket: oss.Ptr("photos"), Key: oss.Ptr("2024/jan/a.jpg")})
	if err != nil {
		t.Fatal(err)
	}
	if got := string(readAll(t, g.Body)); got != "jpeg" || *g.ContentType != "image/jpeg" {
		t.Fatalf("file object: %q %s", got, *g.ContentType)
	}
	g.Body.Close()
}
