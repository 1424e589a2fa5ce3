// Command ossmount mounts an Alibaba Cloud OSS bucket, or a prefix of it,
// read-only at a local directory, signing every request with temporary STS
// credentials that it renews before they expire.
//
// This package is wiring only: flags, environment and -o options and their
// ranges, the background process and its detaching from the caller, the
// mountpoint lock, logging, signals. The filesystem, the OSS client and the
// credential manager live in fs/, oss/ and creds/.
package main

import (
	"errors"
	"fmt"
	"os"
	"runtime"
	"strings"

	"github.com/urfave/cli/v2"
)

// version is set by the Makefile through -ldflags.
var version = "dev"

func main() {
	// mount(8) and mount.fuse3 run helpers with no PATH at all; fusermount3
	// must still be found.
	if os.Getenv("PATH") == "" {
		os.Setenv("PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin")
	}
	if err := newApp().Run(normalizeArgs(os.Args)); err != nil {
		reportFailure(err)
		os.Exit(1)
	}
}

func newApp() *cli.App {
	flags := mountFlags()
	return &cli.App{
		Name:      "ossmount",
		Usage:     "mount an Alibaba Cloud OSS bucket read-only with temporary credentials",
		UsageText: "ossmount [options] BUCKET[:/PREFIX] MOUNTPOINT\n   ossmount policy [--role-policy] BUCKET[:/PREFIX]\n   ossmount check [options] BUCKET[:/PREFIX]\n   ossmount snapshot [options] BUCKET[:/PREFIX]\n   ossmount status MOUNTPOINT\n   ossmount mounter --socket PATH\n   ossmount version",
		Description: "Source credentials come from ALIBABA_CLOUD_ACCESS_KEY_ID/ALIBABA_CLOUD_ACCESS_KEY_SECRET\n" +
			"(or OSS_ACCESS_KEY_ID/OSS_ACCESS_KEY_SECRET), ~/.aliyun/config.json, ~/.alibabacloud/credentials,\n" +
			"RRSA/OIDC (ALIBABA_CLOUD_OIDC_PROVIDER_ARN, ALIBABA_CLOUD_OIDC_TOKEN_FILE) or the ECS instance role;\n" +
			"they are used only to call STS AssumeRole for a token limited to reading BUCKET[/PREFIX].\n" +
			"Every option is also a mount option: -o allow_other,metadata_ttl=30s (dashes become underscores).",
		Version:         version,
		HideVersion:     true,
		Flags:           flags,
		Action:          runMount,
		HideHelpCommand: true,
		ExitErrHandler:  func(*cli.Context, error) {}, // main prints errors once, in one format
		OnUsageError:    oneLineUsageError,
		Commands: []*cli.Command{
			{
				Name:      "policy",
				Usage:     "print the session policy a mount of BUCKET[:/PREFIX] requests",
				ArgsUsage: "BUCKET[:/PREFIX]",
				Flags: []cli.Flag{
					&cli.BoolFlag{Name: "role-policy", Usage: "also print the permission and trust policies to give the RAM role"},
					&cli.BoolFlag{Name: "compact", Usage: "print compact JSON, exactly as sent to STS"},
				},
				Action: runPolicy,
			},
			{
				Name:         "check",
				Usage:        "obtain temporary credentials, list BUCKET[:/PREFIX] once and report, without mounting",
				ArgsUsage:    "BUCKET[:/PREFIX]",
				Flags:        flags,
				Action:       runCheck,
				OnUsageError: oneLineUsageError,
			},
			snapshotCommand(flags),
			mounterCommand(),
			{
				Name:      "status",
				Usage:     "show what the mount at MOUNTPOINT is doing: token expiry, requests, caches, read-ahead memory",
				ArgsUsage: "MOUNTPOINT",
				Flags:     []cli.Flag{&cli.BoolFlag{Name: "json", Usage: "print the raw JSON report"}},
				Action:    runStatus,
			},
			{
				Name:  "version",
				Usage: "print the version",
				Action: func(*cli.Context) error {
					fmt.Printf("ossmount %s (%s %s/%s)\n", version, runtime.Version(), runtime.GOOS, runtime.GOARCH)
					return nil
				},
			},
		},
	}
}

// normalizeArgs expands -o options and moves flags ahead of positional
// arguments for the mount and check commands (mount.fuse3 puts -o last).
func normalizeArgs(args []string) []string {
	if len(args) < 2 {
		return args
	}
	rest, prefix := args[1:], []string{args[0]}
	switch rest[0] {
	case "policy", "status", "version", "help", "snapshot", "mounter":
		return args
	case "check":
		rest, prefix = rest[1:], append(prefix, "check")
	}
	expanded, err := expandMountOptions(rest, flagArity(mountFlags()))
	if err != nil {
		reportFailure(err)
		os.Exit(2)
	}
	return append(prefix, expanded...)
}

// oneLineUsageError turns a flag that does not parse ("--uid -1") into one
// line naming the option, instead of the whole help text.
func oneLineUsageError(_ *cli.Context, err error, _ bool) error {
	msg := strings.Replace(err.Error(), "for flag -", "for --", 1)
	return fmt.Errorf("%s (see ossmount --help)", msg)
}

// reportFailure prints err as one "ossmount: ..." line and, in a background
// child, hands it to the waiting parent.
func reportFailure(err error) {
	var exit cli.ExitCoder
	if errors.As(err, &exit) && exit.Error() == "" {
		return
	}
	fmt.Fprintln(os.Stderr, "ossmount:", err)
	notifyParent("error: " + err.Error())
}
