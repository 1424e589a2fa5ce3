package creds

import (
	"fmt"
	"io"
	"os"
	"syscall"
	"time"
)

// fileReadTimeout bounds reading a token or credentials file. Such a file
// may be a FIFO or a process substitution (`<(vault read ...)`); one whose
// writer never comes, never writes or never closes must fail, not hang the
// mount or a renewal.
const fileReadTimeout = 5 * time.Second

// maxFileSize caps what is read of a token or credentials file; real ones
// are a few KB.
const maxFileSize = 1 << 20

// readSmallFile reads a token or credentials file within timeout.
// It opens non-blocking, so that opening a FIFO without a writer returns at
// once (and reads as empty), and puts a read deadline on anything pollable.
// A regular file cannot block and takes no deadline. (A hung network file
// system can still block a read: nothing in user space bounds that.)
func readSmallFile(path string, timeout time.Duration) ([]byte, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	_ = f.SetReadDeadline(time.Now().Add(timeout)) // os.ErrNoDeadline for regular files
	b, err := io.ReadAll(io.LimitReader(f, maxFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	if len(b) > maxFileSize {
		return nil, fmt.Errorf("%s is larger than %d bytes", path, maxFileSize)
	}
	return b, nil
}
