package emulator

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Config configures Start. The zero value is usable.
type Config struct {
	// Region is the signing region requests must use. Default "cn-hangzhou".
	Region string
	// TokenLifetime, if > 0, is the lifetime of every STS token whatever
	// DurationSeconds asked for (to exercise renewal).
	TokenLifetime time.Duration
	// Logger receives one debug line per request; nil discards.
	Logger *slog.Logger
	// Now is the clock for Last-Modified, Date, skew checks and token
	// expiry; nil means time.Now.
	Now func() time.Time
	// OSSAddr and STSAddr are the listen addresses; default "127.0.0.1:0".
	// Only loopback addresses are accepted.
	OSSAddr, STSAddr string
}

// Server is a running OSS + STS emulator. All methods are safe for
// concurrent use, also while requests are being served.
type Server struct {
	cfg    Config
	log    *slog.Logger
	now    func() time.Time
	store  *store
	ids    *identities
	faults *faultSwitch
	counts *counters
	rate   rateThrottle // SetThrottleAbove
	// listFaults: faults_list.go
	listFaults listFault
	oidc       oidcTokens // oidctokens.go

	ossLn, stsLn   net.Listener
	ossSrv, stsSrv *http.Server
	done           chan struct{} // closed by Close
	closeOnce      sync.Once
	wg             sync.WaitGroup
}

// Start listens on two loopback ports (OSS and STS), serves until Close,
// and creates the demo RAM user and role (DemoAccessKeyID, DemoRoleARN).
func Start(cfg Config) (*Server, error) {
	if cfg.Region == "" {
		cfg.Region = "cn-hangzhou"
	}
	if cfg.OSSAddr == "" {
		cfg.OSSAddr = "127.0.0.1:0"
	}
	if cfg.STSAddr == "" {
		cfg.STSAddr = "127.0.0.1:0"
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	now := cfg.Now
	if now == nil {
		now = time.Now
	}
	s := &Server{cfg: cfg, log: log, now: now, store: newStore(now), ids: newIdentities(),
		faults: newFaultSwitch(), counts: newCounters(), done: make(chan struct{})}
	var err error
	if s.ossLn, err = listenLoopback(cfg.OSSAddr); err != nil {
		return nil, err
	}
	if s.stsLn, err = listenLoopback(cfg.STSAddr); err != nil {
		s.ossLn.Close()
		return nil, err
	}
	s.ossSrv = &http.Server{
		Handler:           http.HandlerFunc(s.serveOSS),
		ReadHeaderTimeout: 30 * time.Second,
		ConnContext: func(ctx context.Context, c net.Conn) context.Context {
			return context.WithValue(ctx, connKey{}, &connLimiter{})
		},
		ConnState: func(c net.Conn, st http.ConnState) {
			if st == http.StateNew {
				s.counts.connOpened()
			}
		},
		ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelDebug),
	}
	s.stsSrv = &http.Server{Handler: http.HandlerFunc(s.serveSTS), ReadHeaderTimeout: 30 * time.Second,
		ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelDebug)}
	s.AddUser(DemoAccessKeyID, DemoAccessKeySecret)
	s.AddRole(DemoRoleARN, DemoRolePolicy, DemoAccessKeyID)
	s.AddOIDCProvider(DemoOIDCProviderARN)
	s.wg.Add(2)
	go func() { defer s.wg.Done(); s.ossSrv.Serve(s.ossLn) }()
	go func() { defer s.wg.Done(); s.stsSrv.Serve(s.stsLn) }()
	log.Info("emulator started", "oss", s.OSSURL(), "sts", s.STSURL())
	return s, nil
}

func listenLoopback(addr string) (net.Listener, error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("emulator: listen %q: %w", addr, err)
	}
	ip := net.ParseIP(host)
	if host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return nil, fmt.Errorf("emulator: listen %q: only loopback addresses are allowed", addr)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("emulator: listen: %w", err)
	}
	return ln, nil
}

// Close stops both listeners, ends hanging requests and closes every
// connection. It waits for the serving goroutines.
func (s *Server) Close() error {
	var err error
	s.closeOnce.Do(func() {
		close(s.done)
		err = errors.Join(s.ossSrv.Close(), s.stsSrv.Close())
		s.wg.Wait()
	})
	return err
}

// OSSURL is "http://127.0.0.1:PORT". Requests may be path-style
// (/bucket/key) or virtual-hosted (Host "<bucket>.<anything>" whose first
// label is an existing bucket).
func (s *Server) OSSURL() string { return "http://" + s.ossLn.Addr().String() }

// STSURL is "http://127.0.0.1:PORT" of the STS endpoint.
func (s *Server) STSURL() string { return "http://" + s.stsLn.Addr().String() }

// AdminURL is the base of the admin endpoint on the OSS listener, see doc.go.
func (s *Server) AdminURL() string { return s.OSSURL() + adminPrefix }

// Region is the signing region requests must use.
func (s *Server) Region() string { return s.cfg.Region }

// CreateBucket creates a bucket (or changes its ACL). publicRead buckets
// answer anonymous GET, HEAD and listing.
func (s *Server) CreateBucket(name string, publicRead bool) { s.store.createBucket(name, publicRead) }

// PutObject stores data in memory under bucket/key (creating the bucket),
// replacing any previous version with a new ETag and a later Last-Modified.
func (s *Server) PutObject(bucket, key string, data []byte) {
	s.store.put(bucket, key, data, "", nil)
}

// PutObjectWithMeta is PutObject with a Content-Type ("" guesses from the
// extension) and user metadata (sent as x-oss-meta-<name>, names lower-cased).
func (s *Server) PutObjectWithMeta(bucket, key string, data []byte, contentType string, meta map[string]string) {
	s.store.put(bucket, key, data, contentType, meta)
}

// DeleteObject removes an in-memory or directory object. Generated objects
// cannot be deleted one by one.
func (s *Server) DeleteObject(bucket, key string) { s.store.delete(bucket, key) }

// AddGenerated adds a set of generated objects to bucket (creating it).
func (s *Server) AddGenerated(bucket string, g Generated) { s.store.addGenerated(bucket, g) }

// AddDirectory serves root: each subdirectory a bucket, each regular file
// below it an object keyed by its slash-separated relative path. Files are
// read on demand; ETags are MD5s computed on first use.
func (s *Server) AddDirectory(root string) error { return s.store.addDirectory(root) }

func newRequestID() string {
	var b [12]byte
	rand.Read(b[:])
	return strings.ToUpper(hex.EncodeToString(b[:]))
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// discard drains and closes a request body so the connection can be reused.
func discard(r *http.Request) {
	io.Copy(io.Discard, io.LimitReader(r.Body, 1<<20))
}
