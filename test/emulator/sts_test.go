package emulator_test

import (
	"strings"
	"testing"
	"time"

	"github.com/ossmount/ossmount/test/emulator"
)

func TestAssumeRoleErrors(t *testing.T) {
	s := startServer(t, emulator.Config{})
	s.AddUser("LTAIother", "othersecret")
	s.AddRole("acs:ram::1234567890123456:role/short", `{"Version":"1","Statement":[{"Effect":"Allow","Action":"oss:*","Resource":"*"}]}`)
	base := func() map[string]string {
		return map[string]string{"RoleArn": emulator.DemoRoleARN, "RoleSessionName": "ok-name", "DurationSeconds": "900"}
	}
	with := func(k, v string) map[string]string {
		b := base()
		if v == "\x00" {
			delete(b, k)
		} else {
			b[k] = v
		}
		return b
	}
	demo := [2]string{emulator.DemoAccessKeyID, emulator.DemoAccessKeySecret}
	cases := []struct {
		name   string
		cred   [2]string
		body   map[string]string
		extra  map[string]string
		status int
		code   string
	}{
		{"ok", demo, base(), nil, 200, ""},
		{"unknown AK", [2]string{"LTAInobody", "x"}, base(), nil, 404, "InvalidAccessKeyId.NotFound"},
		{"bad signature", [2]string{emulator.DemoAccessKeyID, "wrong"}, base(), nil, 400, "SignatureDoesNotMatch"},
		{"stale timestamp", demo, base(), map[string]string{"Timestamp": time.Now().UTC().Add(-20 * time.Minute).Format("2006-01-02T15:04:05Z")}, 400, "InvalidTimeStamp.Expired"},
		{"bad timestamp", demo, base(), map[string]string{"Timestamp": "yesterday"}, 400, "InvalidTimeStamp.Format"},
		{"malformed ARN", demo, with("RoleArn", "arn:aws:iam::1:role/x"), nil, 400, "InvalidParameter.RoleArn"},
		{"missing role", demo, with("RoleArn", "acs:ram::1234567890123456:role/none"), nil, 404, "EntityNotExist.Role"},
		{"user not trusted", [2]string{"LTAIother", "othersecret"}, base(), nil, 403, "NoPermission"},
		{"role trusts nobody", demo, with("RoleArn", "acs:ram::1234567890123456:role/short"), nil, 403, "NoPermission"},
		{"session name short", demo, with("RoleSessionName", "a"), nil, 400, "InvalidParameter.RoleSessionName"},
		{"session name chars", demo, with("RoleSessionName", "bad name!"), nil, 400, "InvalidParameter.RoleSessionName"},
		{"session name missing", demo, with("RoleSessionName", "\x00"), nil, 400, "MissingRoleSessionName"},
		{"duration low", demo, with("DurationSeconds", "899"), nil, 400, "InvalidParameter.DurationSeconds"},
		{"duration high", demo, with("DurationSeconds", "3601"), nil, 400, "InvalidParameter.DurationSeconds"},
		{"policy grammar", demo, with("Policy", `{"Version":"1","Statement":[{"Effect":"Maybe"}]}`), nil, 400, "InvalidParameter.PolicyGrammar"},
		{"policy too long", demo, with("Policy", `{"Version":"1","Statement":[{"Effect":"Allow","Action":"oss:GetObject","Resource":"acs:oss:*:*:`+strings.Repeat("b", 2048)+`"}]}`), nil, 400, "InvalidParameter.PolicyGrammar"},
		{"policy ok", demo, with("Policy", `{"Version":"1","Statement":[{"Effect":"Allow","Action":"oss:GetObject","Resource":"*"}]}`), nil, 200, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := assumeRole(t, s, tc.cred[0], tc.cred[1], tc.body, tc.extra)
			if r.status != tc.status || r.Code != tc.code {
				t.Fatalf("got %d %q (%s), want %d %q", r.status, r.Code, r.Message, tc.status, tc.code)
			}
			if tc.status == 200 && (!strings.HasPrefix(r.Credentials.AccessKeyID, "STS.") || r.Credentials.SecurityToken == "" ||
				r.Credentials.AccessKeySecret == "") {
				t.Fatalf("credentials: %+v", r.Credentials)
			}
		})
	}
	calls := s.Counters().AssumeRoleCalls
	if len(calls) != len(cases) || calls[len(calls)-1].Policy == "" || calls[0].DurationSeconds != 900 {
		t.Fatalf("recorded calls: %d, last %+v", len(calls), calls[len(calls)-1])
	}
}

func TestAssumeRoleNonceReplayAndGET(t *testing.T) {
	s := startServer(t, emulator.Config{})
	body := map[string]string{"RoleArn": emulator.DemoRoleARN, "RoleSessionName": "replay"}
	extra := map[string]string{"SignatureNonce": "fixed-nonce-1"}
	if r := assumeRole(t, s, emulator.DemoAccessKeyID, emulator.DemoAccessKeySecret, body, extra); r.status != 200 {
		t.Fatalf("first: %d %s", r.status, r.Code)
	}
	r := assumeRole(t, s, emulator.DemoAccessKeyID, emulator.DemoAccessKeySecret, body, extra)
	if r.status != 400 || r.Code != "SignatureNonceUsed" {
		t.Fatalf("replay: %d %s", r.status, r.Code)
	}
	// Default duration is 3600 s.
	exp, err := time.Parse("2006-01-02T15:04:05Z", assumeRole(t, s, emulator.DemoAccessKeyID, emulator.DemoAccessKeySecret, body, nil).Credentials.Expiration)
	if err != nil || exp.Sub(time.Now()) < 59*time.Minute {
		t.Fatalf("expiration %v (%v)", exp, err)
	}
}

func TestTokenLifetimeAndOutage(t *testing.T) {
	s := startServer(t, emulator.Config{TokenLifetime: 2 * time.Second})
	_, c := demoSTS(t, s, false, "")
	exp, _ := time.Parse("2006-01-02T15:04:05Z", c.Expiration)
	if d := time.Until(exp); d > 3*time.Second {
		t.Fatalf("forced lifetime ignored: expires in %v", d)
	}
	body := map[string]string{"RoleArn": emulator.DemoRoleARN, "RoleSessionName": "faults"}
	s.SetFaults(emulator.Faults{STSOutage: true})
	if r := assumeRole(t, s, emulator.DemoAccessKeyID, emulator.DemoAccessKeySecret, body, nil); r.status != 503 {
		t.Fatalf("outage: %d %s", r.status, r.Code)
	}
	s.SetFaults(emulator.Faults{STSThrottle: true})
	if r := assumeRole(t, s, emulator.DemoAccessKeyID, emulator.DemoAccessKeySecret, body, nil); r.status != 400 || r.Code != "Throttling.User" {
		t.Fatalf("throttle: %d %s", r.status, r.Code)
	}
	s.SetFaults(emulator.Faults{})
	if r := assumeRole(t, s, emulator.DemoAccessKeyID, emulator.DemoAccessKeySecret, body, nil); r.status != 200 {
		t.Fatalf("after faults: %d %s", r.status, r.Code)
	}
}

func TestAssumeRoleWithOIDC(t *testing.T) {
	s := startServer(t, emulator.Config{})
	q := map[string]string{"Action": "AssumeRoleWithOIDC", "Version": "2015-04-01", "Format": "JSON",
		"Timestamp": time.Now().UTC().Format("2006-01-02T15:04:05Z")}
	body := map[string]string{"RoleArn": emulator.DemoRoleARN, "OIDCProviderArn": emulator.DemoOIDCProviderARN,
		"OIDCToken": "eyJhbGciOi.fake.jwt", "RoleSessionName": "rrsa"}
	r := postSTS(t, s, q, body)
	if r.status != 200 || !strings.HasPrefix(r.Credentials.AccessKeyID, "STS.") {
		t.Fatalf("OIDC: %d %s %s", r.status, r.Code, r.Message)
	}
	body["OIDCProviderArn"] = "acs:ram::1:oidc-provider/unknown"
	if r := postSTS(t, s, q, body); r.status != 404 || r.Code != "EntityNotExist.OIDCProvider" {
		t.Fatalf("unknown provider: %d %s", r.status, r.Code)
	}
	if got := s.Counters().Requests["AssumeRoleWithOIDC"]; got != 2 {
		t.Fatalf("counter %d", got)
	}
}
