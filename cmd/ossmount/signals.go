package main

import (
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/ossmount/ossmount/creds"
)

// Signals a mounted ossmount handles. No signal a user or a tool commonly
// sends may leave a dead mount: those that end the process unmount first.
var (
	// stopSignals unmount and exit. SIGQUIT (Ctrl-\) is among them because
	// Go's default for it, a goroutine dump and exit, leaves a dead mount.
	stopSignals = []os.Signal{syscall.SIGINT, syscall.SIGTERM, syscall.SIGQUIT}
	// keepSignals leave the mount serving: SIGHUP reopens the log file
	// (logrotate's postrotate), SIGUSR1 logs a status line, SIGUSR2 and
	// SIGPIPE are ignored (a closed stderr pipe must not kill the mount).
	keepSignals = []os.Signal{syscall.SIGHUP, syscall.SIGUSR1, syscall.SIGUSR2, syscall.SIGPIPE}
)

// catchKeepSignals takes over keepSignals from the start, before the mount
// exists, so that none of them can end the process; serveKeepSignals
// handles what arrives once the mount is live.
func catchKeepSignals() chan os.Signal {
	ch := make(chan os.Signal, 8)
	signal.Notify(ch, keepSignals...)
	return ch
}

// mountStatus is what SIGUSR1 logs.
type mountStatus func() []any

// serveKeepSignals handles keepSignals until done is closed.
func serveKeepSignals(ch chan os.Signal, done <-chan struct{}, sink *logSink, logger *slog.Logger, status mountStatus) {
	for {
		select {
		case <-done:
			signal.Stop(ch)
			return
		case sig := <-ch:
			switch sig {
			case syscall.SIGHUP:
				switch reopened, err := sink.reopen(); {
				case err != nil:
					logger.Error("cannot reopen the log file; logging on to the old one", "path", sink.path, "err", err)
				case reopened:
					logger.Info("log file reopened", "signal", sig.String(), "path", sink.path)
				default:
					logger.Info("signal ignored: no --log-file to reopen", "signal", sig.String())
				}
			case syscall.SIGUSR1:
				logger.Info("status", status()...)
			default:
				logger.Debug("signal ignored", "signal", sig.String())
			}
		}
	}
}

// statusOf is the SIGUSR1 status line of a live mount.
func statusOf(s settings, started time.Time, credStatus func() creds.Status) mountStatus {
	return func() []any {
		st := credStatus()
		return []any{"mountpoint", s.mountpoint, "target", s.target.String(), "pid", os.Getpid(),
			"up", time.Since(started).Round(time.Second).String(), "credential_source", st.Source,
			"expires", st.Expiration.Format(time.RFC3339), "renewals", st.Renewals, "renewal_failures", st.Failures}
	}
}
