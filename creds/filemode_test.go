package creds

import (
	"bytes"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// A source credential file others may write is refused: anyone could put
// their own key in it. One others may read is used, with a warning naming
// the file. Both hold for the INI file, the CLI config.json and an explicit
// --credentials-file.
func TestCredentialFilePermissions(t *testing.T) {
	f := newFakeSTS(t, time.Hour)
	f.addUser("LTAIx", "sx")
	ini := "[default]\ntype = access_key\naccess_key_id = LTAIx\naccess_key_secret = sx\n"
	cli := `{"current":"default","profiles":[{"name":"default","mode":"AK","access_key_id":"LTAIx","access_key_secret":"sx"}]}`
	places := []struct {
		name     string
		rel      string // under HOME
		content  string
		explicit bool
	}{
		{"ini", ".alibabacloud/credentials", ini, false},
		{"cli config", ".aliyun/config.json", cli, false},
		{"explicit file", "creds.ini", ini, true},
	}
	modes := []struct {
		mode       os.FileMode
		refuse     bool
		warnReason string
	}{
		{0o600, false, ""},
		{0o400, false, ""},
		{0o640, false, "readable by others"},
		{0o644, false, "readable by others"},
		{0o620, true, "writable by others"},
		{0o602, true, "writable by others"},
		{0o666, true, "writable by others"},
	}
	for _, p := range places {
		for _, m := range modes {
			t.Run(p.name+"/"+m.mode.String(), func(t *testing.T) {
				home := t.TempDir()
				path := writeFile(t, filepath.Join(home, p.rel), p.content)
				if err := os.Chmod(path, m.mode); err != nil {
					t.Fatal(err)
				}
				var logs bytes.Buffer
				cfg := Config{RoleARN: testRole, Policy: testPolicy, STSEndpoint: f.srv.URL, HomeDir: home, Getenv: envMap(),
					Logger: slog.New(slog.NewTextHandler(&logs, nil))}
				if p.explicit {
					cfg.CredentialsFile = path
				}
				mgr, err := New(t.Context(), cfg)
				if m.refuse {
					if err == nil {
						mgr.Close()
						t.Fatalf("mode %v accepted", m.mode)
					}
					if !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), m.warnReason) || !strings.Contains(err.Error(), "chmod 600") {
						t.Fatalf("mode %v: error %q should name the file, say %q and the fix", m.mode, err, m.warnReason)
					}
					return
				}
				if err != nil {
					t.Fatalf("mode %v: %v", m.mode, err)
				}
				mgr.Close()
				warned := strings.Contains(logs.String(), "level=WARN") && strings.Contains(logs.String(), path)
				if m.warnReason == "" && warned {
					t.Fatalf("mode %v warned:\n%s", m.mode, logs.String())
				}
				if m.warnReason != "" && (!warned || !strings.Contains(logs.String(), m.warnReason)) {
					t.Fatalf("mode %v: no warning naming the file:\n%s", m.mode, logs.String())
				}
				if strings.Contains(logs.String(), "sx") {
					t.Fatalf("secret in the log:\n%s", logs.String())
				}
			})
		}
	}
}
