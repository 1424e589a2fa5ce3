package oss

import (
	"errors"
	"maps"
	"net/url"
	"sync"
	"sync/atomic"
	"time"
)

// The client counts what it does in atomics and maps it keeps itself; a
// metrics exporter reads them with Stats when it is scraped, so recording
// costs a few atomic adds per request and one per body read, and nothing
// at all depends on whether anyone exports them.

// LatencyBuckets are the upper bounds, in seconds, of the buckets of every
// Histogram: from 1 ms (a cached answer on a LAN) to a minute (a retried
// call at its MaxRetryTime).
var LatencyBuckets = []float64{0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60}

// Histogram counts durations in LatencyBuckets. The zero value is ready;
// it is safe for concurrent use and never locks.
type Histogram struct {
	counts [16]atomic.Uint64 // per bucket, not cumulative; the last is above every bound
	sum    atomic.Int64      // nanoseconds
}

// Observe records one duration.
func (h *Histogram) Observe(d time.Duration) {
	s := d.Seconds()
	i := 0
	for i < len(LatencyBuckets) && s > LatencyBuckets[i] {
		i++
	}
	h.counts[i].Add(1)
	h.sum.Add(int64(d))
}

// HistogramSnapshot is a Histogram at one moment, in the form Prometheus
// wants: cumulative counts by upper bound.
type HistogramSnapshot struct {
	Count   uint64
	Sum     float64            // seconds
	Buckets map[float64]uint64 // upper bound → observations at or below it
}

// Snapshot reads the histogram. Concurrent observations may be half seen
// (counted in a bucket but not yet in the sum); the next scrape has them.
func (h *Histogram) Snapshot() HistogramSnapshot {
	s := HistogramSnapshot{Buckets: make(map[float64]uint64, len(LatencyBuckets))}
	for i, bound := range LatencyBuckets {
		s.Count += h.counts[i].Load()
		s.Buckets[bound] = s.Count
	}
	s.Count += h.counts[len(LatencyBuckets)].Load()
	s.Sum = time.Duration(h.sum.Load()).Seconds()
	return s
}

// Retry reasons, the label values of Stats.Retries.
const (
	RetryThrottled   = "throttled"    // 429, or 503 with a throttling code (see isThrottle)
	RetryServerError = "server_error" // another 5xx (503 ServiceUnavailable too), 408
	RetryTransport   = "transport"    // connection refused or reset, timeout
	RetryBadBody     = "bad_body"     // a 2xx whose body was cut, garbled or contradicted its headers
	RetryCredentials = "credentials"  // the token was rejected; retried once with a fresh one
	RetryClockSkew   = "clock_skew"   // RequestTimeTooSkewed; retried with the server's time
	RetryBodyCut     = "body_cut"     // a GetRange body cut mid-stream, resumed from the first missing byte
)

var retryReasons = []string{RetryThrottled, RetryServerError, RetryTransport, RetryBadBody, RetryCredentials, RetryClockSkew, RetryBodyCut}

// clientOps are the op names of calls; each has its own counters.
var clientOps = []string{"list", "head", "get", "symlink"}

// RequestKey names one counter of Stats.Requests.
type RequestKey struct {
	Op     string // list, head, get
	Status int    // HTTP status of the answer; 0 when no answer came (transport error)
}

// Stats is what the client has done since New.
type Stats struct {
	Requests      map[RequestKey]int64         // attempts by op and status
	Latency       map[string]HistogramSnapshot // by op: from sending to the response headers
	Retries       map[string]int64             // by reason (Retry* constants)
	Throttled     int64                        // throttling answers (see isThrottle)
	BytesReceived int64                        // response body bytes read, errors and listings included
	Governor      GovernorStats
}

// opStats are one op's counters.
type opStats struct {
	latency Histogram
	mu      sync.Mutex // guards byStatus
	// byStatus is a map because the set of statuses is open; the lock is
	// taken once per HTTP attempt, which costs far more than it.
	byStatus map[int]int64
}

// clientStats are a client's counters. Its maps are filled in New and
// only read afterwards.
type clientStats struct {
	ops       map[string]*opStats
	retries   map[string]*atomic.Int64
	throttled atomic.Int64
	bytes     atomic.Int64
}

func newClientStats() *clientStats {
	s := &clientStats{ops: map[string]*opStats{}, retries: map[string]*atomic.Int64{}}
	for _, op := range clientOps {
		s.ops[op] = &opStats{byStatus: map[int]int64{}}
	}
	for _, r := range retryReasons {
		s.retries[r] = new(atomic.Int64)
	}
	return s
}

// request records one attempt of op that got status (0: no answer) after
// elapsed.
func (s *clientStats) request(op string, status int, elapsed time.Duration) {
	o := s.ops[op]
	if o == nil {
		return // only the ops above are ever sent
	}
	o.latency.Observe(elapsed)
	o.mu.Lock()
	o.byStatus[status]++
	o.mu.Unlock()
}

func (s *clientStats) retry(reason string) {
	if c := s.retries[reason]; c != nil {
		c.Add(1)
	}
}

// Stats returns the client's counters so far.
func (c *Client) Stats() Stats {
	s := Stats{
		Requests:      map[RequestKey]int64{},
		Latency:       map[string]HistogramSnapshot{},
		Retries:       map[string]int64{},
		Throttled:     c.stats.throttled.Load(),
		BytesReceived: c.stats.bytes.Load(),
		Governor:      c.gov.stats(),
	}
	for op, o := range c.stats.ops {
		s.Latency[op] = o.latency.Snapshot()
		o.mu.Lock()
		byStatus := maps.Clone(o.byStatus)
		o.mu.Unlock()
		for status, n := range byStatus {
			s.Requests[RequestKey{op, status}] = n
		}
	}
	for r, n := range c.stats.retries {
		s.Retries[r] = n.Load()
	}
	return s
}

// retryReason names why a failed attempt is being retried.
func retryReason(err error) string {
	se, ok := asServiceError(err)
	switch {
	case !ok:
		var re *retryableError
		if errors.As(err, &re) && isTransportError(re.err) {
			return RetryTransport
		}
		return RetryBadBody
	case se.Code == "RequestTimeTooSkewed":
		return RetryClockSkew
	case errors.Is(se, ErrCredentials):
		return RetryCredentials
	case isThrottle(se):
		return RetryThrottled
	}
	return RetryServerError
}

// isTransportError reports an error from sending the request or waiting
// for its answer (http.Client.Do wraps all of those in *url.Error).
func isTransportError(err error) bool {
	var ue *url.Error
	return errors.As(err, &ue)
}
