package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/ossmount/ossmount/policy"
	"github.com/ossmount/ossmount/test/emulator"
	"github.com/ossmount/ossmount/test/mounttest"
)

// stsRecorder is a proxy in front of the emulator's STS that keeps every
// secret and token it hands out, so that the test can search for them.
type stsRecorder struct {
	url     string
	mu      sync.Mutex
	secrets []string // temporary AccessKeySecrets and SecurityTokens
}

func startSTSRecorder(t *testing.T, target string) *stsRecorder {
	t.Helper()
	u, _ := url.Parse(target)
	rec := &stsRecorder{}
	rp := httputil.NewSingleHostReverseProxy(u)
	rp.ModifyResponse = func(resp *http.Response) error {
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			return err
		}
		resp.Body = io.NopCloser(bytes.NewReader(body))
		var answer struct {
			Credentials struct{ AccessKeySecret, SecurityToken string }
		}
		if json.Unmarshal(body, &answer) == nil && answer.Credentials.AccessKeySecret != "" {
			rec.mu.Lock()
			rec.secrets = append(rec.secrets, answer.Credentials.AccessKeySecret, answer.Credentials.SecurityToken)
			rec.mu.Unlock()
		}
		return nil
	}
	rec.url = serveLoopback(t, rp)
	return rec
}

func (r *stsRecorder) issued() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.secrets...)
}

// secretEnv is baseEnv with STS behind the recorder.
func secretEnv(e *env, rec *stsRecorder) []string {
	var out []string
	for _, kv := range e.baseEnv() {
		if !strings.HasPrefix(kv, "ALIBABA_CLOUD_STS_ENDPOINT=") {
			out = append(out, kv)
		}
	}
	return append(out, "ALIBABA_CLOUD_STS_ENDPOINT="+rec.url)
}

// outageScenario reads, blacks out STS across an expiry of the 2-second
// token, and reads again once STS is back. It returns every error message
// a reader saw.
func outageScenario(t *testing.T, e *env, mnt string) []string {
	var msgs []string
	read := func(i int) error {
		_, err := os.ReadFile(filepath.Join(mnt, fmt.Sprintf("f%05d", i)))
		if err != nil {
			msgs = append(msgs, err.Error())
		}
		return err
	}
	i := 0
	for ; i < 10; i++ {
		if err := read(i); err != nil {
			t.Fatalf("read before the outage: %v", err)
		}
	}
	e.emu.SetFaults(emulator.Faults{STSOutage: true})
	// Reads fail once the 2 s token runs out; if none did, the check on
	// msgs below says the failing path was not exercised.
	mounttest.WaitFor(10*time.Second, func() bool { i++; return read(i) != nil })
	e.emu.SetFaults(emulator.Faults{})
	if !mounttest.WaitFor(mounttest.HangGuard, func() bool { i++; return read(i) == nil }) {
		t.Fatalf("reads do not recover after the outage: %v", msgs[len(msgs)-1])
	}
	if len(msgs) == 0 {
		t.Fatal("no read failed during a 10s outage with 2s tokens: the failing-STS path was not exercised")
	}
	return msgs
}

// mountOptions returns the super options of the mount at dir.
func mountOptions(dir string) string {
	data, _ := os.ReadFile("/proc/self/mountinfo")
	for _, line := range strings.Split(string(data), "\n") {
		fields := strings.Fields(line)
		if len(fields) > 4 && fields[4] == dir {
			return fields[len(fields)-1]
		}
	}
	return ""
}

// No secret appears anywhere a user or a log collector can see: logs at
// debug level (background and foreground), stdout, stderr and the errors
// of failed reads and of a failed start, through an STS outage.
func TestNoSecretLeaksAndScopeIsMinimal(t *testing.T) {
	e := startEmulator(t, emulator.Config{TokenLifetime: 2 * time.Second})
	e.emu.CreateBucket("sec", false)
	e.emu.AddGenerated("sec", emulator.Generated{Count: 5000, KeyFormat: "team/f%05d", Size: 100, Seed: 1})
	rec := startSTSRecorder(t, e.emu.STSURL())
	environ := secretEnv(e, rec)
	var haystack []string // name: content
	add := func(name, s string) { haystack = append(haystack, name+"\x00"+s) }

	// 1. Background mount, debug log to a file.
	mnt := t.TempDir()
	logFile := filepath.Join(t.TempDir(), "bg.log")
	stdout, stderr, err := run(t, environ, "--path-style", "--log-level", "debug", "--log-file", logFile, "sec:/team", mnt)
	if err != nil {
		t.Fatalf("background mount: %v\n%s", err, stderr)
	}
	t.Cleanup(func() { unmountAndWait(t, mnt, logFile) })
	if opts := mountOptions(mnt); strings.Contains(opts, "allow_other") {
		t.Errorf("allow_other is on without --allow-other: %s", opts)
	} else {
		t.Logf("background mount options: %s", opts)
	}
	for _, m := range outageScenario(t, e, mnt) {
		add("background read error", m)
	}
	unmountAndWait(t, mnt, logFile)
	add("background stdout", stdout)
	add("background stderr", stderr)
	add("background log", readFile(t, logFile))

	// 2. Foreground mount, debug log to stderr, with --allow-other.
	mnt2 := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, ossmountBin, "-f", "--allow-other", "--path-style", "--log-level", "debug", "sec:/team", mnt2)
	cmd.Env = environ
	outF, errF := tempFile(t, "fg-stdout"), tempFile(t, "fg-stderr")
	cmd.Stdout, cmd.Stderr = outF, errF
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if mounttest.IsMounted(mnt2) {
			exec.Command("fusermount3", "-u", "-z", mnt2).Run()
		}
		cmd.Process.Kill()
	})
	if !mounttest.WaitFor(mounttest.HangGuard, func() bool { return mounttest.IsMounted(mnt2) }) {
		t.Fatalf("foreground mount did not appear:\n%s", readFile(t, errF.Name()))
	}
	if opts := mountOptions(mnt2); !strings.Contains(opts, "allow_other") {
		t.Errorf("--allow-other given but the mount options are %s", opts)
	}
	for _, m := range outageScenario(t, e, mnt2) {
		add("foreground read error", m)
	}
	cmd.Process.Signal(syscall.SIGTERM)
	cmd.Wait()
	add("foreground stdout", readFile(t, outF.Name()))
	add("foreground stderr", readFile(t, errF.Name()))

	// 3. Start-up failures with STS down: the mount and `check` print errors.
	e.emu.SetFaults(emulator.Faults{STSOutage: true})
	for _, args := range [][]string{
		{"--path-style", "--log-level", "debug", "sec:/team", t.TempDir()},
		{"check", "--path-style", "--log-level", "debug", "sec:/team"},
	} {
		stdout, stderr, err := run(t, environ, args...)
		if err == nil {
			t.Errorf("ossmount %v succeeded with STS down", args)
		}
		add(fmt.Sprintf("%v stdout", args), stdout)
		add(fmt.Sprintf("%v stderr", args), stderr)
	}
	e.emu.SetFaults(emulator.Faults{})

	issued := rec.issued()
	if len(issued) < 8 {
		t.Fatalf("only %d secrets recorded: the STS recorder saw too few tokens", len(issued))
	}
	needles := append([]string{emulator.DemoAccessKeySecret}, issued...)
	total, found := 0, 0
	for _, h := range haystack {
		name, text, _ := strings.Cut(h, "\x00")
		total += len(text)
		for _, n := range needles {
			if strings.Contains(text, n) {
				t.Errorf("%s contains a secret (%.8s…)", name, n)
				found++
			}
		}
		for _, shape := range []string{"CAIS", "Signature=", "OSS4-HMAC-SHA256 Credential", "x-oss-security-token:", "ALIBABA_CLOUD_ACCESS_KEY_SECRET="} {
			if strings.Contains(text, shape) {
				t.Errorf("%s contains %q", name, shape)
				found++
			}
		}
	}
	t.Logf("searched %d outputs (%d KiB) for %d secrets (demo secret + %d temporary secrets and tokens) and 5 secret shapes: %d found",
		len(haystack), total>>10, len(needles), len(issued), found)

	// The session policy every AssumeRole carried allows reading sec/team/ only.
	calls := e.emu.Counters().AssumeRoleCalls
	if len(calls) == 0 {
		t.Fatal("no AssumeRole calls recorded")
	}
	list := func(bucket, prefix string) policy.Request {
		return policy.Request{Action: "oss:ListObjects", Resource: policy.BucketResource(bucket),
			Context: map[string]string{"oss:Prefix": prefix, "oss:Delimiter": "/"}}
	}
	get := func(action, bucket, key string) policy.Request {
		return policy.Request{Action: action, Resource: policy.ObjectResource(bucket, key)}
	}
	table := []struct {
		name  string
		req   policy.Request
		allow bool
	}{
		{"list the prefix", list("sec", "team/"), true},
		{"list inside the prefix", list("sec", "team/sub/"), true},
		{"read inside the prefix", get("oss:GetObject", "sec", "team/f00001"), true},
		{"read deep inside", get("oss:GetObject", "sec", "team/a/b/c"), true},
		{"list the bucket root", list("sec", ""), false},
		{"list a sibling prefix", list("sec", "teamx/"), false},
		{"list another prefix", list("sec", "other/"), false},
		{"list another bucket", list("other", "team/"), false},
		{"read a sibling prefix", get("oss:GetObject", "sec", "teamx/f"), false},
		{"read outside the prefix", get("oss:GetObject", "sec", "f00001"), false},
		{"read another bucket", get("oss:GetObject", "other", "team/f00001"), false},
		{"write inside the prefix", get("oss:PutObject", "sec", "team/new"), false},
		{"delete inside the prefix", get("oss:DeleteObject", "sec", "team/f00001"), false},
		{"change the ACL", get("oss:PutObjectAcl", "sec", "team/f00001"), false},
		{"bucket info", policy.Request{Action: "oss:GetBucketInfo", Resource: policy.BucketResource("sec")}, false},
		{"delete the bucket", policy.Request{Action: "oss:DeleteBucket", Resource: policy.BucketResource("sec")}, false},
		{"assume a role", policy.Request{Action: "sts:AssumeRole", Resource: "acs:ram::1234567890123456:role/x"}, false},
	}
	for i, call := range calls {
		doc, err := policy.Parse([]byte(call.Policy))
		if err != nil {
			t.Fatalf("AssumeRole call %d: session policy %q: %v", i, call.Policy, err)
		}
		for _, tc := range table {
			if got := doc.Allows(tc.req); got != tc.allow {
				t.Errorf("call %d: %s: allowed=%v, want %v (policy %s)", i, tc.name, got, tc.allow, call.Policy)
			}
		}
	}
	t.Logf("%d AssumeRole calls, every session policy checked against %d cases: %s", len(calls), len(table), calls[0].Policy)
}
