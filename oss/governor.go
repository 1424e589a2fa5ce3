package oss

import (
	"context"
	"io"
	"math"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/time/rate"
)

// GovernorStats describe the request governor now.
type GovernorStats struct {
	// RequestLimit is the request rate allowed now, in requests/s: the
	// configured MaxRequestsPerSecond lowered by throttling answers, or
	// +Inf when nothing limits the rate.
	RequestLimit   float64
	BandwidthLimit int64 // bytes/s of response bodies; 0: unlimited
	Cuts           int64 // times throttling answers cut RequestLimit
	Delayed        int64 // attempts that waited for the rate limit before being sent
}

// governor paces every request of one Client, and so of one mount: a token
// bucket of requests per second whose rate the aimd controller moves, and
// a token bucket of body bytes per second. It is safe for concurrent use.
type governor struct {
	mu      sync.Mutex // guards ctl, applied and req's settings
	ctl     *aimd
	applied float64       // the limit req was last set to
	req     *rate.Limiter // requests; rate.Inf while unlimited
	bw      *rate.Limiter // body bytes; nil: unlimited
	bwBurst int           // largest single read waited for

	delayed atomic.Int64
}

// newGovernor limits requests to maxRPS per second (0: only throttling
// answers limit them) and body bytes to maxBandwidth per second (0: no
// limit).
func newGovernor(maxRPS float64, maxBandwidth int64) *governor {
	g := &governor{ctl: newAIMD(maxRPS), applied: math.Inf(1), req: rate.NewLimiter(rate.Inf, 1)}
	if maxBandwidth > 0 {
		// A tenth of a second of bytes (at least 64 KiB) may pass at once.
		g.bwBurst = int(max(maxBandwidth/10, 64<<10))
		g.bw = rate.NewLimiter(rate.Limit(maxBandwidth), g.bwBurst)
	}
	g.mu.Lock()
	g.applyLocked(time.Now())
	g.mu.Unlock()
	return g
}

// applyLocked gives the limiter the controller's current limit.
func (g *governor) applyLocked(now time.Time) float64 {
	l := g.ctl.limit(now)
	if l != g.applied {
		g.applied = l
		if math.IsInf(l, 1) {
			g.req.SetLimitAt(now, rate.Inf)
		} else {
			// A tenth of a second of requests may go at once, so that a
			// reader's parallel GETs are not serialised needlessly.
			g.req.SetBurstAt(now, max(1, int(l/10)))
			g.req.SetLimitAt(now, rate.Limit(l))
		}
	}
	return l
}

// wait blocks until one more request may be sent, or ctx ends.
func (g *governor) wait(ctx context.Context) error {
	now := time.Now()
	g.mu.Lock()
	l := g.applyLocked(now)
	var r *rate.Reservation
	if !math.IsInf(l, 1) {
		r = g.req.ReserveN(now, 1)
	}
	g.mu.Unlock()
	if r != nil {
		if d := r.DelayFrom(now); d > 0 {
			g.delayed.Add(1)
			t := time.NewTimer(d)
			select {
			case <-ctx.Done():
				t.Stop()
				r.Cancel()
				return ctx.Err()
			case <-t.C:
			}
			now = time.Now()
		}
	}
	g.mu.Lock()
	g.ctl.sent(now)
	g.mu.Unlock()
	return nil
}

// throttledAt tells the controller that a request sent at sent was
// throttled.
func (g *governor) throttledAt(sent time.Time) {
	now := time.Now()
	g.mu.Lock()
	if g.ctl.throttled(now, sent) {
		g.applyLocked(now)
	}
	g.mu.Unlock()
}

// waitBytes blocks until n body bytes (at most bwBurst) may be consumed.
func (g *governor) waitBytes(ctx context.Context, n int) error {
	if g.bw == nil || n <= 0 {
		return nil
	}
	return g.bw.WaitN(ctx, n)
}

func (g *governor) stats() GovernorStats {
	g.mu.Lock()
	defer g.mu.Unlock()
	s := GovernorStats{RequestLimit: g.applyLocked(time.Now()), Cuts: g.ctl.cuts, Delayed: g.delayed.Load()}
	if g.bw != nil {
		s.BandwidthLimit = int64(g.bw.Limit())
	}
	return s
}

// countedBody counts (and, with a bandwidth limit, paces) the bytes read
// from one response body.
type countedBody struct {
	io.ReadCloser
	ctx context.Context
	c   *Client
}

func (b *countedBody) Read(p []byte) (int, error) {
	g := b.c.gov
	if g.bw != nil && len(p) > g.bwBurst {
		p = p[:g.bwBurst]
	}
	n, err := b.ReadCloser.Read(p)
	b.c.stats.bytes.Add(int64(n))
	if werr := g.waitBytes(b.ctx, n); werr != nil && err == nil {
		err = werr
	}
	return n, err
}

// observe records one attempt sent at sent: its latency and status, and
// from now on the bytes of its body.
func (c *Client) observe(ctx context.Context, op string, resp *http.Response, sent time.Time) {
	status := 0
	if resp != nil {
		status = resp.StatusCode
		resp.Body = &countedBody{ReadCloser: resp.Body, ctx: ctx, c: c}
	}
	c.stats.request(op, status, time.Since(sent))
}

// observeError records an error answer to a request sent at sent; a
// throttling answer slows the whole client down.
func (c *Client) observeError(se *ServiceError, sent time.Time) {
	if isThrottle(se) {
		c.stats.throttled.Add(1)
		c.gov.throttledAt(sent)
	}
}

// isThrottle reports an answer that asks the client to send less: any 429
// (which OSS does not document, but the SDK honours), and a 503 with one
// of OSS's throttling codes or none. A 503 ServiceUnavailable ("thread
// pool is almost full") or InternalError is a busy server, retried with
// backoff like a 500, and does not lower the rate.
func isThrottle(se *ServiceError) bool {
	switch {
	case se.StatusCode == http.StatusTooManyRequests:
		return true
	case se.StatusCode != http.StatusServiceUnavailable:
		return false
	}
	return se.Code != "ServiceUnavailable" && se.Code != "InternalError"
}
