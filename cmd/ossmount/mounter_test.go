package main

import (
	"testing"

	"github.com/ossmount/ossmount/csi/mountproto"
)

// Every option a volume may set through the CSI allowlist is a real
// ossmount flag, so a PV's mountOptions never fail in the child.
func TestMounterAllowlistNamesRealFlags(t *testing.T) {
	known := map[string]bool{}
	for _, f := range mountFlags() {
		for _, n := range f.Names() {
			known[n] = true
		}
	}
	for _, name := range mountproto.AllowedNames() {
		if !known[name] {
			t.Errorf("allowlisted option --%s is not an ossmount flag", name)
		}
	}
}
