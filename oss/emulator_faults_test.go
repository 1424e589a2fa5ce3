package oss_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ossmount/ossmount/creds"
	"github.com/ossmount/ossmount/oss"
	"github.com/ossmount/ossmount/test/emulator"
	"github.com/ossmount/ossmount/test/mounttest"
)

func TestEmulatorRetryableFaults(t *testing.T) {
	s := startEmulator(t, emulator.Config{})
	data := randomData(1<<20, 2)
	s.PutObject(bucket, "big", data)
	var bulk []string
	for i := range 1500 {
		bulk = append(bulk, fmt.Sprintf("k%05d", i))
	}
	s.AddGenerated(bucket, emulator.Generated{Keys: bulk, Size: 1, Seed: 3})
	var logs syncBuffer
	logger := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	c := newClient(t, s, demo, func(cfg *oss.Config) { cfg.MaxAttempts = 25; cfg.Logger = logger })

	check := func(t *testing.T) {
		t.Helper()
		for range 5 {
			got, err := readRange(c, "big", "", 1000, -1)
			if err != nil || !bytes.Equal(got, data[1000:]) {
				t.Fatalf("get: %d bytes, %v", len(got), err)
			}
		}
		keys, _, _ := listAll(t, c, oss.ListInput{Prefix: "k"})
		if !slices.Equal(keys, bulk) {
			t.Fatalf("list: %s", firstDiff(keys, bulk))
		}
		if _, err := c.Head(context.Background(), "big"); err != nil {
			t.Fatalf("head: %v", err)
		}
	}
	statusSeen := func(cn emulator.Counters, st string) bool {
		for k, n := range cn.ByStatus {
			if strings.HasSuffix(k, st) && n > 0 {
				return true
			}
		}
		return false
	}
	for _, tc := range []struct {
		name   string
		faults emulator.Faults
		hit    func(cn emulator.Counters, rounds int) bool // the fault showed up
	}{
		{"500 and 503", emulator.Faults{ErrorRate: 0.4}, func(cn emulator.Counters, _ int) bool {
			return statusSeen(cn, " 500") && statusSeen(cn, " 503")
		}},
		{"throttling", emulator.Faults{ThrottleRate: 0.4}, func(cn emulator.Counters, _ int) bool {
			return statusSeen(cn, " 503")
		}},
		{"reset mid-body", emulator.Faults{ResetRate: 0.5}, func(cn emulator.Counters, rounds int) bool {
			return cn.Requests["GetObject"] > 5*rounds // some GET was resumed
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s.ResetCounters()
			s.SetFaults(tc.faults)
			defer s.SetFaults(emulator.Faults{})
			// Faults are random: repeat (a bounded number of rounds) until
			// the fault has been seen; every round must read exact bytes.
			for round := 1; !tc.hit(s.Counters(), round-1); round++ {
				if round > 20 {
					t.Fatalf("fault never seen: %v", s.Counters().ByStatus)
				}
				check(t)
			}
		})
	}
	t.Run("wrong content length is never silent", func(t *testing.T) {
		s.ResetCounters()
		s.SetFaults(emulator.Faults{WrongContentLength: true})
		defer s.SetFaults(emulator.Faults{})
		got, err := readRange(c, "big", "", 0, 4096)
		if err == nil {
			t.Fatalf("got %d bytes and no error", len(got))
		}
		waitCount(t, s, "GetObject", 25)
	})
	t.Run("truncated XML is retried, never a short page", func(t *testing.T) {
		s.ResetCounters()
		s.SetFaults(emulator.Faults{TruncatedXML: true})
		page, err := c.List(context.Background(), oss.ListInput{Prefix: "k"})
		s.SetFaults(emulator.Faults{})
		if err == nil {
			t.Fatalf("got a page of %d objects from truncated XML", len(page.Objects))
		}
		waitCount(t, s, "ListObjectsV2", 25)
		keys, _, _ := listAll(t, c, oss.ListInput{Prefix: "k"})
		if !slices.Equal(keys, bulk) {
			t.Fatalf("list after recovery: %s", firstDiff(keys, bulk))
		}
	})
	t.Run("hang ends with the context", func(t *testing.T) {
		s.SetFaults(emulator.Faults{Hang: true})
		defer s.SetFaults(emulator.Faults{})
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		defer cancel()
		if _, err := c.Head(ctx, "big"); !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("got %v, want context.DeadlineExceeded", err)
		}
	})
	for _, msg := range []string{"oss: retrying", "oss: resuming cut body"} {
		if !strings.Contains(logs.String(), msg) {
			t.Errorf("no %q in the logs", msg)
		}
	}
	if strings.Contains(logs.String(), emulator.DemoAccessKeySecret) || strings.Contains(logs.String(), "Authorization") {
		t.Errorf("logs contain secrets")
	}
}

// waitCount waits until the emulator has counted want requests of op: it
// counts a request after its response has gone out, so the client may see
// the answer first. It fails if the count differs.
func waitCount(t *testing.T, s *emulator.Server, op string, want int) {
	t.Helper()
	mounttest.WaitFor(mounttest.HangGuard, func() bool { return s.Counters().Requests[op] >= want })
	if got := s.Counters().Requests[op]; got != want {
		t.Errorf("%s requests: %d, want %d", op, got, want)
	}
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}
func (s *syncBuffer) String() string { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

func TestEmulatorClockSkew(t *testing.T) {
	s := startEmulator(t, emulator.Config{Now: func() time.Time { return time.Now().Add(20 * time.Minute) }})
	s.PutObject(bucket, "k", []byte("v"))
	c := newClient(t, s, demo)
	for range 3 {
		if _, err := c.Head(context.Background(), "k"); err != nil {
			t.Fatal(err)
		}
	}
	waitCount(t, s, "HeadObject", 4)
	if got := s.Counters().ByStatus; got["HeadObject 403"] != 1 || got["HeadObject 200"] != 3 {
		t.Fatalf("want one skewed 403 then 200s, got %v", got)
	}
}

// stsProvider hands out emulator-issued STS tokens and renews on Invalidate.
type stsProvider struct {
	s           *emulator.Server
	mu          sync.Mutex
	cur         creds.Credentials
	invalidated atomic.Int32
	canRenew    bool
}

func (p *stsProvider) Retrieve(context.Context) (creds.Credentials, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cur.AccessKeyID == "" {
		ak, sk, tok, exp, err := p.s.IssueToken(emulator.DemoRoleARN, "test", "", time.Hour)
		if err != nil {
			return creds.Credentials{}, err
		}
		p.cur = creds.Credentials{AccessKeyID: ak, AccessKeySecret: creds.NewSecret(sk), SecurityToken: creds.NewSecret(tok), Expiration: exp}
	}
	return p.cur, nil
}

func (p *stsProvider) Invalidate(stale creds.Credentials) {
	p.invalidated.Add(1)
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.canRenew && stale.AccessKeyID == p.cur.AccessKeyID {
		p.cur = creds.Credentials{}
	}
}

func TestEmulatorTokenRefresh(t *testing.T) {
	s := startEmulator(t, emulator.Config{})
	s.PutObject(bucket, "k", []byte("value"))
	t.Run("renewed once", func(t *testing.T) {
		p := &stsProvider{s: s, canRenew: true}
		c := newClient(t, s, p)
		if _, err := c.Head(context.Background(), "k"); err != nil {
			t.Fatal(err)
		}
		s.RevokeTokens()
		got, err := readRange(c, "k", "", 0, -1)
		if err != nil || string(got) != "value" {
			t.Fatalf("after revocation: %q, %v", got, err)
		}
		if n := p.invalidated.Load(); n != 1 {
			t.Fatalf("Invalidate called %d times, want 1", n)
		}
	})
	t.Run("unknown temporary key renewed once", func(t *testing.T) {
		// OSS answers 403 InvalidAccessKeyId for a temporary AccessKeyId it
		// does not know; with a token attached that is a stale token.
		p := &stsProvider{s: s, canRenew: true, cur: creds.Credentials{AccessKeyID: "STS.unknown",
			AccessKeySecret: creds.NewSecret("x"), SecurityToken: creds.NewSecret("y"), Expiration: time.Now().Add(time.Hour)}}
		c := newClient(t, s, p)
		s.ResetCounters()
		got, err := readRange(c, "k", "", 0, -1)
		if err != nil || string(got) != "value" {
			t.Fatalf("read with an unknown temporary key: %q, %v", got, err)
		}
		if n := p.invalidated.Load(); n != 1 {
			t.Fatalf("Invalidate called %d times, want 1", n)
		}
		if cn := s.Counters(); cn.ByStatus["GetObject 403"] != 1 || cn.Requests["GetObject"] != 2 {
			t.Fatalf("counters %v: want one 403 and one retry", cn.ByStatus)
		}
	})
	t.Run("renewal does not help", func(t *testing.T) {
		p := &stsProvider{s: s}
		c := newClient(t, s, p)
		if _, err := p.Retrieve(context.Background()); err != nil {
			t.Fatal(err)
		}
		s.RevokeTokens()
		s.ResetCounters()
		_, err := c.Head(context.Background(), "k")
		if !errors.Is(err, oss.ErrCredentials) || errors.Is(err, oss.ErrAccessDenied) {
			t.Fatalf("got %v, want ErrCredentials", err)
		}
		waitCount(t, s, "HeadObject", 2)
		if n := p.invalidated.Load(); n != 1 {
			t.Fatalf("Invalidate called %d times, want 1", n)
		}
	})
}

// TestEmulatorParallelReads runs many ranged reads at once through one
// client (shared signing-key cache, pools, connection pool) under -race.
func TestEmulatorParallelReads(t *testing.T) {
	s := startEmulator(t, emulator.Config{})
	data := randomData(1<<20, 9)
	s.PutObject(bucket, "par", data)
	c := newClient(t, s, demo)
	var wg sync.WaitGroup
	errs := make(chan error, 32)
	for i := range 32 {
		wg.Go(func() {
			off, n := int64(i*30000), int64(40000)
			got, err := readRange(c, "par", "", off, n)
			if err == nil && !bytes.Equal(got, data[off:off+n]) {
				err = fmt.Errorf("reader %d: wrong bytes", i)
			}
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
}
