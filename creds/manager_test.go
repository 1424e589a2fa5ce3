package creds

import (
	"errors"
	"os"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// hammer runs n goroutines calling Retrieve for d, checking every answer
// against the fake STS at the moment it is returned. It returns the number
// of calls and of errors.
func hammer(t *testing.T, m *Manager, check func(Credentials, time.Time) error, n int, d time.Duration) (calls, failures int64) {
	t.Helper()
	var wg sync.WaitGroup
	var nCalls, nFail atomic.Int64
	var once sync.Once
	stop := time.Now().Add(d)
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for time.Now().Before(stop) {
				c, err := m.Retrieve(t.Context())
				now := time.Now()
				nCalls.Add(1)
				// Real callers do I/O between calls. A tight CPU loop of 100
				// goroutines on 2 cores delays every network wake-up of the
				// renewal by ~0.5 s (10 ms slices x 50 goroutines per P).
				runtime.Gosched()
				if err != nil {
					nFail.Add(1)
					once.Do(func() { t.Errorf("Retrieve: %v", err) })
					continue
				}
				if err := check(c, now); err != nil {
					nFail.Add(1)
					once.Do(func() { t.Errorf("Retrieve returned a bad credential: %v", err) })
				}
			}
		}()
	}
	wg.Wait()
	return nCalls.Load(), nFail.Load()
}

func soakDuration() time.Duration {
	if os.Getenv("OSSMOUNT_SOAK") != "" {
		return 20 * time.Second
	}
	return 6 * time.Second
}

func TestManagerRenewsUnderLoad(t *testing.T) {
	f := newFakeSTS(t, 2*time.Second)
	m := newManager(t, baseConfig(t, f))
	d := soakDuration()
	calls, failures := hammer(t, m, f.check, 100, d)
	m.Close() // settles a renewal that may be in flight
	st := m.Status()
	t.Logf("%d Retrieve calls, %d failures, %d STS requests, status %+v", calls, failures, f.requests.Load(), st)
	if failures != 0 {
		t.Fatalf("%d of %d calls failed", failures, calls)
	}
	// One AssumeRole per renewal (plus the first), not per caller. Close may
	// have cancelled one renewal, which then counts as a failure.
	if st.Failures > 1 {
		t.Errorf("status has failures: %+v", st)
	}
	if got, lo := f.requests.Load(), int64(st.Renewals+1); got < lo || got > lo+int64(st.Failures) {
		t.Errorf("STS requests = %d, want renewals+1 = %d (+%d cancelled by Close)", got, lo, st.Failures)
	}
	// Tokens live 1-2 s (Expiration has whole seconds); renewal at about
	// a third of the lifetime gives between d/2s and d/0.3s renewals.
	if lo, hi := int(d/(2*time.Second)), int(d/(300*time.Millisecond)); st.Renewals < lo || st.Renewals > hi {
		t.Errorf("renewals = %d, want within [%d, %d]", st.Renewals, lo, hi)
	}
}

func TestManagerOutageWhileValid(t *testing.T) {
	f := newFakeSTS(t, 6*time.Second)
	m := newManager(t, baseConfig(t, f))
	f.failNext.Store(2) // the first two renewal attempts fail
	var wg sync.WaitGroup
	done := make(chan struct{})
	var bad atomic.Int64
	for range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-done:
					return
				default:
				}
				c, err := m.Retrieve(t.Context())
				if err == nil {
					err = f.check(c, time.Now())
				}
				if err != nil && bad.Add(1) == 1 {
					t.Errorf("Retrieve during an outage with a valid token: %v", err)
				}
			}
		}()
	}
	eventually(t, 15*time.Second, "no successful renewal after the outage", func() bool { return m.Status().Renewals >= 1 })
	close(done)
	wg.Wait()
	st := m.Status()
	if st.Failures != 2 || st.LastError != nil {
		t.Errorf("status = %+v, want 2 failures then a success", st)
	}
	if got := f.requests.Load(); got != 4 {
		t.Errorf("STS requests = %d, want 4 (first, 2 failures, renewal)", got)
	}
}

func TestManagerOutagePastExpiry(t *testing.T) {
	f := newFakeSTS(t, 2*time.Second)
	m := newManager(t, baseConfig(t, f))
	first, err := m.Retrieve(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	f.failAlways.Store(true)
	var lastErr error
	eventually(t, 10*time.Second, "Retrieve never failed after expiry", func() bool {
		_, lastErr = m.Retrieve(t.Context())
		return lastErr != nil
	})
	msg := lastErr.Error()
	for _, want := range []string{"expired at", "STS renewals are failing", "ServiceUnavailable", "request id REQ-"} {
		if !strings.Contains(msg, want) {
			t.Errorf("error %q lacks %q", msg, want)
		}
	}
	var se *STSError
	if !errors.As(lastErr, &se) || se.StatusCode != 503 {
		t.Errorf("error does not wrap the *STSError: %v", lastErr)
	}
	// Callers during the outage do not each hit STS: retries are paced.
	before := f.requests.Load()
	for range 200 {
		m.Retrieve(t.Context())
	}
	if extra := f.requests.Load() - before; extra > 3 {
		t.Errorf("200 Retrieve calls during the outage caused %d STS requests", extra)
	}
	f.failAlways.Store(false)
	var c Credentials
	eventually(t, 10*time.Second, "no recovery after STS came back", func() bool {
		c, err = m.Retrieve(t.Context())
		return err == nil
	})
	if err := f.check(c, time.Now()); err != nil {
		t.Fatal(err)
	}
	if c.AccessKeyID == first.AccessKeyID {
		t.Fatal("recovered with the old token")
	}
	if st := m.Status(); st.LastError != nil || st.Failures == 0 {
		t.Errorf("status after recovery = %+v", st)
	}
}

// fakeClock is an injectable clock for rate limits.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *fakeClock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func TestManagerInvalidate(t *testing.T) {
	f := newFakeSTS(t, time.Hour)
	clock := &fakeClock{t: time.Now()}
	cfg := baseConfig(t, f)
	cfg.Now = clock.Now
	m := newManager(t, cfg)
	first, _ := m.Retrieve(t.Context())

	m.Invalidate(first)
	second, err := m.Retrieve(t.Context()) // waits for the forced renewal
	if err != nil || second.AccessKeyID == first.AccessKeyID {
		t.Fatalf("after Invalidate: %v, %v (first %v)", second.AccessKeyID, err, first.AccessKeyID)
	}
	if got := f.requests.Load(); got != 2 {
		t.Fatalf("STS requests = %d, want 2", got)
	}
	// N readers failing with the old token cause nothing more.
	for range 50 {
		m.Invalidate(first)
	}
	// A rejection of the new token within a second is rate-limited.
	m.Invalidate(second)
	if c, _ := m.Retrieve(t.Context()); c.AccessKeyID != second.AccessKeyID || f.requests.Load() != 2 {
		t.Fatalf("rate limit not applied: %s, %d requests", c.AccessKeyID, f.requests.Load())
	}
	clock.Add(2 * time.Second)
	m.Invalidate(second)
	third, err := m.Retrieve(t.Context())
	if err != nil || third.AccessKeyID == second.AccessKeyID || f.requests.Load() != 3 {
		t.Fatalf("after the interval: %v %v, %d requests", third.AccessKeyID, err, f.requests.Load())
	}
	if st := m.Status(); st.Renewals != 2 {
		t.Errorf("renewals = %d, want 2", st.Renewals)
	}
}

func TestManagerCloseStopsRenewals(t *testing.T) {
	f := newFakeSTS(t, 2*time.Second)
	m, err := New(t.Context(), baseConfig(t, f))
	if err != nil {
		t.Fatal(err)
	}
	m.Close()
	n := f.requests.Load()
	eventually(t, 5*time.Second, "token did not expire", func() bool {
		c := m.cur.Load()
		return c.Expired(time.Now())
	})
	if _, err := m.Retrieve(t.Context()); !errors.Is(err, ErrClosed) {
		t.Errorf("Retrieve after Close = %v, want ErrClosed", err)
	}
	if f.requests.Load() != n {
		t.Errorf("STS called after Close")
	}
}

func TestRenewTime(t *testing.T) {
	now := time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		life           time.Duration
		frac           float64
		minAhead, maxA time.Duration // renewal this long before expiry
	}{
		{time.Hour, 0.2, 12 * time.Minute, 12*time.Minute + 144*time.Second},
		{15 * time.Minute, 0.2, 180 * time.Second, 216 * time.Second},
		{2 * time.Second, 0.2, 1333 * time.Millisecond, 1600 * time.Millisecond},
		{time.Hour, 0.5, 30 * time.Minute, 36 * time.Minute},
	}
	for _, tt := range tests {
		t.Run(tt.life.String(), func(t *testing.T) {
			for range 100 {
				exp := now.Add(tt.life)
				ahead := exp.Sub(renewTime(now, exp, tt.frac))
				if ahead < tt.minAhead || ahead > tt.maxA {
					t.Fatalf("renews %v before expiry, want [%v, %v]", ahead, tt.minAhead, tt.maxA)
				}
			}
		})
	}
	if got := renewTime(now, now.Add(-time.Second), 0.2); !got.Equal(now) {
		t.Errorf("expired token: renew at %v, want now", got)
	}
}

func TestRetryDelay(t *testing.T) {
	for n := 1; n < 40; n++ {
		d := retryDelay(n, time.Hour)
		if d < 160*time.Millisecond || d > 36*time.Second {
			t.Fatalf("retryDelay(%d, 1h) = %v", n, d)
		}
	}
	if d := retryDelay(30, 2*time.Second); d > 300*time.Millisecond {
		t.Errorf("retryDelay for a 2 s token = %v, want capped near 250ms", d)
	}
}
