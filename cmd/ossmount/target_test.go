package main

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
)

// A bad bucket or prefix fails before credentials are read or anything is
// sent: the same commands with a good target do reach the server.
func TestBadTargetSendsNothing(t *testing.T) {
	t.Setenv("HOME", t.TempDir())
	t.Setenv("ALIBABA_CLOUD_ACCESS_KEY_ID", "LTAI5tExampleKeyId")
	t.Setenv("ALIBABA_CLOUD_ACCESS_KEY_SECRET", "ExampleSecret")
	var requests atomic.Int32 // to STS and OSS alike: the server is both
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		http.Error(w, "no", http.StatusForbidden)
	}))
	defer srv.Close()
	run := func(cmd, target string) error {
		app := newApp()
		var out strings.Builder
		app.Writer, app.ErrWriter = &out, &out
		args := []string{"ossmount", cmd, "--endpoint", srv.URL, "--sts-endpoint", srv.URL, "--role-arn", "acs:ram::1:role/r", target}
		return app.Run(args)
	}
	for _, cmd := range []string{"check", "snapshot"} {
		requests.Store(0)
		if err := run(cmd, "bucket:/a/b"); err == nil || requests.Load() == 0 {
			t.Fatalf("%s of a good target: %v after %d requests; want a failure from the server", cmd, err, requests.Load())
		}
		for _, bad := range []string{"bucket:/a/../b", "bucket:/a/./b", "bucket:/a//b", "bucket:/a\x00b", "Bad_Bucket:/a"} {
			requests.Store(0)
			err := run(cmd, bad)
			if err == nil || requests.Load() != 0 || !strings.Contains(err.Error(), "bucket") && !strings.Contains(err.Error(), "prefix") {
				t.Errorf("%s %q: %v after %d requests; want a target error and none", cmd, bad, err, requests.Load())
			}
		}
	}
}

func TestParseTarget(t *testing.T) {
	cases := []struct {
		in      string
		want    target
		wantErr bool
	}{
		{"bucket", target{"bucket", ""}, false},
		{"bucket:/data/2024", target{"bucket", "data/2024/"}, false},
		{"bucket:/data/2024/", target{"bucket", "data/2024/"}, false},
		{"bucket:data", target{"bucket", "data/"}, false},
		{"oss://my-bucket/a/b", target{"my-bucket", "a/b/"}, false},
		{"bucket:/", target{"bucket", ""}, false},
		{"Bucket", target{}, true},
		{"-bucket", target{}, true},
		{"ab", target{}, true},
		{"bucket:/a//b", target{}, true},
		{"bucket:/a/../x", target{}, true},
		{"bucket:..", target{}, true},
		{"oss://bucket/a/./x", target{}, true},
		{"bucket:/a\x00b", target{}, true},
		{"bucket:/a/" + strings.Repeat("x", 256), target{}, true},
		{"bucket:/" + strings.Repeat("x/", 512), target{}, true},
		{"bucket:/a b/文件/.../.hidden/", target{"bucket", "a b/文件/.../.hidden/"}, false},
		{"bucket:/" + strings.Repeat("x/", 511), target{"bucket", strings.Repeat("x/", 511)}, false},
		{"", target{}, true},
	}
	for _, tc := range cases {
		t.Run(tc.in, func(t *testing.T) {
			got, err := parseTarget(tc.in)
			if (err != nil) != tc.wantErr || (!tc.wantErr && got != tc.want) {
				t.Fatalf("parseTarget(%q) = %+v, %v; want %+v (error %v)", tc.in, got, err, tc.want, tc.wantErr)
			}
		})
	}
}
