package fs

import (
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ossmount/ossmount/test/mounttest"
)

// Past hugeDir names of a listing, neither READDIRPLUS nor the stat of
// `ls -l` leaves a go-fuse node behind: the kernel drops those names once
// used, and go-fuse forgets their nodes.
func TestHugeDirectoryKeepsNoNodePerName(t *testing.T) {
	const names, huge = 3000, 500
	f, err := New(Config{MetadataTTL: DefaultMetadataTTL, NegativeTTL: DefaultNegativeTTL}, flatStore{prefix: "big/", n: names})
	if err != nil {
		t.Fatal(err)
	}
	f.t.hugeDir = huge
	mnt := mountForTest(t, f)
	out, err := exec.Command("ls", "-l", filepath.Join(mnt, "big")).Output()
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(out), "\n"); n != names+1 {
		t.Fatalf("ls -l printed %d lines, want %d", n, names+1)
	}
	big := f.root.GetChild("big")
	if big == nil {
		t.Fatal("no node for the directory")
	}
	children := func() int { return len(big.Children()) }
	// FORGETs arrive in batches: wait for them, then report what is held.
	mounttest.WaitFor(mounttest.HangGuard, func() bool { return children() <= huge+50 })
	if n := children(); n > huge+50 {
		t.Errorf("go-fuse holds %d nodes in a directory of %d names, want about %d", n, names, huge)
	}
}
