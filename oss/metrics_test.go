package oss_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"testing"

	"github.com/ossmount/ossmount/oss"
	"github.com/ossmount/ossmount/test/emulator"
)

// emulatorOps maps the client's op names to the emulator's.
var emulatorOps = map[string]string{"list": "ListObjectsV2", "head": "HeadObject", "get": "GetObject"}

// Stats count exactly what the server saw: every attempt by op and status,
// every body byte, every throttled answer and its retry.
func TestStatsMatchServerCounts(t *testing.T) {
	s := startEmulator(t, emulator.Config{})
	for i := 0; i < 20; i++ {
		s.PutObject(bucket, fmt.Sprintf("d/k%02d", i), randomData(100_000+i, uint64(i)))
	}
	c := newClient(t, s, demo, func(cfg *oss.Config) { cfg.MaxAttempts = 50 })
	ctx := context.Background()
	s.SetFaults(emulator.Faults{ThrottleRate: 0.3})
	for i := 0; i < 20; i++ {
		key := fmt.Sprintf("d/k%02d", i)
		if _, err := c.Head(ctx, key); err != nil {
			t.Fatal(err)
		}
		if _, err := readRange(c, key, "", int64(i), 5000); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := c.List(ctx, oss.ListInput{Prefix: "d/", Delimiter: "/"}); err != nil {
		t.Fatal(err)
	}
	s.SetFaults(emulator.Faults{})
	if _, err := c.Head(ctx, "absent"); !errors.Is(err, oss.ErrNotFound) {
		t.Fatalf("head absent: %v", err)
	}

	got, want := c.Stats(), s.Counters()
	sum := map[string]int64{}
	for k, n := range got.Requests {
		name := fmt.Sprintf("%s %d", emulatorOps[k.Op], k.Status)
		if int(n) != want.ByStatus[name] {
			t.Errorf("%s: client counted %d, server %d", name, n, want.ByStatus[name])
		}
		sum[k.Op] += n
	}
	for op, name := range emulatorOps {
		if int(sum[op]) != want.Requests[name] {
			t.Errorf("%s: client counted %d requests, server %d", op, sum[op], want.Requests[name])
		}
		if h := got.Latency[op]; int64(h.Count) != sum[op] {
			t.Errorf("%s: latency histogram has %d observations, want %d", op, h.Count, sum[op])
		}
	}
	throttled := int64(want.ByStatus["HeadObject 503"] + want.ByStatus["GetObject 503"] + want.ByStatus["ListObjectsV2 503"])
	if throttled == 0 {
		t.Fatal("no request was throttled: the test proves nothing")
	}
	if got.Throttled != throttled || got.Retries[oss.RetryThrottled] != throttled {
		t.Errorf("throttled %d, retried as throttled %d; server throttled %d", got.Throttled, got.Retries[oss.RetryThrottled], throttled)
	}
	if got.BytesReceived != want.BytesSent {
		t.Errorf("client read %d body bytes, server sent %d", got.BytesReceived, want.BytesSent)
	}
	t.Logf("requests %v, throttled %d, bytes %d, governor %+v", got.Requests, got.Throttled, got.BytesReceived, got.Governor)
}

// MaxBandwidth and MaxRequestsPerSecond show in the governor's stats, and
// a bandwidth-limited read still returns every byte.
func TestGovernorLimitsShowInStats(t *testing.T) {
	s := startEmulator(t, emulator.Config{})
	data := randomData(300_000, 9)
	s.PutObject(bucket, "k", data)
	c := newClient(t, s, demo, func(cfg *oss.Config) {
		cfg.MaxRequestsPerSecond, cfg.MaxBandwidth = 1000, 100<<20
	})
	rc, err := c.GetRange(context.Background(), "k", "", 0, -1)
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(rc)
	rc.Close()
	if err != nil || string(got) != string(data) {
		t.Fatalf("read %d bytes, err %v; want the %d bytes put", len(got), err, len(data))
	}
	g := c.Stats().Governor
	if g.RequestLimit != 1000 || g.BandwidthLimit != 100<<20 || g.Cuts != 0 {
		t.Fatalf("governor stats %+v, want limit 1000/s, 100 MiB/s, no cuts", g)
	}
	if _, err := oss.New(oss.Config{Endpoint: s.OSSURL(), Bucket: bucket, Region: s.Region(), MaxBandwidth: -1}, demo); err == nil {
		t.Fatal("negative MaxBandwidth accepted")
	}
}

// With MaxRequestsPerSecond, requests beyond the burst wait for the
// bucket: the governor counts them as delayed, and all succeed.
func TestGovernorDelaysBeyondTheRate(t *testing.T) {
	s := startEmulator(t, emulator.Config{})
	s.PutObject(bucket, "k", []byte("x"))
	c := newClient(t, s, demo, func(cfg *oss.Config) { cfg.MaxRequestsPerSecond = 5 })
	for i := 0; i < 6; i++ {
		if _, err := c.Head(context.Background(), "k"); err != nil {
			t.Fatal(err)
		}
	}
	// Burst 1, a token every 200 ms: the first HEAD goes at once, and
	// every later one waits unless a HEAD took over 200 ms on a loaded
	// machine; at least 3 of the 5 waited.
	if g := c.Stats().Governor; g.Delayed < 3 {
		t.Fatalf("governor %+v: want at least 3 requests delayed", g)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := c.Head(ctx, "k"); !errors.Is(err, context.Canceled) {
		t.Fatalf("head with a cancelled ctx while rate-limited: %v", err)
	}
}
