package emulator_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/ossmount/ossmount/test/emulator"
)

// TestBodyStallFaults checks the stall and trickle faults byte for byte: a
// stalled body holds back everything after StallAfter until the faults
// change, a trickled one arrives whole, and StallOps and StallBodies limit
// which answers misbehave.
func TestBodyStallFaults(t *testing.T) {
	s := startServer(t, emulator.Config{})
	s.CreateBucket("pub", true)
	data := bytes.Repeat([]byte("0123456789"), 100)
	s.PutObject("pub", "obj", data)
	get := func(t *testing.T, path string) *http.Response {
		t.Helper()
		resp, err := http.Get(s.OSSURL() + path)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { resp.Body.Close() })
		if resp.StatusCode != 200 {
			t.Fatalf("GET %s: %d", path, resp.StatusCode)
		}
		return resp
	}
	t.Run("stall until the faults change", func(t *testing.T) {
		s.ResetCounters()
		s.SetFaults(emulator.Faults{StallBodies: 1, StallAfter: 100, StallOps: "get"})
		defer s.SetFaults(emulator.Faults{})
		resp := get(t, "/pub/obj")
		head := make([]byte, 100)
		if _, err := io.ReadFull(resp.Body, head); err != nil || !bytes.Equal(head, data[:100]) {
			t.Fatalf("first bytes %q, %v", head, err)
		}
		// Bytes are counted before they are written: only the first 100 left.
		if cn := s.Counters(); cn.BytesSent != 100 || cn.StalledBodies != 1 {
			t.Fatalf("while stalled: %d bytes sent, %d stalled bodies", cn.BytesSent, cn.StalledBodies)
		}
		// One body only: the next GET is whole at once.
		if got := readAll(t, get(t, "/pub/obj").Body); !bytes.Equal(got, data) {
			t.Fatalf("second GET: %d bytes", len(got))
		}
		s.SetFaults(emulator.Faults{}) // releases the stalled body
		rest := readAll(t, resp.Body)
		if !bytes.Equal(rest, data[100:]) {
			t.Fatalf("after release: %d bytes", len(rest))
		}
	})
	t.Run("trickle", func(t *testing.T) {
		s.ResetCounters()
		s.SetFaults(emulator.Faults{StallBodies: -1, StallAfter: 900, TrickleInterval: time.Millisecond})
		defer s.SetFaults(emulator.Faults{})
		for range 2 {
			if got := readAll(t, get(t, "/pub/obj").Body); !bytes.Equal(got, data) {
				t.Fatalf("trickled GET: %d bytes", len(got))
			}
		}
		if n := s.Counters().StalledBodies; n != 2 {
			t.Fatalf("%d stalled bodies, want 2 (StallBodies -1 is every one)", n)
		}
	})
	t.Run("list and STS only", func(t *testing.T) {
		s.ResetCounters()
		s.SetFaults(emulator.Faults{StallBodies: -1, StallAfter: 10, TrickleInterval: time.Millisecond, StallOps: "list,sts"})
		defer s.SetFaults(emulator.Faults{})
		readAll(t, get(t, "/pub/obj").Body)
		if n := s.Counters().StalledBodies; n != 0 {
			t.Fatalf("GET stalled with StallOps list,sts")
		}
		if body := readAll(t, get(t, "/pub/?list-type=2").Body); !bytes.Contains(body, []byte("<Key>obj</Key>")) || !bytes.HasSuffix(bytes.TrimSpace(body), []byte("</ListBucketResult>")) {
			t.Fatalf("trickled listing: %q", body)
		}
		resp, err := http.Post(s.STSURL()+"/?Action=Nothing", "application/x-www-form-urlencoded", strings.NewReader(""))
		if err != nil {
			t.Fatal(err)
		}
		var answer struct{ Code string }
		err = json.NewDecoder(resp.Body).Decode(&answer)
		resp.Body.Close()
		if err != nil || answer.Code == "" {
			t.Fatalf("trickled STS answer: %+v %v", answer, err)
		}
		if n := s.Counters().StalledBodies; n != 2 {
			t.Fatalf("%d stalled bodies, want 2 (the listing and the STS answer)", n)
		}
	})
	t.Run("admin endpoint", func(t *testing.T) {
		defer s.SetFaults(emulator.Faults{})
		resp, err := http.Post(s.AdminURL()+"/faults", "application/json",
			strings.NewReader(`{"stall_bodies":2,"stall_after":7,"trickle_interval":"5ms","stall_ops":"get,list"}`))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		want := emulator.Faults{StallBodies: 2, StallAfter: 7, TrickleInterval: 5 * time.Millisecond, StallOps: "get,list"}
		if f := s.Faults(); resp.StatusCode != 200 || f != want {
			t.Fatalf("admin faults: %d %+v", resp.StatusCode, f)
		}
		resp, err = http.Post(s.AdminURL()+"/faults", "application/json", strings.NewReader(`{"trickle_interval":"soon"}`))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 400 {
			t.Fatalf("bad trickle_interval accepted: %d", resp.StatusCode)
		}
	})
}
