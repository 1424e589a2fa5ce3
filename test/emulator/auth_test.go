package emulator_test

import (
	"encoding/base64"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss"

	"github.com/ossmount/ossmount/test/emulator"
)

// clock is an adjustable Config.Now.
type clock struct {
	mu     sync.Mutex
	offset time.Duration
}

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Now().Add(c.offset)
}

func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	c.offset += d
	c.mu.Unlock()
}

func TestAuthFailures(t *testing.T) {
	clk := &clock{}
	s := startServer(t, emulator.Config{Now: clk.now, TokenLifetime: 5 * time.Minute})
	s.PutObject("bkt", "k", []byte("v"))
	_, good := demoSTS(t, s, false, "")
	_, revoked := demoSTS(t, s, false, "")
	s.RevokeTokens()
	_, good = demoSTS(t, s, false, "") // issued after the revocation

	cases := []struct {
		name      string
		client    clientOpts
		prepare   func()
		status    int
		code, ec  string
		message   string // checked when set
		skipHeads bool
	}{
		{name: "unknown AccessKeyId", client: clientOpts{ak: "LTAInobody", secret: "x"}, status: 403, code: "InvalidAccessKeyId"},
		{name: "wrong secret V4", client: clientOpts{ak: emulator.DemoAccessKeyID, secret: "wrong"}, status: 403, code: "SignatureDoesNotMatch", ec: "0002-00000040"},
		{name: "wrong secret V1", client: clientOpts{v1: true, ak: emulator.DemoAccessKeyID, secret: "wrong"}, status: 403, code: "SignatureDoesNotMatch"},
		{name: "wrong region V4", client: clientOpts{ak: emulator.DemoAccessKeyID, secret: emulator.DemoAccessKeySecret, region: "cn-beijing"}, status: 403, code: "SignatureDoesNotMatch"},
		// Real OSS: a temporary AccessKeyId alone is unknown (EC 0002-00000002).
		{name: "STS key without token", client: clientOpts{ak: good.AccessKeyID, secret: good.AccessKeySecret}, status: 403, code: "InvalidAccessKeyId", ec: "0002-00000002",
			message: "The OSS Access Key Id you provided does not exist in our records."},
		{name: "STS key with another token", client: clientOpts{ak: good.AccessKeyID, secret: good.AccessKeySecret, token: revoked.SecurityToken}, status: 403, code: "InvalidSecurityToken", ec: "0002-00000006"},
		{name: "revoked token", client: clientOpts{ak: revoked.AccessKeyID, secret: revoked.AccessKeySecret, token: revoked.SecurityToken}, status: 403, code: "InvalidSecurityToken", ec: "0002-00000006"},
		{name: "STS wrong secret V1", client: clientOpts{v1: true, ak: good.AccessKeyID, secret: "nope", token: good.SecurityToken}, status: 403, code: "SignatureDoesNotMatch"},
		{name: "expired token", client: clientOpts{ak: good.AccessKeyID, secret: good.AccessKeySecret, token: good.SecurityToken},
			prepare: func() { clk.advance(6 * time.Minute) }, status: 403, code: "SecurityTokenExpired", ec: "0002-00000007"},
		{name: "clock skew", client: clientOpts{ak: emulator.DemoAccessKeyID, secret: emulator.DemoAccessKeySecret},
			prepare: func() { clk.advance(20 * time.Minute) }, status: 403, code: "RequestTimeTooSkewed"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if tc.prepare != nil {
				tc.prepare()
			}
			c := newClient(s, tc.client)
			_, err := c.GetObject(ctx(t), &oss.GetObjectRequest{Bucket: oss.Ptr("bkt"), Key: oss.Ptr("k")})
			se := serviceError(t, err)
			if se.StatusCode != tc.status || se.Code != tc.code || (tc.ec != "" && se.EC != tc.ec) {
				t.Fatalf("GET: got %d %s EC %s, want %d %s EC %s", se.StatusCode, se.Code, se.EC, tc.status, tc.code, tc.ec)
			}
			if tc.message != "" && se.Message != tc.message {
				t.Fatalf("GET: message %q, want %q", se.Message, tc.message)
			}
			if se.Headers.Get("x-oss-request-id") == "" || se.Headers.Get("Date") == "" {
				t.Fatalf("error lacks x-oss-request-id or Date: %v", se.Headers)
			}
			// HEAD has no body: the SDK must find the code in x-oss-err.
			_, err = c.HeadObject(ctx(t), &oss.HeadObjectRequest{Bucket: oss.Ptr("bkt"), Key: oss.Ptr("k")})
			se = serviceError(t, err)
			if se.StatusCode != tc.status || se.Code != tc.code {
				t.Fatalf("HEAD: got %d %s, want %d %s", se.StatusCode, se.Code, tc.status, tc.code)
			}
		})
	}
	if got := s.Counters().Requests["Denied"]; got != 2*len(cases) {
		t.Errorf("Denied counter = %d, want %d", got, 2*len(cases))
	}
}

// TestClockSkewCorrection: the SDK retries RequestTimeTooSkewed with the
// offset taken from the Date header, which follows Config.Now.
func TestClockSkewCorrection(t *testing.T) {
	clk := &clock{}
	clk.advance(-40 * time.Minute)
	s := startServer(t, emulator.Config{Now: clk.now})
	s.PutObject("bkt", "k", []byte("v"))
	c := newClient(s, clientOpts{ak: emulator.DemoAccessKeyID, secret: emulator.DemoAccessKeySecret, retries: 3})
	if _, err := c.HeadObject(ctx(t), &oss.HeadObjectRequest{Bucket: oss.Ptr("bkt"), Key: oss.Ptr("k")}); err != nil {
		t.Fatal(err)
	}
	if got := s.Counters().ByStatus["HeadObject 403"]; got != 1 {
		t.Fatalf("want exactly one skewed attempt, got %d", got)
	}
}

func TestHeadErrorHeaders(t *testing.T) {
	s := startServer(t, emulator.Config{})
	s.CreateBucket("pub", true)
	resp, err := http.Head(s.OSSURL() + "/pub/missing")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	doc, err := base64.StdEncoding.DecodeString(resp.Header.Get("x-oss-err"))
	if resp.StatusCode != 404 || err != nil || !strings.Contains(string(doc), "<Code>NoSuchKey</Code>") ||
		resp.Header.Get("x-oss-ec") != "0026-00000001" || resp.ContentLength != 0 {
		t.Fatalf("HEAD 404: status %d x-oss-err %q ec %q", resp.StatusCode, doc, resp.Header.Get("x-oss-ec"))
	}
}

func TestAnonymousAndWrites(t *testing.T) {
	s := startServer(t, emulator.Config{})
	s.CreateBucket("pub", true)
	s.PutObject("pub", "a.txt", []byte("public"))
	s.PutObject("priv", "a.txt", []byte("private"))
	get := func(url string) (int, string) {
		resp, err := http.Get(url)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if st, body := get(s.OSSURL() + "/pub/a.txt"); st != 200 || body != "public" {
		t.Fatalf("anonymous public GET: %d %q", st, body)
	}
	if st, body := get(s.OSSURL() + "/pub/?list-type=2"); st != 200 || !strings.Contains(body, "<Key>a.txt</Key>") {
		t.Fatalf("anonymous public list: %d %q", st, body)
	}
	if st, body := get(s.OSSURL() + "/priv/a.txt"); st != 403 || !strings.Contains(body, "<Code>AccessDenied</Code>") {
		t.Fatalf("anonymous private GET: %d %q", st, body)
	}
	// Virtual-hosted addressing: the bucket is the first label of Host.
	req, _ := http.NewRequest("GET", s.OSSURL()+"/a.txt", nil)
	req.Host = "pub.oss-cn-hangzhou.aliyuncs.com"
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || string(b) != "public" {
		t.Fatalf("virtual-hosted GET: %d %q", resp.StatusCode, b)
	}

	c := staticClient(s, false)
	_, err = c.PutObject(ctx(t), &oss.PutObjectRequest{Bucket: oss.Ptr("priv"), Key: oss.Ptr("new"), Body: strings.NewReader("x")})
	if se := serviceError(t, err); se.StatusCode != 403 || se.Code != "AccessDenied" {
		t.Fatalf("PutObject: %d %s", se.StatusCode, se.Code)
	}
	_, err = c.DeleteObject(ctx(t), &oss.DeleteObjectRequest{Bucket: oss.Ptr("priv"), Key: oss.Ptr("a.txt")})
	if se := serviceError(t, err); se.StatusCode != 403 || se.Code != "AccessDenied" {
		t.Fatalf("DeleteObject: %d %s", se.StatusCode, se.Code)
	}
}

// TestSessionPolicy: an STS key may do only what role ∩ session policy allow.
func TestSessionPolicy(t *testing.T) {
	s := startServer(t, emulator.Config{})
	s.PutObject("my-bucket", "data/2024/a.txt", []byte("a"))
	s.PutObject("my-bucket", "other/b.txt", []byte("b"))
	s.PutObject("elsewhere", "c.txt", []byte("c"))
	pol := `{"Version":"1","Statement":[{"Effect":"Allow","Action":["oss:ListObjects"],"Resource":["acs:oss:*:*:my-bucket"],"Condition":{"StringLike":{"oss:Prefix":["data/2024/*"]}}},{"Effect":"Allow","Action":["oss:GetObject"],"Resource":["acs:oss:*:*:my-bucket/data/2024/*"]}]}`
	c, _ := demoSTS(t, s, false, pol)
	cases := []struct {
		name string
		do   func() error
		ok   bool
	}{
		{"list in scope", func() error {
			_, err := c.ListObjectsV2(ctx(t), &oss.ListObjectsV2Request{Bucket: oss.Ptr("my-bucket"), Prefix: oss.Ptr("data/2024/"), Delimiter: oss.Ptr("/")})
			return err
		}, true},
		{"list root", func() error {
			_, err := c.ListObjectsV2(ctx(t), &oss.ListObjectsV2Request{Bucket: oss.Ptr("my-bucket"), Delimiter: oss.Ptr("/")})
			return err
		}, false},
		{"get in scope", func() error {
			_, err := c.HeadObject(ctx(t), &oss.HeadObjectRequest{Bucket: oss.Ptr("my-bucket"), Key: oss.Ptr("data/2024/a.txt")})
			return err
		}, true},
		{"get out of scope", func() error {
			_, err := c.GetObject(ctx(t), &oss.GetObjectRequest{Bucket: oss.Ptr("my-bucket"), Key: oss.Ptr("other/b.txt")})
			return err
		}, false},
		{"other bucket", func() error {
			_, err := c.GetObject(ctx(t), &oss.GetObjectRequest{Bucket: oss.Ptr("elsewhere"), Key: oss.Ptr("c.txt")})
			return err
		}, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.do()
			if tc.ok {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if se := serviceError(t, err); se.StatusCode != 403 || se.Code != "AccessDenied" {
				t.Fatalf("got %d %s, want 403 AccessDenied", se.StatusCode, se.Code)
			}
		})
	}
	if got := s.Counters().Requests["Denied"]; got != 3 {
		t.Fatalf("Denied = %d, want 3", got)
	}
}
