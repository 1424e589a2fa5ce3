package main

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"math"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/ossmount/ossmount/creds"
	ossfs "github.com/ossmount/ossmount/fs"
	"github.com/ossmount/ossmount/oss"
)

// A running mount answers `ossmount status MOUNTPOINT` on a unix socket of
// its own, mode 0600 in a 0700 directory, so that only its user (and
// root) can ask, with or without --metrics-addr. The socket is named by a
// hash of the mountpoint's absolute path.

// statusDir is where the sockets live: /run/ossmount for root, else
// $XDG_RUNTIME_DIR/ossmount, else /tmp/ossmount-UID.
func statusDir() string {
	if os.Geteuid() == 0 {
		return "/run/ossmount"
	}
	if d := os.Getenv("XDG_RUNTIME_DIR"); d != "" {
		return filepath.Join(d, "ossmount")
	}
	return filepath.Join(os.TempDir(), "ossmount-"+strconv.Itoa(os.Geteuid()))
}

// statusSocket is the socket path of the mount at mountpoint.
func statusSocket(mountpoint string) (string, error) {
	abs, err := filepath.Abs(mountpoint)
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256([]byte(filepath.Clean(abs)))
	return filepath.Join(statusDir(), hex.EncodeToString(sum[:8])+".sock"), nil
}

// statusReport is what the socket answers, as JSON.
type statusReport struct {
	Mountpoint  string    `json:"mountpoint"`
	Target      string    `json:"target"`
	PID         int       `json:"pid"`
	Started     time.Time `json:"started"`
	MetricsAddr string    `json:"metrics_addr,omitempty"`

	TokenExpiration time.Time `json:"token_expiration"`
	TokenRenewals   int       `json:"token_renewals"`
	TokenFailures   int       `json:"token_renewal_failures"`
	TokenLastError  string    `json:"token_last_error,omitempty"`

	Requests      map[string]int64 `json:"requests"` // "get 206" → attempts
	Retries       map[string]int64 `json:"retries"`
	Throttled     int64            `json:"throttled"`
	BytesReceived int64            `json:"bytes_received"`
	RequestLimit  string           `json:"request_limit"` // requests/s, or "unlimited"
	BandwidthMax  int64            `json:"bandwidth_limit_bytes"`
	GovernorCuts  int64            `json:"governor_cuts"`

	Cache ossfs.Metrics `json:"fs"`
}

// statusServer serves the report on the mount's socket.
type statusServer struct {
	srv  *http.Server
	path string
}

// serveStatus listens on the socket of mountpoint. A socket left by a
// mount that was killed is replaced.
func serveStatus(mountpoint string, report func() statusReport, logger *slog.Logger) (*statusServer, error) {
	path, err := statusSocket(mountpoint)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("status socket: %w", err)
	}
	_ = os.Remove(path)
	ln, err := net.Listen("unix", path)
	if err != nil {
		return nil, fmt.Errorf("status socket: %w", err)
	}
	if err := os.Chmod(path, 0o600); err != nil {
		ln.Close()
		return nil, fmt.Errorf("status socket: %w", err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /status", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(report())
	})
	s := &statusServer{srv: &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}, path: path}
	go func() {
		if err := s.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			logger.Warn("status socket stopped", "err", err)
		}
	}()
	logger.Debug("status socket", "path", path)
	return s, nil
}

// Close stops serving and removes the socket.
func (s *statusServer) Close() {
	s.srv.Close()
	os.Remove(s.path)
}

// buildReport gathers the report from the mount's parts.
func buildReport(base statusReport, client *oss.Client, fsys *ossfs.FS, manager *creds.Manager) statusReport {
	r := base
	ts := manager.Status()
	r.TokenExpiration, r.TokenRenewals, r.TokenFailures = ts.Expiration, ts.Renewals, ts.Failures
	if ts.LastError != nil {
		r.TokenLastError = ts.LastError.Error()
	}
	cs := client.Stats()
	r.Requests = map[string]int64{}
	for k, n := range cs.Requests {
		r.Requests[k.Op+" "+strconv.Itoa(k.Status)] = n
	}
	r.Retries, r.Throttled, r.BytesReceived = cs.Retries, cs.Throttled, cs.BytesReceived
	r.RequestLimit = "unlimited"
	if l := cs.Governor.RequestLimit; !math.IsInf(l, 1) {
		r.RequestLimit = strconv.FormatFloat(l, 'f', 1, 64)
	}
	r.BandwidthMax, r.GovernorCuts = cs.Governor.BandwidthLimit, cs.Governor.Cuts
	r.Cache = fsys.Metrics()
	r.Cache.Ops = nil // latency histograms are for /metrics
	return r
}

// runStatus is `ossmount status MOUNTPOINT`.
func runStatus(c *cli.Context) error {
	if c.NArg() != 1 {
		return fmt.Errorf("expected MOUNTPOINT; see ossmount status --help")
	}
	mnt := c.Args().Get(0)
	path, err := statusSocket(mnt)
	if err != nil {
		return err
	}
	hc := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, "unix", path)
		},
	}}
	resp, err := hc.Get("http://ossmount/status")
	if err != nil {
		return fmt.Errorf("no ossmount is serving %s (no answer on %s: %v); is it mounted by this user?", mnt, path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil || resp.StatusCode != http.StatusOK {
		return fmt.Errorf("status of %s: %s %v", mnt, resp.Status, err)
	}
	if c.Bool("json") {
		_, err := os.Stdout.Write(body)
		return err
	}
	var r statusReport
	if err := json.Unmarshal(body, &r); err != nil {
		return fmt.Errorf("status of %s: %w", mnt, err)
	}
	printReport(os.Stdout, r)
	return nil
}

// printReport writes the report for a person.
func printReport(w io.Writer, r statusReport) {
	mib := func(n int64) string { return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20)) }
	fmt.Fprintf(w, "mount:          %s at %s (pid %d, up %s)\n", r.Target, r.Mountpoint, r.PID, time.Since(r.Started).Round(time.Second))
	fmt.Fprintf(w, "token expires:  %s (in %s); %d renewals, %d failed\n", r.TokenExpiration.Format(time.RFC3339),
		time.Until(r.TokenExpiration).Round(time.Second), r.TokenRenewals, r.TokenFailures)
	if r.TokenLastError != "" {
		fmt.Fprintf(w, "token error:    %s\n", r.TokenLastError)
	}
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(r.Requests)) {
		parts = append(parts, fmt.Sprintf("%s: %d", k, r.Requests[k]))
	}
	fmt.Fprintf(w, "requests:       %s\n", strings.Join(parts, ", "))
	var retries []string
	for _, k := range slices.Sorted(maps.Keys(r.Retries)) {
		if r.Retries[k] > 0 {
			retries = append(retries, fmt.Sprintf("%s: %d", k, r.Retries[k]))
		}
	}
	fmt.Fprintf(w, "retries:        %s\n", cmp.Or(strings.Join(retries, ", "), "none"))
	fmt.Fprintf(w, "throttled:      %d answers; request limit %s/s, %d cuts\n", r.Throttled, r.RequestLimit, r.GovernorCuts)
	fmt.Fprintf(w, "received:       %s\n", mib(r.BytesReceived))
	m := r.Cache
	fmt.Fprintf(w, "metadata cache: %d names in %s of %s; %d hits, %d misses, %d names evicted\n",
		m.CacheEntries, mib(m.CacheBytes), mib(m.CacheLimit), m.CacheHits, m.CacheMisses, m.CacheEvictions)
	fmt.Fprintf(w, "read-ahead:     %s of %s in use (peak %s), %d files reading ahead\n",
		mib(m.ReadAheadUsed), mib(m.ReadAheadLimit), mib(m.ReadAheadPeak), m.ReadAheadHandles)
	if m.OpenFiles >= 0 {
		fmt.Fprintf(w, "open files:     %d\n", m.OpenFiles)
	}
	if r.MetricsAddr != "" {
		fmt.Fprintf(w, "metrics:        http://%s/metrics\n", r.MetricsAddr)
	}
}
