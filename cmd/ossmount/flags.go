package main

import (
	"fmt"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/ossmount/ossmount/creds"
	ossfs "github.com/ossmount/ossmount/fs"
	"github.com/ossmount/ossmount/oss"
)

// The one flag table. Every mount option is also an -o key: dashes become
// underscores (--metadata-ttl 30s == -o metadata_ttl=30s), so that
// `mount -t fuse.ossmount` and /etc/fstab lines work through mount.fuse3.
// No flag takes a secret: secrets come only from the environment or files,
// because a command line shows in ps and in /proc/PID/cmdline.

func mountFlags() []cli.Flag {
	return append([]cli.Flag{
		&cli.StringFlag{Name: "endpoint", EnvVars: []string{"OSS_ENDPOINT"}, Usage: "OSS endpoint, e.g. https://oss-cn-hangzhou.aliyuncs.com (no scheme means https)"},
		&cli.StringFlag{Name: "region", EnvVars: []string{"OSS_REGION"}, Usage: "signing region, e.g. cn-hangzhou (derived from standard endpoints)"},
		&cli.BoolFlag{Name: "path-style", Usage: "path-style addressing (custom endpoints, emulators)"},
		&cli.StringFlag{Name: "signature-version", Value: oss.DefaultSignatureVersion, Usage: "OSS request signature: v4 or v1"},
		&cli.StringFlag{Name: "role-arn", EnvVars: []string{"ALIBABA_CLOUD_ROLE_ARN"}, Usage: "RAM role to assume, acs:ram::<account-id>:role/<name>"},
		&cli.StringFlag{Name: "role-session-name", EnvVars: []string{"ALIBABA_CLOUD_ROLE_SESSION_NAME"}, Usage: "STS session name (default ossmount-<time>)"},
		&cli.StringFlag{Name: "sts-endpoint", EnvVars: []string{"ALIBABA_CLOUD_STS_ENDPOINT"}, Usage: "STS endpoint (default https://sts.aliyuncs.com)"},
		&cli.DurationFlag{Name: "duration", Value: creds.DefaultDuration, Usage: "requested token lifetime (15m to 12h; renewed before it ends)"},
		&cli.StringFlag{Name: "policy-file", Usage: "session policy JSON to request instead of the generated read-only one"},
		// ALIBABA_CLOUD_CREDENTIALS_FILE and ALIBABA_CLOUD_PROFILE are read by
		// the credential chain (creds), as the official SDK reads them; these
		// flags are explicit choices that limit the search to files.
		&cli.StringFlag{Name: "credentials-file", Usage: "source credential file (INI or the CLI's config.json), the only one searched (without it the chain reads $ALIBABA_CLOUD_CREDENTIALS_FILE or ~/.alibabacloud/credentials)"},
		&cli.StringFlag{Name: "profile", Usage: "profile in the credentials or CLI config file; only files are searched (without it the chain uses $ALIBABA_CLOUD_PROFILE)"},
		&cli.BoolFlag{Name: "foreground", Aliases: []string{"f"}, Usage: "stay in the foreground; without it ossmount returns once the mount is live"},
		&cli.BoolFlag{Name: "allow-other", Usage: "let users other than the mounting user see the files"},
		&cli.UintFlag{Name: "uid", Usage: "owner shown for files and directories (0 to 4294967294)", DefaultText: "the mounting user"},
		&cli.UintFlag{Name: "gid", Usage: "group shown for files and directories (0 to 4294967294)", DefaultText: "the mounting user's group"},
		&cli.StringFlag{Name: "file-mode", Value: fmt.Sprintf("%04o", ossfs.DefaultFileMode), Usage: "permission bits shown for files (octal)"},
		&cli.StringFlag{Name: "dir-mode", Value: fmt.Sprintf("%04o", ossfs.DefaultDirMode), Usage: "permission bits shown for directories (octal)"},
		&cli.StringFlag{Name: "metadata-ttl", Value: ossfs.DefaultMetadataTTL.String(), Usage: "how long names, sizes and listings are trusted before asking OSS again (0: never cached; indefinite: until unmount)"},
		&cli.StringFlag{Name: "metadata-cache-memory", Value: formatSize(ossfs.DefaultMetadataCacheMemory), Usage: "memory for cached names, sizes and listings (whole directories are evicted, least recently used first)"},
		&cli.IntFlag{Name: "metadata-cache-size", Hidden: true, Usage: "deprecated and ignored: the cache is bounded by --metadata-cache-memory"},
		&cli.BoolFlag{Name: "prefetch-metadata", Usage: "list every key under the prefix while mounting (in parallel) and answer listings and lookups from memory for the metadata TTL"},
		&cli.StringFlag{Name: "manifest", Usage: "mount exactly the objects of this manifest (from `ossmount snapshot`) with no LIST, reading each at its recorded ETag"},
		&cli.StringFlag{Name: "negative-ttl", Value: ossfs.DefaultNegativeTTL.String(), Usage: "how long a name that does not exist is remembered (0: never; indefinite: until unmount)"},
		&cli.StringFlag{Name: "read-ahead-memory", Value: formatSize(ossfs.DefaultReadAheadBudget), Usage: "memory for read-ahead buffers of all open files together (e.g. 256MiB; 0 turns read-ahead off)"},
		&cli.StringFlag{Name: "read-ahead", Value: formatSize(ossfs.DefaultReadAheadMaxBytes), Usage: "most one sequentially read file fetches ahead (at least --part-size; 0 turns read-ahead off)"},
		&cli.StringFlag{Name: "part-size", Value: formatSize(ossfs.DefaultPartSize), Usage: "largest ranged GET of the read-ahead (256KiB to 64MiB)"},
		&cli.DurationFlag{Name: "request-timeout", Value: oss.DefaultRequestTimeout, Usage: "longest wait for OSS before retrying: for a response header, and for progress of a response body (a stalled or trickling body is fetched again from where it stopped); a read fails with EIO once retries run out"},
		&cli.StringFlag{Name: "metrics-addr", Usage: "serve Prometheus /metrics at HOST:PORT (a bare PORT or :PORT binds 127.0.0.1; default off)"},
		&cli.Float64Flag{Name: "max-requests-per-second", DefaultText: "none until OSS throttles", Usage: "cap on OSS requests per second of this mount"},
		&cli.StringFlag{Name: "max-bandwidth", Value: "0", DefaultText: "none", Usage: "cap on bytes per second read from OSS, e.g. 200MiB/s (0: none)"},
		&cli.StringFlag{Name: "log-level", Value: "info", Usage: "debug, info, warn or error"},
		&cli.StringFlag{Name: "log-file", Usage: "write logs here; SIGHUP reopens it (default: stderr with -f; a background mount logs to syslog at /dev/log if one listens, else nowhere)"},
		&cli.BoolFlag{Name: "debug-fuse", Usage: "log every FUSE request (very verbose)"},
	}, cacheFlags()...)
}

// mountOptionsIgnored are mount(8) and fstab options that mount.fuse3 may
// pass along; they mean nothing to ossmount (the mount is always read-only).
var mountOptionsIgnored = map[string]bool{
	"ro": true, "rw": true, "dev": true, "nodev": true, "suid": true, "nosuid": true,
	"exec": true, "noexec": true, "auto": true, "noauto": true, "user": true, "nouser": true,
	"users": true, "_netdev": true, "nofail": true, "defaults": true, "async": true,
	"sync": true, "atime": true, "noatime": true, "relatime": true, "nodiratime": true,
}

// expandMountOptions rewrites every "-o k=v,k2" in args into long flags
// ("--k=v", "--k2") and moves all flags in front of the positional arguments,
// because mount.fuse3 calls `ossmount SOURCE MOUNTPOINT -o opts` and urfave/cli
// stops parsing flags at the first positional argument. known says which long
// flags exist and whether they take a value.
func expandMountOptions(args []string, known map[string]bool) ([]string, error) {
	var flags, positional []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "--":
			positional = append(positional, args[i+1:]...)
			i = len(args)
		case a == "-o" || strings.HasPrefix(a, "-o") && !strings.HasPrefix(a, "--"):
			spec := strings.TrimPrefix(a, "-o")
			if spec == "" {
				if i+1 >= len(args) {
					return nil, fmt.Errorf("-o needs a value, e.g. -o allow_other,metadata_ttl=30s")
				}
				i++
				spec = args[i]
			}
			opts, err := parseMountOptions(spec, known)
			if err != nil {
				return nil, err
			}
			flags = append(flags, opts...)
		case strings.HasPrefix(a, "-") && len(a) > 1:
			flags = append(flags, a)
			name := strings.TrimLeft(a, "-")
			if !strings.Contains(name, "=") && known[name] && i+1 < len(args) {
				i++
				flags = append(flags, args[i])
			}
		default:
			positional = append(positional, a)
		}
	}
	return append(flags, positional...), nil
}

// parseMountOptions turns "allow_other,metadata_ttl=30s" into long flags.
func parseMountOptions(spec string, known map[string]bool) ([]string, error) {
	var out []string
	for _, item := range strings.Split(spec, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		key, value, hasValue := strings.Cut(item, "=")
		if mountOptionsIgnored[key] || strings.HasPrefix(key, "x-systemd.") || key == "comment" {
			continue
		}
		name := strings.ReplaceAll(key, "_", "-")
		takesValue, ok := known[name]
		if !ok {
			return nil, fmt.Errorf("unknown mount option %q (options are the long flags with _ for -, see ossmount --help)", key)
		}
		switch {
		case takesValue && !hasValue:
			return nil, fmt.Errorf("mount option %q needs a value: -o %s=VALUE", key, key)
		case hasValue:
			out = append(out, "--"+name+"="+value)
		default:
			out = append(out, "--"+name)
		}
	}
	return out, nil
}

// flagArity maps each long flag name (and alias) to whether it takes a value.
func flagArity(flags []cli.Flag) map[string]bool {
	known := map[string]bool{}
	for _, f := range flags {
		_, isBool := f.(*cli.BoolFlag)
		for _, n := range f.Names() {
			known[n] = !isBool
		}
	}
	return known
}
