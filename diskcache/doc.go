// Package diskcache keeps object data on local disk, so that reading a
// dataset again (the second epoch of a training job) costs no request to
// OSS. It is a decorator of fs's object-store interface: Cache has the
// method set of fs.Store, wraps another Store (the OSS client), and is
// stacked under the FUSE tree by cmd/ossmount. fs never sees a disk.
//
// # Correct by construction
//
// Data is cached in blocks of BlockSize bytes (default 256 KiB: the
// read-ahead's first part, from which parts grow, so a sequential read
// from the start of a file asks for whole blocks). A block is identified by
// the SHA-256 of (bucket, key, ETag) and its index. A handle pins an
// ETag at open, so a cached byte can only belong to the version it
// pinned; a replaced object has a new ETag and simply misses. There is no
// invalidation. Old versions age out through the LRU. List and Head pass
// through: the cache holds data, never metadata. A GetRange without an
// ETag passes through uncached.
//
// # Files
//
// DIR/lock (flock, holds the owner's pid), DIR/tmp/ (writes in progress),
// DIR/blocks/XX/<hash>.<index> (XX: first byte of the hash, 256 fan-out
// directories). Directories are 0700 and files 0600 whatever the umask;
// DIR itself is created 0700 if missing and otherwise left as it is.
// Each block file is a 64-byte header (magic, format version, the object
// hash, block index, block size, data length, CRC-32C of the data, CRC-32C
// of the header) and the data. A file name is never trusted alone: every
// header field and both checksums are checked on each read, and a file
// that fails is deleted and the block fetched again.
//
// # Reads and fills
//
// GetRange returns a reader that walks the range block by block (the first
// block is read at the call, so the store's refusal, such as
// oss.ErrPreconditionFailed, comes from GetRange as it does without the
// cache). A block on disk is read whole into a pooled buffer, verified,
// and served; while the caller consumes it, the next cached block of the
// range is read by a goroutine the reader owns (Close waits for it). A
// missing block is claimed, together with the missing blocks after it up
// to the end of the range (at most 64), and fetched with one ranged GET
// from the block boundary, so a read of a partial block costs the whole
// block. The reader fills each block from the body, hands it to the
// waiters and to a bounded write queue, and serves it: the caller never
// waits for the disk. When the queue is full the block is simply not
// cached (counted, one Warn). Readers that need a block another reader is
// downloading wait for that download, not one each; if it fails or is
// abandoned they look again and may download it themselves. A downloaded
// block waiting for the disk is served from memory. Errors from the store
// (such as oss.ErrPreconditionFailed) reach the caller unchanged.
//
// The last block of an object is shorter than BlockSize; a body that ends
// with a plain io.EOF before BlockSize marks the end of the object (the
// store reports a body cut short as another error, never io.EOF).
//
// # Writes, crash safety and the fsync policy
//
// The queue holds WriteQueue blocks (default 256: 64 MiB, enough for the
// bursts of 8 readers' read-ahead; 32 overflowed in bench). Four writer
// goroutines take blocks from it: reserve the space
// (evicting least recently used blocks, whose files are removed before
// the new file is written), write DIR/tmp/block-*, rename it into place,
// then index it. There is no fsync: after a crash a block may be
// truncated or hold garbage, and its checksum catches that on the next
// read, so fsync would only cost the first epoch a flush per block.
//
// At start (New) the tmp directory is emptied and the block files are
// indexed from their names and sizes alone, with one stat each by 16
// goroutines (about 18,000 blocks, 4.5 GiB of cache, a second on a cold
// page cache here), newest first by modification time; headers and
// checksums are verified when a block is read. A file whose name or size
// cannot be a block is removed.
//
// # Bounded
//
// Every block file is charged its size rounded up to 4 KiB plus 128 bytes
// for its directory entry, and 264×4 KiB of Size are kept for the
// directories and the lock file, so du of DIR stays under Size. Space is
// reserved before a write and released after a removal, so the limit
// holds at every moment. On ENOSPC (or EDQUOT) the limit drops to what is
// on disk and the cache keeps working inside it; other write errors skip
// the block. Either way reads still succeed, with one Warn per cause.
//
// # Concurrency and locks
//
// Cache is safe for concurrent use; one mutex guards the index (map, LRU,
// charged bytes, flights) and is never held across I/O or a channel wait.
// The writers are owned by Cache: Close drains the queue, waits for them
// and releases the directory lock. A second Cache on a directory in use
// (another ossmount) fails in New with a clear error.
//
// # Non-goals
//
// Sharing one directory between mounts, caching metadata, persisting
// recency across remounts (mtime stands in). FUSE passthrough (the kernel
// reading a cache file directly): it would need whole-object files and a
// hook in fs, and the kernel would serve bytes no checksum was verified
// against, which breaks the promise above.
package diskcache
