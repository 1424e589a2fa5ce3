package creds

import (
	"strings"
	"testing"
)

// The parsers below read remote or user-supplied input: they must never
// panic, and what they accept must be complete.

func FuzzParseSTSResponse(f *testing.F) {
	f.Add(200, []byte(`{"RequestId":"R","AssumedRoleUser":{"Arn":"a","AssumedRoleId":"i"},"Credentials":{"AccessKeyId":"STS.a","AccessKeySecret":"s","SecurityToken":"t","Expiration":"2015-04-09T11:52:19Z"}}`))
	f.Add(403, []byte(`{"RequestId":"R","Code":"NoPermission","Message":"m"}`))
	f.Fuzz(func(t *testing.T, status int, body []byte) {
		e := parseSTSError(status, body)
		_ = e.Error()
		res, err := parseAssumeResponse(body)
		if err != nil {
			return
		}
		c := res.Creds
		if c.AccessKeyID == "" || c.AccessKeySecret.IsZero() || c.SecurityToken.IsZero() || c.Expiration.IsZero() {
			t.Fatalf("accepted an incomplete triple: %+v", res)
		}
	})
}

func FuzzParseCLIConfig(f *testing.F) {
	f.Add([]byte(`{"current":"a","profiles":[{"name":"a","mode":"AK","access_key_id":"k","access_key_secret":"s"}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := parseCLIConfig(data)
		if err != nil {
			if strings.Contains(err.Error(), "access_key_secret\":\"") {
				t.Fatalf("error quotes content: %v", err)
			}
			return
		}
		c.profile(c.Current)
	})
}

func FuzzParseINI(f *testing.F) {
	f.Add([]byte("[default]\ntype = access_key\naccess_key_id = k\naccess_key_secret = s\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		ini, err := parseINI(data)
		if err != nil {
			return
		}
		for section, kv := range ini {
			if section == "" {
				t.Fatal("empty section accepted")
			}
			for k := range kv {
				if k == "" || strings.ContainsAny(k, "\n") {
					t.Fatalf("bad key %q", k)
				}
			}
		}
	})
}

func FuzzParseIMDSCredentials(f *testing.F) {
	f.Add([]byte(`{"AccessKeyId":"STS.x","AccessKeySecret":"s","Expiration":"2021-10-20T04:27:09Z","SecurityToken":"t","Code":"Success"}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := parseIMDSCredentials(data)
		if err == nil && (c.AccessKeyID == "" || c.AccessKeySecret.IsZero() || c.SecurityToken.IsZero()) {
			t.Fatalf("accepted an incomplete triple: %+v", c)
		}
	})
}
