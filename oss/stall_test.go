package oss_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/ossmount/ossmount/oss"
	"github.com/ossmount/ossmount/test/emulator"
	"github.com/ossmount/ossmount/test/mounttest"
)

// stallClient has a 300ms request timeout and 3 attempts, logging to logs.
func stallClient(t *testing.T, s *emulator.Server, logs *syncBuffer) *oss.Client {
	return newClient(t, s, demo, func(cfg *oss.Config) {
		cfg.ResponseHeaderTimeout = 300 * time.Millisecond
		cfg.MaxAttempts = 3
		cfg.Logger = slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	})
}

// readGuarded reads a whole range under mounttest.HangGuard, far above the
// 300ms request timeout: it fails the test if the guard, not the client,
// ended the read.
func readGuarded(t *testing.T, c *oss.Client, key string) ([]byte, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), mounttest.HangGuard)
	defer cancel()
	r, err := c.GetRange(ctx, key, "", 0, -1)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	got, err := io.ReadAll(r)
	if ctx.Err() != nil {
		t.Fatalf("read still blocked after %v (%d bytes): the body has no idle bound", mounttest.HangGuard, len(got))
	}
	return got, err
}

// A GET body that stalls, or trickles below the progress floor, after
// some bytes is resumed from where it stopped while the stall is
// transient, and fails after MaxAttempts when it lasts.
func TestGetStalledBody(t *testing.T) {
	s := startEmulator(t, emulator.Config{})
	data := randomData(256<<10, 21)
	s.PutObject(bucket, "obj", data)
	var logs syncBuffer
	c := stallClient(t, s, &logs)
	const trickle = 20 * time.Millisecond
	for _, tc := range []struct {
		name    string
		forGood bool // every body stalls, not only the first
		trickle time.Duration
	}{
		{"transient stall", false, 0},
		{"transient trickle", false, trickle},
		{"stall for good", true, 0},
		{"trickle for good", true, trickle},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s.ResetCounters()
			faults := emulator.Faults{StallBodies: 1, StallAfter: 100_000, StallOps: "get", TrickleInterval: tc.trickle}
			if tc.forGood {
				faults.StallBodies, faults.StallAfter = -1, 1000
			}
			s.SetFaults(faults)
			defer s.SetFaults(emulator.Faults{})
			got, err := readGuarded(t, c, "obj")
			gets := s.Counters().Requests["GetObject"]
			if !tc.forGood {
				if err != nil || !bytes.Equal(got, data) {
					t.Fatalf("got %d bytes (exact: %v), %v", len(got), bytes.Equal(got, data), err)
				}
				if stalled := s.Counters().StalledBodies; stalled != 1 || gets != 2 {
					t.Fatalf("%d stalled bodies, %d GETs: want 1 stall and 1 resumption", stalled, gets)
				}
				if !strings.Contains(logs.String(), "resuming cut body") {
					t.Fatalf("no resumption logged:\n%s", logs.String())
				}
				return
			}
			if !errors.Is(err, io.ErrUnexpectedEOF) {
				t.Fatalf("read of a body that stalls for good: %d bytes, %v; want an error wrapping io.ErrUnexpectedEOF", len(got), err)
			}
			if len(got) < 3000 || !bytes.Equal(got, data[:len(got)]) {
				t.Fatalf("got %d bytes before the error, want at least 3 × 1000, exact", len(got))
			}
			// The message names the key, the bytes got and the last request id.
			for _, want := range []string{`"obj"`, "request id", "bytes", "no progress"} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not say %q", err, want)
				}
			}
			// Resumptions count against MaxAttempts: one GET and two resumptions.
			if gets != 3 {
				t.Fatalf("%d GETs, want 3 (MaxAttempts)", gets)
			}
		})
	}
}

func TestListStalledBody(t *testing.T) {
	s := startEmulator(t, emulator.Config{})
	s.PutObject(bucket, "a", []byte("x"))
	var logs syncBuffer
	c := stallClient(t, s, &logs)
	list := func(t *testing.T) (oss.ListPage, error) {
		ctx, cancel := context.WithTimeout(context.Background(), mounttest.HangGuard)
		defer cancel()
		page, err := c.List(ctx, oss.ListInput{Delimiter: "/"})
		if ctx.Err() != nil {
			t.Fatalf("list still blocked after %v", mounttest.HangGuard)
		}
		return page, err
	}
	for _, tc := range []struct {
		name   string
		faults emulator.Faults
		ok     bool
	}{
		{"transient stall", emulator.Faults{StallBodies: 1, StallAfter: 50, StallOps: "list"}, true},
		{"stall for good", emulator.Faults{StallBodies: -1, StallAfter: 50, StallOps: "list"}, false},
		{"trickle for good", emulator.Faults{StallBodies: -1, StallAfter: 50, StallOps: "list", TrickleInterval: 20 * time.Millisecond}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s.ResetCounters()
			s.SetFaults(tc.faults)
			defer s.SetFaults(emulator.Faults{})
			page, err := list(t)
			if tc.ok && (err != nil || len(page.Objects) != 1) {
				t.Fatalf("list after one stalled answer: %+v, %v", page, err)
			}
			if !tc.ok && err == nil {
				t.Fatalf("list of a body that stalls for good succeeded")
			}
			if n := s.Counters().Requests["ListObjectsV2"]; tc.ok && n != 2 || !tc.ok && n != 3 {
				t.Fatalf("%d LIST requests", n)
			}
		})
	}
}

// Waiting for --max-bandwidth tokens is the client's own pacing, not a
// stalled server: a read paced far slower than 1 KiB per request timeout
// between body reads is never cut.
func TestBandwidthPacingIsNotAStall(t *testing.T) {
	s := startEmulator(t, emulator.Config{})
	data := randomData(256<<10, 23)
	s.PutObject(bucket, "obj", data)
	var logs syncBuffer
	c := newClient(t, s, demo, func(cfg *oss.Config) {
		cfg.ResponseHeaderTimeout = 300 * time.Millisecond
		cfg.MaxBandwidth = 64 << 10 // one 64 KiB read a second: each token wait outlasts the timeout
		cfg.Logger = slog.New(slog.NewTextHandler(&logs, nil))
	})
	s.ResetCounters()
	got, err := readGuarded(t, c, "obj")
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("paced read: %d bytes, %v", len(got), err)
	}
	if n := s.Counters().Requests["GetObject"]; n != 1 || strings.Contains(logs.String(), "no progress") {
		t.Fatalf("%d GETs, log:\n%s\nwant one GET, never cut for lack of progress", n, logs.String())
	}
}
