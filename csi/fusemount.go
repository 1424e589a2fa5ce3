package csi

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"syscall"
	"time"
)

// maxRead matches what ossmount asks go-fuse for (MaxWrite 1 MiB, which
// go-fuse also passes as max_read), so the kernel sends 1 MiB reads.
const maxRead = 1 << 20

// mountFUSE opens /dev/fuse and mounts it read-only at target, as the
// pod needs: allow_other (pods run as any uid) with default_permissions
// (the kernel checks the modes ossmount shows). The caller owns the fd.
func mountFUSE(target, source string) (*os.File, error) {
	f, err := os.OpenFile("/dev/fuse", os.O_RDWR, 0)
	if err != nil {
		return nil, fmt.Errorf("opening /dev/fuse: %w (the plugin needs /dev/fuse and CAP_SYS_ADMIN)", err)
	}
	data := fmt.Sprintf("fd=%d,rootmode=40000,user_id=0,group_id=0,allow_other,default_permissions,max_read=%d", f.Fd(), maxRead)
	flags := uintptr(syscall.MS_RDONLY | syscall.MS_NODEV | syscall.MS_NOSUID)
	if err := syscall.Mount(source, target, "fuse.ossmount", flags, data); err != nil {
		f.Close()
		return nil, fmt.Errorf("mount(2) of /dev/fuse at %s: %w", target, err)
	}
	return f, nil
}

// setReadAhead raises the kernel read-ahead of the mount at target to kb
// KiB through its backing device in sysfs (as fs/readahead_linux.go does
// for a mount ossmount makes itself; the FUSE INIT reply can only lower it).
func setReadAhead(target string, kb int) error {
	var st syscall.Stat_t
	if err := syscall.Lstat(target, &st); err != nil {
		return err
	}
	dev := uint64(st.Dev)
	major := (dev>>8)&0xfff | (dev>>32)&^0xfff
	minor := dev&0xff | (dev>>12)&^0xff
	path := fmt.Sprintf("/sys/class/bdi/%d:%d/read_ahead_kb", major, minor)
	return os.WriteFile(path, []byte(strconv.Itoa(kb)), 0)
}

// errNotConnected is a FUSE mount whose server is gone.
var errNotConnected = errors.New("the ossmount process serving this mount is gone (transport endpoint is not connected)")

// statfsTarget asks the mount's server for statfs (stat could be answered
// from the kernel's cache), bounded by ctx: a hung server must not hang
// the RPC. It returns errNotConnected for a dead mount.
func statfsTarget(ctx context.Context, target string) (syscall.Statfs_t, error) {
	type result struct {
		st  syscall.Statfs_t
		err error
	}
	done := make(chan result, 1)
	go func() {
		var r result
		r.err = syscall.Statfs(target, &r.st)
		done <- r
	}()
	select {
	case r := <-done:
		if errors.Is(r.err, syscall.ENOTCONN) || errors.Is(r.err, syscall.ECONNABORTED) {
			return r.st, errNotConnected
		}
		return r.st, r.err
	case <-ctx.Done():
		return syscall.Statfs_t{}, fmt.Errorf("statfs %s did not answer: %w", target, ctx.Err())
	}
}

// waitServing polls statfs until the mount answers or ctx ends.
func waitServing(ctx context.Context, target string) error {
	for {
		_, err := statfsTarget(ctx, target)
		if err == nil || errors.Is(err, errNotConnected) || ctx.Err() != nil {
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// unmountTarget unmounts target, lazily if files are still open, so that
// unpublish never fails on a busy or dead mount.
func unmountTarget(target string) error {
	err := syscall.Unmount(target, 0)
	if errors.Is(err, syscall.EBUSY) {
		err = syscall.Unmount(target, syscall.MNT_DETACH)
	}
	if errors.Is(err, syscall.EINVAL) { // not a mountpoint
		return nil
	}
	return err
}
