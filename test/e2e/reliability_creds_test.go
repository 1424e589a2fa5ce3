package e2e

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ossmount/ossmount/test/emulator"
	"github.com/ossmount/ossmount/test/mounttest"
)

// credsBucket fills bucket with n small generated files f00000.. so that every
// read in a loop is a fresh object (no page cache, a real GET).
func credsBucket(e *env, bucket string, n int) {
	e.emu.CreateBucket(bucket, false)
	e.emu.AddGenerated(bucket, emulator.Generated{Count: n, KeyFormat: "f%05d", Size: 1000, Seed: 11})
}

// readFresh reads file i of credsBucket and checks its bytes.
func readFresh(t *testing.T, mnt string, i int) error {
	key := fmt.Sprintf("f%05d", i)
	got, err := os.ReadFile(filepath.Join(mnt, key))
	if err != nil {
		return err
	}
	want := generatedMD5(t, 11, key, 1000)
	if sum, _ := fileMD5(filepath.Join(mnt, key)); sum != want || len(got) != 1000 {
		return fmt.Errorf("%s: wrong content", key)
	}
	return nil
}

// stsFailures counts AssumeRole calls answered with an error status.
func stsFailures(c emulator.Counters) int {
	n := 0
	for k, v := range c.ByStatus {
		if strings.HasPrefix(k, "AssumeRole ") && !strings.HasSuffix(k, " 200") {
			n += v
		}
	}
	return n
}

// An STS outage while the token is still valid fails no read: the manager's
// renewals fail in the background and readers keep the current token.
// TokenLifetime is 10s here (not 2s) so that the outage can outlast several
// renewal attempts while the token stays valid.
func TestSTSOutageWhileTokenValid(t *testing.T) {
	e := startEmulator(t, emulator.Config{TokenLifetime: 10 * time.Second})
	credsBucket(e, "outage", 100_000)
	mnt, logFile := e.mount("outage")
	// Wait for a fresh token, then black out STS for 4s: the token has at
	// least ~6s left, and renewal starts 6.7-8s before expiry, so renewal
	// attempts fall inside the outage.
	n0 := len(e.emu.Counters().AssumeRoleCalls)
	// Time under test: a renewal must come before the 10 s token expires;
	// 15 s allows for the one fetched at mount being nearly due already.
	waitStart := time.Now()
	if !mounttest.WaitFor(15*time.Second, func() bool { return len(e.emu.Counters().AssumeRoleCalls) > n0 }) {
		t.Fatalf("no renewal %v into a 10s token", time.Since(waitStart).Round(time.Millisecond))
	}
	e.emu.SetFaults(emulator.Faults{STSOutage: true})
	before := e.emu.Counters()
	start := time.Now()
	reads := 0
	for i := 0; time.Since(start) < 4*time.Second; i++ {
		if err := readFresh(t, mnt, i); err != nil {
			e.emu.SetFaults(emulator.Faults{})
			t.Fatalf("read %d during an STS outage with a valid token: %v\nlog tail:\n%s", i, err, tail(readFile(t, logFile), 3000))
		}
		reads++
	}
	after := e.emu.Counters()
	e.emu.SetFaults(emulator.Faults{})
	failed := stsFailures(after) - stsFailures(before)
	t.Logf("%d reads during a 4s STS outage, %d renewal attempts failed meanwhile, none of the reads", reads, failed)
	if failed == 0 {
		t.Errorf("no renewal was attempted during the outage: the test did not exercise it")
	}
	if n := statusCount(after, "403") - statusCount(before, "403"); n > 0 {
		t.Errorf("%d OSS requests rejected during the outage", n)
	}
}

// A long read straddles several expiries of 2-second tokens and returns
// exact bytes.
func TestReadStraddlesExpiry(t *testing.T) {
	e := startEmulator(t, emulator.Config{TokenLifetime: 2 * time.Second})
	const size = 24 << 20
	e.emu.CreateBucket("straddle", false)
	e.emu.AddGenerated("straddle", emulator.Generated{Keys: []string{"long.bin"}, Size: size, Seed: 5})
	mnt, logFile := e.mount("straddle")
	// 512 KiB/s per connection: even with parallel ranged GETs the read takes
	// several token lifetimes.
	e.emu.SetFaults(emulator.Faults{BandwidthPerConn: 512 << 10})
	before := e.emu.Counters()
	start := time.Now()
	got, err := fileMD5(filepath.Join(mnt, "long.bin"))
	elapsed := time.Since(start)
	after := e.emu.Counters()
	if err != nil || got != generatedMD5(t, 5, "long.bin", size) {
		t.Fatalf("read across expiries: md5 %s, %v\nlog tail:\n%s", got, err, tail(readFile(t, logFile), 3000))
	}
	renewals := len(after.AssumeRoleCalls) - len(before.AssumeRoleCalls)
	rejected := statusCount(after, "403") - statusCount(before, "403")
	t.Logf("24 MiB read in %v across %d renewals, %d GETs, %d rejected", elapsed.Round(time.Millisecond), renewals,
		after.Requests["GetObject"]-before.Requests["GetObject"], rejected)
	if renewals < 2 {
		t.Errorf("only %d renewals during the read: it did not straddle an expiry", renewals)
	}
	if rejected > 0 {
		t.Errorf("%d requests rejected for the token", rejected)
	}
}

// An outage that outlasts the token makes reads fail with EACCES or EIO and
// a log line naming the cause; once STS answers, reads work again unaided.
func TestSTSOutagePastExpiryRecovers(t *testing.T) {
	e := startEmulator(t, emulator.Config{TokenLifetime: 2 * time.Second})
	credsBucket(e, "expiry", 2000)
	mnt, logFile := e.mount("expiry")
	e.emu.SetFaults(emulator.Faults{STSOutage: true})
	outage := time.Now()
	i := 0
	var failErr error
	// Time under test: a 2 s token must run out during the outage; 15 s
	// is the lifetime plus the renewal retries, several times over.
	failed := mounttest.WaitFor(15*time.Second, func() bool {
		i++
		failErr = readFresh(t, mnt, i)
		return failErr != nil
	})
	failAfter := time.Since(outage)
	if !failed {
		e.emu.SetFaults(emulator.Faults{})
		t.Fatalf("reads still succeed %v into an STS outage with 2s tokens", failAfter.Round(time.Millisecond))
	}
	if !errors.Is(failErr, syscall.EACCES) && !errors.Is(failErr, syscall.EIO) {
		t.Errorf("read past expiry: %v, want EACCES or EIO", failErr)
	}
	// The log must say why: STS is unavailable and the token expired.
	if !waitLog(logFile, mounttest.HangGuard, "ServiceUnavailable") {
		t.Errorf("no log line names the STS failure:\n%s", tail(readFile(t, logFile), 3000))
	}
	e.emu.SetFaults(emulator.Faults{})
	healed := time.Now()
	if !mounttest.WaitFor(mounttest.HangGuard, func() bool { i++; return readFresh(t, mnt, i) == nil }) {
		t.Fatalf("hang guard: reads still fail %v after STS came back\nlog tail:\n%s", mounttest.HangGuard, tail(readFile(t, logFile), 3000))
	}
	t.Logf("first failed read %v into the outage (%v); reads work again %v after STS answers",
		failAfter.Round(time.Millisecond), failErr, time.Since(healed).Round(time.Millisecond))
	for j := 0; j < 20; j++ {
		i++
		if err := readFresh(t, mnt, i); err != nil {
			t.Fatalf("read %d after recovery: %v", j, err)
		}
	}
}

// A token revoked server-side is renewed on the first rejection: one more
// AssumeRole call and the read succeeds.
func TestRevokedTokenRenewedOnRejection(t *testing.T) {
	e := startEmulator(t, emulator.Config{}) // 1h tokens: no scheduled renewal interferes
	credsBucket(e, "revoke", 100)
	mnt, logFile := e.mount("revoke")
	if err := readFresh(t, mnt, 0); err != nil {
		t.Fatal(err)
	}
	before := e.emu.Counters()
	e.emu.RevokeTokens()
	start := time.Now()
	if err := readFresh(t, mnt, 1); err != nil {
		t.Fatalf("read after revocation: %v\nlog tail:\n%s", err, tail(readFile(t, logFile), 3000))
	}
	elapsed := time.Since(start)
	after := e.emu.Counters()
	renewals := len(after.AssumeRoleCalls) - len(before.AssumeRoleCalls)
	rejected := statusCount(after, "403") - statusCount(before, "403")
	t.Logf("after RevokeTokens: %d requests rejected, %d renewal(s), read done in %v", rejected, renewals, elapsed.Round(time.Millisecond))
	if renewals != 1 {
		t.Errorf("%d AssumeRole calls after the revocation, want exactly 1", renewals)
	}
	if rejected < 1 {
		t.Errorf("no request was rejected: the revocation was not exercised")
	}
	for j := 2; j < 20; j++ {
		if err := readFresh(t, mnt, j); err != nil {
			t.Fatalf("read %d after renewal: %v", j, err)
		}
	}
}
