package oss

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ossmount/ossmount/test/mounttest"
)

// The watchdog is driven by hand here (check), with a timer too long to
// fire during the test, so that what counts as progress is tested without
// depending on the machine's speed.
func TestIdleBodyProgress(t *testing.T) {
	newBody := func(t *testing.T) (*idleBody, *io.PipeWriter, <-chan error) {
		pr, pw := io.Pipe()
		cancelled := make(chan error, 1)
		b := watchBody(pr, time.Hour, "RID", func(cause error) {
			if cause != nil { // nil: Close releasing the request
				pw.CloseWithError(cause) // as the transport aborts a cancelled body
				cancelled <- cause
			}
		})
		t.Cleanup(func() { b.Close() })
		return b, pw, cancelled
	}
	// readAsync starts a Read and waits until it is blocked in the body.
	readAsync := func(t *testing.T, b *idleBody, size int) <-chan error {
		done := make(chan error, 1)
		go func() {
			_, err := io.ReadFull(b, make([]byte, size))
			done <- err
		}()
		mounttest.Await(t, "the Read to start", b.reading.Load)
		return done
	}
	t.Run("idle reader is never timed out", func(t *testing.T) {
		b, _, _ := newBody(t)
		for range 10 {
			b.check()
		}
		if b.tripped.Load() {
			t.Fatal("tripped with no Read waiting")
		}
	})
	t.Run("stall trips on the second quiet check", func(t *testing.T) {
		b, _, cancelled := newBody(t)
		done := readAsync(t, b, 10)
		b.check()
		if b.tripped.Load() {
			t.Fatal("tripped after one quiet check")
		}
		b.check()
		if cause := <-cancelled; !errors.Is(cause, errNoProgress) {
			t.Fatalf("cancel cause %v", cause)
		}
		err := <-done
		var re *retryableError
		if !errors.As(err, &re) || !strings.Contains(err.Error(), "no progress") || !strings.Contains(err.Error(), "request id RID") {
			t.Fatalf("Read error %v, want a retryable no-progress error naming the request id", err)
		}
	})
	t.Run("trickle below 1 KiB trips", func(t *testing.T) {
		b, pw, _ := newBody(t)
		done := readAsync(t, b, 4096)
		b.check()
		pw.Write(make([]byte, minProgress/2))
		mounttest.Await(t, "the trickle to be read", func() bool { return b.got.Load() >= minProgress/2 && b.reading.Load() })
		b.check()
		if err := <-done; err == nil || !strings.Contains(err.Error(), "no progress") {
			t.Fatalf("trickled body: %v", err)
		}
	})
	t.Run("1 KiB per check is progress", func(t *testing.T) {
		b, pw, _ := newBody(t)
		done := readAsync(t, b, 8*minProgress)
		for i := int64(1); i <= 6; i++ {
			pw.Write(make([]byte, minProgress))
			mounttest.Await(t, "the KiB to be read", func() bool { return b.got.Load() >= i*minProgress && b.reading.Load() })
			b.check()
		}
		if b.tripped.Load() {
			t.Fatal("tripped although 1 KiB arrived between checks")
		}
		pw.Write(make([]byte, 2*minProgress))
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	})
}

// An error answer whose body stalls must not hang the call: the error body
// is read under the same watchdog.
func TestStalledErrorBody(t *testing.T) {
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		w.Header().Set("Content-Length", "200")
		w.WriteHeader(http.StatusInternalServerError) // 503 would be retried for MaxRetryTime
		io.WriteString(w, "<Error><Code>")
		w.(http.Flusher).Flush()
		<-r.Context().Done()
	}))
	defer srv.Close()
	defer srv.CloseClientConnections()
	c := testClient(t, srv, nil, func(cfg *Config) { cfg.ResponseHeaderTimeout = 300 * time.Millisecond; cfg.MaxAttempts = 2 })
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute) // hang guard only
	defer cancel()
	_, err := c.GetRange(ctx, "k", "", 0, 10)
	if ctx.Err() != nil {
		t.Fatal("GET with a stalled error body still blocked after a minute")
	}
	if err == nil || n.Load() != 2 {
		t.Fatalf("%d requests, error %v; want MaxAttempts (2) and an error", n.Load(), err)
	}
}

// zeros is an endless body.
type zeros struct{}

func (zeros) Read(p []byte) (int, error) { return len(p), nil }
func (zeros) Close() error               { return nil }

// BenchmarkIdleBodyRead measures what the watchdog adds to one Read (small
// reads, so that the per-Read cost shows): compare with /bare.
func BenchmarkIdleBodyRead(b *testing.B) {
	buf := make([]byte, 4096)
	b.Run("bare", func(b *testing.B) {
		var r io.Reader = zeros{}
		b.ReportAllocs()
		for b.Loop() {
			r.Read(buf)
		}
	})
	b.Run("watched", func(b *testing.B) {
		w := watchBody(zeros{}, time.Minute, "", func(error) {})
		defer w.Close()
		var r io.Reader = w
		b.ReportAllocs()
		for b.Loop() {
			r.Read(buf)
		}
	})
}
