package oss_test

import (
	"errors"
	"testing"

	"github.com/ossmount/ossmount/oss"
	"github.com/ossmount/ossmount/test/emulator"
)

// TestSymlinkAgainstEmulator: listings and HEAD mark links, Symlink
// returns the decoded target (V4 and V1 signing), and errors classify.
func TestSymlinkAgainstEmulator(t *testing.T) {
	s := startEmulator(t, emulator.Config{})
	s.PutObject(bucket, "d/real.txt", []byte("bytes"))
	s.AddSymlink(bucket, "d/link", "d/real.txt")
	s.AddSymlink(bucket, "d/odd", "d/a b/ü%.txt") // "%" not followed by hex: sent escaped, decoded back
	s.AddSymlink(bucket, "d/dangling", "d/missing")

	for name, v1 := range map[string]string{"v4": "v4", "v1": "v1"} {
		t.Run(name, func(t *testing.T) {
			c := newClient(t, s, demo, func(cfg *oss.Config) { cfg.SignatureVersion = v1 })
			ctx := t.Context()
			page, err := c.List(ctx, oss.ListInput{Prefix: "d/", Delimiter: "/"})
			if err != nil {
				t.Fatal(err)
			}
			types := map[string]string{}
			for _, o := range page.Objects {
				types[o.Key] = o.ObjectType
			}
			if types["d/link"] != oss.ObjectTypeSymlink || types["d/dangling"] != oss.ObjectTypeSymlink || types["d/real.txt"] != "Normal" {
				t.Fatalf("listed types: %v", types)
			}
			for key, want := range map[string]string{"d/link": "d/real.txt", "d/odd": "d/a b/ü%.txt", "d/dangling": "d/missing"} {
				got, err := c.Symlink(ctx, key)
				if err != nil || got != want {
					t.Errorf("Symlink(%q) = %q, %v; want %q", key, got, err, want)
				}
			}
			info, err := c.Head(ctx, "d/link")
			if err != nil || info.ObjectType != oss.ObjectTypeSymlink || info.Size != 5 {
				t.Fatalf("Head of a link: %+v %v", info, err)
			}
			if _, err := c.Symlink(ctx, "d/nothing"); !errors.Is(err, oss.ErrNotFound) {
				t.Fatalf("Symlink of a missing key: %v, want ErrNotFound", err)
			}
			var se *oss.ServiceError
			if _, err := c.Symlink(ctx, "d/real.txt"); !errors.As(err, &se) || se.Code != "NotSymlink" {
				t.Fatalf("Symlink of a plain object: %v", err)
			}
			if _, err := c.Head(ctx, "d/dangling"); !errors.Is(err, oss.ErrSymlinkTargetMissing) || !errors.Is(err, oss.ErrNotFound) {
				t.Fatalf("Head of a dangling link: %v, want ErrSymlinkTargetMissing and ErrNotFound", err)
			}
			if _, err := c.Head(ctx, "d/nothing"); errors.Is(err, oss.ErrSymlinkTargetMissing) {
				t.Fatalf("Head of a missing key matches ErrSymlinkTargetMissing: %v", err)
			}
		})
	}
}
