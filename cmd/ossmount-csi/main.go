// Command ossmount-csi is the Kubernetes CSI node plugin of ossmount
// (package csi): it mounts /dev/fuse at each pod's target path and hands
// the fd to `ossmount mounter`, which serves it. Flags only; no logic.
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/ossmount/ossmount/csi"
)

// version is set by the Makefile through -ldflags.
var version = "dev"

func main() {
	endpoint := flag.String("endpoint", "unix:///csi/csi.sock", "CSI endpoint (unix socket) to serve")
	nodeID := flag.String("node-id", "", "Kubernetes node name (required; usually $(NODE_NAME))")
	mounterSocket := flag.String("mounter-socket", "/var/lib/ossmount-csi/mounter.sock", "socket of `ossmount mounter`")
	stateDir := flag.String("state-dir", "/var/lib/ossmount-csi", "per-mount tokens, credentials and logs; the mounter must see the same path")
	stateUID := flag.Int("state-dir-uid", 0, "if > 0, chown the state directory to this uid (the mounter's), so it can create its socket")
	stateGID := flag.Int("state-dir-gid", 0, "if > 0, chown the state directory to this gid")
	readAheadKB := flag.Int("read-ahead-kb", 1024, "kernel read-ahead of each mount in KiB")
	mountTimeout := flag.Duration("mount-timeout", 2*time.Minute, "longest a publish may take")
	logLevel := flag.String("log-level", "info", "debug, info, warn or error")
	showVersion := flag.Bool("version", false, "print the version and exit")
	flag.Parse()
	if *showVersion {
		fmt.Println("ossmount-csi", version)
		return
	}
	if err := run(*endpoint, *logLevel, csi.Config{NodeID: *nodeID, MounterSocket: *mounterSocket, StateDir: *stateDir,
		StateDirUID: *stateUID, StateDirGID: *stateGID, ReadAheadKB: *readAheadKB, MountTimeout: *mountTimeout, Version: version}); err != nil {
		fmt.Fprintln(os.Stderr, "ossmount-csi:", err)
		os.Exit(1)
	}
}

func run(endpoint, logLevel string, cfg csi.Config) error {
	var level slog.Level
	if err := level.UnmarshalText([]byte(logLevel)); err != nil {
		return fmt.Errorf("--log-level: %w", err)
	}
	cfg.Logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
	d, err := csi.New(cfg)
	if err != nil {
		return err
	}
	d.CleanupDeadMounts()
	ln, err := csi.Listen(endpoint)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	cfg.Logger.Info("serving", "endpoint", endpoint, "node", cfg.NodeID, "driver", csi.DriverName, "version", version)
	return d.Serve(ctx, ln)
}
