package oss

import (
	"context"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/ossmount/ossmount/creds"
)

// An endpoint without a scheme means HTTPS with certificate verification:
// a server with a self-signed certificate is refused before any request
// reaches it, and the same server is reachable only by a client that was
// told to trust it.
func TestEndpointWithoutSchemeVerifiesTLS(t *testing.T) {
	var served atomic.Int64
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		served.Add(1)
		w.Header().Set("Content-Type", "application/xml")
		w.Write([]byte(`<?xml version="1.0" encoding="UTF-8"?><ListBucketResult><Name>b-1</Name><IsTruncated>false</IsTruncated></ListBucketResult>`))
	}))
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused handshake is expected
	srv.StartTLS()
	defer srv.Close()
	host := strings.TrimPrefix(srv.URL, "https://")
	provider := staticProvider{creds.Credentials{AccessKeyID: "id", AccessKeySecret: creds.NewSecret("secret")}}

	tests := []struct {
		name       string
		hc         *http.Client
		wantErr    bool
		wantServed int64
	}{
		{"default transport refuses a self-signed certificate", nil, true, 0},
		{"a client trusting the certificate gets through", srv.Client(), false, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			served.Store(0)
			c, err := New(Config{Endpoint: host, Region: "cn-hangzhou", Bucket: "b-1", PathStyle: true,
				HTTPClient: tc.hc, MaxAttempts: 1}, provider)
			if err != nil {
				t.Fatal(err)
			}
			if c.scheme != "https" {
				t.Fatalf("scheme %q for endpoint %q, want https", c.scheme, host)
			}
			_, err = c.List(context.Background(), ListInput{MaxKeys: 1})
			if (err != nil) != tc.wantErr {
				t.Fatalf("List: %v, want error %v", err, tc.wantErr)
			}
			if tc.wantErr && !strings.Contains(err.Error(), "certificate") {
				t.Errorf("error does not name the certificate: %v", err)
			}
			if got := served.Load(); got != tc.wantServed {
				t.Errorf("server handled %d requests, want %d", got, tc.wantServed)
			}
		})
	}
}
