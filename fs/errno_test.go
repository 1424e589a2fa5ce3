package fs

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"syscall"
	"testing"

	"github.com/ossmount/ossmount/oss"
)

func TestErrno(t *testing.T) {
	cases := []struct {
		name string
		err  error
		want syscall.Errno
	}{
		{"nil", nil, 0},
		{"not found", oss.ErrNotFound, syscall.ENOENT},
		{"service 404", serviceError("head", "k", http.StatusNotFound, "NoSuchKey"), syscall.ENOENT},
		{"wrapped 404", fmt.Errorf("fs: head: %w", serviceError("head", "k", 404, "NoSuchKey")), syscall.ENOENT},
		{"access denied", oss.ErrAccessDenied, syscall.EACCES},
		{"service 403", serviceError("get", "k", http.StatusForbidden, "AccessDenied"), syscall.EACCES},
		{"credentials", oss.ErrCredentials, syscall.EACCES},
		{"expired token", serviceError("get", "k", http.StatusForbidden, "SecurityTokenExpired"), syscall.EACCES},
		{"precondition", oss.ErrPreconditionFailed, syscall.ESTALE},
		{"service 412", serviceError("get", "k", http.StatusPreconditionFailed, "PreconditionFailed"), syscall.ESTALE},
		{"canceled", context.Canceled, syscall.EINTR},
		{"wrapped canceled", fmt.Errorf("x: %w", context.Canceled), syscall.EINTR},
		{"deadline", context.DeadlineExceeded, syscall.EIO},
		{"service 500", serviceError("list", "", http.StatusInternalServerError, "InternalError"), syscall.EIO},
		{"other", errors.New("boom"), syscall.EIO},
		{"errno passes through", fmt.Errorf("x: %w", syscall.EROFS), syscall.EROFS},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := Errno(c.err); got != c.want {
				t.Errorf("Errno(%v) = %v, want %v", c.err, got, c.want)
			}
		})
	}
}

func TestFailLogsRequestID(t *testing.T) {
	var buf bytes.Buffer
	tr := &tree{log: slog.New(slog.NewTextHandler(&buf, nil))}
	err := fmt.Errorf("fs: list: %w", serviceError("list", "p/", http.StatusServiceUnavailable, "ServiceUnavailable"))
	if got := tr.fail("readdir", "p/", err); got != syscall.EIO {
		t.Fatalf("got %v, want EIO", got)
	}
	if !strings.Contains(buf.String(), "request_id=fake-list-ServiceUnavailable") {
		t.Errorf("log lacks the request id: %s", buf.String())
	}
	buf.Reset()
	if got := tr.fail("lookup", "p/x", oss.ErrNotFound); got != syscall.ENOENT || buf.Len() != 0 {
		t.Errorf("ENOENT: got %v and log %q; want ENOENT and no log", got, buf.String())
	}
}
