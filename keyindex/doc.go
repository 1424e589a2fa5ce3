// Package keyindex holds the metadata of every object under one prefix in
// memory, so that a mount can answer listings and lookups with no request:
// built at mount time by listing the whole prefix in parallel
// (--prefetch-metadata), or read from a manifest written by `ossmount
// snapshot` (--manifest).
//
// Index is an immutable sorted set of (key, size, ETag, last-modified,
// symbolic link or not),
// packed: keys and ETags in an arena of 1 MiB chunks (an MD5 ETag as its
// 16 bytes) and a 24-byte entry per object, about 60 bytes per key for
// dataset-style names. Build makes one with a parallel flat listing: the
// root's first delimiter page cuts the key space into spans, a span being
// listed is cut again at guessed keys whenever workers would idle, and a
// span's last page that runs into the next span carries on there, with a
// bounded number of requests in flight; it logs progress (keys, keys per
// second) and, when done, the index's bytes per key.
// ReadManifest and WriteManifest read and write the versioned line format
// documented in manifest.go.
//
// Store is a decorator of fs's object-store interface (the same three
// methods; this package does not import fs): List and Head inside the
// root are answered from the index, exactly as OSS would answer them
// (contents and common prefixes interleaved in key order, MaxKeys,
// continuation tokens of its own), for a TTL or forever; GetRange always
// goes to the store behind, so every read still carries If-Match on the
// ETag the index gave. After the TTL the index is dropped and every call
// passes through; a listing in progress continues from its last key.
//
// # Non-goals
//
// Updating an index: it is built once and replaced by the backend after
// its TTL. Object metadata beyond size, ETag and time (content type,
// user metadata) is not kept; fs does not use it.
//
// # Concurrency
//
// Index is read-only after it is built. Store is safe for concurrent use;
// its only mutable state is an atomic pointer to the index. Build's
// workers share a queue under one mutex, held only to take or add spans
// and to append a page to the index, never across a request. Build's
// goroutines end before it returns.
//
// # Errors
//
// Head of a key inside the root that the index does not hold matches
// oss.ErrNotFound. Build returns the first listing error (wrapped, so
// errors.Is sees oss's sentinels) and stops the other requests. A
// manifest that cannot be used gives a *LineError with the line number;
// nothing in a manifest or a listing can panic.
package keyindex
