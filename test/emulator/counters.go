package emulator

import (
	"maps"
	"slices"
	"sync"
	"time"
)

// Counters is a snapshot of what the emulator served since Start or the
// last ResetCounters.
type Counters struct {
	// Requests by operation: "ListObjectsV2", "ListObjects", "HeadObject",
	// "GetObject", "GetSymlink", "GetBucketInfo", "GetBucketLocation", "Write" (any write
	// verb), "Other", "AssumeRole", "AssumeRoleWithOIDC"; "Denied" counts OSS
	// requests refused by authentication or authorization (they are also
	// counted under their operation).
	Requests map[string]int
	// ByStatus by "operation status", e.g. "GetObject 206", "HeadObject 404",
	// "AssumeRole 200".
	ByStatus      map[string]int
	BytesSent     int64 // OSS response body bytes
	Connections   int64 // OSS connections opened
	StalledBodies int   // answers stalled or trickled by Faults.StallBodies
	// InFlight is a gauge, not a count: OSS requests whose handler has not
	// returned yet (a response still being sent, or a hang). ResetCounters
	// leaves it alone.
	InFlight        int64
	AssumeRoleCalls []AssumeRoleCall
}

// AssumeRoleCall records one AssumeRole or AssumeRoleWithOIDC call as
// received (also failed ones). AccessKeyID is "" for OIDC.
type AssumeRoleCall struct {
	AccessKeyID, RoleARN, RoleSessionName, Policy string
	DurationSeconds                               int
	Time                                          time.Time
}

type counters struct {
	mu sync.Mutex
	c  Counters
}

func newCounters() *counters {
	c := &counters{}
	c.resetLocked()
	return c
}

func (c *counters) resetLocked() {
	c.c = Counters{Requests: map[string]int{}, ByStatus: map[string]int{}, InFlight: c.c.InFlight}
}

// serving adds d (1 at the start of an OSS request, -1 at its end) to InFlight.
func (c *counters) serving(d int64) {
	c.mu.Lock()
	c.c.InFlight += d
	c.mu.Unlock()
}

func (c *counters) request(op string, status int, denied bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.c.Requests[op]++
	c.c.ByStatus[op+" "+itoa(int64(status))]++
	if denied {
		c.c.Requests["Denied"]++
	}
}

func (c *counters) sent(n int64) {
	c.mu.Lock()
	c.c.BytesSent += n
	c.mu.Unlock()
}

func (c *counters) stalled() {
	c.mu.Lock()
	c.c.StalledBodies++
	c.mu.Unlock()
}

func (c *counters) connOpened() {
	c.mu.Lock()
	c.c.Connections++
	c.mu.Unlock()
}

func (c *counters) assumeRole(call AssumeRoleCall) {
	c.mu.Lock()
	c.c.AssumeRoleCalls = append(c.c.AssumeRoleCalls, call)
	c.mu.Unlock()
}

// Counters returns a snapshot.
func (s *Server) Counters() Counters {
	s.counts.mu.Lock()
	defer s.counts.mu.Unlock()
	c := s.counts.c
	c.Requests = maps.Clone(c.Requests)
	c.ByStatus = maps.Clone(c.ByStatus)
	c.AssumeRoleCalls = slices.Clone(c.AssumeRoleCalls)
	return c
}

// ResetCounters sets every counter to zero.
func (s *Server) ResetCounters() {
	s.counts.mu.Lock()
	defer s.counts.mu.Unlock()
	s.counts.resetLocked()
}
