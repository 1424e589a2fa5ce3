package creds_test

import (
	"log/slog"
	"os"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ossmount/ossmount/creds"
	"github.com/ossmount/ossmount/policy"
	"github.com/ossmount/ossmount/test/emulator"
)

const (
	emuAK     = "LTAIemutestuser"
	emuSecret = "emu-secret-do-not-leak"
	emuRole   = "acs:ram::1234567890123456:role/ossmount-test"
)

func startEmulator(t *testing.T) (*emulator.Server, creds.Config) {
	t.Helper()
	s, err := emulator.Start(emulator.Config{TokenLifetime: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	s.AddUser(emuAK, emuSecret)
	s.AddRole(emuRole, `{"Version":"1","Statement":[{"Effect":"Allow","Action":"oss:*","Resource":"*"}]}`, emuAK)
	pol, err := policy.ReadOnlyJSON("bucket", "data/")
	if err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"ALIBABA_CLOUD_ACCESS_KEY_ID": emuAK, "ALIBABA_CLOUD_ACCESS_KEY_SECRET": emuSecret,
		"ALIBABA_CLOUD_ECS_METADATA_DISABLED": "true"}
	return s, creds.Config{RoleARN: emuRole, Policy: pol, STSEndpoint: s.STSURL(), HomeDir: t.TempDir(),
		Getenv: func(k string) string { return env[k] }}
}

// TestEmulatorRenewalUnderLoad is the "done" test against the
// emulator: 2-second tokens, 100 goroutines retrieving for 6 s (20 s with
// OSSMOUNT_SOAK=1), every credential unexpired when returned and AssumeRole
// called once per renewal, not per caller.
func TestEmulatorRenewalUnderLoad(t *testing.T) {
	s, cfg := startEmulator(t)
	if os.Getenv("DEBUGLOG") != "" {
		cfg.Logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	m, err := creds.New(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	d := 6 * time.Second
	if os.Getenv("OSSMOUNT_SOAK") != "" {
		d = 20 * time.Second
	}
	var wg sync.WaitGroup
	var calls, bad atomic.Int64
	stop := time.Now().Add(d)
	for range 100 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for time.Now().Before(stop) {
				c, err := m.Retrieve(t.Context())
				calls.Add(1)
				// Real callers do I/O between calls. A tight CPU loop of 100
				// goroutines on 2 cores delays every network wake-up of the
				// renewal by ~0.5 s (10 ms slices x 50 goroutines per P).
				runtime.Gosched()
				if err != nil || c.Expired(time.Now()) || !strings.HasPrefix(c.AccessKeyID, "STS.") || c.SecurityToken.IsZero() {
					if bad.Add(1) == 1 {
						t.Errorf("Retrieve: %v (expiration %v, now %v, AK %q)", err, c.Expiration, time.Now(), c.AccessKeyID)
					}
				}
			}
		}()
	}
	wg.Wait()
	m.Close()
	st := m.Status()
	n := s.Counters().Requests["AssumeRole"]
	t.Logf("%d Retrieve calls, %d bad, %d AssumeRole calls, status %+v", calls.Load(), bad.Load(), n, st)
	if n < st.Renewals+1 || n > st.Renewals+1+st.Failures || st.Failures > 1 {
		t.Errorf("AssumeRole calls = %d, renewals = %d, failures = %d: want one call per renewal", n, st.Renewals, st.Failures)
	}
	if st.Renewals < int(d/(2*time.Second)) {
		t.Errorf("only %d renewals in %v with 2 s tokens", st.Renewals, d)
	}
}

func TestEmulatorOutagePastExpiryRecovers(t *testing.T) {
	s, cfg := startEmulator(t)
	m, err := creds.New(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	s.SetFaults(emulator.Faults{STSOutage: true})
	poll(t, 10*time.Second, "Retrieve kept succeeding through an STS outage past expiry", func() bool {
		_, err = m.Retrieve(t.Context())
		return err != nil
	})
	if !strings.Contains(err.Error(), "expired at") || !strings.Contains(err.Error(), "ServiceUnavailable") {
		t.Errorf("error = %v", err)
	}
	s.SetFaults(emulator.Faults{})
	poll(t, 10*time.Second, "no recovery", func() bool {
		c, err := m.Retrieve(t.Context())
		return err == nil && !c.Expired(time.Now())
	})
}

func TestEmulatorOIDC(t *testing.T) {
	s, cfg := startEmulator(t)
	provider := "acs:ram::1234567890123456:oidc-provider/ack-rrsa-test"
	s.AddOIDCProvider(provider)
	tokenFile := t.TempDir() + "/token"
	if err := os.WriteFile(tokenFile, []byte("eyJhbGciOiJSUzI1NiJ9.payload.sig"), 0o600); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"ALIBABA_CLOUD_OIDC_PROVIDER_ARN": provider, "ALIBABA_CLOUD_OIDC_TOKEN_FILE": tokenFile,
		"ALIBABA_CLOUD_ROLE_ARN": emuRole, "ALIBABA_CLOUD_ECS_METADATA_DISABLED": "true"}
	cfg.RoleARN = ""
	cfg.Getenv = func(k string) string { return env[k] }
	m, err := creds.New(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if c, err := m.Retrieve(t.Context()); err != nil || !strings.HasPrefix(c.AccessKeyID, "STS.") {
		t.Fatalf("%v %v", c.AccessKeyID, err)
	}
	if got := s.Counters().Requests["AssumeRoleWithOIDC"]; got != 1 {
		t.Errorf("AssumeRoleWithOIDC calls = %d", got)
	}
}

func poll(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.After(d)
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		select {
		case <-deadline:
			t.Fatalf("after %v: %s", d, what)
		case <-tick.C:
		}
	}
}
