// Package fs is the read-only FUSE node tree of ossmount: it shows the
// objects under one prefix of a bucket as files and directories, built on
// go-fuse v2's fs API (imported as fusefs) over the small Store interface
// that *oss.Client implements.
//
// # The tree
//
// Directories come from CommonPrefixes and from "dir/" marker objects
// (markers are not entries); files from objects. Where a key "a" and keys
// under "a/" both exist, the directory wins and the file is hidden (logged
// once). Keys that cannot be a path component (an empty segment from "//",
// ".", "..", a NUL byte, a segment over 255 bytes) are skipped and counted,
// one Warn line per listing with the count.
//
// Lookup answers from the metadata cache, else with one LIST (prefix
// "name/", MaxKeys 1) and one HEAD sent together; concurrent lookups of a
// name share them (singleflight). Readdir streams ListObjectsV2 pages with
// delimiter "/", prefetching the next page while the kernel consumes the
// current one, and puts every entry into the cache, so `ls -l` costs no
// HEAD; READDIRPLUS answers from the listing itself. The kernel's readdir
// cache is reused while a complete listing is younger than MetadataTTL.
// Open pins the ETag the cache holds; reads use ranged GETs with If-Match
// on it through an objectReader (reader.go), so an object replaced while
// open fails that handle with ESTALE, never mixing versions.
//
// # Non-goals
//
// Writing of any kind (every write operation answers EROFS), symlinks,
// xattrs of object metadata, hard-link counts, directory timestamps (all
// directories show the mount time), and the high-throughput parallel
// prefetcher (a separate objectReader).
//
// # Concurrency
//
// Every node and handle is safe for the concurrent calls go-fuse makes.
// Shared state lives in tree (immutable after New) and in the metadata
// cache (golang-lru, plus one mutex that makes compare-and-store atomic).
// Work shared by several callers (a merged lookup) runs detached from the
// first caller's context with its own timeout; each caller waits on its
// own context and gets EINTR when interrupted. Goroutines belong to a
// dirStream (Close cancels and waits) or to one lookup. No lock is held
// across I/O or a channel wait.
//
// # Lock order
//
// Locks are per node (dirNode.mu, fileNode.mu), per reader
// (streamReader.mu) and in the cache (metaCache.mu); none is taken while
// another is held, so there is no order to keep.
//
// # Error contract
//
// Errno is the one mapping from errors to errnos: not found → ENOENT,
// access denied and rejected credentials → EACCES, precondition failed →
// ESTALE, cancelled → EINTR, anything else → EIO. Every failure a user
// sees (other than ENOENT and EINTR) is logged once at the point it is
// returned, with the OSS request ID. Nothing a bucket contains can panic
// the mount.
package fs
