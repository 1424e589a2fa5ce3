package e2e

import (
	"strings"
	"testing"

	"github.com/ossmount/ossmount/policy"
)

// `ossmount check` obtains a token, lists once and reports identity, expiry
// and the listing, without mounting; `ossmount policy` prints exactly the
// session policy a mount sends to STS.
func TestCheckAndPolicyCommands(t *testing.T) {
	e := startWithObjects(t, "chk", map[string]string{
		"team/a.txt":     "a",
		"team/sub/b.txt": "b",
	})

	stdout, stderr, err := run(t, e.baseEnv(), "check", "--path-style", "chk:/team")
	if err != nil {
		t.Fatalf("ossmount check: %v\nstderr: %s", err, stderr)
	}
	for _, want := range []string{
		"source credential:", "environment",
		"assumed identity:", "ossmount-demo",
		"token expires:",
		"listing oss://chk/team/: ok, 1 objects and 1 directories",
	} {
		if !strings.Contains(stdout, want) {
			t.Errorf("check output lacks %q:\n%s", want, stdout)
		}
	}
	counters := e.emu.Counters()
	calls := counters.AssumeRoleCalls
	if len(calls) != 1 || counters.Requests["ListObjectsV2"] != 1 {
		t.Fatalf("check cost %d AssumeRole and %d LIST, want 1 of each", len(calls), counters.Requests["ListObjectsV2"])
	}

	printed, stderr, err := run(t, e.baseEnv(), "policy", "--compact", "chk:/team")
	if err != nil {
		t.Fatalf("ossmount policy: %v\nstderr: %s", err, stderr)
	}
	want, err := policy.ReadOnlyJSON("chk", "team/")
	if err != nil {
		t.Fatal(err)
	}
	if strings.TrimSpace(printed) != want || calls[0].Policy != want {
		t.Errorf("policy printed %q\nsent to STS %q\nwant %q", strings.TrimSpace(printed), calls[0].Policy, want)
	}
}
