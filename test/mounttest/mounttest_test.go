package mounttest

import (
	"strings"
	"testing"
	"time"
)

// CheckFUSE passes on this machine (the tests need FUSE) and names
// fusermount3 when it is not on PATH.
func TestCheckFUSENamesWhatIsMissing(t *testing.T) {
	if err := CheckFUSE(); err != nil {
		t.Fatalf("with FUSE present: %v", err)
	}
	t.Setenv("PATH", t.TempDir())
	if err := CheckFUSE(); err == nil || !strings.Contains(err.Error(), "fusermount3") {
		t.Fatalf("without fusermount3 on PATH: %v, want an error naming fusermount3", err)
	}
}

// WaitFor returns true once cond holds, polling again until it does, and
// false when d passes first.
func TestWaitFor(t *testing.T) {
	polls := 0
	if !WaitFor(HangGuard, func() bool { polls++; return polls == 5 }) || polls != 5 {
		t.Fatalf("WaitFor stopped after %d polls, want true after 5", polls)
	}
	if WaitFor(10*time.Millisecond, func() bool { return false }) {
		t.Fatal("WaitFor reported a condition that never held")
	}
}
