package oss

import "errors"

// Sentinel errors that callers test with errors.Is. *ServiceError matches
// them through its Is method; they are never returned bare.
var (
	ErrNotFound           = errors.New("not found")            // 404 NoSuchKey, NoSuchBucket, SymlinkTargetNotExist
	ErrAccessDenied       = errors.New("access denied")        // 403 other than credential problems
	ErrPreconditionFailed = errors.New("precondition failed")  // 412: the object changed (If-Match)
	ErrCredentials        = errors.New("credentials rejected") // expired/invalid token or unknown key
	// ErrSymlinkTargetMissing: the key is a symbolic link whose target does
	// not exist (404 SymlinkTargetNotExist, on HEAD from x-oss-err); such an
	// error also matches ErrNotFound.
	ErrSymlinkTargetMissing = errors.New("symlink target missing")
)
