package emulator_test

import (
	"errors"
	"io"
	"testing"

	"github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss"

	"github.com/ossmount/ossmount/test/emulator"
)

// TestSDKSymlink checks the emulator's symbolic links through the official
// SDK: the listing marks them, GetSymlink answers the target, GetObject
// and HeadObject follow the link, and a dangling link is 404
// SymlinkTargetNotExist on GetObject while GetSymlink still answers.
func TestSDKSymlink(t *testing.T) {
	s := startServer(t, emulator.Config{})
	s.PutObject("bkt", "data/real.txt", []byte("target bytes"))
	s.AddSymlink("bkt", "data/link", "data/real.txt")
	s.AddSymlink("bkt", "data/dangling", "data/missing.txt")
	s.AddSymlink("bkt", "data/spaced", "data/a b/ü.txt")

	for name, v1 := range map[string]bool{"v4": false, "v1": true} {
		t.Run(name, func(t *testing.T) {
			c, cx := staticClient(s, v1), ctx(t)
			lr, err := c.ListObjectsV2(cx, &oss.ListObjectsV2Request{Bucket: oss.Ptr("bkt"), Prefix: oss.Ptr("data/")})
			if err != nil {
				t.Fatal(err)
			}
			types := map[string]string{}
			for _, o := range lr.Contents {
				types[*o.Key] = *o.Type
			}
			want := map[string]string{"data/real.txt": "Normal", "data/link": "Symlink",
				"data/dangling": "Symlink", "data/spaced": "Symlink"}
			for k, v := range want {
				if types[k] != v {
					t.Errorf("listing: %s has Type %q, want %q (all: %v)", k, types[k], v, types)
				}
			}

			gs, err := c.GetSymlink(cx, &oss.GetSymlinkRequest{Bucket: oss.Ptr("bkt"), Key: oss.Ptr("data/link")})
			if err != nil {
				t.Fatal(err)
			}
			if gs.Target == nil || *gs.Target != "data/real.txt" || gs.ETag == nil {
				t.Fatalf("GetSymlink: target %v etag %v", gs.Target, gs.ETag)
			}
			gs, err = c.GetSymlink(cx, &oss.GetSymlinkRequest{Bucket: oss.Ptr("bkt"), Key: oss.Ptr("data/spaced")})
			if err != nil || gs.Target == nil || *gs.Target != "data/a%20b/%C3%BC.txt" {
				t.Fatalf("GetSymlink of a target that needs escaping: %v %v", gs, err)
			}
			gs, err = c.GetSymlink(cx, &oss.GetSymlinkRequest{Bucket: oss.Ptr("bkt"), Key: oss.Ptr("data/dangling")})
			if err != nil || *gs.Target != "data/missing.txt" {
				t.Fatalf("GetSymlink of a dangling link: %v %v", gs, err)
			}

			g, err := c.GetObject(cx, &oss.GetObjectRequest{Bucket: oss.Ptr("bkt"), Key: oss.Ptr("data/link")})
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(g.Body)
			g.Body.Close()
			if string(body) != "target bytes" || *g.ObjectType != "Symlink" {
				t.Fatalf("GetObject through the link: %q type %v", body, *g.ObjectType)
			}
			h, err := c.HeadObject(cx, &oss.HeadObjectRequest{Bucket: oss.Ptr("bkt"), Key: oss.Ptr("data/link")})
			if err != nil {
				t.Fatal(err)
			}
			if h.ContentLength != int64(len("target bytes")) || *h.ObjectType != "Symlink" {
				t.Fatalf("HeadObject of the link: size %d type %v", h.ContentLength, *h.ObjectType)
			}

			_, err = c.GetObject(cx, &oss.GetObjectRequest{Bucket: oss.Ptr("bkt"), Key: oss.Ptr("data/dangling")})
			var se *oss.ServiceError
			if !errors.As(err, &se) || se.StatusCode != 404 || se.Code != "SymlinkTargetNotExist" {
				t.Fatalf("GetObject of a dangling link: %v", err)
			}
			_, err = c.GetSymlink(cx, &oss.GetSymlinkRequest{Bucket: oss.Ptr("bkt"), Key: oss.Ptr("data/real.txt")})
			if !errors.As(err, &se) || se.StatusCode != 400 || se.Code != "NotSymlink" {
				t.Fatalf("GetSymlink of a plain object: %v", err)
			}
		})
	}
}
