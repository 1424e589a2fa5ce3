//go:build !linux

package fs

import "errors"

// setKernelReadAhead is Linux only.
func setKernelReadAhead(mountpoint string, n int) error {
	return errors.New("fs: kernel read-ahead can only be set on Linux")
}
