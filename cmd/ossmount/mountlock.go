package main

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
)

// lockMountpoint takes an exclusive lock for mountpoint dir that the process
// holds for as long as it lives (the kernel drops it when the process ends,
// however it ends), so that two ossmount commands started at the same
// instant cannot both pass the "already mounted" check and stack two mounts.
// The lock is a file keyed by the mountpoint's absolute path, not the
// directory itself: a dead mount cannot even be opened.
func lockMountpoint(dir string) (*os.File, error) {
	lockDir := mountLockDir()
	if err := os.MkdirAll(lockDir, 0o700); err != nil {
		return nil, fmt.Errorf("mountpoint lock directory %s: %w", lockDir, err)
	}
	if st, err := os.Lstat(lockDir); err != nil || !st.IsDir() || st.Sys().(*syscall.Stat_t).Uid != uint32(os.Geteuid()) {
		return nil, fmt.Errorf("mountpoint lock directory %s is not a directory of this user's", lockDir)
	}
	sum := sha256.Sum256([]byte(dir))
	path := filepath.Join(lockDir, hex.EncodeToString(sum[:12])+".lock")
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("mountpoint lock %s: %w", path, err)
	}
	err = syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
	if errors.Is(err, syscall.EWOULDBLOCK) {
		f.Close()
		return nil, fmt.Errorf("mountpoint %s is already mounted, or being mounted, by another ossmount (lock %s held)", dir, path)
	}
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("mountpoint lock %s: %w", path, err)
	}
	// The file names the holder for whoever wonders why a mount fails.
	f.Truncate(0)
	f.WriteAt([]byte(fmt.Sprintf("%d %s\n", os.Getpid(), dir)), 0)
	return f, nil
}

// mountLockDir is /run/ossmount for root; for other users (fusermount3
// mounts for them) a directory of their own, since they cannot write /run.
func mountLockDir() string {
	if os.Geteuid() == 0 {
		return "/run/ossmount"
	}
	if d := os.Getenv("XDG_RUNTIME_DIR"); d != "" {
		return filepath.Join(d, "ossmount")
	}
	return filepath.Join(os.TempDir(), fmt.Sprintf("ossmount-%d", os.Geteuid()))
}
