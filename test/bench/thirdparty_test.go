package bench

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/ossmount/ossmount/test/emulator"
	"github.com/ossmount/ossmount/test/mounttest"
)

// other is a third-party FUSE mount tool (Debian packages s3fs and rclone)
// run against the same emulator with anonymous access to the public-read
// bucket, in the foreground as a child of the benchmark.
type other struct {
	name string
	argv func(url, mnt string) []string
}

var others = []other{
	{"s3fs", func(url, mnt string) []string {
		return []string{"s3fs", bucket, mnt, "-f", "-o",
			"url=" + url + ",use_path_request_style,public_bucket=1,ro"}
	}},
	{"rclone", func(url, mnt string) []string {
		return []string{"rclone", "mount", ":s3:" + bucket, mnt, "--read-only",
			"--s3-provider", "Other", "--s3-endpoint", url, "--s3-force-path-style"}
	}},
}

// ossmountShapedCat is the shaped cat throughput of BenchmarkSequentialRead
// in this run, for the side-by-side note (0 if it did not run).
var ossmountShapedCat float64

// BenchmarkOtherMounts: the shaped 1 GiB cat of BenchmarkSequentialRead
// through s3fs-fuse and rclone mount, when they are installed, against the
// same best direct parallel client.
func BenchmarkOtherMounts(b *testing.B) {
	var present []other
	for _, o := range others {
		if _, err := exec.LookPath(o.name); err == nil {
			present = append(present, o)
		}
	}
	if len(present) == 0 {
		b.Skip("neither s3fs nor rclone is installed")
	}
	emu := startEmulator(b)
	const size = GiB
	emu.AddGenerated(bucket, emulator.Generated{Keys: []string{"other/base", "other/s3fs", "other/rclone"}, Size: size, Seed: 7})
	d := newDirect(emu)
	defer d.close()
	emu.SetFaults(shaped)
	defer emu.SetFaults(emulator.Faults{})
	single, parallel, best := seqBaselines(b, d, "other/base", size, true)

	for _, o := range present {
		m := mountOther(b, o, emu.OSSURL())
		emu.ResetCounters()
		r := catFile(b, m.path("other/"+o.name), size)
		got := r.mibps()
		note := fmt.Sprintf("%.1fx single GET", got/single)
		if ossmountShapedCat > 0 {
			note += fmt.Sprintf("; ossmount %s (%.1fx %s)", rate(ossmountShapedCat), ossmountShapedCat/got, o.name)
		}
		if r.capped {
			note += fmt.Sprintf("; stopped after %s at %d MiB", secs(r.elapsed), r.bytes/MiB)
		}
		addRow(row{
			Scenario: "seq 1 GiB cat, shaped, " + o.name,
			Mount:    rate(got),
			Baseline: fmt.Sprintf("par %s (%s); single %s", rate(parallel), best, rate(single)),
			Ratio:    got / parallel, Requests: requests(emu), RSS: m.peakRSS(), Note: note,
		})
		b.ReportMetric(got/parallel, o.name+"-ratio")
		m.unmount(b)
	}
}

// mountOther starts o in the foreground and waits for its mount; the mount
// is undone and the process ended when b ends (or earlier by unmount).
func mountOther(b *testing.B, o other, url string) *mounted {
	b.Helper()
	mnt, tmp := b.TempDir(), b.TempDir()
	logPath := filepath.Join(tmp, o.name+".log")
	logFile, err := os.Create(logPath)
	if err != nil {
		b.Fatal(err)
	}
	defer logFile.Close()
	argv := o.argv(url, mnt)
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + tmp, "TMPDIR=" + tmp}
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		b.Fatalf("%v: %v", argv, err)
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	m := &mounted{dir: mnt, pid: cmd.Process.Pid, reap: func() {
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-exited
		}
	}}
	b.Cleanup(func() { m.unmount(b) })
	if !mounttest.WaitFor(mounttest.HangGuard, func() bool { return mounttest.IsMounted(mnt) }) {
		out, _ := os.ReadFile(logPath)
		b.Fatalf("hang guard: %s did not mount within %v\n%s", o.name, mounttest.HangGuard, out)
	}
	return m
}
