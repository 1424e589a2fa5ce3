package oss

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"runtime/debug"
	"strings"
	"sync/atomic"
	"time"

	"github.com/ossmount/ossmount/creds"
)

// Defaults of Config, exported so that ossmount's flag help shows them.
const (
	DefaultRequestTimeout   = 30 * time.Second // Config.ResponseHeaderTimeout
	DefaultSignatureVersion = signatureV4      // Config.SignatureVersion
)

// Config configures a Client. Zero values take the documented defaults.
type Config struct {
	// Endpoint is the OSS endpoint, as a URL or a bare host
	// ("oss-cn-hangzhou.aliyuncs.com"); without a scheme, https is used.
	Endpoint string
	// Region is the signing region ("cn-hangzhou"); a legacy "oss-" prefix is
	// stripped. "" derives it from a standard endpoint: oss-<r>.aliyuncs.com,
	// oss-<r>-internal.aliyuncs.com, <r>.oss.aliyuncs.com and
	// <cb>.<r>.oss-cloudbox.aliyuncs.com. Acceleration and custom endpoints
	// need it set.
	Region string
	// Bucket is the bucket every call addresses.
	Bucket string
	// PathStyle addresses the bucket in the path (emulators, custom gateways)
	// instead of the host. It is also used, as the SDK does, when the
	// endpoint host is an IP address. OSS's own domains accept only
	// virtual-hosted style.
	PathStyle bool
	// SignatureVersion is "v4" (OSS4-HMAC-SHA256, the default) or "v1".
	SignatureVersion string
	// MaxAttempts bounds the tries of one idempotent call, the first included
	// (default 5: a mount would rather wait a few seconds than fail a read),
	// and the resumptions of one GetRange body.
	MaxAttempts int
	// MaxRetryTime bounds the total time one call spends retrying
	// (default 60s); a backoff that would end past it is not started.
	MaxRetryTime time.Duration
	// RetryBaseDelay and RetryMaxDelay shape the full-jitter backoff: the
	// wait before retry n is uniform in [0, min(RetryMaxDelay,
	// RetryBaseDelay<<n)). Defaults 100ms and 10s.
	RetryBaseDelay time.Duration
	RetryMaxDelay  time.Duration
	// HTTPClient sends the requests. nil uses a client with a transport tuned
	// for parallel ranged reads (see newTransport) and no overall timeout,
	// which would kill long streaming reads.
	HTTPClient *http.Client
	// ResponseHeaderTimeout (ossmount's --request-timeout) bounds every wait
	// for the server (default 30s), so a hung server fails an attempt, which
	// is then retried: the wait for response headers (in the default
	// transport), and a response body that makes no progress while it is
	// read, 1 KiB counting as progress, so that a trickle fails like a stall
	// (a GetRange body is then resumed from where it stopped). Doubled, it
	// also bounds the whole of a list or head attempt.
	ResponseHeaderTimeout time.Duration
	// Logger receives Warn records for retries and Debug records per call;
	// nil discards. Secrets are never logged.
	Logger *slog.Logger
	// Now is the clock used for signing; nil is time.Now.
	Now func() time.Time
	// UserAgent is sent on every request; default "ossmount/<version>".
	UserAgent string
	// MaxRequestsPerSecond caps the requests of this client (one mount)
	// per second; 0 means no cap until OSS throttles (see governor.go).
	MaxRequestsPerSecond float64
	// MaxBandwidth caps the response body bytes read per second; 0: none.
	MaxBandwidth int64
}

// Client is a read-only OSS client for one bucket. It is safe for
// concurrent use.
type Client struct {
	provider creds.Provider
	hc       *http.Client
	log      *slog.Logger
	now      func() time.Time
	sign     *signer

	scheme    string
	host      string // endpoint host[:port], without the bucket
	pathStyle bool
	userAgent string

	maxAttempts    int
	maxRetryTime   time.Duration
	baseDelay      time.Duration
	maxDelay       time.Duration
	attemptTimeout time.Duration // bounds list and head attempts as a whole
	idleTimeout    time.Duration // bounds a response body's lack of progress (idleBody)

	clockOffset atomic.Int64 // server time − local time, in nanoseconds

	stats *clientStats // counters read by Stats
	gov   *governor    // paces every attempt
}

// New validates cfg, fills its defaults and returns a Client that signs with
// what provider returns.
func New(cfg Config, provider creds.Provider) (*Client, error) {
	if provider == nil {
		return nil, errors.New("oss: new client: nil credentials provider")
	}
	if err := CheckBucket(cfg.Bucket); err != nil {
		return nil, fmt.Errorf("oss: new client: %w", err)
	}
	u, err := parseEndpoint(cfg.Endpoint)
	if err != nil {
		return nil, fmt.Errorf("oss: new client: %w", err)
	}
	region, product, err := signingRegion(cfg.Region, u.Hostname())
	if err != nil {
		return nil, fmt.Errorf("oss: new client: %w", err)
	}
	if cfg.ResponseHeaderTimeout <= 0 {
		cfg.ResponseHeaderTimeout = DefaultRequestTimeout
	}
	if cfg.MaxRequestsPerSecond < 0 || cfg.MaxBandwidth < 0 {
		return nil, errors.New("oss: new client: negative MaxRequestsPerSecond or MaxBandwidth")
	}
	c := &Client{
		provider:       provider,
		hc:             cfg.HTTPClient,
		log:            cfg.Logger,
		now:            cfg.Now,
		scheme:         u.Scheme,
		host:           u.Host,
		pathStyle:      cfg.PathStyle || net.ParseIP(u.Hostname()) != nil,
		userAgent:      cfg.UserAgent,
		maxAttempts:    cfg.MaxAttempts,
		maxRetryTime:   cfg.MaxRetryTime,
		baseDelay:      cfg.RetryBaseDelay,
		maxDelay:       cfg.RetryMaxDelay,
		attemptTimeout: 2 * cfg.ResponseHeaderTimeout,
		stats:          newClientStats(),
		gov:            newGovernor(cfg.MaxRequestsPerSecond, cfg.MaxBandwidth),
		idleTimeout:    cfg.ResponseHeaderTimeout,
	}
	switch strings.ToLower(cfg.SignatureVersion) {
	case "", signatureV4:
		c.sign = &signer{bucket: cfg.Bucket, region: region, product: product}
	case signatureV1:
		c.sign = &signer{v1: true, bucket: cfg.Bucket, region: region, product: product}
	default:
		return nil, fmt.Errorf("oss: new client: signature version %q: want v4 or v1", cfg.SignatureVersion)
	}
	if c.hc == nil {
		c.hc = &http.Client{Transport: newTransport(cfg.ResponseHeaderTimeout)}
	}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	if c.now == nil {
		c.now = time.Now
	}
	if c.userAgent == "" {
		c.userAgent = "ossmount/" + version()
	}
	if c.maxAttempts <= 0 {
		c.maxAttempts = 5
	}
	if c.maxRetryTime <= 0 {
		c.maxRetryTime = 60 * time.Second
	}
	if c.baseDelay <= 0 {
		c.baseDelay = 100 * time.Millisecond
	}
	if c.maxDelay <= 0 {
		c.maxDelay = 10 * time.Second
	}
	return c, nil
}

// version is the main module's version as the Go toolchain recorded it.
func version() string {
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return "dev"
}

// parseEndpoint accepts a URL or a bare host; a bare host means https.
func parseEndpoint(ep string) (*url.URL, error) {
	ep = strings.TrimSpace(ep)
	if ep == "" {
		return nil, errors.New("empty endpoint")
	}
	if !strings.Contains(ep, "://") {
		ep = "https://" + ep
	}
	u, err := url.Parse(ep)
	if err != nil {
		return nil, fmt.Errorf("endpoint %q: %w", ep, err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, fmt.Errorf("endpoint %q: scheme must be http or https", ep)
	}
	if u.Host == "" || u.Hostname() == "" {
		return nil, fmt.Errorf("endpoint %q: no host", ep)
	}
	if (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.User != nil {
		return nil, fmt.Errorf("endpoint %q: want scheme://host[:port] only", ep)
	}
	return u, nil
}

// signingRegion returns the V4 region and product: the given region (minus a
// legacy "oss-" prefix), or one derived from a standard OSS host.
func signingRegion(given, host string) (region, product string, err error) {
	host = strings.ToLower(strings.TrimSuffix(host, "."))
	const suffix = ".aliyuncs.com"
	if cb, ok := strings.CutSuffix(host, ".oss-cloudbox"+suffix); ok {
		// <cb-id>.<region>.oss-cloudbox.aliyuncs.com signs as the CloudBox.
		if id, _, ok := strings.Cut(cb, "."); ok && id != "" {
			return id, productOSSCloudBox, nil
		}
	}
	if given != "" {
		return strings.TrimPrefix(given, "oss-"), productOSS, nil
	}
	name, ok := strings.CutSuffix(host, suffix)
	switch {
	case !ok:
	case strings.HasPrefix(name, "oss-accelerate"):
		return "", "", fmt.Errorf("endpoint %q is an acceleration endpoint: set the bucket's region explicitly", host)
	case strings.HasPrefix(name, "oss-") && !strings.Contains(name, "."):
		r := strings.TrimSuffix(strings.TrimPrefix(name, "oss-"), "-internal")
		if r != "" {
			return r, productOSS, nil
		}
	case strings.HasSuffix(name, ".oss") && strings.Count(name, ".") == 1:
		return strings.TrimSuffix(name, ".oss"), productOSS, nil
	}
	return "", "", fmt.Errorf("cannot derive the signing region from endpoint %q: set the region", host)
}
