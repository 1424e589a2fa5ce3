package main

import (
	"fmt"
	"io"
	"log/syslog"
	"os"
	"sync"
	"syscall"
)

// logSink is the writer behind the logger. It starts as stderr or the
// --log-file; a background daemon moves it to the log file, syslog or nowhere
// once the mount is live (detach), and SIGHUP reopens the log file (reopen).
type logSink struct {
	mu       sync.Mutex
	w        io.Writer
	file     *os.File // the open --log-file, nil without one
	path     string   // --log-file
	detached bool     // fds 1 and 2 follow the log file
}

// newLogSink opens path for appending, or writes to stderr when path is "".
func newLogSink(path string) (*logSink, error) {
	s := &logSink{w: os.Stderr, path: path}
	if path == "" {
		return s, nil
	}
	f, err := openLogFile(path)
	if err != nil {
		return nil, fmt.Errorf("--log-file: %w", err)
	}
	s.w, s.file = f, f
	return s, nil
}

func openLogFile(path string) (*os.File, error) {
	return os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
}

// Write writes one log record. Errors (a full disk, a closed pipe) are the
// logger's to ignore: logging never stops the mount.
func (s *logSink) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}

// Close closes the log file, if any.
func (s *logSink) Close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.file != nil {
		s.file.Close()
	}
}

// reopen opens the --log-file path anew (logrotate renamed the old file) and
// reports whether there is a log file to reopen.
func (s *logSink) reopen() (bool, error) {
	if s.path == "" {
		return false, nil
	}
	f, err := openLogFile(s.path)
	if err != nil {
		return true, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.detached {
		if err := redirectStdio(nil, f); err != nil {
			f.Close()
			return true, err
		}
	}
	s.file.Close()
	s.w, s.file = f, f
	return true, nil
}

// detach cuts a background daemon loose from its caller's descriptors: stdin
// becomes /dev/null and stdout and stderr the log file, so that even a crash
// report lands there, or /dev/null. Without a log file, records go to syslog
// at syslogPath when a syslog daemon listens there, else nowhere. It returns
// where the logs go, for the start-up message.
func (s *logSink) detach(syslogPath string) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	devNull, err := os.OpenFile(os.DevNull, os.O_RDWR, 0)
	if err != nil {
		return "", err
	}
	defer devNull.Close()
	out, where := s.file, s.path
	if out == nil {
		out = devNull
		s.w, where = backgroundLogWriter(syslogPath)
	}
	if err := redirectStdio(devNull, out); err != nil {
		return "", err
	}
	s.detached = s.file != nil
	return where, nil
}

// backgroundLogWriter is where a background mount without --log-file logs:
// syslog (facility daemon, tag ossmount) when a syslog daemon listens at
// syslogPath, as s3fs, ossfs and mountpoint-s3 do, else nowhere. It also
// says which, for the start-up message.
func backgroundLogWriter(syslogPath string) (io.Writer, string) {
	w, err := syslog.Dial("unixgram", syslogPath, syslog.LOG_DAEMON|syslog.LOG_INFO, "ossmount")
	if err != nil {
		return io.Discard, "none (no --log-file and no syslog at " + syslogPath + "; use --log-file FILE, or -f to log to stderr)"
	}
	return w, "syslog (" + syslogPath + ")"
}

// redirectStdio points fd 0 at in (unless nil) and fds 1 and 2 at out.
func redirectStdio(in, out *os.File) error {
	if in != nil {
		if err := syscall.Dup3(int(in.Fd()), 0, 0); err != nil {
			return fmt.Errorf("redirecting stdin: %w", err)
		}
	}
	for _, fd := range []int{1, 2} {
		if err := syscall.Dup3(int(out.Fd()), fd, 0); err != nil {
			return fmt.Errorf("redirecting fd %d: %w", fd, err)
		}
	}
	return nil
}
