package oss

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/ossmount/ossmount/creds"
)

var testCred = creds.Credentials{AccessKeyID: "ak", AccessKeySecret: creds.NewSecret("sk"), SecurityToken: creds.NewSecret("tok")}

const okList = `<ListBucketResult><IsTruncated>false</IsTruncated><Contents><Key>k</Key><Size>1</Size></Contents></ListBucketResult>`

// testClient returns a path-style client for srv with instant retries.
func testClient(t *testing.T, srv *httptest.Server, p creds.Provider, mutate ...func(*Config)) *Client {
	t.Helper()
	if p == nil {
		p = staticProvider{testCred}
	}
	cfg := Config{Endpoint: srv.URL, Region: "cn-hangzhou", Bucket: "bkt", MaxAttempts: 4,
		RetryBaseDelay: time.Microsecond, RetryMaxDelay: time.Microsecond}
	for _, m := range mutate {
		m(&cfg)
	}
	c, err := New(cfg, p)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func writeOSSError(w http.ResponseWriter, status int, code string) {
	w.Header().Set("X-Oss-Request-Id", "RID-"+code)
	w.WriteHeader(status)
	if code != "" {
		fmt.Fprintf(w, "<Error><Code>%s</Code><Message>msg</Message><RequestId>RID-%s</RequestId></Error>", code, code)
	}
}

func TestRetryByStatus(t *testing.T) {
	type answer struct {
		status int
		code   string
	}
	for _, tc := range []struct {
		name     string
		script   []answer // then 200
		requests int
		want     error // nil: success
	}{
		{"500 then ok", []answer{{500, "InternalError"}}, 2, nil},
		{"503 twice then ok", []answer{{503, "ServiceUnavailable"}, {503, ""}}, 3, nil},
		{"429 then ok", []answer{{429, ""}}, 2, nil},
		{"throttle code then ok", []answer{{503, "TotalQpsLimitExceeded"}}, 2, nil},
		{"throttle code on 400", []answer{{400, "RequestTimeout"}}, 2, nil},
		{"403 final", []answer{{403, "AccessDenied"}}, 1, ErrAccessDenied},
		{"404 final", []answer{{404, "NoSuchBucket"}}, 1, ErrNotFound},
		{"412 final", []answer{{412, "PreconditionFailed"}}, 1, ErrPreconditionFailed},
		{"400 final", []answer{{400, "InvalidArgument"}}, 1, errAny},
		{"credentials without invalidator", []answer{{403, "InvalidSecurityToken"}}, 1, ErrCredentials},
		{"attempts bounded", []answer{{500, ""}, {500, ""}, {500, ""}, {500, ""}, {500, ""}}, 4, errAny},
		{"throttling outlasts attempts", []answer{{503, "TotalQpsLimitExceeded"}, {503, "TotalQpsLimitExceeded"}, {503, "TotalQpsLimitExceeded"}, {503, "TotalQpsLimitExceeded"}, {503, "TotalQpsLimitExceeded"}, {503, "TotalQpsLimitExceeded"}}, 7, nil},
		{"429 outlasts attempts", []answer{{429, ""}, {429, ""}, {429, ""}, {429, ""}, {429, ""}}, 6, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var n atomic.Int32
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				i := int(n.Add(1)) - 1
				if i < len(tc.script) {
					writeOSSError(w, tc.script[i].status, tc.script[i].code)
					return
				}
				io.WriteString(w, okList)
			}))
			defer srv.Close()
			page, err := testClient(t, srv, nil).List(context.Background(), ListInput{})
			if int(n.Load()) != tc.requests {
				t.Errorf("%d requests, want %d", n.Load(), tc.requests)
			}
			switch {
			case tc.want == nil && (err != nil || len(page.Objects) != 1):
				t.Fatalf("got %+v, %v", page, err)
			case tc.want == errAny && err == nil, tc.want != nil && tc.want != errAny && !errors.Is(err, tc.want):
				t.Fatalf("got %v, want %v", err, tc.want)
			}
			if se, ok := asServiceError(err); ok && (se.RequestID == "" || se.Op != "list") {
				t.Errorf("error lost its request id or op: %#v", se)
			}
		})
	}
}

var errAny = errors.New("any error")

// TestRetrySignsEachAttempt: every attempt carries a fresh date and a
// signature over it, and the User-Agent names ossmount.
func TestRetrySignsEachAttempt(t *testing.T) {
	var mu sync.Mutex
	var dates, auths []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		dates = append(dates, r.Header.Get("X-Oss-Date"))
		auths = append(auths, r.Header.Get("Authorization"))
		n := len(dates)
		mu.Unlock()
		if !strings.HasPrefix(r.Header.Get("User-Agent"), "ossmount/") || r.Header.Get("X-Oss-Security-Token") != "tok" {
			t.Errorf("headers %v", r.Header)
		}
		if n == 1 {
			writeOSSError(w, 503, "ServiceUnavailable")
			return
		}
		io.WriteString(w, okList)
	}))
	defer srv.Close()
	clock := time.Unix(1700000000, 0)
	c := testClient(t, srv, nil, func(cfg *Config) {
		cfg.Now = func() time.Time { clock = clock.Add(time.Second); return clock }
	})
	if _, err := c.List(context.Background(), ListInput{}); err != nil {
		t.Fatal(err)
	}
	if len(dates) != 2 || dates[0] == dates[1] || auths[0] == auths[1] {
		t.Fatalf("dates %q: want two different signing times", dates)
	}
}

func TestRetryClockSkew(t *testing.T) {
	base := time.Unix(1700000000, 0).UTC()
	var dates []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		dates = append(dates, r.Header.Get("X-Oss-Date"))
		if len(dates) == 1 {
			w.Header().Set("Date", base.Add(time.Hour).Format(http.TimeFormat))
			writeOSSError(w, 403, "RequestTimeTooSkewed")
			return
		}
		io.WriteString(w, okList)
	}))
	defer srv.Close()
	c := testClient(t, srv, nil, func(cfg *Config) { cfg.Now = func() time.Time { return base } })
	for range 2 {
		if _, err := c.List(context.Background(), ListInput{}); err != nil {
			t.Fatal(err)
		}
	}
	want := []string{base.Format(v4TimeLayout), base.Add(time.Hour).Format(v4TimeLayout), base.Add(time.Hour).Format(v4TimeLayout)}
	if strings.Join(dates, ",") != strings.Join(want, ",") {
		t.Fatalf("signing dates %q, want %q", dates, want)
	}
}

func TestRetryStopsOnCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		cancel() // the client is about to back off for up to an hour
		writeOSSError(w, 503, "ServiceUnavailable")
	}))
	defer srv.Close()
	c := testClient(t, srv, nil, func(cfg *Config) {
		cfg.RetryBaseDelay, cfg.RetryMaxDelay, cfg.MaxRetryTime = time.Hour, time.Hour, 10*time.Hour
	})
	_, err := c.List(ctx, ListInput{})
	if !errors.Is(err, context.Canceled) || n.Load() != 1 {
		t.Fatalf("got %v after %d requests, want context.Canceled after 1", err, n.Load())
	}
}

func TestRetryTimeBudget(t *testing.T) {
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		writeOSSError(w, 500, "InternalError")
	}))
	defer srv.Close()
	// Any backoff above a nanosecond overruns the budget: no second try.
	c := testClient(t, srv, nil, func(cfg *Config) {
		cfg.RetryBaseDelay, cfg.RetryMaxDelay, cfg.MaxRetryTime = time.Hour, time.Hour, time.Nanosecond
	})
	if _, err := c.List(context.Background(), ListInput{}); err == nil || n.Load() > 2 {
		t.Fatalf("got %v after %d requests", err, n.Load())
	}
}

// Endless throttling ends at MaxRetryTime, with the throttling error.
func TestThrottlingBoundedByRetryTime(t *testing.T) {
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		writeOSSError(w, 503, "TotalQpsLimitExceeded")
	}))
	defer srv.Close()
	c := testClient(t, srv, nil, func(cfg *Config) {
		cfg.RetryBaseDelay, cfg.RetryMaxDelay, cfg.MaxRetryTime = time.Millisecond, 2*time.Millisecond, 100*time.Millisecond
	})
	_, err := c.List(context.Background(), ListInput{})
	if se, ok := asServiceError(err); !ok || se.Code != "TotalQpsLimitExceeded" {
		t.Fatalf("got %v, want the throttling error", err)
	}
	if got := n.Load(); got <= 4 {
		t.Fatalf("%d requests: throttling stopped at MaxAttempts, not MaxRetryTime", got)
	}
}

// flakyTransport fails the first failures round trips with a reset.
type flakyTransport struct {
	failures atomic.Int32
	next     http.RoundTripper
}

func (f *flakyTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if f.failures.Add(-1) >= 0 {
		return nil, &netError{syscall.ECONNRESET}
	}
	return f.next.RoundTrip(r)
}

type netError struct{ err error }

func (e *netError) Error() string   { return "read: " + e.err.Error() }
func (e *netError) Unwrap() error   { return e.err }
func (e *netError) Timeout() bool   { return false }
func (e *netError) Temporary() bool { return true }

func TestRetryTransportErrors(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, okList) }))
	defer srv.Close()
	ft := &flakyTransport{next: srv.Client().Transport}
	ft.failures.Store(2)
	c := testClient(t, srv, nil, func(cfg *Config) { cfg.HTTPClient = &http.Client{Transport: ft} })
	if _, err := c.List(context.Background(), ListInput{}); err != nil {
		t.Fatal(err)
	}
	ft.failures.Store(10)
	_, err := c.List(context.Background(), ListInput{})
	if !errors.Is(err, syscall.ECONNRESET) || !strings.HasPrefix(err.Error(), `oss: list "": `) {
		t.Fatalf("got %v, want a wrapped ECONNRESET", err)
	}
}

// invalidating counts Invalidate calls; Retrieve returns the current token.
type invalidating struct {
	token bool // hand out temporary triples (with a SecurityToken)
	mu    sync.Mutex
	gen   int
	stale []string
}

func (p *invalidating) Retrieve(context.Context) (creds.Credentials, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	c := creds.Credentials{AccessKeyID: "ak" + strconv.Itoa(p.gen), AccessKeySecret: creds.NewSecret("sk")}
	if p.token {
		c.SecurityToken = creds.NewSecret("tok" + strconv.Itoa(p.gen))
	}
	return c, nil
}

func (p *invalidating) Invalidate(stale creds.Credentials) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.stale = append(p.stale, stale.AccessKeyID)
	p.gen++
}

func TestRetryInvalidatesCredentials(t *testing.T) {
	for _, tc := range []struct {
		name     string
		reject   string // AccessKeyIDs the server rejects
		requests int
		ok       bool
	}{
		{"refreshed token works", "ak0", 2, true},
		{"refreshed token rejected too", "ak0 ak1", 2, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var n atomic.Int32
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				n.Add(1)
				ak := strings.TrimPrefix(strings.Split(r.Header.Get("Authorization"), "/")[0], "OSS4-HMAC-SHA256 Credential=")
				if strings.Contains(tc.reject, ak) {
					writeOSSError(w, 403, "SecurityTokenExpired")
					return
				}
				io.WriteString(w, okList)
			}))
			defer srv.Close()
			p := &invalidating{}
			_, err := testClient(t, srv, p).List(context.Background(), ListInput{})
			if (err == nil) != tc.ok || int(n.Load()) != tc.requests || len(p.stale) != 1 || p.stale[0] != "ak0" {
				t.Fatalf("err %v, %d requests, invalidated %q", err, n.Load(), p.stale)
			}
			if !tc.ok && !errors.Is(err, ErrCredentials) {
				t.Fatalf("got %v, want ErrCredentials", err)
			}
		})
	}
}

func TestListRetriesShortBody(t *testing.T) {
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if n.Add(1) == 1 {
			io.WriteString(w, okList[:40]) // a complete HTTP answer with half a document
			return
		}
		io.WriteString(w, okList)
	}))
	defer srv.Close()
	page, err := testClient(t, srv, nil).List(context.Background(), ListInput{})
	if err != nil || len(page.Objects) != 1 || n.Load() != 2 {
		t.Fatalf("got %+v, %v after %d requests", page, err, n.Load())
	}
}

// The token comes url-encoded and goes back decoded once: List decodes
// NextContinuationToken and the query encodes ContinuationToken.
func TestListContinuationTokenRoundTrip(t *testing.T) {
	var tokens []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tokens = append(tokens, r.URL.Query().Get("continuation-token"))
		io.WriteString(w, `<ListBucketResult><EncodingType>url</EncodingType><IsTruncated>true</IsTruncated>`+
			`<NextContinuationToken>a%2Bb%3D%3D</NextContinuationToken><Contents><Key>k1</Key><Size>1</Size></Contents></ListBucketResult>`)
	}))
	defer srv.Close()
	c := testClient(t, srv, nil)
	page, err := c.List(context.Background(), ListInput{Prefix: "p"})
	if err != nil || page.NextContinuationToken != "a+b==" {
		t.Fatalf("%+v, %v", page, err)
	}
	if _, err := c.List(context.Background(), ListInput{Prefix: "p", ContinuationToken: page.NextContinuationToken}); err != nil {
		t.Fatal(err)
	}
	if len(tokens) != 2 || tokens[0] != "" || tokens[1] != "a+b==" {
		t.Fatalf("tokens %q", tokens)
	}
}

func TestHeadFromHeaders(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodHead || r.URL.EscapedPath() != "/bkt/a%20b" {
			t.Errorf("%s %s", r.Method, r.URL.EscapedPath())
		}
		h := w.Header()
		h.Set("Content-Length", "1234")
		h.Set("ETag", `"E"`)
		h.Set("Last-Modified", "Fri, 13 Nov 2015 14:47:53 GMT")
		h.Set("X-Oss-Object-Type", "Multipart")
	}))
	defer srv.Close()
	info, err := testClient(t, srv, nil).Head(context.Background(), "a b")
	want := ObjectInfo{Key: "a b", Size: 1234, ETag: `"E"`, LastModified: time.Date(2015, 11, 13, 14, 47, 53, 0, time.UTC),
		ObjectType: "Multipart"}
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(info) != fmt.Sprint(want) {
		t.Fatalf("got  %+v\nwant %+v", info, want)
	}
}

// A temporary AccessKeyId that OSS no longer knows (403 InvalidAccessKeyId,
// which is also what a token-less temporary key gets) calls for a new token:
// one Invalidate and one retry. A long-term key that is unknown stays
// unknown: no renewal, ErrAccessDenied at once.
func TestInvalidAccessKeyIdRenewsTemporaryKey(t *testing.T) {
	for _, tc := range []struct {
		name      string
		temporary bool
		requests  int
		ok        bool
		want      error
	}{
		{"temporary key renewed", true, 2, true, nil},
		{"long-term key", false, 1, false, ErrAccessDenied},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var n atomic.Int32
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				n.Add(1)
				if strings.Contains(r.Header.Get("Authorization"), "Credential=ak0/") {
					writeOSSError(w, 403, "InvalidAccessKeyId")
					return
				}
				io.WriteString(w, okList)
			}))
			defer srv.Close()
			p := &invalidating{token: tc.temporary}
			_, err := testClient(t, srv, p).List(context.Background(), ListInput{})
			if (err == nil) != tc.ok || int(n.Load()) != tc.requests {
				t.Fatalf("err %v, %d requests, want ok=%v after %d", err, n.Load(), tc.ok, tc.requests)
			}
			if tc.temporary && (len(p.stale) != 1 || p.stale[0] != "ak0") || !tc.temporary && len(p.stale) != 0 {
				t.Fatalf("invalidated %q", p.stale)
			}
			if tc.want != nil && (!errors.Is(err, tc.want) || errors.Is(err, ErrCredentials)) {
				t.Fatalf("got %v, want %v", err, tc.want)
			}
		})
	}
}
