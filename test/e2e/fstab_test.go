package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// `mount -t fuse.ossmount BUCKET DIR -o ...` (what an /etc/fstab line runs)
// goes through mount.fuse3, which calls `ossmount BUCKET DIR -o opts` with
// the options last; every long option works as an -o key. The program is
// named in the source ("PROGRAM#SOURCE", the form fstab also accepts) because
// mount.fuse3 runs it with no PATH.
func TestMountThroughMountFuse3(t *testing.T) {
	e := startWithObjects(t, "fstab", map[string]string{"dir/hello.txt": "from fstab\n"})
	mnt := t.TempDir()
	logFile := filepath.Join(t.TempDir(), "log")
	cmd := exec.Command("mount", "-t", "fuse", ossmountBin+"#fstab:/dir", mnt,
		"-o", "ro,nodev,nosuid,_netdev,path_style,metadata_ttl=30s,file_mode=0440,log_file="+logFile)
	cmd.Env = e.baseEnv()
	// A file, not a pipe: the background mount keeps stderr open.
	outFile := tempFile(t, "mount-output")
	cmd.Stdout, cmd.Stderr = outFile, outFile
	err := cmd.Run()
	out := readFile(t, outFile.Name())
	if err != nil {
		t.Fatalf("mount -t fuse.ossmount: %v\n%s\nlog:\n%s", err, out, readFile(t, logFile))
	}
	t.Cleanup(func() { unmountAndWait(t, mnt, logFile) })
	got, err := os.ReadFile(filepath.Join(mnt, "hello.txt"))
	if err != nil || string(got) != "from fstab\n" {
		t.Fatalf("read through fstab-style mount: %q, %v", got, err)
	}
	info, err := os.Stat(filepath.Join(mnt, "hello.txt"))
	if err != nil || info.Mode().Perm() != 0o440 {
		t.Fatalf("-o file_mode=0440 not applied: %v %v", info.Mode(), err)
	}
}
