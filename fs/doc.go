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
// ".", "..", a NUL byte, a segment over 255 bytes, the reserved
// outsideMount) are skipped and counted,
// one Warn line per listing with the count.
//
// Lookup answers from the metadata cache, else with one LIST (prefix
// "name/", MaxKeys 1) and one HEAD sent together; concurrent lookups of a
// name share them (singleflight). Readdir streams ListObjectsV2 pages with
// delimiter "/": a fetch goroutine requests each page as soon as it has
// the previous one's token, up to two pages ahead of the kernel, and
// every entry goes into the cache, so `ls -l` costs no HEAD; READDIRPLUS
// answers from the listing itself. A listing whose token repeats, whose
// page does not start after the previous page's last key, or that sends
// 100 empty pages in a row ends with EIO (logged): every loop over server
// answers ends. Every directory handle lists "." and ".." first (offsets
// 1 and 2; go-fuse makes no node for them under READDIRPLUS). A
// directory's mtime is the newest mtime among the entries its listings
// (or replays of a cached listing) showed, kept in its dirNode and never
// moved back, or the mount time where none did.
//
// OSS symbolic links (listing Type Symlink; HEAD x-oss-object-type
// Symlink, or 404 SymlinkTargetNotExist for a dangling one) are
// symlinkNodes (symlink.go). Readlink asks GetSymlink through the
// optional SymlinkStore interface, once per version of the link, and
// answers the relative path from the link to the target inside the mount
// (linkTarget), so the kernel resolves it and reads go to the target
// itself. A target outside the prefix, or a key that is no path, reads as
// a path under outsideMount at the mount root, a reserved name (skipped
// like other unusable keys), so the link dangles, never climbing out of
// the mount.
//
// # The metadata cache
//
// One cache (cache.go), bounded by memory (MetadataCacheMemory), kept per
// directory: the newest listing in compact form (listing.go: 56-byte
// slots sorted by name, in chunks of 4,096, names packed per page, MD5
// ETags as 16 bytes; a listed name costs 56 bytes plus its length, as
// BenchmarkListMemory measures) plus the names resolved one by one. Whole directories are evicted,
// least recently used first, so a name a listing showed stays answerable
// for MetadataTTL whatever the directory's size. A complete listing also
// answers readdir again within the TTL (no LIST) and says that names it
// lacks are missing (within NegativeTTL). A TTL of 0 caches nothing;
// TTLIndefinite trusts what was seen until unmount (kernel timeouts too).
// The kernel's readdir cache is reused while a complete listing is
// younger than MetadataTTL. Past hugeDirEntries names of one listing,
// READDIRPLUS entries carry no node, and the node a lookup makes for a
// file there is handed to the pruner (pruner.go), which asks the kernel
// to drop it once unused: neither the kernel nor go-fuse keeps a node per
// name of a huge directory.
// Open pins the ETag the cache holds; every GET of the handle carries
// If-Match on it, so an object replaced while open fails that handle with
// ESTALE, never mixing versions within what the handle reads from OSS.
//
// # Reads
//
// Each handle has a prefetcher (prefetch.go). A read that continues the
// previous one starts a sequential run; the run's window (four times the
// bytes read so far, from 1 MiB up to ReadAheadMaxBytes or the handle's
// equal share of ReadAheadBudget) is fetched as parallel ranged GETs of
// 256 KiB growing to PartSize, which complete in any order while reads
// take from them in order: a read served from the window lends the parts'
// buffers to go-fuse, which writes them to the kernel with one writev and
// gives them back when done (no copy in the mount). 4 MiB behind the
// reader are kept for the kernel's late concurrent reads. Other reads
// are exact ranged GETs into the caller's buffer; two in a row drop the
// window. Part buffers come from one readBudget (budget.go) made in New:
// mmap'd outside the Go heap so the budget bounds their RSS, reused by
// size class; a lent buffer counts against the budget until go-fuse is
// done with it. A handle that finds no budget reads exactly; nothing
// waits for budget. Mount raises the kernel's read-ahead to max_read
// (1 MiB) so the kernel sends 1 MiB reads (more made no difference in
// bench), and getxattr answers ENOSYS so the kernel stops asking.
//
// # Shared reads and listings
//
// New stacks sharedStore (sharedstore.go) over the given Store, so that
// processes reading the same data at once pay for it once. Identical
// concurrent List calls share one request, and a page answers identical
// calls for up to 5 s after it arrived, never longer than the metadata
// TTLs (sharedlist.go): concurrent listings of one directory share its
// pages even when they drift apart. GetRange requests of one object
// version that overlap (several handles reading one file) are cut into
// pieces that join ranges in flight or just fetched, and only the gaps
// are fetched (sharedread.go); each range is one GET into a buffer from
// a separate 64 MiB pool, kept for 5 s after its last reader, which
// every reader copies from as bytes arrive. Requests of a version that
// nothing overlaps (a lone reader) pass through untouched.
//
// # Metrics
//
// Metrics (metrics.go) reads counters kept in atomics: metadata cache
// hits, misses, evictions and entries, read-ahead memory, and, with
// Config.RecordOps, the latency and errors of each FUSE operation and the
// files open. go-fuse's node API has no per-operation hook, so RecordOps
// mounts through a wrapper of its raw filesystem that times the
// operations ossmount serves (two clock reads per operation).
//
// # Non-goals
//
// Writing of any kind (every write operation answers EROFS), xattrs of
// object metadata, hard-link counts, and caching file data beyond the
// read-ahead window (the kernel's page cache does that).
//
// # Concurrency
//
// Every node and handle is safe for the concurrent calls go-fuse makes.
// Shared state lives in tree (immutable after New), in the metadata
// cache (one mutex over its directories and listings), in the read
// budget, in the pruner, in the set of shadowed keys already logged and
// in the shared store, each with its own mutex. Work shared by several callers
// (a merged lookup, a shared LIST or range) runs detached from the first
// caller's context with its own timeout; each caller waits on its own
// context and gets EINTR when interrupted. Goroutines belong to a
// dirStream or a prefetcher (Close cancels and waits; a directory
// handle's Releasedir closes its dirStream, a file handle's Release its
// prefetcher), to one lookup, to the mount (the pruner: Mount
// starts it, it ends with the server), or to one shared range, whose GET
// ends when done, when its last reader leaves, or after two minutes. A
// read's ctx bounds only its wait: the parts it waits for keep running
// for the next read. A FLUSH (any close(2) of a descriptor of the open
// file: a dup, a forked child exiting, or the reader itself) cancels
// nothing; it pauses the window for the closing thread's reads inside
// it, so a killed reader costs at most the parts in flight, and RELEASE
// cancels those. No lock is held across I/O or a channel wait.
//
// # Lock order
//
// Locks are per directory node (dirNode.mu), per link (symlinkNode.mu),
// per reader (prefetcher.mu), in the budget (readBudget.mu), in the cache
// (metaCache.mu), in the pruner (pruner.mu), in the shadow log
// (onceSet.mu) and in the shared store (listSharer.mu, readSharer.mu,
// flight.mu). The nestings are prefetcher.mu then readBudget.mu (a
// reader takes and returns buffers, and asks its share, under its own
// lock), and readSharer.mu then its pool's readBudget.mu; no other lock
// is taken while one is held.
//
// # Error contract
//
// Errno is the one mapping from errors to errnos: not found → ENOENT,
// access denied and rejected credentials → EACCES, precondition failed →
// ESTALE, cancelled → EINTR, anything else → EIO. A read answers only
// what read(2) answers on a local file: an object replaced or deleted
// under an open handle is ESTALE (and drops the name's cache entry and the
// kernel's attributes, so the next open sees the new version at once),
// access refused by OSS is EIO; getattr through an open handle answers
// the version it reads, never ENOENT. Every failure a user
// sees (other than ENOENT and EINTR) is logged once at the point it is
// returned, with the OSS request ID. Nothing a bucket contains can panic
// the mount.
package fs
