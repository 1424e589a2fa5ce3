package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ossmount/ossmount/test/mounttest"
)

// Every likely mistake gets one clear line on stderr, a non-zero exit and no
// mount.
func TestMistakesGiveClearErrors(t *testing.T) {
	e := startWithObjects(t, "data", map[string]string{"a.txt": "a"})
	e.emu.AddUser("LTAI5tOtherUserKey0000", "other-user-secret-000000")
	e.emu.AddRole("acs:ram::1234567890123456:role/not-for-demo", `{"Version":"1","Statement":[{"Effect":"Allow","Action":"oss:*","Resource":"*"}]}`, "LTAI5tOtherUserKey0000")

	notDir := filepath.Join(t.TempDir(), "file")
	os.WriteFile(notDir, []byte("x"), 0o644)
	otherBucketPolicy := filepath.Join(t.TempDir(), "policy.json")
	os.WriteFile(otherBucketPolicy, []byte(`{"Version":"1","Statement":[{"Effect":"Allow","Action":["oss:ListObjects","oss:GetObject"],"Resource":["acs:oss:*:*:other","acs:oss:*:*:other/*"]}]}`), 0o644)
	busy, _ := e.mount("data")

	without := func(names ...string) []string {
		var out []string
	next:
		for _, kv := range e.baseEnv() {
			for _, n := range names {
				if strings.HasPrefix(kv, n+"=") {
					continue next
				}
			}
			out = append(out, kv)
		}
		return out
	}
	with := func(extra ...string) []string { return append(without(), extra...) }

	cases := []struct {
		name    string
		env     []string
		args    []string
		mention []string // every one must appear in stderr
	}{
		{"no endpoint", without("OSS_ENDPOINT"), []string{"data"}, []string{"no OSS endpoint", "OSS_ENDPOINT"}},
		{"no source credential", without("ALIBABA_CLOUD_ACCESS_KEY_ID", "ALIBABA_CLOUD_ACCESS_KEY_SECRET"), []string{"data"}, []string{"ALIBABA_CLOUD_ACCESS_KEY_ID", "credentials"}},
		{"no role", without("ALIBABA_CLOUD_ROLE_ARN"), []string{"data"}, []string{"role"}},
		{"role does not exist", with("ALIBABA_CLOUD_ROLE_ARN=acs:ram::1234567890123456:role/missing"), []string{"data"}, []string{"EntityNotExist.Role"}},
		{"user may not assume role", with("ALIBABA_CLOUD_ROLE_ARN=acs:ram::1234567890123456:role/not-for-demo"), []string{"data"}, []string{"NoPermission"}},
		{"wrong secret", with("ALIBABA_CLOUD_ACCESS_KEY_SECRET=wrong"), []string{"data"}, []string{"SignatureDoesNotMatch"}},
		{"bucket missing", nil, []string{"nosuchbucket"}, []string{"nosuchbucket", "not found"}},
		{"access denied", nil, []string{"--policy-file", otherBucketPolicy, "data"}, []string{"denied", "oss:ListObjects"}},
		{"mountpoint missing", nil, []string{"data", "/nonexistent/mnt"}, []string{"does not exist", "mkdir"}},
		{"mountpoint not a directory", nil, []string{"data", notDir}, []string{"not a directory"}},
		{"already mounted", nil, []string{"data", busy}, []string{"already mounted"}},
		{"fuse missing", with("PATH=/nonexistent"), []string{"data"}, []string{"fusermount3", "fuse3"}},
		{"bad bucket name", nil, []string{"Bad_Bucket"}, []string{"not a bucket name"}},
		{"bad mode", nil, []string{"--file-mode", "999", "data"}, []string{"octal"}},
		{"unknown -o option", nil, []string{"-o", "bogus_option", "data"}, []string{"unknown mount option", "bogus_option"}},
		{"bad duration", nil, []string{"--duration", "1m", "data"}, []string{"duration"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			env := tc.env
			if env == nil {
				env = e.baseEnv()
			}
			args := append([]string{"--path-style"}, tc.args...)
			mnt := ""
			if !strings.HasPrefix(args[len(args)-1], "/") {
				mnt = t.TempDir()
				args = append(args, mnt)
			}
			_, stderr, err := run(t, env, args...)
			if err == nil {
				t.Cleanup(func() { unmountAndWait(t, mnt, "") })
				t.Fatalf("ossmount %v succeeded; want an error mentioning %q", tc.args, tc.mention)
			}
			for _, m := range tc.mention {
				if !strings.Contains(stderr, m) {
					t.Errorf("stderr does not mention %q:\n%s", m, stderr)
				}
			}
			if lines := strings.Count(strings.TrimSpace(stderr), "\n") + 1; lines > 3 {
				t.Errorf("want a short error, got %d lines:\n%s", lines, stderr)
			}
			if mnt != "" && mounttest.IsMounted(mnt) {
				t.Errorf("%s is mounted after a failed start", mnt)
				unmountAndWait(t, mnt, "")
			}
		})
	}
}
