package emulator_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss"
	osscreds "github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss/credentials"
	credutils "github.com/aliyun/credentials-go/credentials/utils"

	"github.com/ossmount/ossmount/test/emulator"
)

func startServer(t *testing.T, cfg emulator.Config) *emulator.Server {
	t.Helper()
	s, err := emulator.Start(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

type clientOpts struct {
	v1                 bool
	ak, secret, token  string
	region             string
	retries            int
	virtualHostedAlias bool
}

// newClient is the official SDK configured for the emulator, path-style,
// without retries unless asked.
func newClient(s *emulator.Server, o clientOpts) *oss.Client {
	if o.region == "" {
		o.region = "cn-hangzhou"
	}
	if o.retries == 0 {
		o.retries = 1
	}
	cfg := oss.LoadDefaultConfig().
		WithCredentialsProvider(osscreds.NewStaticCredentialsProvider(o.ak, o.secret, o.token)).
		WithRegion(o.region).
		WithEndpoint(s.OSSURL()).
		WithUsePathStyle(true).
		WithRetryMaxAttempts(o.retries)
	if o.v1 {
		cfg = cfg.WithSignatureVersion(oss.SignatureVersionV1)
	}
	return oss.NewClient(cfg)
}

func staticClient(s *emulator.Server, v1 bool) *oss.Client {
	return newClient(s, clientOpts{v1: v1, ak: emulator.DemoAccessKeyID, secret: emulator.DemoAccessKeySecret})
}

// stsCreds is the Credentials part of an AssumeRole answer.
type stsCreds struct {
	AccessKeyID     string `json:"AccessKeyId"`
	AccessKeySecret string
	SecurityToken   string
	Expiration      string
}

type stsReply struct {
	Code, Message string
	Credentials   stsCreds
	status        int
}

// assumeRole calls the emulator's STS as aliyun/credentials-go's
// ram_role_arn provider does (common parameters in the query, the rest in a
// form body), signing with credentials-go's own utilities as the oracle.
// extra overrides or adds parameters ("" value deletes).
func assumeRole(t *testing.T, s *emulator.Server, ak, secret string, body map[string]string, extra map[string]string) stsReply {
	t.Helper()
	q := map[string]string{
		"Version": "2015-04-01", "Action": "AssumeRole", "Format": "JSON",
		"Timestamp":       credutils.GetTimeInFormatISO8601(),
		"SignatureMethod": "HMAC-SHA1", "SignatureVersion": "1.0",
		"SignatureNonce": credutils.GetUUID(), "AccessKeyId": ak,
	}
	for k, v := range extra {
		if v == "" {
			delete(q, k)
		} else {
			q[k] = v
		}
	}
	sign := map[string]string{}
	for k, v := range q {
		sign[k] = v
	}
	for k, v := range body {
		sign[k] = v
	}
	sts := credutils.GetURLFormedMap(sign)
	sts = strings.NewReplacer("+", "%20", "*", "%2A", "%7E", "~").Replace(sts)
	sts = "POST&%2F&" + url.QueryEscape(sts)
	if _, ok := extra["Signature"]; !ok {
		q["Signature"] = credutils.ShaHmac1(sts, secret+"&")
	}
	return postSTS(t, s, q, body)
}

func postSTS(t *testing.T, s *emulator.Server, q, body map[string]string) stsReply {
	t.Helper()
	form := url.Values{}
	for k, v := range body {
		form.Set(k, v)
	}
	u := s.STSURL() + "/?" + credutils.GetURLFormedMap(q)
	req, err := http.NewRequest("POST", u, strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	var r stsReply
	if err := json.Unmarshal(data, &r); err != nil {
		t.Fatalf("STS answer %d is not JSON: %q", resp.StatusCode, data)
	}
	r.status = resp.StatusCode
	return r
}

// demoSTS assumes the demo role with the demo user and returns a client
// using the temporary credentials.
func demoSTS(t *testing.T, s *emulator.Server, v1 bool, sessionPolicy string) (*oss.Client, stsCreds) {
	t.Helper()
	body := map[string]string{"RoleArn": emulator.DemoRoleARN, "RoleSessionName": "emulator-test", "DurationSeconds": "900"}
	if sessionPolicy != "" {
		body["Policy"] = sessionPolicy
	}
	r := assumeRole(t, s, emulator.DemoAccessKeyID, emulator.DemoAccessKeySecret, body, nil)
	if r.status != 200 {
		t.Fatalf("AssumeRole: %d %s %s", r.status, r.Code, r.Message)
	}
	c := r.Credentials
	return newClient(s, clientOpts{v1: v1, ak: c.AccessKeyID, secret: c.AccessKeySecret, token: c.SecurityToken}), c
}

// serviceError extracts the OSS error or fails.
func serviceError(t *testing.T, err error) *oss.ServiceError {
	t.Helper()
	var se *oss.ServiceError
	if !errors.As(err, &se) {
		t.Fatalf("want an OSS service error, got %v", err)
	}
	return se
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	return c
}

func readAll(t *testing.T, r io.Reader) []byte {
	t.Helper()
	b, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
