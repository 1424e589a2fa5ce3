package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"log/slog"
	"os"
	"os/exec"
	"os/signal"
	"strconv"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/ossmount/ossmount/creds"
	ossfs "github.com/ossmount/ossmount/fs"
	"github.com/ossmount/ossmount/keyindex"
	"github.com/ossmount/ossmount/oss"
)

// runMount is `ossmount [options] BUCKET[:/PREFIX] MOUNTPOINT`.
func runMount(c *cli.Context) error {
	if c.NArg() != 2 {
		if c.NArg() == 0 {
			return cli.ShowAppHelp(c)
		}
		return fmt.Errorf("expected BUCKET[:/PREFIX] MOUNTPOINT, got %d argument(s); see ossmount --help", c.NArg())
	}
	tgt, err := parseTarget(c.Args().Get(0))
	if err != nil {
		return err
	}
	fdMount := isFDMountpoint(c.Args().Get(1))
	if !c.Bool("foreground") && !fdMount {
		return startBackground(os.Args[1:], startupBound(c))
	}
	keep := catchKeepSignals()
	sink, logger, err := openLogger(c)
	if err != nil {
		return err
	}
	defer sink.Close()
	log.SetOutput(sink) // go-fuse's messages (--debug-fuse) go where ours go
	s, err := readSettings(c, tgt, logger)
	if err != nil {
		return err
	}
	manifest, err := loadManifest(s.manifest, tgt)
	if err != nil {
		return err
	}
	var lock io.Closer = io.NopCloser(nil)
	if fdMount {
		// Mounted already by a privileged parent (the CSI plugin): no
		// fusermount3, no mountpoint directory to check or lock.
		s.mountpoint = c.Args().Get(1)
	} else {
		if err := checkFUSE(); err != nil {
			return err
		}
		var lockFile *os.File
		if s.mountpoint, lockFile, err = prepareMountpoint(c.Args().Get(1), logger); err != nil {
			return err
		}
		lock = lockFile
	}
	defer lock.Close() // held, and so kept from the garbage collector, until the end

	ctx, stop := signal.NotifyContext(context.Background(), stopSignals...)
	defer stop()
	manager, client, _, err := connect(ctx, s, logger)
	if err != nil {
		return err
	}
	defer manager.Close()

	store, err := metadataStore(ctx, s, client, manifest, logger)
	if err != nil {
		return err
	}
	// The disk cache goes on top: metadata passes through it to the
	// metadata store, data reads are served from disk where they can be.
	data, closeCache, err := openCache(s.cache, store)
	if err != nil {
		return err
	}
	defer closeCache()
	fsys, err := ossfs.New(s.fs, data)
	if err != nil {
		return err
	}
	obs, err := startObservability(s, manager, client, fsys, data, logger)
	if err != nil {
		return err
	}
	defer obs.Close()
	opts := fsys.MountOptions(tgt.String(), s.allowOther, s.debugFUSE)
	if _, ok := store.(*keyindex.Store); ok {
		// A lookup costs no request, so READDIRPLUS saves nothing, and it
		// makes go-fuse build a node per entry that a walk (find, os.walk)
		// never asks for: find over 1M keys 37 s -> 8 s, RSS 882 -> 195 MiB.
		opts.DisableReadDirPlus = true
	}
	server, err := ossfs.Mount(s.mountpoint, fsys, opts)
	if err != nil {
		return fmt.Errorf("mounting %s at %s: %w", tgt, s.mountpoint, err)
	}
	started := time.Now()
	status := manager.Status()
	logger.Info("mounted", "bucket", tgt.Bucket, "prefix", tgt.Prefix, "mountpoint", s.mountpoint,
		"expires", status.Expiration.Format(time.RFC3339), "pid", os.Getpid())
	if fdMount {
		// The CSI mounter reads the plain verdict and keeps our stderr.
		notifyParent("ok")
	} else if inBackground() {
		where, err := sink.detach(syslogSocket)
		if err != nil {
			unmount(server, s.mountpoint, logger)
			return fmt.Errorf("detaching from the caller's terminal: %w", err)
		}
		notifyParent(fmt.Sprintf("ok ossmount: mounted %s at %s (pid %d); logs: %s", tgt, s.mountpoint, os.Getpid(), where))
	}

	served := make(chan struct{})
	go func() { server.Wait(); close(served) }()
	go serveKeepSignals(keep, served, sink, logger, statusOf(s, started, manager.Status))
	select {
	case <-served:
		logger.Info("unmounted from outside", "mountpoint", s.mountpoint)
	case <-ctx.Done():
		if fdMount {
			// The mountpoint is unknown here; whoever mounted unmounts.
			// Exiting closes the fd, and the mount answers ENOTCONN.
			logger.Info("signal received, closing the FUSE fd", "mountpoint", s.mountpoint)
			return nil
		}
		logger.Info("signal received, unmounting", "mountpoint", s.mountpoint)
		unmount(server, s.mountpoint, logger)
		// After a lazy detach the kernel ends the session only when the
		// last open file closes; a holder must not keep the process alive
		// forever. Exiting closes /dev/fuse, and reads on those files fail.
		select {
		case <-served:
		case <-time.After(detachGrace):
			logger.Warn("files still open on the detached mount; exiting, their reads now fail",
				"mountpoint", s.mountpoint, "waited", detachGrace.String())
		}
	}
	return nil
}

// isFDMountpoint reports whether mountpoint is /dev/fd/N: a /dev/fuse fd
// that the parent opened and mounted already (go-fuse serves it as is).
// Such a mount always runs in the foreground, since the fd belongs to this
// process, and signals only close the fd.
func isFDMountpoint(mountpoint string) bool {
	n, ok := strings.CutPrefix(mountpoint, "/dev/fd/")
	if !ok {
		return false
	}
	fd, err := strconv.Atoi(n)
	return err == nil && fd >= 0
}

// syslogSocket is where a background mount without --log-file sends its
// logs, when a syslog daemon (journald, rsyslog) listens there.
const syslogSocket = "/dev/log"

// detachGrace is how long a signalled mount waits for open files to close
// after a lazy unmount before it exits anyway.
const detachGrace = 2 * time.Second

// connect obtains temporary credentials and proves, with one LIST inside the
// prefix, that they can read the target. It needs no permission beyond the
// session policy: never the bucket root, never GetBucketInfo.
// It returns the first page of that listing.
func connect(ctx context.Context, s settings, logger *slog.Logger) (*creds.Manager, *oss.Client, oss.ListPage, error) {
	var page oss.ListPage
	manager, err := creds.New(ctx, s.creds)
	if err != nil {
		return nil, nil, page, fmt.Errorf("obtaining temporary credentials: %w", err)
	}
	client, err := oss.New(s.oss, manager)
	if err == nil && s.manifest == "" { // a manifest mount sends no LIST; metadata.go checks access
		page, err = listOnce(ctx, client, s.target)
	}
	if err != nil {
		manager.Close()
		return nil, nil, page, err
	}
	return manager, client, page, nil
}

// listOnce lists the first entry inside the target and explains failures.
func listOnce(ctx context.Context, client *oss.Client, tgt target) (oss.ListPage, error) {
	page, err := client.List(ctx, oss.ListInput{Prefix: tgt.Prefix, Delimiter: "/", MaxKeys: 10})
	switch {
	case err == nil:
		return page, nil
	case errors.Is(err, oss.ErrNotFound):
		return page, fmt.Errorf("bucket %q was not found at this endpoint: check the bucket name and that the endpoint is in the bucket's region (%w)", tgt.Bucket, err)
	case errors.Is(err, oss.ErrCredentials):
		return page, fmt.Errorf("OSS rejected the temporary credentials (%w)", err)
	case errors.Is(err, oss.ErrAccessDenied):
		need := "oss:ListObjects on acs:oss:*:*:" + tgt.Bucket
		if tgt.Prefix != "" {
			need += " with oss:Prefix " + tgt.Prefix + "*"
		}
		return page, fmt.Errorf("listing %s was denied: the role's policy must allow %s (see `ossmount policy --role-policy`) (%w)", tgt, need, err)
	default:
		return page, fmt.Errorf("listing %s: %w", tgt, err)
	}
}

// unmount detaches the mount; if files are still open (EBUSY) it detaches
// lazily, so that a SIGTERM never leaves a mount behind.
func unmount(server interface{ Unmount() error }, mountpoint string, logger *slog.Logger) {
	if err := server.Unmount(); err == nil {
		return
	} else {
		logger.Warn("unmount failed, detaching lazily", "mountpoint", mountpoint, "err", err)
	}
	if out, err := exec.Command("fusermount3", "-u", "-z", mountpoint).CombinedOutput(); err != nil {
		logger.Error("lazy unmount failed", "mountpoint", mountpoint, "err", err, "output", string(out))
	}
}

// openLogger builds the logger from --log-level and --log-file.
func openLogger(c *cli.Context) (*logSink, *slog.Logger, error) {
	level, err := parseLevel(c.String("log-level"))
	if err != nil {
		return nil, nil, err
	}
	sink, err := newLogSink(c.String("log-file"))
	if err != nil {
		return nil, nil, err
	}
	return sink, newLogger(sink, level), nil
}
