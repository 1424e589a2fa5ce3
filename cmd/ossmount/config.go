package main

import (
	"fmt"
	"io"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/ossmount/ossmount/creds"
	"github.com/ossmount/ossmount/diskcache"
	ossfs "github.com/ossmount/ossmount/fs"
	"github.com/ossmount/ossmount/oss"
	"github.com/ossmount/ossmount/policy"
)

// settings is everything a mount or a check needs, read from flags and env.
type settings struct {
	target     target
	mountpoint string
	creds      creds.Config
	oss        oss.Config
	fs         ossfs.Config
	cache      diskcache.Config // Dir empty: no disk cache
	allowOther bool
	debugFUSE  bool
	// metricsAddr is where /metrics is served; "" for nowhere.
	metricsAddr string
	// Metadata at mount (metadata.go): list everything first, or take
	// the tree from a manifest file.
	prefetchMetadata bool
	manifest         string
}

// readSettings maps the flag table onto the package Configs. It checks every
// value it can without the network, so a typo fails before anything starts
// (openLogger, called first, has checked --log-level and --log-file).
func readSettings(c *cli.Context, tgt target, logger *slog.Logger) (settings, error) {
	s := settings{target: tgt, allowOther: c.Bool("allow-other"), debugFUSE: c.Bool("debug-fuse"),
		prefetchMetadata: c.Bool("prefetch-metadata"), manifest: c.String("manifest")}
	if s.prefetchMetadata && s.manifest != "" {
		return s, fmt.Errorf("--prefetch-metadata and --manifest exclude each other: a manifest already holds every key")
	}

	endpoint := c.String("endpoint")
	if endpoint == "" {
		return s, fmt.Errorf("no OSS endpoint: give --endpoint or set OSS_ENDPOINT, e.g. https://oss-cn-hangzhou.aliyuncs.com")
	}
	sigVersion := strings.ToLower(c.String("signature-version"))
	if sigVersion != "v4" && sigVersion != "v1" {
		return s, fmt.Errorf("--signature-version must be v4 or v1, not %q", c.String("signature-version"))
	}
	s.oss = oss.Config{
		Endpoint:              endpoint,
		Region:                c.String("region"),
		Bucket:                tgt.Bucket,
		PathStyle:             c.Bool("path-style"),
		SignatureVersion:      sigVersion,
		ResponseHeaderTimeout: c.Duration("request-timeout"),
		UserAgent:             "ossmount/" + version,
		Logger:                logger,
	}
	if err := readGovernor(c, &s); err != nil {
		return s, err
	}

	sessionJSON, err := sessionPolicy(c.String("policy-file"), tgt, logger)
	if err != nil {
		return s, err
	}
	s.creds = creds.Config{
		RoleARN:         c.String("role-arn"),
		RoleSessionName: c.String("role-session-name"),
		Duration:        c.Duration("duration"),
		Policy:          sessionJSON,
		STSEndpoint:     c.String("sts-endpoint"),
		CredentialsFile: c.String("credentials-file"),
		Profile:         c.String("profile"),
		Logger:          logger,
	}

	fileMode, err := parseMode("file-mode", c.String("file-mode"))
	if err != nil {
		return s, err
	}
	dirMode, err := parseMode("dir-mode", c.String("dir-mode"))
	if err != nil {
		return s, err
	}
	uid, err := idFlag(c, "uid", os.Getuid())
	if err != nil {
		return s, err
	}
	gid, err := idFlag(c, "gid", os.Getgid())
	if err != nil {
		return s, err
	}
	if c.IsSet("metadata-cache-size") {
		logger.Warn("--metadata-cache-size is deprecated and ignored: the metadata cache is bounded by --metadata-cache-memory")
	}
	if d := c.Duration("duration"); creds.ValidateDuration(d) != nil {
		return s, fmt.Errorf("--duration %v is out of range: whole seconds from %v to %v", d, creds.MinDuration, creds.MaxDuration)
	}
	if c.Duration("request-timeout") < 0 {
		return s, fmt.Errorf("--request-timeout must not be negative")
	}
	ttls := map[string]time.Duration{}
	for _, name := range []string{"metadata-ttl", "negative-ttl"} {
		if ttls[name], err = parseTTL(name, c.String(name)); err != nil {
			return s, err
		}
	}
	cacheMemory, err := parseSize("metadata-cache-memory", c.String("metadata-cache-memory"))
	if err != nil {
		return s, err
	}
	if cacheMemory < 1<<20 {
		return s, fmt.Errorf("--metadata-cache-memory %q is below the 1MiB minimum", c.String("metadata-cache-memory"))
	}
	if c.Duration("request-timeout") == 0 {
		return s, fmt.Errorf("--request-timeout must be above 0 (a read waits at most this long for each response)")
	}
	readAhead, err := readAheadSizes(c)
	if err != nil {
		return s, err
	}
	if s.cache, err = cacheConfig(c, tgt, logger); err != nil {
		return s, err
	}
	s.fs = ossfs.Config{
		Prefix:              tgt.Prefix,
		UID:                 uid,
		GID:                 gid,
		FileMode:            fileMode,
		DirMode:             dirMode,
		MetadataTTL:         ttls["metadata-ttl"],
		NegativeTTL:         ttls["negative-ttl"],
		MetadataCacheMemory: cacheMemory,
		ReadAheadBudget:     readAhead.budget,
		ReadAheadMaxBytes:   readAhead.perFile,
		PartSize:            readAhead.part,
		Logger:              logger,
		RecordOps:           s.metricsAddr != "",
	}
	if s.prefetchMetadata && s.fs.MetadataTTL <= 0 {
		return s, fmt.Errorf("--prefetch-metadata needs a --metadata-ttl above 0: the listing would never be used")
	}
	return s, nil
}

// sessionPolicy returns the policy to request: the generated read-only one,
// or the file's after validation, with a warning naming any action the mount
// needs that the file does not allow.
func sessionPolicy(file string, tgt target, logger *slog.Logger) (string, error) {
	if file == "" {
		return policy.ReadOnlyJSON(tgt.Bucket, tgt.Prefix)
	}
	data, err := os.ReadFile(file)
	if err != nil {
		return "", fmt.Errorf("--policy-file: %w", err)
	}
	doc, err := policy.Parse(data)
	if err != nil {
		return "", fmt.Errorf("--policy-file %s: %w", file, err)
	}
	if missing := policy.CheckMountNeeds(doc, tgt.Bucket, tgt.Prefix); len(missing) > 0 {
		logger.Warn("the session policy file does not allow what the mount needs; reads may fail with EACCES",
			"file", file, "missing", strings.Join(missing, "; "))
	}
	out := doc.JSON()
	if len(out) > policy.MaxSize {
		return "", fmt.Errorf("--policy-file %s: %d characters once compacted; STS accepts at most %d", file, len(out), policy.MaxSize)
	}
	return out, nil
}

// parseSize reads a byte count such as 1048576, 64MiB, 64M, 1GiB or 512k.
// Suffixes are binary (K = KiB), as in dd and most mount tools.
func parseSize(flag, s string) (int64, error) { return parseSizeUpTo(flag, s, 1<<40) }

// parseSizeUpTo is parseSize for an option whose largest value is max
// (a power of two).
func parseSizeUpTo(flag, s string, max int64) (int64, error) {
	text := strings.TrimSpace(s)
	number := strings.TrimRightFunc(text, func(r rune) bool { return r < '0' || r > '9' })
	shift, ok := map[string]uint{"": 0, "b": 0, "k": 10, "kb": 10, "kib": 10, "m": 20, "mb": 20, "mib": 20,
		"g": 30, "gb": 30, "gib": 30, "t": 40, "tb": 40, "tib": 40}[strings.ToLower(text[len(number):])]
	n, err := strconv.ParseInt(number, 10, 64)
	if !ok || err != nil || n < 0 {
		return 0, fmt.Errorf("--%s %q is not a size such as 64MiB, 512KiB or 1048576", flag, s)
	}
	if n > max>>shift {
		return 0, fmt.Errorf("--%s %q is more than the %s it may be", flag, s, formatSize(max))
	}
	return n << shift, nil
}

// parseTTL reads a cache lifetime: a duration such as 30s or 5m, 0 for
// "do not cache", or "indefinite" for "until unmount".
func parseTTL(flag, s string) (time.Duration, error) {
	text := strings.TrimSpace(s)
	if strings.EqualFold(text, "indefinite") {
		return ossfs.TTLIndefinite, nil
	}
	d, err := time.ParseDuration(text)
	if text == "0" {
		d, err = 0, nil
	}
	if err != nil || d < 0 {
		return 0, fmt.Errorf("--%s %q is not a lifetime such as 30s, 5m, 0 (no caching) or indefinite", flag, s)
	}
	return d, nil
}

// formatSize writes n in the largest binary unit that divides it.
func formatSize(n int64) string {
	for _, u := range []struct {
		shift uint
		name  string
	}{{40, "TiB"}, {30, "GiB"}, {20, "MiB"}, {10, "KiB"}} {
		if n != 0 && n%(1<<u.shift) == 0 {
			return strconv.FormatInt(n>>u.shift, 10) + u.name
		}
	}
	return strconv.FormatInt(n, 10)
}

// parseMode reads permission bits in octal, 0001 to 7777 (0 would hide the
// files from all but root, and the fs package reads 0 as "the default").
func parseMode(flag, s string) (uint32, error) {
	m, err := strconv.ParseUint(s, 8, 32)
	if err != nil || m > 0o7777 || m == 0 {
		return 0, fmt.Errorf("--%s %q is not an octal permission from 0001 to 7777 such as 0444", flag, s)
	}
	return uint32(m), nil
}

func parseLevel(s string) (slog.Level, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(s)); err != nil {
		return l, fmt.Errorf("--log-level %q: use debug, info, warn or error", s)
	}
	return l, nil
}

// newLogger writes text logs to w at level.
func newLogger(w io.Writer, level slog.Level) *slog.Logger {
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: level}))
}
