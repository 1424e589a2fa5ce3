package creds

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/ossmount/ossmount/test/emulator"
	"github.com/ossmount/ossmount/test/mounttest"
)

// guarded runs f and fails the test if it has not returned within
// mounttest.HangGuard: far above the timeouts under test, it only turns a
// hang into a failure.
func guarded[T any](t *testing.T, what string, f func() (T, error)) (T, error) {
	t.Helper()
	type result struct {
		v   T
		err error
	}
	done := make(chan result, 1)
	go func() { v, err := f(); done <- result{v, err} }()
	select {
	case r := <-done:
		return r.v, r.err
	case <-time.After(mounttest.HangGuard):
		t.Fatalf("%s still blocked after %v", what, mounttest.HangGuard)
		var zero T
		return zero, nil
	}
}

// An STS answer that stalls or trickles after its headers fails the call
// within the call's own deadline (connection to last byte).
func TestSTSStalledAnswer(t *testing.T) {
	s, err := emulator.Start(emulator.Config{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	// The timeout covers the whole call, headers included: 300 ms let a
	// loaded machine time out before the emulator reached the stall (the
	// counter check below then failed), so it is 2 s.
	c := &stsClient{endpoint: s.STSURL(), http: &http.Client{}, now: time.Now, timeout: 2 * time.Second}
	src := Credentials{AccessKeyID: emulator.DemoAccessKeyID, AccessKeySecret: NewSecret(emulator.DemoAccessKeySecret)}
	p := assumeParams{RoleARN: emulator.DemoRoleARN, SessionName: "stall", Duration: time.Hour, Policy: testPolicy}
	assume := func() (assumeResult, error) { return c.assumeRole(context.Background(), src, p) }
	for _, tc := range []struct {
		name   string
		faults emulator.Faults
	}{
		{"stall", emulator.Faults{StallBodies: -1, StallAfter: 20, StallOps: "sts"}},
		{"trickle", emulator.Faults{StallBodies: -1, StallAfter: 20, StallOps: "sts", TrickleInterval: 50 * time.Millisecond}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s.SetFaults(tc.faults)
			defer s.SetFaults(emulator.Faults{})
			if _, err := guarded(t, "AssumeRole", assume); err == nil {
				t.Fatal("a stalled STS answer was accepted")
			}
			// The handler may count its stall after the client gave up.
			if !mounttest.WaitFor(mounttest.HangGuard, func() bool { return s.Counters().StalledBodies > 0 }) {
				t.Fatal("the STS answer did not stall")
			}
		})
	}
	if _, err := guarded(t, "AssumeRole", assume); err != nil {
		t.Fatalf("AssumeRole once STS behaves: %v", err)
	}
}

// A metadata service that sends headers and then stalls fails the probe.
func TestIMDSStalledAnswer(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", "100")
		io.WriteString(w, `{"Code":"Succ`)
		w.(http.Flusher).Flush()
		<-r.Context().Done()
	}))
	t.Cleanup(srv.Close)
	t.Cleanup(srv.CloseClientConnections)
	m := &imds{endpoint: srv.URL, http: &http.Client{}, timeout: 300 * time.Millisecond}
	_, err := guarded(t, "ECS metadata", func() (Credentials, error) { return m.credentials(context.Background(), "role") })
	if err == nil {
		t.Fatal("a stalled metadata answer was accepted")
	}
}

// A token or credentials file that is a FIFO nobody writes (or a writer
// that never closes) must fail, not hang the mount or a renewal.
func TestFileReadsAreBounded(t *testing.T) {
	fifo := filepath.Join(t.TempDir(), "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	t.Run("OIDC token FIFO without writer", func(t *testing.T) {
		o := &oidcSource{providerARN: "acs:ram::1:oidc-provider/p", tokenFile: fifo}
		if _, err := guarded(t, "OIDC token read", o.token); err == nil {
			t.Fatal("empty FIFO accepted as a token")
		}
	})
	t.Run("credentials file FIFO without writer", func(t *testing.T) {
		cfg := Config{RoleARN: testRole, Policy: testPolicy, STSEndpoint: "http://127.0.0.1:1", CredentialsFile: fifo,
			Getenv: func(string) string { return "" }}
		if _, err := guarded(t, "credentials file read", func() (*Manager, error) { return New(context.Background(), cfg) }); err == nil {
			t.Fatal("empty FIFO accepted as a credentials file")
		}
	})
	t.Run("FIFO whose writer never closes", func(t *testing.T) {
		w, err := os.OpenFile(fifo, os.O_RDWR, 0) // O_RDWR: opening does not wait for a reader
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { w.Close() })
		io.WriteString(w, "eyJ.oidc.jwt")
		o := &oidcSource{providerARN: "acs:ram::1:oidc-provider/p", tokenFile: fifo, readTimeout: 100 * time.Millisecond}
		if _, err := guarded(t, "OIDC token read", o.token); err == nil {
			t.Fatal("a token file that never ends was accepted")
		}
	})
	t.Run("regular file", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "token")
		os.WriteFile(path, []byte("eyJ.oidc.jwt\n"), 0o600)
		o := &oidcSource{providerARN: "acs:ram::1:oidc-provider/p", tokenFile: path}
		tok, err := o.token()
		if err != nil || tok.Reveal() != "eyJ.oidc.jwt" {
			t.Fatalf("token %v, %v", tok, err)
		}
	})
}
