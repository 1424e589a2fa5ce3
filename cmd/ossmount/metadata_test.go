package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A manifest mounts only at the BUCKET[:/PREFIX] it was taken of, and a
// broken one names its file and line.
func TestLoadManifest(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.manifest")
	os.WriteFile(good, []byte("# ossmount-manifest v1\n# bucket\tmy-bucket\n# prefix\tds/\nds/a\t1\t\"E\"\t-\n# end\t1\n"), 0o644)
	bad := filepath.Join(dir, "bad.manifest")
	os.WriteFile(bad, []byte("# ossmount-manifest v1\n# bucket\tmy-bucket\n# prefix\tds/\nds/a\tone\t\"E\"\t-\n# end\t1\n"), 0o644)
	cases := []struct {
		name, file, target, says string
	}{
		{"same target", good, "my-bucket:/ds", ""},
		{"other prefix", good, "my-bucket:/other", "is a snapshot of oss://my-bucket/ds/, not of oss://my-bucket/other/"},
		{"other bucket", good, "your-bucket:/ds", "is a snapshot of oss://my-bucket/ds/"},
		{"bad line", bad, "my-bucket:/ds", bad + ": line 4: size"},
		{"missing file", filepath.Join(dir, "nope"), "my-bucket:/ds", "no such file"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tgt, err := parseTarget(tc.target)
			if err != nil {
				t.Fatal(err)
			}
			x, err := loadManifest(tc.file, tgt)
			if tc.says == "" {
				if err != nil || x.Len() != 1 {
					t.Fatalf("loadManifest: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.says) {
				t.Fatalf("err %v, want it to say %q", err, tc.says)
			}
		})
	}
	if x, err := loadManifest("", target{Bucket: "b"}); x != nil || err != nil {
		t.Fatalf("no --manifest: %v %v", x, err)
	}
}
