package oss

import (
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/ossmount/ossmount/creds"
)

// vectorFile is reference/sign-vectors.json, copied so a clone alone passes.
type vectorFile struct {
	V4 []struct {
		Name            string            `json:"name"`
		AccessKeyID     string            `json:"access_key_id"`
		AccessKeySecret string            `json:"access_key_secret"`
		SecurityToken   string            `json:"security_token"`
		SigningTimeUnix int64             `json:"signing_time_unix"`
		Region          string            `json:"region"`
		Product         string            `json:"product"`
		Method          string            `json:"method"`
		Bucket          string            `json:"bucket"`
		Key             *string           `json:"key"`
		Query           [][2]string       `json:"query"`
		Headers         map[string]string `json:"headers_before_signing"`
		Added           map[string]string `json:"headers_added_by_signer"`
		Additional      []string          `json:"additional_headers_requested"`
		Authorization   string            `json:"authorization"`
		Expected        string            `json:"expected_authorization_in_source"`
	} `json:"oss_v4"`
	V1 []struct {
		Name            string            `json:"name"`
		AccessKeyID     string            `json:"access_key_id"`
		AccessKeySecret string            `json:"access_key_secret"`
		Date            string            `json:"date"`
		Method          string            `json:"method"`
		Bucket          string            `json:"bucket"`
		Key             *string           `json:"key"`
		RawQuery        string            `json:"raw_query"`
		Headers         map[string]string `json:"headers"`
		Extra           []string          `json:"extra_signed_subresources"`
		Authorization   string            `json:"authorization"`
		Expected        string            `json:"expected_authorization_in_source"`
	} `json:"oss_v1"`
}

func loadVectors(t *testing.T) vectorFile {
	t.Helper()
	data, err := os.ReadFile("testdata/sign-vectors.json")
	if err != nil {
		t.Fatal(err)
	}
	var vf vectorFile
	if err := json.Unmarshal(data, &vf); err != nil {
		t.Fatal(err)
	}
	if len(vf.V4) == 0 || len(vf.V1) == 0 {
		t.Fatalf("vector file has %d V4 and %d V1 vectors", len(vf.V4), len(vf.V1))
	}
	return vf
}

func TestSignV4Vectors(t *testing.T) {
	for _, v := range loadVectors(t).V4 {
		t.Run(v.Name, func(t *testing.T) {
			if v.Expected != "" && v.Expected != v.Authorization {
				t.Fatalf("vector disagrees with its source: %q vs %q", v.Authorization, v.Expected)
			}
			key := ""
			if v.Key != nil {
				key = *v.Key
			}
			pairs := make([]queryPair, len(v.Query))
			for i, q := range v.Query {
				pairs[i] = queryPair{q[0], q[1]}
			}
			req := &http.Request{Method: v.Method, Header: http.Header{},
				URL: &url.URL{Scheme: "https", Host: v.Bucket + ".oss-" + v.Region + ".aliyuncs.com", RawQuery: encodeQuery(pairs)}}
			for k, val := range v.Headers {
				req.Header.Set(k, val)
			}
			s := &signer{bucket: v.Bucket, region: v.Region, product: v.Product}
			cred := creds.Credentials{AccessKeyID: v.AccessKeyID, AccessKeySecret: creds.NewSecret(v.AccessKeySecret),
				SecurityToken: creds.NewSecret(v.SecurityToken)}
			s.signRequest(req, key, cred, time.Unix(v.SigningTimeUnix, 0), v.Additional, nil)
			if got := req.Header.Get("Authorization"); got != v.Authorization {
				t.Errorf("Authorization\n got %s\nwant %s", got, v.Authorization)
			}
			for k, want := range v.Added {
				if got := req.Header.Get(k); got != want {
					t.Errorf("header %s = %q, want %q", k, got, want)
				}
			}
			// Signing again with the cached key gives the same answer.
			s.signRequest(req, key, cred, time.Unix(v.SigningTimeUnix, 0), v.Additional, nil)
			if got := req.Header.Get("Authorization"); got != v.Authorization {
				t.Errorf("second signing (cached key): got %s", got)
			}
		})
	}
}

func TestSignV1Vectors(t *testing.T) {
	for _, v := range loadVectors(t).V1 {
		t.Run(v.Name, func(t *testing.T) {
			if v.Expected != "" && v.Expected != v.Authorization {
				t.Fatalf("vector disagrees with its source: %q vs %q", v.Authorization, v.Expected)
			}
			key := ""
			if v.Key != nil {
				key = *v.Key
			}
			when, err := http.ParseTime(v.Date)
			if err != nil {
				t.Fatal(err)
			}
			req := &http.Request{Method: v.Method, Header: http.Header{},
				URL: &url.URL{Scheme: "https", Host: v.Bucket + ".oss-cn-hangzhou.aliyuncs.com", RawQuery: v.RawQuery}}
			for k, val := range v.Headers {
				req.Header.Set(k, val)
			}
			s := &signer{v1: true, bucket: v.Bucket, region: "cn-hangzhou", product: productOSS}
			cred := creds.Credentials{AccessKeyID: v.AccessKeyID, AccessKeySecret: creds.NewSecret(v.AccessKeySecret)}
			s.signRequest(req, key, cred, when, nil, v.Extra)
			if got := req.Header.Get("Authorization"); got != v.Authorization {
				t.Errorf("Authorization\n got %s\nwant %s", got, v.Authorization)
			}
			if got := req.Header.Get("Date"); got != v.Date {
				t.Errorf("Date = %q, want %q", got, v.Date)
			}
		})
	}
}
