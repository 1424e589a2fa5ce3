package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ossmount/ossmount/test/emulator"
	"github.com/ossmount/ossmount/test/mounttest"
)

// Bad files give one clear error each: a short stderr naming the problem,
// a non-zero exit, no mount, and no secret from the file echoed back.
func TestBadFilesGiveClearErrors(t *testing.T) {
	e := startWithObjects(t, "files", map[string]string{"a.txt": "a"})
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	const fileSecret = "FileSecretThatMustNeverBeEchoed0000"
	badPolicy := write("bad-policy.json", `{"Version":"1","Statement":[{"Effect":"Allow","Action":`)
	wrongPolicy := write("wrong-policy.json", `{"Version":"1","Statement":[{"Effect":"Maybe","Action":["oss:GetObject"],"Resource":["*"]}]}`)
	badINI := write("bad.ini", "[default]\ntype = access_key\naccess_key_id = LTAI\naccess_key_secret = "+fileSecret+"\n[broken\n")
	noProfile := write("ok.ini", "[default]\ntype = access_key\naccess_key_id = "+emulator.DemoAccessKeyID+"\naccess_key_secret = "+fileSecret+"\n")
	badJSON := write("config.json", `{"current":"default","profiles":[{"name":"default","mode":"AK","access_key_id":"x","access_key_secret":"`+fileSecret+`"`)

	noKeys := func() []string {
		var out []string
		for _, kv := range e.baseEnv() {
			if !strings.HasPrefix(kv, "ALIBABA_CLOUD_ACCESS_KEY_") {
				out = append(out, kv)
			}
		}
		return out
	}()
	cases := []struct {
		name    string
		env     []string
		args    []string
		mention []string
	}{
		{"policy file is not JSON", nil, []string{"--policy-file", badPolicy}, []string{"bad-policy.json"}},
		{"policy file has a bad effect", nil, []string{"--policy-file", wrongPolicy}, []string{"wrong-policy.json", "Effect"}},
		{"policy file missing", nil, []string{"--policy-file", filepath.Join(dir, "nope.json")}, []string{"nope.json", "no such file"}},
		{"credentials INI malformed", noKeys, []string{"--credentials-file", badINI}, []string{"bad.ini"}},
		{"credentials profile missing", noKeys, []string{"--credentials-file", noProfile, "--profile", "absent"}, []string{"absent"}},
		{"credentials JSON truncated", noKeys, []string{"--credentials-file", badJSON}, []string{"config.json"}},
		{"credentials file missing", noKeys, []string{"--credentials-file", filepath.Join(dir, "missing.ini")}, []string{"missing.ini"}},
		{"log file in a missing directory", nil, []string{"--log-file", filepath.Join(dir, "no", "such", "dir.log")}, []string{"--log-file"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			environ := tc.env
			if environ == nil {
				environ = e.baseEnv()
			}
			mnt := t.TempDir()
			args := append(append([]string{"--path-style"}, tc.args...), "files", mnt)
			stdout, stderr, err := run(t, environ, args...)
			if err == nil {
				unmountAndWait(t, mnt, "")
				t.Fatalf("ossmount %v succeeded", tc.args)
			}
			if mounttest.IsMounted(mnt) {
				unmountAndWait(t, mnt, "")
				t.Errorf("mounted despite the error")
			}
			for _, m := range tc.mention {
				if !strings.Contains(stderr, m) {
					t.Errorf("stderr does not mention %q:\n%s", m, stderr)
				}
			}
			if lines := strings.Count(strings.TrimSpace(stderr), "\n") + 1; lines > 3 {
				t.Errorf("want a short error, got %d lines:\n%s", lines, stderr)
			}
			if strings.Contains(stderr+stdout, fileSecret) || strings.Contains(stderr+stdout, emulator.DemoAccessKeySecret) {
				t.Errorf("the error echoes a secret:\n%s", stderr)
			}
			t.Logf("%s", strings.TrimSpace(stderr))
		})
	}
}
