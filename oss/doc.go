// Package oss is ossmount's read-only client for Alibaba Cloud Object
// Storage Service: ListObjectsV2, HeadObject, ranged GetObject and
// GetSymlink (Client.Symlink; listings and HeadObject mark links with
// ObjectType "Symlink") on one bucket, signed with V4 (OSS4-HMAC-SHA256, the default) or V1 using
// whatever credentials a creds.Provider returns. The wire protocol it
// follows is described in reference/oss-protocol.md; the tests prove it
// against the official SDK's signer and the reference signature vectors.
//
// Non-goals: writes of any kind, multipart, versioned reads, pre-signed
// URLs, CNAME addressing and HTTP/2. The package never imports go-fuse and
// never returns errnos; fs maps its errors.
//
// # Names and listings
//
// CheckBucket is OSS's bucket naming rule (New applies it); CheckPrefix
// says whether a prefix can be mounted (no empty, "." or ".." segment, no
// NUL, segments of at most 255 bytes, at most 1023 bytes in all), so that
// callers reject one before any request. ObjectInfo holds only what
// ossmount reads: key, size, ETag, LastModified and ObjectType. List
// always asks for encoding-type=url and decodes keys, prefixes and the
// continuation token. Its body is read by a hand-written parser
// (listparse.go) that takes the XML OSS and the emulator send, allocating
// about two strings per object; any other body goes to encoding/xml, which
// alone decides what is an error.
//
// # Addressing
//
// Requests go to https://<bucket>.<endpoint>/<key> (virtual-hosted style, the
// only style OSS's own domains accept) unless Config.PathStyle is set or the
// endpoint host is an IP address, when they go to <endpoint>/<bucket>/<key>.
// The key is escaped in the path exactly as in the V4 canonical URI:
// everything but A-Z a-z 0-9 - . _ ~ and / becomes %XX.
//
// # Concurrency
//
// A *Client is safe for concurrent use and holds no locks across I/O: its
// shared mutable state is an atomic clock offset, an atomically swapped
// signing-key cache, counters (atomics, and a per-op mutex around one map
// increment) and the governor (one mutex, never held while waiting). The io.ReadCloser from GetRange belongs to one reader.
//
// # Errors
//
// A non-2xx answer is a *ServiceError (status, code, message, request ID,
// EC). Callers classify it with errors.Is against ErrNotFound (404
// NoSuchKey/NoSuchBucket/SymlinkTargetNotExist, or a HEAD 404 without a
// code), ErrSymlinkTargetMissing (404 SymlinkTargetNotExist: a link whose
// target is missing; HEAD reads the code from x-oss-err), ErrAccessDenied
// (403), ErrCredentials (403 SecurityTokenExpired, InvalidSecurityToken,
// AccessKeyIdAndSecurityTokenNotMatch, and InvalidAccessKeyId when the
// request was signed with a temporary key: OSS's answer to a token it no
// longer knows or a key sent without its token) and
// ErrPreconditionFailed (412); EC is for logs only. Other failures are
// wrapped "oss: <op> <key>: ...: %w"; a cancelled call matches ctx.Err().
//
// # Retries
//
// Every call is an idempotent read and is retried on 5xx, 429, 408,
// throttling codes, transport errors (resets, timeouts, refused
// connections) and truncated or unparsable 2xx bodies, with full-jitter
// capped exponential backoff waited on a timer and the ctx, at most
// Config.MaxAttempts tries within Config.MaxRetryTime. RequestTimeTooSkewed
// sets the clock offset from the server's Date header and retries at once.
// A rejected credential (ErrCredentials) is passed to the provider's
// Invalidate, if it has one, and the call retried once with what Retrieve
// returns next. 403, 404 and 412 are otherwise final. Each attempt is
// signed afresh (new x-oss-date, current credentials, current offset).
// A GetRange body cut mid-stream is resumed inside the reader from the
// first missing byte, pinned with If-Match; resumptions count against
// MaxAttempts, and the final error names the key, the bytes read and the
// last request ID.
//
// # Timeouts
//
// Every wait for the server is bounded by Config.ResponseHeaderTimeout
// (--request-timeout): dial and TLS handshake 10 s each, response headers
// (default transport), and every response body, error answers included:
// while a Read waits, the body must deliver 1 KiB (or end) within the
// timeout, or the attempt is cancelled as a retryable failure (idle.go), so
// that a body that stalls or trickles is resumed or retried, never waited
// on for ever. List and head attempts are also bounded as a whole (twice
// the timeout). A reader that stops reading is never timed out.
//
// # Governor and metrics
//
// Every attempt first waits (on the call's ctx) for the client's request
// governor (governor.go): a token bucket of Config.MaxRequestsPerSecond
// whose rate an AIMD controller (aimd.go) halves on throttling answers
// (429, or 503 with a throttling code: isThrottle), at
// most once a second, and raises by a tenth of its reference rate each
// second; without MaxRequestsPerSecond it is unlimited until the first
// throttling answer and lifted again once recovered. Config.MaxBandwidth
// paces the bytes read from response bodies. The client counts attempts
// by op and status, their latency to the response headers, retries by
// reason, throttled answers and body bytes in atomics (metrics.go);
// Stats reads them, so exporting costs nothing on the request path.
//
// Retries are logged at Warn with op, key, attempt, status, code and
// request_id. Secrets, tokens, Authorization headers and signed URLs are
// never logged.
package oss
