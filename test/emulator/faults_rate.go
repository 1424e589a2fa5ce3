package emulator

import (
	"sync"
	"time"
)

// rateThrottle answers 503 SlowDown to OSS requests above a rate, as OSS
// does when an account or bucket exceeds its QPS limit: in each second
// (fixed one-second windows) the first R requests are served and the rest
// are throttled. Throttled requests count against nothing.
type rateThrottle struct {
	mu     sync.Mutex // guards the fields below
	limit  int        // requests per second; 0: off
	window int64      // the current window, in Unix seconds
	served int        // requests let through in the window
}

// SetThrottleAbove makes the OSS endpoint answer 503 SlowDown to every
// request beyond rps in each one-second window; 0 turns it off. It is
// independent of SetFaults.
func (s *Server) SetThrottleAbove(rps int) {
	s.rate.mu.Lock()
	defer s.rate.mu.Unlock()
	s.rate.limit, s.rate.window, s.rate.served = rps, 0, 0
}

// over reports whether a request arriving at now is beyond the limit, and
// counts it if not.
func (r *rateThrottle) over(now time.Time) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.limit <= 0 {
		return false
	}
	if w := now.Unix(); w != r.window {
		r.window, r.served = w, 0
	}
	if r.served >= r.limit {
		return true
	}
	r.served++
	return false
}
