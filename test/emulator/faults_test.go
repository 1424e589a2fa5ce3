package emulator_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss"

	"github.com/ossmount/ossmount/test/emulator"
)

func TestFaults(t *testing.T) {
	s := startServer(t, emulator.Config{})
	s.AddGenerated("bkt", emulator.Generated{Keys: []string{"blob"}, Size: 256 << 10, Seed: 3})
	c := staticClient(s, false)
	get := func() error {
		res, err := c.GetObject(ctx(t), &oss.GetObjectRequest{Bucket: oss.Ptr("bkt"), Key: oss.Ptr("blob")})
		if err != nil {
			return err
		}
		defer res.Body.Close()
		_, err = io.Copy(io.Discard, res.Body)
		return err
	}
	list := func() error {
		_, err := c.ListObjectsV2(ctx(t), &oss.ListObjectsV2Request{Bucket: oss.Ptr("bkt")})
		return err
	}
	wantService := func(t *testing.T, err error, status int, codes ...string) {
		t.Helper()
		se := serviceError(t, err)
		if se.StatusCode != status || !strings.Contains(strings.Join(codes, " "), se.Code) {
			t.Fatalf("got %d %s, want %d %v", se.StatusCode, se.Code, status, codes)
		}
	}
	t.Run("error rate", func(t *testing.T) {
		s.SetFaults(emulator.Faults{ErrorRate: 1})
		for range 4 {
			se := serviceError(t, get())
			if !(se.StatusCode == 500 && se.Code == "InternalError") && !(se.StatusCode == 503 && se.Code == "ServiceUnavailable") {
				t.Fatalf("got %d %s", se.StatusCode, se.Code)
			}
		}
	})
	t.Run("throttle", func(t *testing.T) {
		s.SetFaults(emulator.Faults{ThrottleRate: 1})
		wantService(t, list(), 503, "TotalQpsLimitExceeded")
	})
	t.Run("throttle rate is exact", func(t *testing.T) {
		s.SetFaults(emulator.Faults{ThrottleRate: 0.25})
		var throttled []int
		for i := 1; i <= 8; i++ {
			if err := list(); err != nil {
				wantService(t, err, 503, "TotalQpsLimitExceeded")
				throttled = append(throttled, i)
			}
		}
		if fmt.Sprint(throttled) != "[4 8]" {
			t.Fatalf("throttled requests %v of 8 at rate 0.25, want [4 8]", throttled)
		}
	})
	t.Run("reset mid-body", func(t *testing.T) {
		s.SetFaults(emulator.Faults{ResetRate: 1})
		if err := get(); err == nil || !errors.Is(err, io.ErrUnexpectedEOF) {
			t.Fatalf("want unexpected EOF, got %v", err)
		}
	})
	t.Run("wrong content length", func(t *testing.T) {
		s.SetFaults(emulator.Faults{WrongContentLength: true})
		if err := get(); err == nil {
			t.Fatal("short body accepted")
		}
	})
	t.Run("truncated XML", func(t *testing.T) {
		s.SetFaults(emulator.Faults{TruncatedXML: true})
		if err := list(); err == nil {
			t.Fatal("truncated listing accepted")
		}
	})
	t.Run("latency", func(t *testing.T) {
		s.SetFaults(emulator.Faults{Latency: 150 * time.Millisecond})
		start := time.Now()
		if err := list(); err != nil {
			t.Fatal(err)
		}
		if d := time.Since(start); d < 150*time.Millisecond {
			t.Fatalf("answered after %v", d)
		}
	})
	t.Run("bandwidth", func(t *testing.T) {
		s.SetFaults(emulator.Faults{BandwidthPerConn: 1 << 20}) // 256 KiB at 1 MiB/s: >= ~250 ms
		start := time.Now()
		if err := get(); err != nil {
			t.Fatal(err)
		}
		if d := time.Since(start); d < 200*time.Millisecond {
			t.Fatalf("256 KiB at 1 MiB/s took only %v", d)
		}
	})
	t.Run("hang", func(t *testing.T) {
		s.SetFaults(emulator.Faults{Hang: true})
		short, cancel := context.WithTimeout(ctx(t), 100*time.Millisecond)
		defer cancel()
		_, err := c.HeadObject(short, &oss.HeadObjectRequest{Bucket: oss.Ptr("bkt"), Key: oss.Ptr("blob")})
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("hanging HEAD: %v", err)
		}
		done := make(chan error, 1)
		go func() {
			_, err := c.HeadObject(ctx(t), &oss.HeadObjectRequest{Bucket: oss.Ptr("bkt"), Key: oss.Ptr("blob")})
			done <- err
		}()
		s.SetFaults(emulator.Faults{}) // releases it, whenever it arrived
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	})
	s.SetFaults(emulator.Faults{})
	s.ResetCounters()
	if err := get(); err != nil {
		t.Fatal(err)
	}
	cn := s.Counters()
	if cn.BytesSent != 256<<10 || cn.Requests["GetObject"] != 1 || cn.ByStatus["GetObject 200"] != 1 {
		t.Fatalf("counters after one GET: %+v", cn)
	}
}

func TestAdminEndpoint(t *testing.T) {
	s := startServer(t, emulator.Config{})
	s.CreateBucket("pub", true)
	resp, err := http.Post(s.AdminURL()+"/faults", "application/json", strings.NewReader(`{"error_rate":1,"latency":"1ms"}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if f := s.Faults(); resp.StatusCode != 200 || f.ErrorRate != 1 || f.Latency != time.Millisecond {
		t.Fatalf("admin faults: %d %+v", resp.StatusCode, f)
	}
	r2, err := http.Get(s.OSSURL() + "/pub/x")
	if err != nil {
		t.Fatal(err)
	}
	r2.Body.Close()
	if r2.StatusCode < 500 {
		t.Fatalf("fault not applied: %d", r2.StatusCode)
	}
	r3, err := http.Get(s.AdminURL() + "/counters")
	if err != nil {
		t.Fatal(err)
	}
	var cn emulator.Counters
	err = json.NewDecoder(r3.Body).Decode(&cn)
	r3.Body.Close()
	if err != nil || cn.Requests["GetObject"] != 1 || cn.Connections < 1 {
		t.Fatalf("admin counters: %+v %v", cn, err)
	}
}
