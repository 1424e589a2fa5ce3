package fs

import (
	"context"
	"errors"
	"log/slog"
	"syscall"

	"github.com/ossmount/ossmount/oss"
)

// Errno maps an error from the Store (or from this package) to the errno a
// FUSE caller sees. It is the only such table in the module:
//
//	nil                          → 0
//	a syscall.Errno in the chain → that errno
//	oss.ErrNotFound              → ENOENT
//	oss.ErrAccessDenied          → EACCES
//	oss.ErrCredentials           → EACCES
//	oss.ErrPreconditionFailed    → ESTALE
//	context.Canceled             → EINTR
//	anything else                → EIO (including context.DeadlineExceeded)
//
// Errno does not log; callers log through tree.fail, which adds the OSS
// request ID.
func Errno(err error) syscall.Errno {
	var errno syscall.Errno
	switch {
	case err == nil:
		return 0
	case errors.As(err, &errno):
		return errno
	case errors.Is(err, oss.ErrNotFound):
		return syscall.ENOENT
	case errors.Is(err, oss.ErrAccessDenied), errors.Is(err, oss.ErrCredentials):
		return syscall.EACCES
	case errors.Is(err, oss.ErrPreconditionFailed):
		return syscall.ESTALE
	case errors.Is(err, context.Canceled):
		return syscall.EINTR
	default:
		return syscall.EIO
	}
}

// requestID returns the OSS request ID carried by err, or "".
func requestID(err error) string {
	var se *oss.ServiceError
	if errors.As(err, &se) {
		return se.RequestID
	}
	return ""
}

// fail converts err for the kernel and logs every failure a user sees
// (anything but ENOENT and EINTR) with the OSS request ID.
func (t *tree) fail(op, key string, err error) syscall.Errno {
	errno := Errno(err)
	switch errno {
	case 0, syscall.ENOENT, syscall.EINTR:
		return errno
	}
	level := slog.LevelWarn
	if errno == syscall.EIO {
		level = slog.LevelError
	}
	t.log.Log(context.Background(), level, "operation failed",
		"op", op, "key", key, "errno", errno.Error(), "request_id", requestID(err), "err", err)
	return errno
}
