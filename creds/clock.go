package creds

import "time"

// Clock is the time the Manager reads and schedules renewals by. Tests pass
// simulated time, so that hours of renewals run in milliseconds. I/O
// deadlines (STS and metadata calls, file reads) stay on the real clock:
// they bound real waits.
type Clock interface {
	Now() time.Time
	// NewTimer is time.NewTimer: a channel that receives once d has
	// passed, and a stop function that reports whether it stopped it.
	NewTimer(d time.Duration) (<-chan time.Time, func() bool)
}

// realClock is the system clock.
type realClock struct{}

func (realClock) Now() time.Time { return time.Now() }

func (realClock) NewTimer(d time.Duration) (<-chan time.Time, func() bool) {
	t := time.NewTimer(d)
	return t.C, t.Stop
}
