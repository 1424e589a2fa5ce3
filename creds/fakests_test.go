package creds

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	cgutils "github.com/aliyun/credentials-go/credentials/utils"
)

// fakeSTS is a local STS: it verifies signatures with the credentials-go
// pipeline (an implementation independent of sign.go), counts calls, fails on
// demand and issues tokens with a forced lifetime and second-granular
// Expiration like the real service.
type fakeSTS struct {
	t        *testing.T
	srv      *httptest.Server
	lifetime time.Duration
	now      func() time.Time // Expiration is issued from it; guarded by mu

	failNext   atomic.Int64 // fail this many requests, then heal
	failAlways atomic.Bool
	failCode   string // code of injected failures; default ServiceUnavailable
	failStatus int

	issued   atomic.Int64 // successful AssumeRole/AssumeRoleWithOIDC answers
	requests atomic.Int64

	mu       sync.Mutex // guards the fields below
	secrets  map[string]string
	tokens   map[string]string // AK -> security token for issued STS keys
	expiry   map[string]time.Time
	nonces   map[string]bool
	oidc     string // accepted OIDC token
	log      []url.Values
	badNotes []string
}

func newFakeSTS(t *testing.T, lifetime time.Duration) *fakeSTS {
	t.Helper()
	f := &fakeSTS{t: t, lifetime: lifetime, now: time.Now, failCode: "ServiceUnavailable", failStatus: 503,
		secrets: map[string]string{}, tokens: map[string]string{}, expiry: map[string]time.Time{}, nonces: map[string]bool{}}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(func() {
		f.srv.Close()
		f.mu.Lock()
		defer f.mu.Unlock()
		for _, n := range f.badNotes {
			t.Errorf("fake STS: %s", n)
		}
	})
	return f
}

// simulate makes f issue tokens by clock and cfg's Manager run on it.
func (f *fakeSTS) simulate(cfg *Config) *fakeClock {
	clock := newFakeClock()
	f.mu.Lock()
	defer f.mu.Unlock()
	f.now = clock.Now
	cfg.Clock = clock
	return clock
}

func (f *fakeSTS) addUser(ak, secret string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.secrets[ak] = secret
}

func (f *fakeSTS) forms() []url.Values {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]url.Values(nil), f.log...)
}

func (f *fakeSTS) bad(format string, args ...any) {
	f.badNotes = append(f.badNotes, fmt.Sprintf(format, args...))
}

// oracleSignature is credentials-go's ram_role_arn.go signing pipeline.
func oracleSignature(method string, params map[string]string, secret string) string {
	s := cgutils.GetURLFormedMap(params)
	s = strings.ReplaceAll(s, "+", "%20")
	s = strings.ReplaceAll(s, "*", "%2A")
	s = strings.ReplaceAll(s, "%7E", "~")
	s = method + "&%2F&" + url.QueryEscape(s)
	return cgutils.ShaHmac1(s, secret+"&")
}

func (f *fakeSTS) serve(w http.ResponseWriter, r *http.Request) {
	f.requests.Add(1)
	if err := r.ParseForm(); err != nil || r.Method != http.MethodPost {
		http.Error(w, "bad request", 400)
		return
	}
	params := map[string]string{}
	for k := range r.Form {
		params[k] = r.Form.Get(k)
	}
	f.mu.Lock()
	f.log = append(f.log, r.Form)
	f.mu.Unlock()
	reqID := fmt.Sprintf("REQ-%d", f.requests.Load())
	fail := func(status int, code, msg string) {
		w.WriteHeader(status)
		json.NewEncoder(w).Encode(map[string]string{"RequestId": reqID, "Code": code, "Message": msg, "HostId": "sts.local"})
	}
	if f.failAlways.Load() || f.failNext.Add(-1) >= 0 {
		fail(f.failStatus, f.failCode, "injected failure")
		return
	}
	if _, err := time.Parse("2006-01-02T15:04:05Z", params["Timestamp"]); err != nil {
		fail(400, "InvalidTimeStamp.Format", "bad timestamp")
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	switch params["Action"] {
	case "AssumeRole":
		sig := params["Signature"]
		delete(params, "Signature")
		if r.URL.Query().Get("Signature") == "" {
			f.bad("Signature not in the query")
		}
		secret, ok := f.secrets[params["AccessKeyId"]]
		if !ok {
			fail(404, "InvalidAccessKeyId.NotFound", "Specified access key is not found.")
			return
		}
		if tok, isSTS := f.tokens[params["AccessKeyId"]]; isSTS && tok != params["SecurityToken"] {
			fail(400, "InvalidSecurityToken.Mismatch", "token mismatch")
			return
		}
		if sig != oracleSignature(r.Method, params, secret) {
			fail(400, "SignatureDoesNotMatch", "Specified signature is not matched with our calculation.")
			return
		}
		if params["SignatureMethod"] != "HMAC-SHA1" || params["SignatureVersion"] != "1.0" || params["Format"] != "JSON" {
			f.bad("common parameters: %v", params)
		}
		if f.nonces[params["SignatureNonce"]] {
			fail(400, "SignatureNonceUsed", "nonce reused")
			return
		}
		f.nonces[params["SignatureNonce"]] = true
	case "AssumeRoleWithOIDC":
		if params["AccessKeyId"] != "" || params["Signature"] != "" {
			f.bad("OIDC call is not anonymous")
		}
		if params["OIDCToken"] == "" || params["OIDCToken"] != f.oidc {
			fail(400, "InvalidParameter.OIDCToken", "token rejected")
			return
		}
	default:
		fail(400, "InvalidAction", "unknown action")
		return
	}
	n := f.issued.Add(1)
	ak := fmt.Sprintf("STS.key%d", n)
	secret := fmt.Sprintf("sts-secret-%d-%d", n, time.Now().UnixNano())
	token := fmt.Sprintf("sts-token-%d-%d", n, time.Now().UnixNano())
	exp := f.now().Add(f.lifetime).UTC().Truncate(time.Second)
	f.secrets[ak], f.tokens[ak], f.expiry[ak] = secret, token, exp
	json.NewEncoder(w).Encode(map[string]any{
		"RequestId":       reqID,
		"AssumedRoleUser": map[string]string{"Arn": params["RoleArn"] + "/" + params["RoleSessionName"], "AssumedRoleId": "3000:" + params["RoleSessionName"]},
		"Credentials": map[string]string{"AccessKeyId": ak, "AccessKeySecret": secret, "SecurityToken": token,
			"Expiration": exp.Format("2006-01-02T15:04:05Z")},
	})
}

// check reports whether c is a triple this STS issued, unexpired at now.
func (f *fakeSTS) check(c Credentials, now time.Time) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	exp, ok := f.expiry[c.AccessKeyID]
	switch {
	case !ok:
		return fmt.Errorf("AK %q was not issued by STS", c.AccessKeyID)
	case f.secrets[c.AccessKeyID] != c.AccessKeySecret.Reveal() || f.tokens[c.AccessKeyID] != c.SecurityToken.Reveal():
		return fmt.Errorf("AK %q: secret or token mismatch", c.AccessKeyID)
	case !now.Before(exp):
		return fmt.Errorf("AK %q expired at %v, now %v", c.AccessKeyID, exp, now)
	case !c.Expiration.Equal(exp):
		return fmt.Errorf("AK %q: Expiration %v, issued %v", c.AccessKeyID, c.Expiration, exp)
	}
	return nil
}

const (
	testRole   = "acs:ram::1234567890123456:role/oss-readonly"
	testAK     = "LTAIsourcekey"
	testSecret = "source-secret-do-not-leak"
)

var testPolicy = `{"Version":"1","Statement":[{"Effect":"Allow","Action":["oss:GetObject"],"Resource":["acs:oss:*:*:b/*"]}]}`

// envMap is an injectable environment.
func envMap(kv ...string) func(string) string {
	m := map[string]string{}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return func(k string) string { return m[k] }
}

// baseConfig has the fake STS, the source key in the environment, an empty
// home and ECS probing off.
func baseConfig(t *testing.T, f *fakeSTS) Config {
	f.addUser(testAK, testSecret)
	return Config{
		RoleARN: testRole, Policy: testPolicy, STSEndpoint: f.srv.URL, HomeDir: t.TempDir(),
		Getenv: envMap("ALIBABA_CLOUD_ACCESS_KEY_ID", testAK, "ALIBABA_CLOUD_ACCESS_KEY_SECRET", testSecret,
			"ALIBABA_CLOUD_ECS_METADATA_DISABLED", "true"),
	}
}

func newManager(t *testing.T, cfg Config) *Manager {
	t.Helper()
	m, err := New(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	return m
}
