package oss

import (
	"math"
	"testing"
	"time"
)

// near reports whether got is within 2% of want (the measured rate
// covers 0.75 to 1 s, so it is not exact).
func near(got, want float64) bool { return math.Abs(got-want) <= 0.02*want }

// sendAt records n requests spread evenly over the second before now.
func sendAt(a *aimd, now time.Time, n int) {
	for i := 0; i < n; i++ {
		a.sent(now.Add(-time.Second + time.Duration(i+1)*time.Second/time.Duration(n)))
	}
}

func TestAIMDUnlimitedEngagesOnlyOnThrottling(t *testing.T) {
	t0 := time.Unix(1_000_000, 0)
	a := newAIMD(0)
	sendAt(a, t0, 200)
	if l := a.limit(t0); !math.IsInf(l, 1) {
		t.Fatalf("limit before any throttling = %v, want +Inf", l)
	}
	// The server objects while the mount sends 200/s: half of that.
	if !a.throttled(t0, t0.Add(-time.Millisecond)) {
		t.Fatal("first throttle did not cut")
	}
	if l := a.limit(t0); !near(l, 100) {
		t.Fatalf("limit after the cut = %v, want 100 (half the 200/s sent)", l)
	}
	// Answers to requests sent before the cut do not cut again, nor
	// answers within a second of the cut.
	if a.throttled(t0.Add(10*time.Millisecond), t0.Add(-5*time.Millisecond)) {
		t.Fatal("a throttle for a request sent before the cut cut again")
	}
	if a.throttled(t0.Add(500*time.Millisecond), t0.Add(100*time.Millisecond)) {
		t.Fatal("a throttle half a second after the cut cut again")
	}
	// Additive increase: +20/s per second (a tenth of 200 per second).
	if l := a.limit(t0.Add(2 * time.Second)); !near(l, 140) {
		t.Fatalf("limit 2 s after the cut = %v, want 140", l)
	}
	// A throttle for a request sent after the cut cuts again, from what
	// was sent (here less than allowed) if that is lower.
	t1 := t0.Add(2 * time.Second)
	sendAt(a, t1, 120)
	if !a.throttled(t1, t1.Add(-time.Millisecond)) {
		t.Fatal("a throttle after the cut did not cut")
	}
	if l := a.limit(t1); !near(l, 60) {
		t.Fatalf("limit after the second cut = %v, want 60 (half the 120/s sent)", l)
	}
	if a.cuts != 2 {
		t.Fatalf("cuts = %d, want 2", a.cuts)
	}
	// Recovery: at +20/s per second it reaches twice the first reference
	// (400/s) about 17 s after the cut, and the governor lets go.
	if l := a.limit(t1.Add(16 * time.Second)); math.IsInf(l, 1) || !near(l, 380) {
		t.Fatalf("limit 16 s after the last cut = %v, want 380", l)
	}
	if l := a.limit(t1.Add(18 * time.Second)); !math.IsInf(l, 1) {
		t.Fatalf("limit 18 s after the last cut = %v, want +Inf (recovered)", l)
	}
}

func TestAIMDCeilingIsStartAndEnd(t *testing.T) {
	t0 := time.Unix(2_000_000, 0)
	a := newAIMD(50)
	if l := a.limit(t0); l != 50 {
		t.Fatalf("limit = %v, want the ceiling 50", l)
	}
	sendAt(a, t0, 50)
	a.throttled(t0, t0)
	if l := a.limit(t0); l != 25 {
		t.Fatalf("limit after a cut = %v, want 25", l)
	}
	// +5/s per second: back at the ceiling after 5 s, never above it.
	if l := a.limit(t0.Add(4 * time.Second)); !near(l, 45) {
		t.Fatalf("limit 4 s after = %v, want 45", l)
	}
	for _, d := range []time.Duration{5 * time.Second, time.Minute} {
		if l := a.limit(t0.Add(d)); l != 50 {
			t.Fatalf("limit %v after = %v, want the ceiling 50", d, l)
		}
	}
}

func TestAIMDFloor(t *testing.T) {
	t0 := time.Unix(3_000_000, 0)
	a := newAIMD(0)
	sendAt(a, t0, 1000)
	now := t0
	if !a.throttled(now, now) {
		t.Fatal("1000 requests/s throttled: no cut")
	}
	// A throttling storm: every answer throttled, a cut each second.
	for i := 0; i < 50; i++ {
		now = now.Add(time.Second)
		a.sent(now)
		a.throttled(now, now)
	}
	if l := a.limit(now); l < aimdMinRate || l > 2*aimdMinRate {
		t.Fatalf("limit after a storm = %v, want about the floor %v", l, aimdMinRate)
	}
}

func TestMeasuredRateForgetsOldSlots(t *testing.T) {
	t0 := time.Unix(4_000_000, 0)
	a := newAIMD(0)
	sendAt(a, t0, 100)
	if m := a.measured(t0); !near(m, 100) {
		t.Fatalf("measured = %v, want 100", m)
	}
	if m := a.measured(t0.Add(2 * time.Second)); m != 0 {
		t.Fatalf("measured 2 s later = %v, want 0", m)
	}
	// A clock stepping back neither panics nor loses the count.
	a.sent(t0)
	a.sent(t0.Add(-time.Hour))
	if m := a.measured(t0); m == 0 {
		t.Fatal("requests sent while the clock stepped back were lost")
	}
}

// A mount sending fewer requests than the floor is left to backoff.
func TestAIMDSlowSenderNotLimited(t *testing.T) {
	t0 := time.Unix(5_000_000, 0)
	a := newAIMD(0)
	sendAt(a, t0, 5)
	if a.throttled(t0, t0) {
		t.Fatal("5 requests/s were cut")
	}
	if l := a.limit(t0); !math.IsInf(l, 1) {
		t.Fatalf("limit = %v, want +Inf", l)
	}
}

func TestIsThrottle(t *testing.T) {
	for _, tc := range []struct {
		status int
		code   string
		want   bool
	}{
		{429, "", true},
		{503, "TotalQpsLimitExceeded", true},
		{503, "DownloadTrafficRateLimitExceeded", true},
		{503, "SlowDown", true},
		{503, "", true}, // a HEAD without x-oss-err: assume the worst
		{503, "ServiceUnavailable", false},
		{503, "InternalError", false},
		{500, "InternalError", false},
		{403, "AccessDenied", false},
	} {
		if got := isThrottle(&ServiceError{StatusCode: tc.status, Code: tc.code}); got != tc.want {
			t.Errorf("isThrottle(%d %s) = %v, want %v", tc.status, tc.code, got, tc.want)
		}
	}
}
