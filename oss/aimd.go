package oss

import (
	"math"
	"time"
)

// AIMD tuning. A cut halves the rate (as TCP does): the server said the
// account is over its limit, and half is below it after one cut from
// anywhere up to twice the limit. Recovery adds a tenth of the reference
// rate per second, so the rate is back where it was cut five seconds after
// a cut, probing upwards linearly rather than doubling into the limit again.
const (
	aimdDecrease    = 0.5
	aimdRecoverTime = 10 * time.Second // from 0 to the reference rate
	// aimdMinRate is the floor of the limit, in requests/s. A mount
	// sending less than this is left to per-request backoff: so few
	// requests are not what exhausts an account's QPS limit.
	aimdMinRate = 10.0
	// aimdCutInterval is the least time between cuts. OSS measures QPS
	// in one-second windows, so requests sent just after a cut are still
	// throttled until the window ends; cutting for each would drive the
	// rate to the floor in one burst.
	aimdCutInterval = time.Second
	rateSlot        = 250 * time.Millisecond
	rateSlots       = 4 // the measured rate covers the last second
)

// aimd decides the request rate limit of a mount from the throttling
// answers it gets: additive increase, multiplicative decrease of the
// mount's own rate. It is a pure state machine: every method takes the
// time, so tests drive it with an injected clock. Not safe for concurrent
// use; the governor locks around it.
//
// With a configured ceiling (--max-requests-per-second) the limit starts
// there, each throttle cuts it, and it grows back to the ceiling. Without
// one the limit is +Inf until the first throttle; then it starts from the
// rate the mount was actually sending when the server objected (measured
// over the last second), and once it has grown back to twice that rate
// with no further throttling the governor lets go (+Inf) again.
type aimd struct {
	ceiling float64 // configured limit; 0: none

	engaged bool      // limiting below the ceiling (or at all, without one)
	cutAt   time.Time // time of the last cut
	cutTo   float64   // the limit set by the last cut
	ref     float64   // the reference rate: ceiling, or the rate at the first throttle
	cuts    int64

	slotIdx int64 // index of the newest slot (time / rateSlot)
	slots   [rateSlots]int
}

func newAIMD(ceiling float64) *aimd { return &aimd{ceiling: ceiling} }

// sent records a request sent at now, for the measured rate.
func (a *aimd) sent(now time.Time) {
	a.advance(now)
	a.slots[a.slotIdx%rateSlots]++
}

// advance moves the slot ring to now, clearing slots that have passed.
func (a *aimd) advance(now time.Time) {
	idx := now.UnixNano() / int64(rateSlot)
	if idx <= a.slotIdx {
		return // same slot, or the clock stepped back: keep counting here
	}
	for i := a.slotIdx + 1; i <= idx && i <= a.slotIdx+rateSlots; i++ {
		a.slots[i%rateSlots] = 0
	}
	a.slotIdx = idx
}

// measured is the rate of requests sent over the last 0.75 to 1 second:
// the slots before the current one and the part of it that has passed.
func (a *aimd) measured(now time.Time) float64 {
	a.advance(now)
	n := 0
	for _, c := range a.slots {
		n += c
	}
	inSlot := max(now.UnixNano()-a.slotIdx*int64(rateSlot), 0)
	span := time.Duration((rateSlots-1)*int64(rateSlot) + inSlot)
	return float64(n) / span.Seconds()
}

// limit is the request rate allowed at now, in requests/s; +Inf for none.
func (a *aimd) limit(now time.Time) float64 {
	if !a.engaged {
		if a.ceiling > 0 {
			return a.ceiling
		}
		return math.Inf(1)
	}
	grown := a.cutTo + a.ref/aimdRecoverTime.Seconds()*max(now.Sub(a.cutAt).Seconds(), 0)
	switch {
	case a.ceiling > 0 && grown >= a.ceiling:
		a.engaged = false
		return a.ceiling
	case a.ceiling == 0 && grown >= 2*a.ref:
		a.engaged, a.ref = false, 0
		return math.Inf(1)
	}
	return grown
}

// throttled records a throttling answer at now to a request sent at sentAt.
// Answers to requests sent before the last cut say nothing about the rate
// set by it, and cuts are at least aimdCutInterval apart, so a burst of
// throttling answers cuts once, not once each. It reports whether the
// limit was cut.
func (a *aimd) throttled(now, sentAt time.Time) bool {
	if a.engaged && (sentAt.Before(a.cutAt) || now.Sub(a.cutAt) < aimdCutInterval) {
		return false
	}
	floor := aimdMinRate
	if a.ceiling > 0 {
		floor = min(floor, a.ceiling)
	}
	base := a.limit(now)
	if m := a.measured(now); m < base {
		base = m // the mount sent less than it was allowed: cut what it sent
	}
	if !a.engaged && base <= floor {
		return false // too few requests to matter; backoff paces them
	}
	if !a.engaged && a.ceiling == 0 {
		a.ref = base
	}
	if a.ceiling > 0 {
		a.ref = a.ceiling
	}
	a.engaged = true
	a.cutAt = now
	a.cutTo = max(base*aimdDecrease, floor)
	a.cuts++
	return true
}
