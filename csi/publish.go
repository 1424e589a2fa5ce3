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

	"github.com/ossmount/ossmount/csi/mountproto"
)

// NodePublishVolume mounts the volume at the target path (see doc.go).
// A live mount of the same volume there is kept, and its token file
// rewritten (requiresRepublish brings fresh tokens); a dead one is
// replaced. Access modes other than read-only are accepted; the mount is
// always read-only.
func (d *Driver) NodePublishVolume(ctx context.Context, req *csipb.NodePublishVolumeRequest) (*csipb.NodePublishVolumeResponse, error) {
	target := req.GetTargetPath()
	switch {
	case req.GetVolumeId() == "":
		return nil, status.Error(codes.InvalidArgument, "volume ID missing")
	case target == "":
		return nil, status.Error(codes.InvalidArgument, "target path missing")
	case req.GetVolumeCapability() == nil:
		return nil, status.Error(codes.InvalidArgument, "volume capability missing")
	case req.GetVolumeCapability().GetBlock() != nil:
		return nil, status.Error(codes.InvalidArgument, "block volumes are not supported: an OSS volume is a filesystem mount")
	}
	spec, err := parseVolume(req)
	if err != nil {
		return nil, status.Error(codes.InvalidArgument, err.Error())
	}
	unlock, err := d.lockTarget(target)
	if err != nil {
		return nil, err
	}
	defer unlock()

	st := d.stateFor(target)
	if st.uid, st.gid, err = d.mounterOwner(); err != nil {
		return nil, status.Error(codes.Unavailable, err.Error())
	}
	mounted, err := d.mountedAt(target)
	if err != nil {
		return nil, status.Errorf(codes.Internal, "checking %s: %v", target, err)
	}
	if mounted {
		done, err := d.republish(ctx, req, spec, st)
		if done || err != nil {
			return &csipb.NodePublishVolumeResponse{}, err
		}
	}
	if err := d.publish(ctx, req, spec, st); err != nil {
		return nil, err
	}
	return &csipb.NodePublishVolumeResponse{}, nil
}

// republish handles a target that is mounted already: done is true when
// the live mount is kept; false after a dead mount was removed.
func (d *Driver) republish(ctx context.Context, req *csipb.NodePublishVolumeRequest, spec volumeSpec, st mountState) (done bool, err error) {
	target := req.GetTargetPath()
	rec, err := st.read()
	if err != nil {
		return false, status.Errorf(codes.FailedPrecondition, "%s is mounted, but not by this driver", target)
	}
	if rec.VolumeID != req.GetVolumeId() {
		return false, status.Errorf(codes.AlreadyExists, "%s already holds volume %s", target, rec.VolumeID)
	}
	sctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	_, err = statfsTarget(sctx, target)
	if err == nil {
		if spec.token != "" {
			if err := st.writeToken(spec.token); err != nil {
				return false, status.Errorf(codes.Internal, "rewriting the token file: %v", err)
			}
		}
		return true, nil
	}
	d.log.Warn("replacing a dead mount", "volume", req.GetVolumeId(), "target", target, "err", err)
	if err := unmountTarget(target); err != nil {
		return false, status.Errorf(codes.Internal, "unmounting the dead mount at %s: %v", target, err)
	}
	return false, nil
}

// publish mounts /dev/fuse at the target and has the mounter serve it.
// On failure it leaves no mount and no state behind.
func (d *Driver) publish(ctx context.Context, req *csipb.NodePublishVolumeRequest, spec volumeSpec, st mountState) (err error) {
	target := req.GetTargetPath()
	if err := os.MkdirAll(target, 0o750); err != nil {
		return status.Errorf(codes.Internal, "creating %s: %v", target, err)
	}
	if err := st.create(record{VolumeID: req.GetVolumeId(), TargetPath: target}); err != nil {
		return status.Errorf(codes.Internal, "creating the mount's state directory: %v", err)
	}
	mreq := mountproto.Request{MountID: st.id, Target: spec.target, Args: spec.args, RoleARN: spec.roleARN,
		LogFile: st.logFile(), MemoryLimit: spec.memoryLimit}
	if spec.token != "" {
		mreq.OIDCProviderARN, mreq.OIDCTokenFile = spec.oidcProviderARN, st.tokenFile()
		err = st.writeToken(spec.token)
	} else {
		mreq.CredentialsFile = st.credentialsFile()
		err = st.writeCredentials(spec.accessKeyID, spec.accessKeySecret)
	}
	if err != nil {
		st.remove()
		return status.Errorf(codes.Internal, "writing the credentials: %v", err)
	}
	fuseFD, err := mountFUSE(target, spec.target)
	if err != nil {
		st.remove()
		return status.Error(codes.Internal, err.Error())
	}
	defer fuseFD.Close()
	defer func() {
		if err != nil {
			if uerr := unmountTarget(target); uerr != nil {
				d.log.Warn("unmounting after a failed publish", "target", target, "err", uerr)
			}
			st.remove()
		}
	}()
	deadline := time.Now().Add(d.cfg.MountTimeout)
	if dl, ok := ctx.Deadline(); ok && dl.Before(deadline) {
		deadline = dl
	}
	reply, err := mountproto.Send(d.cfg.MounterSocket, mreq, fuseFD, deadline)
	if err != nil {
		return status.Error(codes.Unavailable, err.Error())
	}
	if !reply.OK {
		return status.Error(codes.Internal, reply.Error)
	}
	wctx, cancel := context.WithDeadline(ctx, deadline)
	defer cancel()
	if err := waitServing(wctx, target); err != nil {
		return status.Errorf(codes.Internal, "the mount does not answer: %v; see %s", err, st.logFile())
	}
	// Only now: stat of the mount root waits for its server.
	if err := setReadAhead(target, d.cfg.ReadAheadKB); err != nil {
		d.log.Warn("kernel read-ahead left at its default", "target", target, "err", err)
	}
	d.log.Info("published", "volume", req.GetVolumeId(), "target", target, "bucket", spec.target, "pid", reply.PID)
	return nil
}

// NodeUnpublishVolume unmounts the target (lazily if busy; a dead mount
// too), removes it and the mount's state. A missing target is success.
func (d *Driver) NodeUnpublishVolume(ctx context.Context, req *csipb.NodeUnpublishVolumeRequest) (*csipb.NodeUnpublishVolumeResponse, error) {
	target := req.GetTargetPath()
	switch {
	case req.GetVolumeId() == "":
		return nil, status.Error(codes.InvalidArgument, "volume ID missing")
	case target == "":
		return nil, status.Error(codes.InvalidArgument, "target path missing")
	}
	unlock, err := d.lockTarget(target)
	if err != nil {
		return nil, err
	}
	defer unlock()
	mounted, err := d.mountedAt(target)
	if err != nil {
		return nil, status.Errorf(codes.Internal, "checking %s: %v", target, err)
	}
	if mounted {
		if err := unmountTarget(target); err != nil {
			return nil, status.Errorf(codes.Internal, "unmounting %s: %v", target, err)
		}
	}
	if err := os.Remove(target); err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, status.Errorf(codes.Internal, "removing %s: %v", target, err)
	}
	if err := d.stateFor(target).remove(); err != nil {
		return nil, status.Errorf(codes.Internal, "removing the mount's state: %v", err)
	}
	d.log.Info("unpublished", "volume", req.GetVolumeId(), "target", target)
	return &csipb.NodeUnpublishVolumeResponse{}, nil
}

// mountedAt reports whether a filesystem (a dead FUSE mount included) is
// mounted at target, from the mount table: a stat of the target would
// hang on a mount whose server hangs.
func (d *Driver) mountedAt(target string) (bool, error) {
	mps, err := d.mounts.List()
	if err != nil {
		return false, err
	}
	target = filepath.Clean(target)
	for _, mp := range mps {
		if mp.Path == target {
			return true, nil
		}
	}
	return false, nil
}
