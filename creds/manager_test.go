package creds

import (
	"errors"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ossmount/ossmount/test/mounttest"
)

// hammer runs n goroutines calling Retrieve until stop closes, checking
// every answer against the fake STS at the simulated moment it is returned:
// the clock moves only under gate's write lock, so it stands still between
// a Retrieve and its check. It returns the number of calls and of failures.
func hammer(t *testing.T, m *Manager, f *fakeSTS, clock *fakeClock, gate *sync.RWMutex, n int, stop <-chan struct{}) (wait func() (calls, failures int64)) {
	t.Helper()
	var wg sync.WaitGroup
	var nCalls, nFail atomic.Int64
	var once sync.Once
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				gate.RLock()
				c, err := m.Retrieve(t.Context())
				if err == nil {
					err = f.check(c, clock.Now())
				}
				gate.RUnlock()
				nCalls.Add(1)
				runtime.Gosched() // real callers do I/O between calls
				if err != nil {
					nFail.Add(1)
					once.Do(func() { t.Errorf("Retrieve: %v", err) })
				}
			}
		}()
	}
	return func() (int64, int64) { wg.Wait(); return nCalls.Load(), nFail.Load() }
}

// advance moves clock to its next timer while no hammer is between a
// Retrieve and its check.
func advance(t *testing.T, clock *fakeClock, gate *sync.RWMutex) time.Duration {
	t.Helper()
	gate.Lock()
	defer gate.Unlock()
	return clock.fireNext(t)
}

// simulatedManager is a Manager of one-hour tokens from a fake STS, on
// simulated time.
func simulatedManager(t *testing.T) (*fakeSTS, *fakeClock, *Manager) {
	t.Helper()
	f := newFakeSTS(t, time.Hour)
	cfg := baseConfig(t, f)
	clock := f.simulate(&cfg)
	return f, clock, newManager(t, cfg)
}

// Twenty renewals of a one-hour token on simulated time, under 100 callers:
// each renewal comes when a fifth of the lifetime (plus up to 20% jitter)
// remains, no caller ever gets an expired token, and STS sees one
// AssumeRole per renewal, not one per caller.
func TestManagerRenewsUnderLoad(t *testing.T) {
	f, clock, m := simulatedManager(t)
	var gate sync.RWMutex
	stop := make(chan struct{})
	wait := hammer(t, m, f, clock, &gate, 100, stop)
	const renewals = 20
	for i := 1; i <= renewals; i++ {
		// Expiration has whole seconds, so a lifetime is up to 1 s short.
		if d := advance(t, clock, &gate); d < 45*time.Minute+36*time.Second-time.Second || d > 48*time.Minute {
			t.Errorf("renewal %d came after %v, want 45m36s..48m (1h token, 12m..14m24s ahead)", i, d)
		}
		mounttest.Await(t, "the renewal", func() bool { return m.Status().Renewals == i })
	}
	close(stop)
	calls, failures := wait()
	st := m.Status()
	t.Logf("%d Retrieve calls, %d failures, %d STS requests, status %+v", calls, failures, f.requests.Load(), st)
	if failures != 0 || st.Failures != 0 {
		t.Fatalf("%d of %d calls failed; status %+v", failures, calls, st)
	}
	if got := f.requests.Load(); got != renewals+1 {
		t.Errorf("STS requests = %d, want renewals+1 = %d", got, renewals+1)
	}
}

// STS fails the first two renewal attempts while the token is still valid:
// callers keep the valid token, and the refresher retries with backoff.
func TestManagerOutageWhileValid(t *testing.T) {
	f, clock, m := simulatedManager(t)
	f.failNext.Store(2) // the first two renewal attempts fail
	var gate sync.RWMutex
	stop := make(chan struct{})
	wait := hammer(t, m, f, clock, &gate, 20, stop)
	for attempt := 1; attempt <= 3; attempt++ {
		advance(t, clock, &gate)
		mounttest.Await(t, "a renewal attempt", func() bool { st := m.Status(); return st.Failures+st.Renewals == attempt })
	}
	close(stop)
	if _, failures := wait(); failures != 0 {
		t.Errorf("%d Retrieve calls failed during an outage with a valid token", failures)
	}
	st := m.Status()
	if st.Failures != 2 || st.Renewals != 1 || st.LastError != nil {
		t.Errorf("status = %+v, want 2 failures then a success", st)
	}
	if got := f.requests.Load(); got != 4 {
		t.Errorf("STS requests = %d, want 4 (first, 2 failures, renewal)", got)
	}
}

func TestManagerOutagePastExpiry(t *testing.T) {
	f, clock, m := simulatedManager(t)
	first, err := m.Retrieve(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	f.failAlways.Store(true)
	clock.Advance(time.Hour)
	var lastErr error
	mounttest.Await(t, "Retrieve to fail after expiry", func() bool {
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
	mounttest.Await(t, "recovery after STS came back", func() bool {
		clock.Advance(forceInterval) // past the pause between forced renewals
		c, err = m.Retrieve(t.Context())
		return err == nil
	})
	if err := f.check(c, clock.Now()); err != nil {
		t.Fatal(err)
	}
	if c.AccessKeyID == first.AccessKeyID {
		t.Fatal("recovered with the old token")
	}
	if st := m.Status(); st.LastError != nil || st.Failures == 0 {
		t.Errorf("status after recovery = %+v", st)
	}
}

func TestManagerInvalidate(t *testing.T) {
	f, clock, m := simulatedManager(t)
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
	clock.Advance(2 * time.Second)
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
	f := newFakeSTS(t, time.Hour)
	cfg := baseConfig(t, f)
	clock := f.simulate(&cfg)
	m, err := New(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	m.Close()
	n := f.requests.Load()
	clock.Advance(2 * time.Hour) // would fire any renewal timer left behind
	if _, ok := clock.next(); ok {
		t.Error("a timer is pending after Close")
	}
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
