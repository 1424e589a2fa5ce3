// Package csi is the Kubernetes CSI node plugin of ossmount (Identity and
// Node services; no controller): volumes are static PersistentVolumes or
// inline ephemeral volumes whose handle or "target" attribute names
// BUCKET[:/PREFIX].
//
// NodePublishVolume opens /dev/fuse, mounts it read-only at the target
// itself (it is the privileged side), raises the mount's kernel
// read-ahead, writes the pod's service account token (or a fallback
// AccessKey credentials file) into the mount's state directory, and hands
// the fd to `ossmount mounter` over its unix socket (package mountproto).
// The mounter, unprivileged, runs the ossmount process that serves the
// mount, so restarting this plugin never touches a mount.
//
// Non-goals: writes, staging, a controller, topology. The plugin never
// imports fs or oss: ossmount processes do the data path.
//
// Concurrency: every RPC may run concurrently; operations on one target
// path are serialized by a per-target in-flight set (a second one gets
// Aborted, and the caller retries, as the CSI spec expects).
//
// Errors: gRPC status errors; InvalidArgument for bad requests and
// refused mount options, the ossmount child's one-line error (Internal) when
// the mount fails, Unavailable when the mounter cannot be reached.
// Secrets (tokens, AccessKeys) are written only to 0600 files and never
// logged or put on a command line.
package csi
