package oss

import (
	"context"
	"testing"
	"time"

	"github.com/ossmount/ossmount/creds"
)

// BenchmarkSignV4 measures signing one ranged GET with STS credentials, the
// request the read path sends most.
func BenchmarkSignV4(b *testing.B) {
	cred := creds.Credentials{AccessKeyID: "STS.NTestAccessKeyId", AccessKeySecret: creds.NewSecret("TestAccessKeySecret"),
		SecurityToken: creds.NewSecret("CAISTestSecurityToken+/=")}
	c, err := New(Config{Endpoint: "oss-cn-hangzhou.aliyuncs.com", Bucket: "my-bucket"}, staticProvider{cred})
	if err != nil {
		b.Fatal(err)
	}
	cl := &call{op: "get", method: "GET", key: "data/2024/a b+c~(1).txt", rng: "bytes=0-1048575", ifMatch: `"5B3C1A2E053D763E1B002CC607C5A0FE"`}
	req, err := c.newRequest(context.Background(), cl)
	if err != nil {
		b.Fatal(err)
	}
	when := time.Unix(1714564800, 0)
	b.ReportAllocs()
	for b.Loop() {
		c.sign.signRequest(req, cl.key, cred, when, nil, nil)
	}
}
