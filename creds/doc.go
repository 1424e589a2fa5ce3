// Package creds turns a source credential into temporary STS credentials
// limited by a session policy, and keeps them fresh.
//
// The mission is that no long-lived key signs a data request: New finds a
// source credential, then always exchanges it through STS AssumeRole (or,
// with an OIDC token, AssumeRoleWithOIDC) for a token of Config.RoleARN
// carrying Config.Policy, and Manager hands out only that token.
//
// Sources, in the order of the Alibaba Cloud default chain (reference 8.2):
//
//  1. environment: ALIBABA_CLOUD_ACCESS_KEY_ID/_SECRET (+ _SECURITY_TOKEN),
//     then OSS_ACCESS_KEY_ID/OSS_ACCESS_KEY_SECRET (+ OSS_SESSION_TOKEN);
//  2. OIDC (Kubernetes RRSA): ALIBABA_CLOUD_OIDC_PROVIDER_ARN and
//     ALIBABA_CLOUD_OIDC_TOKEN_FILE, role from Config.RoleARN (which
//     ossmount fills from ALIBABA_CLOUD_ROLE_ARN); the token file is re-read
//     at every renewal;
//  3. the CLI's ~/.aliyun/config.json (ALIBABA_CLOUD_CONFIG_FILE), profile
//     Config.Profile, ALIBABA_CLOUD_PROFILE or "current"; modes AK,
//     StsToken, RamRoleArn, EcsRamRole, OIDC; skipped when
//     ALIBABA_CLOUD_CLI_PROFILE_DISABLED=true;
//  4. the INI file ~/.alibabacloud/credentials
//     (ALIBABA_CLOUD_CREDENTIALS_FILE), section Config.Profile,
//     ALIBABA_CLOUD_PROFILE or "default"; types access_key, ram_role_arn,
//     ecs_ram_role;
//  5. the ECS instance RAM role via the metadata service, hardened mode first
//     (ALIBABA_CLOUD_ECS_METADATA names the role,
//     ALIBABA_CLOUD_IMDSV1_DISABLED=true forbids the v1 fallback,
//     ALIBABA_CLOUD_ECS_METADATA_DISABLED=true skips it), 1 s per probe.
//
// Files holding a key (3, 4 and Config.CredentialsFile) are treated as ssh
// treats a private key: one group or others may write is refused, one they
// may read is used with a warning (the OIDC token file, which Kubernetes
// projects world-readable and which is worth nothing without the role, is
// not checked).
//
// Config.CredentialsFile (that file only, INI or config.json by its content)
// or Config.Profile (3 and 4 only) limits the search to files. The
// environment's ALIBABA_CLOUD_PROFILE and ALIBABA_CLOUD_CREDENTIALS_FILE do
// not: as in the official chain (credentials-go), they only pick the
// profile and the INI file at steps 3 and 4. A source that is present but
// broken is an error, not a fall-through. When nothing is found, the error
// lists every place looked at. A RamRoleArn
// profile's role is the target when Config.RoleARN is empty; when another
// role is configured the profile's role is assumed first (role chaining).
//
// Renewal: the token renews in the background once
// max(RefreshFraction·lifetime, min(180 s, 2/3·lifetime)) remains, lifetime
// taken from the returned Expiration, with up to 20% jitter earlier. A failed
// renewal is retried with jittered backoff from 200 ms, capped at an eighth
// of the lifetime within [200 ms, 30 s]. Invalidate (a server rejected the
// token) forces a renewal, at most one a second. At most one renewal is in
// flight; it runs on a context no caller can cancel (Close can) with its
// own 30 s deadline. Renewals are scheduled on Config.Clock (tests simulate
// time); the I/O deadlines below are on the real clock.
//
// Bounds: every wait ends. An STS call has 10 s from connection to last
// byte, each metadata request 1 s, a renewal (source and STS) 30 s, and a
// token or credentials file is read within 5 s and 1 MiB (opened
// non-blocking: a FIFO without a writer reads as empty). Holders of an
// expired token wait for the renewal on their own ctx.
//
// Concurrency: Manager is safe for concurrent use. Retrieve never waits
// while the current token is valid (an atomic load); holders of an expired
// or server-rejected token join the renewal in flight and wait on their own
// ctx. Lock order: Manager.mu is a leaf lock, never held across I/O or a
// channel wait.
//
// Errors: STS error answers are *STSError (errors.As) with code, message,
// request id and a hint. Once the token has expired while STS keeps failing,
// Retrieve's error says when it expired and wraps the last STS error; it
// succeeds again by itself when STS recovers.
//
// Secrets: secrets and tokens live in Secret values, which print as
// "REDACTED"; no error or log record contains a secret, a token, a signature
// or a signed URL (transport errors have the query stripped).
//
// Non-goals: CloudSSO, OAuth and external-process profiles, credentials URI,
// ExternalId.
package creds
