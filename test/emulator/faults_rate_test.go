package emulator

import (
	"testing"
	"time"
)

func TestRateThrottleServesRPerSecond(t *testing.T) {
	r := &rateThrottle{limit: 3}
	t0 := time.Unix(1_000, 0)
	var got []bool
	for i := 0; i < 5; i++ {
		got = append(got, r.over(t0.Add(time.Duration(i)*time.Millisecond)))
	}
	want := []bool{false, false, false, true, true}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("requests in one second throttled %v, want %v", got, want)
		}
	}
	if r.over(t0.Add(time.Second)) {
		t.Fatal("the next second's first request was throttled")
	}
	off := &rateThrottle{}
	for i := 0; i < 100; i++ {
		if off.over(t0) {
			t.Fatal("a throttle with no limit throttled")
		}
	}
}
