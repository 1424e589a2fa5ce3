package fs

import (
	"fmt"
	"os"
	"strconv"
	"syscall"
)

// setKernelReadAhead sets the kernel's read-ahead for the FUSE mount at
// mountpoint to n bytes. The FUSE INIT reply can only lower it from the
// block-device default of 128 KiB; through the mount's backing device in
// sysfs it can be raised (root only). With 1 MiB the kernel sends 1 MiB
// reads (max_read) two to four at a time instead of 128-256 KiB ones, and
// dd with 1 MiB blocks reads as fast as cat.
func setKernelReadAhead(mountpoint string, n int) error {
	var st syscall.Stat_t
	if err := syscall.Stat(mountpoint, &st); err != nil {
		return err
	}
	dev := uint64(st.Dev)
	major := (dev>>8)&0xfff | (dev>>32)&^0xfff
	minor := dev&0xff | (dev>>12)&^0xff
	path := fmt.Sprintf("/sys/class/bdi/%d:%d/read_ahead_kb", major, minor)
	return os.WriteFile(path, []byte(strconv.Itoa(n>>10)), 0)
}
