package main

import (
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/urfave/cli/v2"

	"github.com/ossmount/ossmount/creds"
	"github.com/ossmount/ossmount/diskcache"
	ossfs "github.com/ossmount/ossmount/fs"
	"github.com/ossmount/ossmount/oss"
)

// parseMetricsAddr reads --metrics-addr: HOST:PORT as given, or a bare
// PORT or :PORT on 127.0.0.1, so that nothing listens beyond the machine
// unless the user names an address. "" turns metrics off.
func parseMetricsAddr(s string) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", nil
	}
	if !strings.Contains(s, ":") {
		s = ":" + s
	}
	host, port, err := net.SplitHostPort(s)
	if err != nil {
		return "", fmt.Errorf("--metrics-addr %q is not HOST:PORT, :PORT or PORT", s)
	}
	if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
		return "", fmt.Errorf("--metrics-addr %q: port must be a number from 0 to 65535", s)
	}
	if host == "" {
		host = "127.0.0.1"
	}
	return net.JoinHostPort(host, port), nil
}

// parseRate reads --max-bandwidth: a size per second ("100MiB/s", "64M",
// "1048576"), the "/s" optional. 0 is no limit.
func parseRate(flag, s string) (int64, error) {
	n, err := parseSize(flag, strings.TrimSuffix(strings.TrimSpace(s), "/s"))
	if err != nil {
		return 0, fmt.Errorf("--%s %q is not a rate such as 100MiB/s or 1048576", flag, s)
	}
	return n, nil
}

// serveMetrics listens on addr and serves /metrics until the returned
// server is closed. Listening happens before the mount, so a busy port
// fails the mount at once.
func serveMetrics(addr string, reg *prometheus.Registry, logger *slog.Logger) (*http.Server, net.Addr, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, nil, fmt.Errorf("--metrics-addr: %w", err)
	}
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{ErrorLog: slog.NewLogLogger(logger.Handler(), slog.LevelWarn)}))
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second, WriteTimeout: time.Minute}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			logger.Error("metrics server stopped", "err", err)
		}
	}()
	logger.Info("serving metrics", "url", "http://"+ln.Addr().String()+"/metrics")
	return srv, ln.Addr(), nil
}

// newRegistry is the registry /metrics serves: the mount's collector and
// the Go runtime and process collectors (RSS, file descriptors, GC).
// With a disk cache (nil without --cache-dir), its collector too.
func newRegistry(m *mountCollector, cache *diskcache.Cache) *prometheus.Registry {
	reg := prometheus.NewRegistry()
	reg.MustRegister(m, collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	if cache != nil {
		reg.MustRegister(diskCacheCollector{cache})
	}
	return reg
}

// mountCollector exports what the OSS client, the node tree and the
// credential manager count. It reads them only when scraped: nothing on
// the read path calls into Prometheus.
type mountCollector struct {
	client  *oss.Client
	fs      *ossfs.FS
	manager *creds.Manager
	now     func() time.Time
}

func desc(name, help string, labels ...string) *prometheus.Desc {
	return prometheus.NewDesc("ossmount_"+name, help, labels, nil)
}

var (
	descRequests     = desc("oss_requests_total", "OSS requests (attempts) by operation and HTTP status; status 0: no answer.", "op", "status")
	descLatency      = desc("oss_request_duration_seconds", "Time from sending an OSS request to its response headers.", "op")
	descRetries      = desc("oss_retries_total", "OSS request retries (and resumed GET bodies) by reason.", "reason")
	descThrottled    = desc("oss_throttled_total", "OSS throttling answers: 429, or 503 with a throttling code.")
	descBytes        = desc("oss_received_bytes_total", "Response body bytes read from OSS.")
	descRateLimit    = desc("governor_request_rate_limit", "Requests per second the governor allows now; +Inf when nothing limits them.")
	descBWLimit      = desc("governor_bandwidth_limit_bytes", "Response body bytes per second the governor allows; 0: unlimited.")
	descCuts         = desc("governor_cuts_total", "Times throttling answers cut the request rate limit.")
	descDelayed      = desc("governor_delayed_requests_total", "Requests that waited for the rate limit before being sent.")
	descFUSE         = desc("fuse_operation_duration_seconds", "FUSE operations by type, from the kernel's request to the answer.", "op")
	descFUSEErrors   = desc("fuse_operation_errors_total", "FUSE operations answered with an error, by type.", "op")
	descOpenFiles    = desc("open_files", "Files open through the mount.")
	descCacheHits    = desc("metadata_cache_hits_total", "Metadata cache lookups answered from the cache.")
	descCacheMisses  = desc("metadata_cache_misses_total", "Metadata cache lookups not answered (absent or expired).")
	descCacheEvicted = desc("metadata_cache_evictions_total", "Metadata cache names dropped with their directory to fit --metadata-cache-memory.")
	descCacheEntries = desc("metadata_cache_entries", "Metadata cache names held now.")
	descCacheBytes   = desc("metadata_cache_memory_bytes", "Memory the metadata cache counts now.")
	descCacheCap     = desc("metadata_cache_memory_limit_bytes", "Metadata cache memory bound (--metadata-cache-memory).")
	descRAUsed       = desc("readahead_memory_bytes", "Read-ahead buffer memory in use.")
	descRALimit      = desc("readahead_memory_limit_bytes", "Read-ahead memory budget (--read-ahead-memory).")
	descRAPeak       = desc("readahead_memory_peak_bytes", "Highest read-ahead memory in use since the mount.")
	descRAFiles      = desc("readahead_files", "Open files reading ahead now.")
	descSkipped      = desc("skipped_keys_total", "Keys seen in listings that cannot be file names.")
	descStale        = desc("stale_reads_total", "Reads failed with ESTALE because the object changed while open.")
	descTokenExpiry  = desc("token_expiry_seconds", "Seconds until the current STS token expires.")
	descRenewals     = desc("token_renewals_total", "Successful STS token renewals.")
	descRenewFails   = desc("token_renewal_failures_total", "Failed STS token renewal attempts.")
)

// The disk cache's series, registered only with --cache-dir. Blocks are
// diskcache.DefaultBlockSize (256 KiB; an object's last one is shorter).
var (
	descDiskHits    = desc("disk_cache_hits_total", "Disk cache blocks read from disk, once per read of OSS data that needs the block (256 KiB; an object's last block is shorter).")
	descDiskMisses  = desc("disk_cache_misses_total", "Disk cache blocks fetched from OSS (on disk nowhere and fetched by no other read); one ranged GET fetches a run of up to 64.")
	descDiskShared  = desc("disk_cache_shared_total", "Disk cache blocks a read took from another read's download (in flight, or waiting for the disk).")
	descDiskBlocks  = desc("disk_cache_blocks", "Disk cache blocks on disk now.")
	descDiskBytes   = desc("disk_cache_bytes", "Disk space the cache counts against its limit now: each block file rounded up to 4 KiB plus 128 bytes for its directory entry, and writes in progress.")
	descDiskLimit   = desc("disk_cache_limit_bytes", "Disk cache limit: --cache-size less a reserve for its directories; lowered to what is on disk when the file system is full.")
	descDiskEvicted = desc("disk_cache_evictions_total", "Disk cache blocks removed to stay under the limit.")
	descDiskDropped = desc("disk_cache_dropped_total", "Downloaded blocks not cached: the write queue was full, no room was left, or the write failed.")
	descDiskErrors  = desc("disk_cache_write_errors_total", "Disk cache block writes that failed (the block is not cached; reads are not affected).")
	descDiskDamaged = desc("disk_cache_damaged_total", "Disk cache block files found damaged (header or checksum) and removed; the block is fetched again.")
)

// allDescs is every metric the collector may send.
var allDescs = []*prometheus.Desc{descRequests, descLatency, descRetries, descThrottled, descBytes,
	descRateLimit, descBWLimit, descCuts, descDelayed, descFUSE, descFUSEErrors, descOpenFiles,
	descCacheHits, descCacheMisses, descCacheEvicted, descCacheEntries, descCacheBytes, descCacheCap,
	descRAUsed, descRALimit, descRAPeak, descRAFiles, descSkipped, descStale,
	descTokenExpiry, descRenewals, descRenewFails}

// Describe sends every descriptor (the set is fixed).
func (m *mountCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range allDescs {
		ch <- d
	}
}

// Collect reads the counters once per scrape.
func (m *mountCollector) Collect(ch chan<- prometheus.Metric) {
	counter := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, v, labels...)
	}
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	histogram := func(d *prometheus.Desc, h oss.HistogramSnapshot, label string) {
		ch <- prometheus.MustNewConstHistogram(d, h.Count, h.Sum, h.Buckets, label)
	}

	cs := m.client.Stats()
	for k, n := range cs.Requests {
		counter(descRequests, float64(n), k.Op, strconv.Itoa(k.Status))
	}
	for op, h := range cs.Latency {
		histogram(descLatency, h, op)
	}
	for reason, n := range cs.Retries {
		counter(descRetries, float64(n), reason)
	}
	counter(descThrottled, float64(cs.Throttled))
	counter(descBytes, float64(cs.BytesReceived))
	gauge(descRateLimit, cs.Governor.RequestLimit)
	gauge(descBWLimit, float64(cs.Governor.BandwidthLimit))
	counter(descCuts, float64(cs.Governor.Cuts))
	counter(descDelayed, float64(cs.Governor.Delayed))

	fm := m.fs.Metrics()
	for op, o := range fm.Ops {
		histogram(descFUSE, o.Latency, op)
		counter(descFUSEErrors, float64(o.Errors), op)
	}
	if fm.OpenFiles >= 0 {
		gauge(descOpenFiles, float64(fm.OpenFiles))
	}
	counter(descCacheHits, float64(fm.CacheHits))
	counter(descCacheMisses, float64(fm.CacheMisses))
	counter(descCacheEvicted, float64(fm.CacheEvictions))
	gauge(descCacheEntries, float64(fm.CacheEntries))
	gauge(descCacheBytes, float64(fm.CacheBytes))
	gauge(descCacheCap, float64(fm.CacheLimit))
	gauge(descRAUsed, float64(fm.ReadAheadUsed))
	gauge(descRALimit, float64(fm.ReadAheadLimit))
	gauge(descRAPeak, float64(fm.ReadAheadPeak))
	gauge(descRAFiles, float64(fm.ReadAheadHandles))
	st := m.fs.Stats()
	counter(descSkipped, float64(st.SkippedKeys))
	counter(descStale, float64(st.StaleReads))

	ts := m.manager.Status()
	if !ts.Expiration.IsZero() {
		gauge(descTokenExpiry, ts.Expiration.Sub(m.now()).Seconds())
	}
	counter(descRenewals, float64(ts.Renewals))
	counter(descRenewFails, float64(ts.Failures))
}

// diskCacheCollector exports the disk cache's counters, read when scraped.
type diskCacheCollector struct{ cache *diskcache.Cache }

var diskDescs = []*prometheus.Desc{descDiskHits, descDiskMisses, descDiskShared, descDiskBlocks,
	descDiskBytes, descDiskLimit, descDiskEvicted, descDiskDropped, descDiskErrors, descDiskDamaged}

// Describe sends every descriptor.
func (d diskCacheCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, desc := range diskDescs {
		ch <- desc
	}
}

// Collect reads the cache's counters once per scrape.
func (d diskCacheCollector) Collect(ch chan<- prometheus.Metric) {
	st := d.cache.Stats()
	for desc, v := range map[*prometheus.Desc]int64{descDiskHits: st.Hits, descDiskMisses: st.Misses,
		descDiskShared: st.Shared, descDiskEvicted: st.Evicted, descDiskDropped: st.Dropped,
		descDiskErrors: st.WriteErrors, descDiskDamaged: st.Bad} {
		ch <- prometheus.MustNewConstMetric(desc, prometheus.CounterValue, float64(v))
	}
	for desc, v := range map[*prometheus.Desc]int64{descDiskBlocks: st.Blocks, descDiskBytes: st.Bytes, descDiskLimit: st.LimitBytes} {
		ch <- prometheus.MustNewConstMetric(desc, prometheus.GaugeValue, float64(v))
	}
}

// observability is what a mount serves about itself: /metrics (with
// --metrics-addr) and the status socket (always).
type observability struct {
	metrics *http.Server // nil without --metrics-addr
	status  *statusServer
}

// startObservability starts both before the mount, so that a busy
// metrics port fails the mount. A status socket that cannot be created
// (no writable runtime directory) is logged and skipped: the mount works
// without it.
//
// data is the store under the node tree: the disk cache, when it is on.
func startObservability(s settings, manager *creds.Manager, client *oss.Client, fsys *ossfs.FS, data ossfs.Store, logger *slog.Logger) (*observability, error) {
	o := &observability{}
	base := statusReport{Mountpoint: s.mountpoint, Target: s.target.String(), PID: os.Getpid(), Started: time.Now()}
	if s.metricsAddr != "" {
		cache, _ := data.(*diskcache.Cache)
		reg := newRegistry(&mountCollector{client: client, fs: fsys, manager: manager, now: time.Now}, cache)
		srv, addr, err := serveMetrics(s.metricsAddr, reg, logger)
		if err != nil {
			return nil, err
		}
		o.metrics, base.MetricsAddr = srv, addr.String()
	}
	if isFDMountpoint(s.mountpoint) {
		// Every child of `ossmount mounter` serves /dev/fd/4: one socket
		// name for all of them, so none gets one.
		return o, nil
	}
	st, err := serveStatus(s.mountpoint, func() statusReport { return buildReport(base, client, fsys, manager) }, logger)
	if err != nil {
		logger.Warn("ossmount status will not answer for this mount", "err", err)
	} else {
		o.status = st
	}
	return o, nil
}

// Close stops serving.
func (o *observability) Close() {
	if o.metrics != nil {
		o.metrics.Close()
	}
	if o.status != nil {
		o.status.Close()
	}
}

// readGovernor maps --metrics-addr, --max-requests-per-second and
// --max-bandwidth onto s.
func readGovernor(c *cli.Context, s *settings) error {
	var err error
	if s.metricsAddr, err = parseMetricsAddr(c.String("metrics-addr")); err != nil {
		return err
	}
	rps := c.Float64("max-requests-per-second")
	if rps < 0 || math.IsNaN(rps) || math.IsInf(rps, 0) {
		return fmt.Errorf("--max-requests-per-second must be a positive number (0: no cap)")
	}
	if s.oss.MaxBandwidth, err = parseRate("max-bandwidth", c.String("max-bandwidth")); err != nil {
		return err
	}
	s.oss.MaxRequestsPerSecond = rps
	return nil
}
