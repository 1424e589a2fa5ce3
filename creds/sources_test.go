package creds

import (
	"cmp"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// fakeIMDS serves the ECS metadata paths (reference 7.6) with a role whose
// STS key the fake STS knows.
type fakeIMDS struct {
	srv          *httptest.Server
	hardenedOnly bool // 403 without a token
	noTokens     bool // PUT /latest/api/token is 404 (old instance)
	tokenPuts    atomic.Int64
	credGets     atomic.Int64
}

const imdsRole, imdsAK, imdsSecret, imdsToken = "ecs-role", "STS.ecskey", "ecs-secret-do-not-leak", "ecs-token-do-not-leak"

func newFakeIMDS(t *testing.T, f *fakeSTS) *fakeIMDS {
	m := &fakeIMDS{}
	f.mu.Lock()
	f.secrets[imdsAK], f.tokens[imdsAK] = imdsSecret, imdsToken
	f.mu.Unlock()
	m.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPut && r.URL.Path == "/latest/api/token" {
			m.tokenPuts.Add(1)
			if m.noTokens || r.Header.Get("X-aliyun-ecs-metadata-token-ttl-seconds") == "" {
				http.NotFound(w, r)
				return
			}
			fmt.Fprint(w, "mdtoken")
			return
		}
		if tok := r.Header.Get("X-aliyun-ecs-metadata-token"); (m.hardenedOnly && tok != "mdtoken") || (tok != "" && tok != "mdtoken") {
			http.Error(w, "forbidden", 403)
			return
		}
		switch r.URL.Path {
		case imdsCredsPath:
			fmt.Fprint(w, imdsRole+"\n")
		case imdsCredsPath + imdsRole:
			m.credGets.Add(1)
			fmt.Fprintf(w, `{"AccessKeyId":%q,"AccessKeySecret":%q,"SecurityToken":%q,"Expiration":%q,"Code":"Success"}`,
				imdsAK, imdsSecret, imdsToken, time.Now().Add(time.Hour).UTC().Format("2006-01-02T15:04:05Z"))
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(m.srv.Close)
	return m
}

func writeFile(t *testing.T, path, content string) string {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// signer returns the AccessKeyId that signed each AssumeRole, in order.
func signers(f *fakeSTS) []string {
	var out []string
	for _, v := range f.forms() {
		out = append(out, v.Get("Action")+":"+v.Get("AccessKeyId")+":"+v.Get("RoleArn"))
	}
	return out
}

func TestSources(t *testing.T) {
	const fileAK, fileSecret = "LTAIfilekey", "file-secret-do-not-leak"
	const profileRole = "acs:ram::1234567890123456:role/profile-role"
	oidcProvider := "acs:ram::1234567890123456:oidc-provider/ack-rrsa-c1"
	cli := `{"current":"main","profiles":[
	 {"name":"main","mode":"AK","access_key_id":"` + fileAK + `","access_key_secret":"` + fileSecret + `"},
	 {"name":"sts","mode":"StsToken","access_key_id":"` + imdsAK + `","access_key_secret":"` + imdsSecret + `","sts_token":"` + imdsToken + `"},
	 {"name":"role","mode":"RamRoleArn","access_key_id":"` + fileAK + `","access_key_secret":"` + fileSecret + `","ram_role_arn":"` + profileRole + `","ram_session_name":"hop"},
	 {"name":"ecs","mode":"EcsRamRole","ram_role_name":"` + imdsRole + `"},
	 {"name":"sso","mode":"CloudSSO"}]}`
	ini := "# comment\n[default]\ntype = access_key\naccess_key_id = " + fileAK + "\naccess_key_secret = \"" + fileSecret + "\"\n" +
		"[ecs]\ntype=ecs_ram_role\n[role]\ntype = ram_role_arn\naccess_key_id = " + fileAK + "\naccess_key_secret = " + fileSecret + "\nrole_arn = " + profileRole + "\n" +
		"[odd]\ntype = oidc_role_arn\n"

	tests := []struct {
		name       string
		env        []string
		cli, ini   bool
		iniAt      string // the INI file's path under home; default .alibabacloud/credentials
		profile    string
		roleARN    string // Config.RoleARN; "-" for none
		imds       string // "", "v2", "v1", "hardened"
		wantSource string
		wantCalls  []string // Action:AccessKeyId:RoleArn
		wantErr    string
	}{
		{name: "env alibaba", env: []string{"ALIBABA_CLOUD_ACCESS_KEY_ID", testAK, "ALIBABA_CLOUD_ACCESS_KEY_SECRET", testSecret}, cli: true, ini: true, imds: "v2",
			wantSource: "environment ALIBABA_CLOUD_ACCESS_KEY_ID", wantCalls: []string{"AssumeRole:" + testAK + ":" + testRole}},
		{name: "env oss with token", env: []string{"OSS_ACCESS_KEY_ID", imdsAK, "OSS_ACCESS_KEY_SECRET", imdsSecret, "OSS_SESSION_TOKEN", imdsToken}, cli: true,
			wantSource: "environment OSS_ACCESS_KEY_ID", wantCalls: []string{"AssumeRole:" + imdsAK + ":" + testRole}},
		{name: "env half set", env: []string{"ALIBABA_CLOUD_ACCESS_KEY_ID", testAK}, cli: true, wantErr: "must be set together"},
		{name: "oidc before files", env: []string{"ALIBABA_CLOUD_OIDC_PROVIDER_ARN", oidcProvider, "ALIBABA_CLOUD_OIDC_TOKEN_FILE", "TOKENFILE"}, cli: true, ini: true,
			wantSource: "OIDC provider " + oidcProvider, wantCalls: []string{"AssumeRoleWithOIDC::" + testRole}},
		// ALIBABA_CLOUD_ROLE_ARN is ossmount's --role-arn, read once by the
		// flag table into Config.RoleARN.
		{name: "role env is the flag's", env: []string{"ALIBABA_CLOUD_OIDC_PROVIDER_ARN", oidcProvider, "ALIBABA_CLOUD_OIDC_TOKEN_FILE", "TOKENFILE", "ALIBABA_CLOUD_ROLE_ARN", profileRole}, roleARN: "-",
			wantErr: "no role ARN"},
		{name: "cli current", cli: true, ini: true, imds: "v2", wantSource: `profile "main"`, wantCalls: []string{"AssumeRole:" + fileAK + ":" + testRole}},
		{name: "cli sts token", cli: true, profile: "sts", wantSource: `profile "sts"`, wantCalls: []string{"AssumeRole:" + imdsAK + ":" + testRole}},
		{name: "cli env profile", cli: true, env: []string{"ALIBABA_CLOUD_PROFILE", "sts"}, wantSource: `profile "sts"`, wantCalls: []string{"AssumeRole:" + imdsAK + ":" + testRole}},
		// As in credentials-go, ALIBABA_CLOUD_PROFILE picks a profile in both
		// files and ALIBABA_CLOUD_CREDENTIALS_FILE names the INI file; neither
		// skips the sources before the files.
		{name: "env key before env profile", cli: true, env: []string{"ALIBABA_CLOUD_PROFILE", "sts", "ALIBABA_CLOUD_ACCESS_KEY_ID", testAK, "ALIBABA_CLOUD_ACCESS_KEY_SECRET", testSecret},
			wantSource: "environment ALIBABA_CLOUD_ACCESS_KEY_ID", wantCalls: []string{"AssumeRole:" + testAK + ":" + testRole}},
		{name: "ini env profile", ini: true, env: []string{"ALIBABA_CLOUD_PROFILE", "role"}, roleARN: "-", wantSource: "section [role]",
			wantCalls: []string{"AssumeRole:" + fileAK + ":" + profileRole}},
		{name: "ini file from env", ini: true, iniAt: "elsewhere.ini", env: []string{"ALIBABA_CLOUD_CREDENTIALS_FILE", "HOMEDIR/elsewhere.ini"},
			wantSource: "elsewhere.ini section [default]", wantCalls: []string{"AssumeRole:" + fileAK + ":" + testRole}},
		{name: "env key before env ini file", ini: true, iniAt: "elsewhere.ini",
			env:        []string{"ALIBABA_CLOUD_CREDENTIALS_FILE", "HOMEDIR/elsewhere.ini", "ALIBABA_CLOUD_ACCESS_KEY_ID", testAK, "ALIBABA_CLOUD_ACCESS_KEY_SECRET", testSecret},
			wantSource: "environment ALIBABA_CLOUD_ACCESS_KEY_ID", wantCalls: []string{"AssumeRole:" + testAK + ":" + testRole}},
		{name: "cli role as target", cli: true, profile: "role", roleARN: "-", wantSource: `profile "role"`, wantCalls: []string{"AssumeRole:" + fileAK + ":" + profileRole}},
		{name: "cli role chained", cli: true, profile: "role", wantSource: "via role " + profileRole,
			wantCalls: []string{"AssumeRole:" + fileAK + ":" + profileRole, "AssumeRole:STS.key1:" + testRole}},
		{name: "cli ecs", cli: true, profile: "ecs", imds: "v2", wantSource: `role "ecs-role"`, wantCalls: []string{"AssumeRole:" + imdsAK + ":" + testRole}},
		{name: "cli unsupported", cli: true, profile: "sso", wantErr: `mode "CloudSSO" is not supported`},
		{name: "cli disabled, ini default", cli: true, ini: true, env: []string{"ALIBABA_CLOUD_CLI_PROFILE_DISABLED", "true"}, wantSource: "section [default]",
			wantCalls: []string{"AssumeRole:" + fileAK + ":" + testRole}},
		{name: "ini only", ini: true, imds: "v2", wantSource: "section [default]", wantCalls: []string{"AssumeRole:" + fileAK + ":" + testRole}},
		{name: "ini ecs", ini: true, profile: "ecs", imds: "v1", wantSource: "section [ecs]", wantCalls: []string{"AssumeRole:" + imdsAK + ":" + testRole}},
		{name: "ini role", ini: true, profile: "role", roleARN: "-", wantSource: "section [role]", wantCalls: []string{"AssumeRole:" + fileAK + ":" + profileRole}},
		{name: "ini unsupported type", ini: true, profile: "odd", wantErr: `type "oidc_role_arn" is not supported`},
		{name: "profile missing everywhere", cli: true, ini: true, profile: "nope", imds: "v2", wantErr: `no profile "nope"`},
		{name: "ecs hardened", imds: "hardened", wantSource: "ECS metadata", wantCalls: []string{"AssumeRole:" + imdsAK + ":" + testRole}},
		{name: "ecs v1 fallback", imds: "v1", wantSource: "ECS metadata", wantCalls: []string{"AssumeRole:" + imdsAK + ":" + testRole}},
		{name: "ecs v1 disabled", imds: "v1", env: []string{"ALIBABA_CLOUD_IMDSV1_DISABLED", "true"}, wantErr: "IMDSv1 disabled"},
		{name: "ecs role from env", imds: "v2", env: []string{"ALIBABA_CLOUD_ECS_METADATA", imdsRole}, wantSource: `role "ecs-role"`,
			wantCalls: []string{"AssumeRole:" + imdsAK + ":" + testRole}},
		{name: "nothing", imds: "", wantErr: "no source credentials found"},
		{name: "no role", cli: true, roleARN: "-", wantErr: "no role ARN"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeSTS(t, time.Hour)
			f.addUser(testAK, testSecret)
			f.addUser(fileAK, fileSecret)
			f.addUser(imdsAK, imdsSecret) // the STS triple of the ECS role and the StsToken cases
			f.mu.Lock()
			f.tokens[imdsAK] = imdsToken
			f.mu.Unlock()
			home := t.TempDir()
			tokenFile := writeFile(t, filepath.Join(t.TempDir(), "token"), "eyJ.oidc.jwt")
			f.oidc = "eyJ.oidc.jwt"
			env := map[string]string{"ALIBABA_CLOUD_ECS_METADATA_DISABLED": "true"}
			for i := 0; i+1 < len(tt.env); i += 2 {
				env[tt.env[i]] = strings.NewReplacer("TOKENFILE", tokenFile, "HOMEDIR", home).Replace(tt.env[i+1])
			}
			if tt.cli {
				writeFile(t, filepath.Join(home, ".aliyun", "config.json"), cli)
			}
			if tt.ini {
				writeFile(t, filepath.Join(home, cmp.Or(tt.iniAt, ".alibabacloud/credentials")), ini)
			}
			cfg := Config{RoleARN: testRole, Policy: testPolicy, STSEndpoint: f.srv.URL, HomeDir: home, Profile: tt.profile}
			if tt.roleARN == "-" {
				cfg.RoleARN = ""
			}
			if tt.imds != "" {
				delete(env, "ALIBABA_CLOUD_ECS_METADATA_DISABLED")
				m := newFakeIMDS(t, f)
				m.hardenedOnly = tt.imds == "hardened"
				m.noTokens = tt.imds == "v1"
				cfg.ECSMetadataEndpoint = m.srv.URL
			}
			cfg.Getenv = func(k string) string { return env[k] }
			m, err := New(t.Context(), cfg)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer m.Close()
			if src := m.Status().Source; !strings.Contains(src, tt.wantSource) {
				t.Errorf("source = %q, want it to contain %q", src, tt.wantSource)
			}
			if got := signers(f); strings.Join(got, " ") != strings.Join(tt.wantCalls, " ") {
				t.Errorf("STS calls = %q, want %q", got, tt.wantCalls)
			}
		})
	}
}

func TestNothingFoundListsEveryPlace(t *testing.T) {
	f := newFakeSTS(t, time.Hour)
	closed := httptest.NewServer(http.NotFoundHandler())
	closed.Close() // a port where nothing answers
	home := t.TempDir()
	_, err := New(t.Context(), Config{RoleARN: testRole, Policy: testPolicy, STSEndpoint: f.srv.URL, HomeDir: home,
		ECSMetadataEndpoint: closed.URL, Getenv: envMap()})
	if err == nil {
		t.Fatal("no error")
	}
	for _, want := range []string{"ALIBABA_CLOUD_ACCESS_KEY_ID", "OSS_ACCESS_KEY_ID", "ALIBABA_CLOUD_OIDC_PROVIDER_ARN",
		filepath.Join(home, ".aliyun", "config.json"), filepath.Join(home, ".alibabacloud", "credentials"), "ECS metadata " + closed.URL} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
}

func TestOIDCTokenFileReReadOnRenewal(t *testing.T) {
	f := newFakeSTS(t, time.Hour)
	tokenFile := writeFile(t, filepath.Join(t.TempDir(), "token"), "jwt-one")
	f.oidc = "jwt-one"
	cfg := Config{RoleARN: testRole, Policy: testPolicy, STSEndpoint: f.srv.URL, HomeDir: t.TempDir(),
		Getenv: envMap("ALIBABA_CLOUD_OIDC_PROVIDER_ARN", "acs:ram::1:oidc-provider/p", "ALIBABA_CLOUD_OIDC_TOKEN_FILE", tokenFile)}
	m := newManager(t, cfg)
	first, _ := m.Retrieve(t.Context())
	writeFile(t, tokenFile, "jwt-two") // kubelet rotated it
	f.mu.Lock()
	f.oidc = "jwt-two"
	f.mu.Unlock()
	m.Invalidate(first)
	c, err := m.Retrieve(t.Context())
	if err != nil || c.AccessKeyID == first.AccessKeyID {
		t.Fatalf("renewal with the rotated token: %v %v", c.AccessKeyID, err)
	}
	forms := f.forms()
	if got := forms[len(forms)-1].Get("OIDCToken"); got != "jwt-two" {
		t.Errorf("renewal sent token %q", got)
	}
	if forms[0].Get("Policy") != testPolicy {
		t.Error("OIDC exchange lacks the session policy")
	}
}

func TestExplicitCredentialsFile(t *testing.T) {
	f := newFakeSTS(t, time.Hour)
	f.addUser("LTAIx", "sx")
	dir := t.TempDir()
	for name, content := range map[string]string{
		"ini":  "[p]\ntype = access_key\naccess_key_id = LTAIx\naccess_key_secret = sx\n",
		"json": `{"profiles":[{"name":"p","mode":"AK","access_key_id":"LTAIx","access_key_secret":"sx"}]}`,
	} {
		t.Run(name, func(t *testing.T) {
			path := writeFile(t, filepath.Join(dir, name), content)
			m, err := New(t.Context(), Config{RoleARN: testRole, Policy: testPolicy, STSEndpoint: f.srv.URL, CredentialsFile: path, Profile: "p",
				Getenv: envMap("ALIBABA_CLOUD_ACCESS_KEY_ID", "ignored", "ALIBABA_CLOUD_ACCESS_KEY_SECRET", "ignored")})
			if err != nil {
				t.Fatal(err)
			}
			m.Close()
			if !strings.Contains(m.Status().Source, path) {
				t.Errorf("source %q", m.Status().Source)
			}
			_, err = New(t.Context(), Config{RoleARN: testRole, Policy: testPolicy, STSEndpoint: f.srv.URL, CredentialsFile: path, Profile: "q", Getenv: envMap()})
			if err == nil || !strings.Contains(err.Error(), "q") {
				t.Errorf("missing profile: %v", err)
			}
		})
	}
}
