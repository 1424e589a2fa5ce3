// Package mountproto is the wire protocol between the CSI node plugin
// (ossmount-csi, privileged) and `ossmount mounter` (unprivileged): one
// SOCK_SEQPACKET message carrying a JSON Request and, as SCM_RIGHTS, the
// /dev/fuse fd that the plugin has mounted; one JSON Reply back.
//
// It imports only the standard library, so that cmd/ossmount can use it
// without linking gRPC or Kubernetes code. Safe for concurrent use: every
// function works on its own connection.
//
// Errors: Send and Receive return wrapped I/O and decoding errors; a Reply
// with OK false carries the child's one-line error for the user.
package mountproto
