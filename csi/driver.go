package csi

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	csipb "github.com/container-storage-interface/spec/lib/go/csi"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"k8s.io/mount-utils"
)

// DriverName is the CSI driver name (the CSIDriver object's name).
const DriverName = "ossmount.csi.ossmount.io"

// Config configures New.
type Config struct {
	NodeID        string // required: the Kubernetes node name
	MounterSocket string // required: the socket of `ossmount mounter`
	// StateDir holds one directory per mount (token, credentials, log,
	// record); shared with the mounter, which must see the same paths.
	StateDir string // required
	// StateDirUID and StateDirGID, if > 0, own StateDir, so that the
	// mounter (uid 65532 in deploy/kubernetes) can create its socket there;
	// 0 leaves the owner as it is.
	StateDirUID, StateDirGID int
	// ReadAheadKB is the kernel read-ahead set on each mount, in KiB;
	// default 1024, matching ossmount's 1 MiB max_read.
	ReadAheadKB int
	// MountTimeout bounds a publish: obtaining credentials, first LIST,
	// first answer of the mount. Default 2 minutes.
	MountTimeout time.Duration
	Version      string
	Logger       *slog.Logger // nil: discard
}

// Driver implements the CSI Identity and Node services.
type Driver struct {
	csipb.UnimplementedIdentityServer
	csipb.UnimplementedNodeServer

	cfg    Config
	log    *slog.Logger
	mounts mount.Interface // the mount table, through k8s.io/mount-utils

	mu       sync.Mutex      // guards inflight
	inflight map[string]bool // target paths with an operation running
}

// New checks cfg and fills defaults.
func New(cfg Config) (*Driver, error) {
	switch {
	case cfg.NodeID == "":
		return nil, errors.New("csi: a node ID is required (--node-id)")
	case cfg.MounterSocket == "":
		return nil, errors.New("csi: the mounter socket is required")
	case cfg.StateDir == "":
		return nil, errors.New("csi: a state directory is required")
	}
	if cfg.ReadAheadKB == 0 {
		cfg.ReadAheadKB = 1024
	}
	if cfg.MountTimeout == 0 {
		cfg.MountTimeout = 2 * time.Minute
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	abs, err := filepath.Abs(cfg.StateDir)
	if err != nil {
		return nil, err
	}
	cfg.StateDir = abs
	if err := os.MkdirAll(filepath.Join(cfg.StateDir, "mounts"), 0o711); err != nil {
		return nil, fmt.Errorf("csi: state directory: %w", err)
	}
	if cfg.StateDirUID > 0 && cfg.StateDirGID > 0 {
		if err := os.Chown(cfg.StateDir, cfg.StateDirUID, cfg.StateDirGID); err != nil {
			return nil, fmt.Errorf("csi: state directory: %w", err)
		}
	}
	return &Driver{cfg: cfg, log: cfg.Logger, mounts: mount.New(""), inflight: map[string]bool{}}, nil
}

// Serve serves Identity and Node on ln until ctx ends. Call
// CleanupDeadMounts first, before the socket exists, so that kubelet
// never sees a dead mount as published.
func (d *Driver) Serve(ctx context.Context, ln net.Listener) error {
	srv := grpc.NewServer(grpc.UnaryInterceptor(d.logCalls))
	csipb.RegisterIdentityServer(srv, d)
	csipb.RegisterNodeServer(srv, d)
	go func() { <-ctx.Done(); srv.GracefulStop() }()
	return srv.Serve(ln)
}

// Listen opens the unix socket of an endpoint "unix:///csi/csi.sock",
// removing a stale socket file first.
func Listen(endpoint string) (net.Listener, error) {
	path, ok := strings.CutPrefix(endpoint, "unix://")
	if !ok || path == "" {
		return nil, fmt.Errorf("csi: endpoint %q: want unix:///path/to/csi.sock", endpoint)
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("csi: removing the old socket: %w", err)
	}
	return net.Listen("unix", path)
}

// logCalls logs every RPC at debug and failures at warn, without the
// request (it carries secrets and tokens).
func (d *Driver) logCalls(ctx context.Context, req any, info *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
	start := time.Now()
	resp, err := h(ctx, req)
	if err != nil {
		d.log.Warn("rpc failed", "op", info.FullMethod, "code", status.Code(err).String(), "err", status.Convert(err).Message(), "elapsed", time.Since(start))
	} else {
		d.log.Debug("rpc", "op", info.FullMethod, "elapsed", time.Since(start))
	}
	return resp, err
}

// lockTarget marks target busy; ok is false if another operation holds it.
func (d *Driver) lockTarget(target string) (unlock func(), err error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.inflight[target] {
		return nil, status.Errorf(codes.Aborted, "an operation on %s is already in progress", target)
	}
	d.inflight[target] = true
	return func() {
		d.mu.Lock()
		delete(d.inflight, target)
		d.mu.Unlock()
	}, nil
}

// GetPluginInfo names the driver.
func (d *Driver) GetPluginInfo(context.Context, *csipb.GetPluginInfoRequest) (*csipb.GetPluginInfoResponse, error) {
	return &csipb.GetPluginInfoResponse{Name: DriverName, VendorVersion: d.cfg.Version}, nil
}

// GetPluginCapabilities: none; the plugin is node-only.
func (d *Driver) GetPluginCapabilities(context.Context, *csipb.GetPluginCapabilitiesRequest) (*csipb.GetPluginCapabilitiesResponse, error) {
	return &csipb.GetPluginCapabilitiesResponse{}, nil
}

// Probe answers while the plugin serves. It does not check the mounter:
// a liveness failure would restart this plugin, which cannot help a
// missing mounter; publish reports that as Unavailable instead.
func (d *Driver) Probe(context.Context, *csipb.ProbeRequest) (*csipb.ProbeResponse, error) {
	return &csipb.ProbeResponse{}, nil
}
