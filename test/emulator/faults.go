package emulator

import (
	"context"
	"math/rand/v2"
	"net/http"
	"sync"
	"time"
)

// Faults are misbehaviours switched on with SetFaults (or the admin
// endpoint). The zero value is a well-behaved server. Rates are fractions
// in [0, 1] drawn independently per request, except ThrottleRate.
type Faults struct {
	Latency            time.Duration // before the first byte of every OSS response
	BandwidthPerConn   int64         // bytes/second per connection for response bodies; 0 = unlimited
	ErrorRate          float64       // fraction of OSS requests answered 500 InternalError or 503 ServiceUnavailable
	ThrottleRate       float64       // fraction answered 503 TotalQpsLimitExceeded, exactly: every (1/rate)th request, counted from SetFaults
	ResetRate          float64       // fraction of GetObject bodies cut mid-body by closing the connection
	WrongContentLength bool          // GetObject declares more bytes than it sends, then closes the connection
	TruncatedXML       bool          // list answers cut mid-document (a complete HTTP response with half the XML)
	STSOutage          bool          // every STS call answers 503 ServiceUnavailable
	STSThrottle        bool          // every STS call answers 400 Throttling.User
	Hang               bool          // OSS requests never answer until faults change or the server closes

	// Body stalls, for GetObject, ListObjects and STS answers: the status,
	// the headers and the first StallAfter body bytes are sent, then nothing
	// (the connection stays open) until the client goes away, the faults
	// change (the rest is then sent) or the server closes; with
	// TrickleInterval > 0 the rest is sent one byte per interval instead.
	// StallBodies is how many answers misbehave from SetFaults on (-1 every
	// one, 0 none); StallOps limits them to some of "get", "list" and "sts"
	// (comma-separated; "" means all three).
	StallBodies     int
	StallAfter      int64
	TrickleInterval time.Duration
	StallOps        string
}

// faultSwitch holds the current faults; changed is closed and replaced on
// every change so hanging requests wake up.
type faultSwitch struct {
	mu        sync.Mutex
	f         Faults
	stallLeft int // answers still to stall: f.StallBodies, counted down; -1 every one
	// throttleDue grows by f.ThrottleRate per OSS request; a request that
	// brings it to 1 is throttled and takes 1 off. A test that sets a rate
	// and sends enough requests sees throttling every time, not by chance.
	throttleDue float64
	changed     chan struct{}
}

func newFaultSwitch() *faultSwitch { return &faultSwitch{changed: make(chan struct{})} }

func (fs *faultSwitch) get() (Faults, <-chan struct{}) {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	return fs.f, fs.changed
}

// SetFaults replaces the active faults; it takes effect for the next request
// (bandwidth: the next write) and releases requests held by Hang.
func (s *Server) SetFaults(f Faults) {
	s.faults.mu.Lock()
	defer s.faults.mu.Unlock()
	s.faults.f = f
	s.faults.stallLeft = f.StallBodies
	s.faults.throttleDue = 0
	close(s.faults.changed)
	s.faults.changed = make(chan struct{})
}

// Faults returns the active faults.
func (s *Server) Faults() Faults {
	f, _ := s.faults.get()
	return f
}

func chance(p float64) bool { return p > 0 && rand.Float64() < p }

// throttle says whether this request is one of the ThrottleRate fraction.
func (fs *faultSwitch) throttle() bool {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	if fs.f.ThrottleRate <= 0 {
		return false
	}
	fs.throttleDue += fs.f.ThrottleRate
	if fs.throttleDue < 1 {
		return false
	}
	fs.throttleDue--
	return true
}

// waitHang blocks while Hang is set. It returns false when the request or
// the server ended first.
func (s *Server) waitHang(ctx context.Context) bool {
	for {
		f, changed := s.faults.get()
		if !f.Hang {
			return true
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return false
		case <-s.done:
			return false
		}
	}
}

// wait blocks for d, the request's end or the server's close.
func (s *Server) wait(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return true
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	case <-s.done:
		return false
	}
}

type connKey struct{}

// connLimiter paces one connection's response bodies; mu guards next.
type connLimiter struct {
	mu   sync.Mutex
	next time.Time // when the next byte may leave
}

// reserve returns how long to wait before sending n bytes at rate bytes/s.
func (l *connLimiter) reserve(n int, rate int64) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := time.Now()
	if l.next.Before(now) {
		l.next = now
	}
	start := l.next
	l.next = l.next.Add(time.Duration(float64(n) / float64(rate) * float64(time.Second)))
	return start.Sub(now)
}

// bodyWriter counts and paces the response of one OSS request.
type bodyWriter struct {
	http.ResponseWriter
	s      *Server
	ctx    context.Context
	lim    *connLimiter
	op     string
	denied bool // refused by authentication or authorization
	status int
	// recorded is set once the request is counted: when its status is
	// decided, before any byte reaches the client, so that a client that has
	// read a whole response always finds it in Counters.
	recorded bool
}

func (w *bodyWriter) record() {
	if w.recorded {
		return
	}
	w.recorded = true
	w.s.counts.request(w.op, w.status, w.denied)
}

func (w *bodyWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.record()
	w.ResponseWriter.WriteHeader(code)
}

func (w *bodyWriter) Write(p []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	w.record()
	written := 0
	for len(p) > 0 {
		f, _ := w.s.faults.get()
		chunk := p
		if f.BandwidthPerConn > 0 && w.lim != nil {
			max := int(f.BandwidthPerConn / 20)
			if max < 512 {
				max = 512
			}
			if len(chunk) > max {
				chunk = chunk[:max]
			}
			if !w.s.wait(w.ctx, w.lim.reserve(len(chunk), f.BandwidthPerConn)) {
				return written, context.Canceled
			}
		}
		// Counted before the write, so a client that has read the bytes
		// finds them in Counters; corrected if the write fell short.
		w.s.counts.sent(int64(len(chunk)))
		n, err := w.ResponseWriter.Write(chunk)
		written += n
		w.s.counts.sent(int64(n - len(chunk)))
		if err != nil {
			return written, err
		}
		p = p[n:]
	}
	return written, nil
}

func (w *bodyWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

func (w *bodyWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
