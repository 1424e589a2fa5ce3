// Package emulator is a local Alibaba Cloud OSS + STS server for tests,
// benchmarks and the offline demo. It behaves like the real services
// wherever a client can notice (XML and JSON shapes, status codes, error
// codes, signature checks, range and conditional semantics) and can
// misbehave on purpose (Faults). Tests start it in-process with Start;
// cmd/ossemu runs it as a program.
//
// # Objects
//
// A bucket holds objects from three sources, usable together: an in-memory
// store (PutObject, DeleteObject; tests may change it while a mount is
// live), a directory on disk (AddDirectory: each subdirectory of the root is
// a bucket, each regular file an object keyed by its relative path, read on
// demand) and generated objects (AddGenerated: content is GeneratedContent,
// a deterministic stream from a seed and the key, never stored). When a key
// exists in several sources, memory wins over directory over generated.
// ETags are quoted upper-case MD5 hex for memory and directory objects and a
// stable fake for generated ones. x-oss-hash-crc64ecma is CRC-64/ECMA-182
// as OSS computes it (hash/crc64 with the ECMA table); for generated objects
// over 256 MiB it is omitted rather than computed.
//
// # OSS API
//
// ListObjectsV2 (list-type=2) and ListObjects (V1) with prefix, delimiter,
// start-after/marker, continuation-token (base64url of the last key or
// common prefix returned), max-keys (default 100, 1..1000 else 400
// InvalidArgument), encoding-type=url (form encoding, url.QueryEscape);
// byte-wise key order; common prefixes count toward max-keys and a common
// prefix is never returned again once the marker is at or past it.
// HeadObject, GetObjectMeta (HEAD ?objectMeta), GetObject with one Range
// (legacy semantics by default, x-oss-range-behavior: standard honoured),
// If-Match, If-None-Match, If-Modified-Since, If-Unmodified-Since;
// GetBucketInfo and GetBucketLocation. Symbolic links (AddSymlink, as
// PutSymlink makes them): listings mark them <Type>Symlink</Type>;
// GetObject and HeadObject follow the link (one hop) and answer the
// target with x-oss-object-type: Symlink, or 404 SymlinkTargetNotExist;
// GetSymlink (GET ?symlink, authorized as oss:GetObject) answers the
// target, each segment percent-encoded, in x-oss-symlink-target, and 400
// NotSymlink for other objects. Every write verb gets 403
// AccessDenied. Errors are the OSS XML document with x-oss-ec when the EC is
// documented; HEAD errors carry no body but x-oss-err (base64 of the XML).
// Every response carries x-oss-request-id and a Date from Config.Now.
// Addressing is path-style (/bucket/key) or virtual-hosted (Host
// "<bucket>.<anything>" whose first label is an existing bucket).
//
// # Authentication and authorization
//
// V4 and V1 Authorization headers are verified by re-signing the request
// with the official SDK signer (github.com/aliyun/alibabacloud-oss-go-sdk-v2/
// oss/signer), never with ossmount's own oss package. Checks, in order:
// signing time within 15 minutes (403 RequestTimeTooSkewed), AccessKeyId
// known (403 InvalidAccessKeyId, EC 0002-00000002; a temporary AccessKeyId
// sent without its x-oss-security-token is unknown too, as on real OSS),
// for STS keys the token matching and not revoked (403 InvalidSecurityToken, EC
// 0002-00000006) and not expired (403 SecurityTokenExpired, EC
// 0002-00000007), then the signature (403 SignatureDoesNotMatch). Requests
// without Authorization are anonymous and may only read public-read
// buckets. Pre-signed (query) URLs are not accepted. RAM user keys may do
// everything; STS keys may do what role policy ∩ session policy allows
// (package policy): oss:ListObjects on the bucket with condition keys
// oss:Prefix/oss:Delimiter for listings, oss:GetObject on the object for
// HEAD and GET. Otherwise 403 AccessDenied.
//
// # STS
//
// AssumeRole (GET or POST, parameters in the query and/or a form body) is
// verified with this package's own HMAC-SHA1 RPC signature code
// (rpcsign.go, tested against reference vectors), never with creds/:
// SignatureNonce replay (SignatureNonceUsed), Timestamp
// (InvalidTimeStamp.Format/.Expired), AccessKeyId
// (InvalidAccessKeyId.NotFound), RoleArn format (InvalidParameter.RoleArn)
// and existence (EntityNotExist.Role), trust (NoPermission),
// RoleSessionName, DurationSeconds 900..3600 and Policy 1..2048 characters
// and grammar (InvalidParameter.*). Role chaining (an STS key calling
// AssumeRole) is answered NoPermission. AssumeRoleWithOIDC is anonymous and
// accepts any non-empty OIDCToken for a registered provider
// (AddOIDCProvider); every role trusts every registered provider. Config.
// TokenLifetime forces the lifetime of every token.
//
// Start creates a demo RAM user (DemoAccessKeyID / DemoAccessKeySecret), a
// role DemoRoleARN (oss:GetObject and oss:ListObjects on everything,
// assumable by the demo user) and the OIDC provider DemoOIDCProviderARN.
//
// # Faults, counters and the admin endpoint
//
// SetFaults switches Faults while running: latency, bandwidth, error and
// throttling rates, resets and short bodies, truncated listings, STS
// outages, hangs, and bodies (GET, LIST, STS) that stall or trickle after
// their headers. SetThrottleAbove(R) answers 503 SlowDown to requests
// beyond R in each one-second window, as OSS does at an account's QPS limit
// (in-process only). Counters reports requests by operation and by
// "operation status", bytes sent, connections opened, bodies stalled and
// every AssumeRole call. For the program the same is reachable over HTTP on
// the OSS listener (path-style only; "_" cannot start a bucket name):
//
//	GET  /_emulator/faults          current faults as JSON
//	POST /_emulator/faults          replace them, e.g. {"latency":"50ms","error_rate":0.1}
//	                                or {"stall_bodies":1,"stall_after":65536,"stall_ops":"get"}
//	GET  /_emulator/counters        counters as JSON
//	POST /_emulator/counters/reset  zero the counters
//	POST /_emulator/revoke          revoke every issued STS token
//
// Admin requests are neither counted nor faulted.
//
// # Concurrency
//
// Every exported method is safe for concurrent use, including while
// requests are served. Locks (store, identities, faults, counters) are
// independent and never held together or across I/O.
//
// Non-goals: writes, versioning, multipart, pre-signed URLs, TLS, listening
// beyond loopback.
package emulator
