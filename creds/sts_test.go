package creds

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestParseSTSError(t *testing.T) {
	tests := []struct {
		name, body string
		status     int
		code, id   string
		hint       string
	}{
		{"no permission", `{"RequestId":"R1","HostId":"sts.aliyuncs.com","Code":"NoPermission","Message":"Roles may not be assumed by root accounts.","Recommend":"x"}`, 403, "NoPermission", "R1", "trust policy"},
		{"lower case keys", `{"requestId":"R2","code":"EntityNotExist.Role","message":"The role not exists"}`, 404, "EntityNotExist.Role", "R2", "does not exist"},
		{"grammar", `{"RequestId":"R3","Code":"InvalidParameter.PolicyGrammar","Message":"The parameter Policy has not passed grammar check."}`, 400, "InvalidParameter.PolicyGrammar", "R3", "grammar"},
		{"policy size", `{"RequestId":"R4","Code":"InvalidParameter.PolicyLength","Message":"too long"}`, 400, "InvalidParameter.PolicyLength", "R4", "2048"},
		{"access key", `{"RequestId":"R5","Code":"InvalidAccessKeyId.NotFound","Message":"Specified access key is not found."}`, 404, "InvalidAccessKeyId.NotFound", "R5", "unknown or disabled"},
		{"signature", `{"RequestId":"R6","Code":"SignatureDoesNotMatch","Message":"m"}`, 400, "SignatureDoesNotMatch", "R6", "secret"},
		{"throttling", `{"RequestId":"R7","Code":"Throttling.User","Message":"m"}`, 400, "Throttling.User", "R7", "rate-limiting"},
		{"not json", `<html>bad gateway</html>`, 502, "", "", ""},
		{"wrong types", `{"Code":1,"Message":["x"]}`, 500, "", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := parseSTSError(tt.status, []byte(tt.body))
			if e.Code != tt.code || e.RequestID != tt.id || e.StatusCode != tt.status || !strings.Contains(e.Hint, tt.hint) {
				t.Fatalf("got %+v", e)
			}
			msg := e.Error()
			for _, part := range []string{tt.code, tt.id, e.Hint} {
				if !strings.Contains(msg, part) {
					t.Errorf("Error() %q lacks %q", msg, part)
				}
			}
		})
	}
	if !parseSTSError(400, []byte(`{"Code":"Throttling"}`)).Temporary() || parseSTSError(403, []byte(`{"Code":"NoPermission"}`)).Temporary() {
		t.Error("Temporary misclassifies")
	}
}

func TestParseAssumeResponse(t *testing.T) {
	ok := `{"RequestId":"6894B13B","AssumedRoleUser":{"Arn":"acs:ram::1:role/r/s","AssumedRoleId":"3:s"},
	 "Credentials":{"AccessKeyId":"STS.L4a","AccessKeySecret":"wyLT","SecurityToken":"` + strings.Repeat("t", 3000) + `","Expiration":"2015-04-09T11:52:19Z"}}`
	res, err := parseAssumeResponse([]byte(ok))
	if err != nil {
		t.Fatal(err)
	}
	if res.Creds.AccessKeyID != "STS.L4a" || res.Creds.AccessKeySecret.Reveal() != "wyLT" || len(res.Creds.SecurityToken.Reveal()) != 3000 ||
		!res.Creds.Expiration.Equal(time.Date(2015, 4, 9, 11, 52, 19, 0, time.UTC)) || res.RoleARN != "acs:ram::1:role/r/s" || res.RequestID != "6894B13B" {
		t.Fatalf("got %+v", res)
	}
	for name, body := range map[string]string{
		"not json":        `nope`,
		"no credentials":  `{"RequestId":"x"}`,
		"no token":        `{"Credentials":{"AccessKeyId":"a","AccessKeySecret":"s","Expiration":"2015-04-09T11:52:19Z"}}`,
		"bad expiration":  `{"Credentials":{"AccessKeyId":"a","AccessKeySecret":"s","SecurityToken":"t","Expiration":"tomorrow"}}`,
		"null credential": `{"Credentials":null}`,
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := parseAssumeResponse([]byte(body)); err == nil {
				t.Fatal("accepted")
			}
		})
	}
}

func TestNewValidatesBeforeCalling(t *testing.T) {
	f := newFakeSTS(t, time.Hour)
	tests := []struct {
		name   string
		modify func(*Config)
		want   string
	}{
		{"no role", func(c *Config) { c.RoleARN = "" }, "no role ARN"},
		{"bad role", func(c *Config) { c.RoleARN = "arn:aws:iam::1:role/x" }, "malformed"},
		{"role without account", func(c *Config) { c.RoleARN = "acs:ram:::role/x" }, "malformed"},
		{"short session", func(c *Config) { c.RoleSessionName = "a" }, "session name"},
		{"bad session chars", func(c *Config) { c.RoleSessionName = "a b" }, "session name"},
		{"long session", func(c *Config) { c.RoleSessionName = strings.Repeat("a", 65) }, "session name"},
		{"short duration", func(c *Config) { c.Duration = 14 * time.Minute }, "duration"},
		{"long duration", func(c *Config) { c.Duration = 13 * time.Hour }, "duration"},
		{"no policy", func(c *Config) { c.Policy = "" }, "no session policy"},
		{"bad policy", func(c *Config) { c.Policy = `{"Version":"2"}` }, "Version"},
		{"big policy", func(c *Config) { c.Policy = strings.Repeat(" ", 3000) }, "over the STS limit"},
		{"bad fraction", func(c *Config) { c.RefreshFraction = 1 }, "refresh fraction"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := baseConfig(t, f)
			tt.modify(&cfg)
			_, err := New(t.Context(), cfg)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want %q", err, tt.want)
			}
		})
	}
	if n := f.requests.Load(); n != 0 {
		t.Errorf("%d STS requests for invalid configurations", n)
	}
}

func TestNewFailsFastWithSTSError(t *testing.T) {
	f := newFakeSTS(t, time.Hour)
	f.failCode, f.failStatus = "NoPermission", 403
	f.failAlways.Store(true)
	_, err := New(t.Context(), baseConfig(t, f))
	var se *STSError
	if !errors.As(err, &se) || se.Code != "NoPermission" {
		t.Fatalf("err = %v, want *STSError NoPermission", err)
	}
	for _, want := range []string{testRole, "environment ALIBABA_CLOUD_ACCESS_KEY_ID", "NoPermission", "request id REQ-1", "hint:"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
	if f.requests.Load() != 1 {
		t.Errorf("%d requests, want 1 (no retry on a fatal error)", f.requests.Load())
	}
}

func TestNewRejectsWrongSecret(t *testing.T) {
	f := newFakeSTS(t, time.Hour)
	cfg := baseConfig(t, f)
	cfg.Getenv = envMap("ALIBABA_CLOUD_ACCESS_KEY_ID", testAK, "ALIBABA_CLOUD_ACCESS_KEY_SECRET", "wrong")
	_, err := New(t.Context(), cfg)
	if err == nil || !strings.Contains(err.Error(), "SignatureDoesNotMatch") {
		t.Fatalf("err = %v", err)
	}
}

func TestSTSEndpointDefaults(t *testing.T) {
	tests := []struct {
		endpoint string
		env      []string
		want     string
	}{
		{"", nil, "https://sts.aliyuncs.com"},
		{"sts.cn-hangzhou.aliyuncs.com", nil, "https://sts.cn-hangzhou.aliyuncs.com"},
		{"http://127.0.0.1:9/", nil, "http://127.0.0.1:9"},
		{"", []string{"ALIBABA_CLOUD_STS_REGION", "cn-beijing"}, "https://sts.cn-beijing.aliyuncs.com"},
		{"", []string{"ALIBABA_CLOUD_STS_REGION", "cn-beijing", "ALIBABA_CLOUD_VPC_ENDPOINT_ENABLED", "true"}, "https://sts-vpc.cn-beijing.aliyuncs.com"},
	}
	for _, tt := range tests {
		c := Config{STSEndpoint: tt.endpoint, Getenv: envMap(tt.env...), Policy: testPolicy}
		if err := c.fill(); err != nil {
			t.Fatal(err)
		}
		if c.STSEndpoint != tt.want {
			t.Errorf("%q %v: %q, want %q", tt.endpoint, tt.env, c.STSEndpoint, tt.want)
		}
	}
}
