package csi

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"time"

	csipb "github.com/container-storage-interface/spec/lib/go/csi"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// NodeGetInfo names the node; no topology, no volume limit.
func (d *Driver) NodeGetInfo(context.Context, *csipb.NodeGetInfoRequest) (*csipb.NodeGetInfoResponse, error) {
	return &csipb.NodeGetInfoResponse{NodeId: d.cfg.NodeID}, nil
}

// NodeGetCapabilities: volume stats, volume health, fsGroup.
func (d *Driver) NodeGetCapabilities(context.Context, *csipb.NodeGetCapabilitiesRequest) (*csipb.NodeGetCapabilitiesResponse, error) {
	var caps []*csipb.NodeServiceCapability
	for _, t := range []csipb.NodeServiceCapability_RPC_Type{
		csipb.NodeServiceCapability_RPC_GET_VOLUME_STATS,
		csipb.NodeServiceCapability_RPC_GET_VOLUME_HEALTH,
		csipb.NodeServiceCapability_RPC_VOLUME_MOUNT_GROUP,
	} {
		caps = append(caps, &csipb.NodeServiceCapability{Type: &csipb.NodeServiceCapability_Rpc{Rpc: &csipb.NodeServiceCapability_RPC{Type: t}}})
	}
	return &csipb.NodeGetCapabilitiesResponse{Capabilities: caps}, nil
}

// NodeGetVolumeStats reports what ossmount's statfs shows. A mount whose
// ossmount process died is reported as FailedPrecondition naming the
// cause (CSI 1.13 moved the volume condition to NodeGetVolumeHealth).
func (d *Driver) NodeGetVolumeStats(ctx context.Context, req *csipb.NodeGetVolumeStatsRequest) (*csipb.NodeGetVolumeStatsResponse, error) {
	path := req.GetVolumePath()
	switch {
	case req.GetVolumeId() == "":
		return nil, status.Error(codes.InvalidArgument, "volume ID missing")
	case path == "":
		return nil, status.Error(codes.InvalidArgument, "volume path missing")
	}
	if err := d.checkPublished(req.GetVolumeId(), path); err != nil {
		return nil, err
	}
	sctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	st, err := statfsTarget(sctx, path)
	if err != nil {
		return nil, status.Errorf(codes.FailedPrecondition, "volume abnormal: %v", err)
	}
	bs := st.Bsize
	return &csipb.NodeGetVolumeStatsResponse{Usage: []*csipb.VolumeUsage{
		{Unit: csipb.VolumeUsage_BYTES, Total: int64(st.Blocks) * bs, Available: int64(st.Bavail) * bs, Used: int64(st.Blocks-st.Bfree) * bs},
		{Unit: csipb.VolumeUsage_INODES, Total: int64(st.Files), Available: int64(st.Ffree), Used: int64(st.Files - st.Ffree)},
	}}, nil
}

// NodeGetVolumeHealth reports INACCESSIBLE for each target of the volume
// whose ossmount process is gone or does not answer.
func (d *Driver) NodeGetVolumeHealth(ctx context.Context, req *csipb.NodeGetVolumeHealthRequest) (*csipb.NodeGetVolumeHealthResponse, error) {
	id := req.GetVolumeId()
	if id == "" {
		return nil, status.Error(codes.InvalidArgument, "volume ID missing")
	}
	targets := d.targetsOf(id)
	if p := req.GetVolumePublishPath(); p != "" {
		if err := d.checkPublished(id, p); err != nil {
			return nil, err
		}
		targets = []string{p}
	}
	if len(targets) == 0 {
		return nil, status.Errorf(codes.NotFound, "volume %s is not published on this node", id)
	}
	health := &csipb.VolumeHealth{VolumeId: id}
	for _, t := range targets {
		sctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		_, err := statfsTarget(sctx, t)
		cancel()
		if err != nil {
			health.HealthStatuses = append(health.HealthStatuses, &csipb.VolumeHealth_VolumeHealthEntry{
				Status: csipb.VolumeHealthErrorType_INACCESSIBLE, Reason: "MountNotServed",
				Message: t + ": " + err.Error() + "; delete the pod to get a new mount",
			})
		}
	}
	return &csipb.NodeGetVolumeHealthResponse{VolumeHealth: health}, nil
}

// checkPublished answers NotFound unless volume id is published at path.
func (d *Driver) checkPublished(id, path string) error {
	rec, err := d.stateFor(path).read()
	if err != nil || rec.VolumeID != id {
		return status.Errorf(codes.NotFound, "volume %s is not published at %s", id, path)
	}
	return nil
}

// records lists the state of every publish this plugin made.
func (d *Driver) records() []record {
	dirs, _ := filepath.Glob(filepath.Join(d.cfg.StateDir, "mounts", "*"))
	var recs []record
	for _, dir := range dirs {
		st := mountState{id: filepath.Base(dir), dir: dir}
		if rec, err := st.read(); err == nil {
			recs = append(recs, rec)
		}
	}
	return recs
}

func (d *Driver) targetsOf(volumeID string) []string {
	var targets []string
	for _, rec := range d.records() {
		if rec.VolumeID == volumeID {
			targets = append(targets, rec.TargetPath)
		}
	}
	return targets
}

// CleanupDeadMounts runs at start: a recorded mount whose ossmount process
// is gone is unmounted and forgotten (kubelet's next republish mounts it
// anew); a record with nothing mounted is dropped. Live mounts are kept:
// they belong to the mounter, not to this process.
func (d *Driver) CleanupDeadMounts() {
	for _, rec := range d.records() {
		st := d.stateFor(rec.TargetPath)
		mounted, err := d.mountedAt(rec.TargetPath)
		if err != nil {
			d.log.Warn("cannot check a recorded mount", "target", rec.TargetPath, "err", err)
			continue
		}
		if mounted {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			_, err := statfsTarget(ctx, rec.TargetPath)
			cancel()
			if !errors.Is(err, errNotConnected) {
				continue // live, or hung: a hung server may recover
			}
			if err := unmountTarget(rec.TargetPath); err != nil {
				d.log.Warn("unmounting a dead mount", "target", rec.TargetPath, "err", err)
				continue
			}
			d.log.Info("removed a dead mount", "volume", rec.VolumeID, "target", rec.TargetPath)
		}
		if err := st.remove(); err != nil && !errors.Is(err, os.ErrNotExist) {
			d.log.Warn("removing stale state", "dir", st.dir, "err", err)
		}
	}
}
