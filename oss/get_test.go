package oss

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// rangeServer serves one object with standard range behaviour and lets a
// test misbehave per request (numbered from 0).
type rangeServer struct {
	data []byte
	etag string

	cutAfter    func(i int) int  // bytes to send before dropping the connection; <0: none
	ignoreRange func(i int) bool // answer 200 with the whole object
	shiftRange  func(i int) bool // answer a Content-Range one byte off

	mu       sync.Mutex
	ranges   []string
	ifMatchs []string
}

func (s *rangeServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	i := len(s.ranges)
	s.ranges = append(s.ranges, r.Header.Get("Range"))
	s.ifMatchs = append(s.ifMatchs, r.Header.Get("If-Match"))
	s.mu.Unlock()
	if r.Header.Get("X-Oss-Range-Behavior") != "standard" {
		http.Error(w, "no range behaviour", 400)
		return
	}
	if m := r.Header.Get("If-Match"); m != "" && m != s.etag {
		writeOSSError(w, 412, "PreconditionFailed")
		return
	}
	if s.etag != "" {
		w.Header().Set("ETag", s.etag)
	}
	size := int64(len(s.data))
	spec := strings.TrimPrefix(r.Header.Get("Range"), "bytes=")
	a, b, _ := strings.Cut(spec, "-")
	first, _ := strconv.ParseInt(a, 10, 64)
	last := size - 1
	if b != "" {
		last, _ = strconv.ParseInt(b, 10, 64)
		last = min(last, size-1)
	}
	body := s.data
	if s.ignoreRange != nil && s.ignoreRange(i) {
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		w.WriteHeader(200)
	} else {
		if first >= size {
			writeOSSError(w, 416, "InvalidRange")
			return
		}
		shown := first
		if s.shiftRange != nil && s.shiftRange(i) {
			shown++
		}
		body = s.data[first : last+1]
		w.Header().Set("Content-Range", "bytes "+strconv.FormatInt(shown, 10)+"-"+strconv.FormatInt(shown+last-first, 10)+"/"+strconv.FormatInt(size, 10))
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		w.WriteHeader(206)
	}
	if s.cutAfter != nil {
		if n := s.cutAfter(i); n >= 0 && n < len(body) {
			w.Write(body[:n])
			w.(http.Flusher).Flush()
			panic(http.ErrAbortHandler)
		}
	}
	w.Write(body)
}

func TestGetRangeResumesCutBody(t *testing.T) {
	data := bytes.Repeat([]byte("0123456789abcdef"), 8192) // 128 KiB
	for _, tc := range []struct {
		name       string
		etag, pin  string
		off, n     int64
		cut        func(i int) int
		wantErr    error
		wantRanges string
	}{
		{"cut twice", `"E1"`, "", 100, -1, func(i int) int { return []int{1000, 5000, -1}[min(i, 2)] },
			nil, "bytes=100-,bytes=1100-,bytes=6100-"},
		{"cut with pinned etag", `"E1"`, `"E1"`, 0, 70000, func(i int) int { return []int{65536, -1}[min(i, 1)] },
			nil, "bytes=0-69999,bytes=65536-69999"},
		{"cut at zero bytes", `"E1"`, "", 10, 20, func(i int) int { return []int{0, -1}[min(i, 1)] },
			nil, "bytes=10-29,bytes=10-29"},
		{"always cut", `"E1"`, "", 0, -1, func(int) int { return 10 }, io.ErrUnexpectedEOF, ""},
		{"no etag to pin", "", "", 0, -1, func(i int) int { return []int{10, -1}[min(i, 1)] }, io.ErrUnexpectedEOF, "bytes=0-"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rs := &rangeServer{data: data, etag: tc.etag, cutAfter: tc.cut}
			srv := httptest.NewServer(rs)
			defer srv.Close()
			c := testClient(t, srv, nil)
			r, err := c.GetRange(context.Background(), "k", tc.pin, tc.off, tc.n)
			if err != nil {
				t.Fatal(err)
			}
			got, err := io.ReadAll(r)
			r.Close()
			if tc.wantErr != nil {
				if !errors.Is(err, tc.wantErr) {
					t.Fatalf("got %d bytes and %v, want %v", len(got), err, tc.wantErr)
				}
				if !bytes.Equal(got, data[tc.off:tc.off+int64(len(got))]) {
					t.Fatalf("the bytes before the failure are wrong")
				}
				if len(rs.ranges) > c.maxAttempts {
					t.Fatalf("%d requests, more than MaxAttempts", len(rs.ranges))
				}
				return
			}
			end := int64(len(data))
			if tc.n >= 0 {
				end = tc.off + tc.n
			}
			if err != nil || !bytes.Equal(got, data[tc.off:end]) {
				t.Fatalf("got %d bytes (%v), want %d exact bytes", len(got), err, end-tc.off)
			}
			if strings.Join(rs.ranges, ",") != tc.wantRanges {
				t.Fatalf("ranges %q, want %q", rs.ranges, tc.wantRanges)
			}
			for i, m := range rs.ifMatchs {
				if i > 0 && m != tc.etag || i == 0 && m != tc.pin {
					t.Fatalf("If-Match of request %d = %q (all: %q)", i, m, rs.ifMatchs)
				}
			}
		})
	}
}

func TestGetRangeChecksResponse(t *testing.T) {
	data := []byte("abcdefghijklmnopqrstuvwxyz")
	for _, tc := range []struct {
		name     string
		rs       *rangeServer
		off, n   int64
		want     string
		requests int
	}{
		{"200 instead of 206 is skipped to the offset", &rangeServer{ignoreRange: func(int) bool { return true }}, 5, 3, "fgh", 1},
		{"200 to the end", &rangeServer{ignoreRange: func(int) bool { return true }}, 20, -1, "uvwxyz", 1},
		{"wrong Content-Range is retried", &rangeServer{shiftRange: func(i int) bool { return i == 0 }}, 5, 3, "fgh", 2},
		{"past the end", &rangeServer{}, 26, 5, "", 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rs := tc.rs
			rs.data, rs.etag = data, `"E"`
			srv := httptest.NewServer(rs)
			defer srv.Close()
			r, err := testClient(t, srv, nil).GetRange(context.Background(), "k", "", tc.off, tc.n)
			if err != nil {
				t.Fatal(err)
			}
			got, err := io.ReadAll(r)
			r.Close()
			if err != nil || string(got) != tc.want || len(rs.ranges) != tc.requests {
				t.Fatalf("got %q, %v after %d requests; want %q after %d", got, err, len(rs.ranges), tc.want, tc.requests)
			}
		})
	}
	t.Run("content-range always wrong fails", func(t *testing.T) {
		rs := &rangeServer{data: data, etag: `"E"`, shiftRange: func(int) bool { return true }}
		srv := httptest.NewServer(rs)
		defer srv.Close()
		if _, err := testClient(t, srv, nil).GetRange(context.Background(), "k", "", 1, 2); err == nil {
			t.Fatal("no error")
		}
	})
	t.Run("read after close", func(t *testing.T) {
		rs := &rangeServer{data: data, etag: `"E"`}
		srv := httptest.NewServer(rs)
		defer srv.Close()
		r, err := testClient(t, srv, nil).GetRange(context.Background(), "k", "", 0, -1)
		if err != nil {
			t.Fatal(err)
		}
		r.Close()
		if _, err := r.Read(make([]byte, 1)); err == nil || err == io.EOF {
			t.Fatalf("read after close: %v", err)
		}
	})
}
