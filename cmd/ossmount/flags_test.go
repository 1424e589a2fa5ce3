package main

import (
	"reflect"
	"strings"
	"testing"
)

func TestExpandMountOptions(t *testing.T) {
	known := flagArity(mountFlags())
	cases := []struct {
		name    string
		args    []string
		want    []string
		wantErr string
	}{
		{"plain flags stay", []string{"--path-style", "b", "/m"}, []string{"--path-style", "b", "/m"}, ""},
		{"value flag keeps its value", []string{"--endpoint", "http://x", "b", "/m"}, []string{"--endpoint", "http://x", "b", "/m"}, ""},
		{"mount.fuse3 order: -o last", []string{"b", "/m", "-o", "allow_other,metadata_ttl=30s"}, []string{"--allow-other", "--metadata-ttl=30s", "b", "/m"}, ""},
		{"-oX joined form", []string{"-opath_style", "b", "/m"}, []string{"--path-style", "b", "/m"}, ""},
		{"mount(8) options ignored", []string{"b", "/m", "-o", "rw,nodev,nosuid,_netdev,x-systemd.automount,noauto"}, []string{"b", "/m"}, ""},
		{"short -f stays", []string{"-f", "b", "/m"}, []string{"-f", "b", "/m"}, ""},
		{"value with = and commas split", []string{"-o", "log_file=/tmp/a=b,uid=5", "b", "/m"}, []string{"--log-file=/tmp/a=b", "--uid=5", "b", "/m"}, ""},
		{"unknown option", []string{"-o", "nope", "b", "/m"}, nil, `unknown mount option "nope"`},
		{"value option without value", []string{"-o", "endpoint", "b", "/m"}, nil, "needs a value"},
		{"dangling -o", []string{"b", "/m", "-o"}, nil, "-o needs a value"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := expandMountOptions(tc.args, known)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want it to contain %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("got %q, want %q", got, tc.want)
			}
		})
	}
}

// The app accepts every -o key the expansion produces.
func TestEveryFlagIsAnOption(t *testing.T) {
	known := flagArity(mountFlags())
	for name, takesValue := range known {
		if len(name) == 1 {
			continue
		}
		opt := strings.ReplaceAll(name, "-", "_")
		if takesValue {
			opt += "=1"
		}
		out, err := parseMountOptions(opt, known)
		if err != nil || len(out) != 1 || !strings.HasPrefix(out[0], "--"+name) {
			t.Errorf("-o %s → %q, %v", opt, out, err)
		}
	}
}

// FuzzMountOptions: no -o string may panic, and whatever is accepted comes
// out as long flags the app knows.
func FuzzMountOptions(f *testing.F) {
	for _, seed := range []string{"allow_other", "metadata_ttl=30s,uid=0", "ro,,=,", "log_file=a=b", "x-systemd.requires=a", "\x00,=="} {
		f.Add(seed)
	}
	known := flagArity(mountFlags())
	f.Fuzz(func(t *testing.T, spec string) {
		out, err := parseMountOptions(spec, known)
		if err != nil {
			return
		}
		for _, flag := range out {
			name, _, _ := strings.Cut(strings.TrimPrefix(flag, "--"), "=")
			if _, ok := known[name]; !ok || !strings.HasPrefix(flag, "--") {
				t.Fatalf("-o %q produced unknown flag %q", spec, flag)
			}
		}
	})
}

func TestParseSize(t *testing.T) {
	cases := map[string]int64{"0": 0, "4096": 4096, "512k": 512 << 10, "64MiB": 64 << 20, "64M": 64 << 20, "2mb": 2 << 20, "1GiB": 1 << 30, " 8MiB ": 8 << 20, "1TiB": 1 << 40, "1t": 1 << 40}
	for in, want := range cases {
		if got, err := parseSize("x", in); err != nil || got != want {
			t.Errorf("parseSize(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "MiB", "-1", "1.5M", "2TB", "1x", "99999999999G", "1PiB"} {
		if _, err := parseSize("x", bad); err == nil {
			t.Errorf("parseSize(%q) accepted", bad)
		}
	}
	for _, n := range []int64{1, 4096, 3 << 20, 128 << 20, 1 << 30, 1000, 1 << 40} {
		if got, err := parseSize("x", formatSize(n)); err != nil || got != n {
			t.Errorf("round trip of %d via %q: %d, %v", n, formatSize(n), got, err)
		}
	}
}
