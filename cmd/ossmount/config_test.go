package main

import (
	"io"
	"strings"
	"testing"

	"github.com/urfave/cli/v2"
)

// settingsFor parses args (flags only) the way `ossmount ... b /mnt` does and
// returns what readSettings makes of them. No network is involved.
func settingsFor(t *testing.T, args ...string) (settings, error) {
	t.Helper()
	var s settings
	app := &cli.App{
		Flags:  mountFlags(),
		Writer: io.Discard, ErrWriter: io.Discard,
		ExitErrHandler: func(*cli.Context, error) {},
		Action: func(c *cli.Context) error {
			var err error
			s, err = readSettings(c, target{Bucket: "bucket"}, newLogger(io.Discard, 0))
			return err
		},
	}
	all := append([]string{"ossmount", "--endpoint", "http://127.0.0.1:1"}, args...)
	err := app.Run(append(all, "bucket", "/mnt"))
	return s, err
}

// Every numeric option refuses a value out of its range with one line that
// names the option, instead of truncating it or replacing it with a default.
func TestNumericOptionsAreRangeChecked(t *testing.T) {
	cases := []struct {
		args []string
		flag string // the error must name it
	}{
		{[]string{"--uid", "4294967296"}, "--uid"},
		{[]string{"--uid", "4294967295"}, "--uid"}, // (uid_t)-1 means "no owner" to the kernel
		{[]string{"--uid", "-1"}, "uid"},
		{[]string{"--gid", "4294967296"}, "--gid"},
		{[]string{"--gid", "-5"}, "gid"},
		{[]string{"--file-mode", "10000"}, "--file-mode"},
		{[]string{"--file-mode", "0"}, "--file-mode"},
		{[]string{"--file-mode", "-1"}, "--file-mode"},
		{[]string{"--dir-mode", "77777"}, "--dir-mode"},
		{[]string{"--dir-mode", "0000"}, "--dir-mode"},
		{[]string{"--duration", "0s"}, "--duration"},
		{[]string{"--duration", "-1h"}, "--duration"},
		{[]string{"--duration", "14m"}, "--duration"},
		{[]string{"--duration", "13h"}, "--duration"},
		{[]string{"--duration", "1h0m0.5s"}, "--duration"},
		{[]string{"--metadata-ttl", "-1s"}, "--metadata-ttl"},
		{[]string{"--negative-ttl", "-1s"}, "--negative-ttl"},
		{[]string{"--request-timeout", "0s"}, "--request-timeout"},
		{[]string{"--request-timeout", "-3s"}, "--request-timeout"},
		{[]string{"--metadata-cache-memory", "1KiB"}, "--metadata-cache-memory"},
		{[]string{"--metadata-cache-memory", "-1"}, "--metadata-cache-memory"},
		{[]string{"--read-ahead-memory", "-1"}, "--read-ahead-memory"},
		{[]string{"--read-ahead-memory", "2TiB"}, "--read-ahead-memory"},
		{[]string{"--read-ahead-memory", "1MiB"}, "--read-ahead-memory"}, // below --part-size 2MiB
		{[]string{"--read-ahead", "1MiB"}, "--read-ahead"},               // below --part-size 2MiB
		{[]string{"--part-size", "0"}, "--part-size"},
		{[]string{"--part-size", "4KiB"}, "--part-size"}, // below the engine's 256KiB minimum
		{[]string{"--part-size", "512MiB"}, "--part-size"},
		{[]string{"--max-requests-per-second", "-1"}, "--max-requests-per-second"},
		{[]string{"--max-requests-per-second", "NaN"}, "--max-requests-per-second"},
		{[]string{"--max-requests-per-second", "+Inf"}, "--max-requests-per-second"},
		{[]string{"--max-bandwidth", "-5MiB/s"}, "--max-bandwidth"},
		{[]string{"--max-bandwidth", "2TiB/s"}, "--max-bandwidth"},
		{[]string{"--cache-dir", "/var/cache/x", "--cache-size", "1025TiB"}, "--cache-size"},
	}
	for _, tc := range cases {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			_, err := settingsFor(t, tc.args...)
			if err == nil {
				t.Fatalf("%v accepted", tc.args)
			}
			if msg := err.Error(); !strings.Contains(msg, tc.flag) || strings.Contains(msg, "\n") {
				t.Fatalf("%v: error %q should be one line naming %s", tc.args, msg, tc.flag)
			}
		})
	}
}

// The edges of each range are accepted and mean what they say.
func TestNumericOptionsInRange(t *testing.T) {
	s, err := settingsFor(t, "--uid", "4294967294", "--gid", "0", "--file-mode", "7777", "--dir-mode", "0500",
		"--duration", "15m", "--request-timeout", "1s",
		"--part-size", "256KiB", "--read-ahead", "256KiB", "--read-ahead-memory", "256KiB")
	if err != nil {
		t.Fatal(err)
	}
	if s.fs.UID != 4294967294 || s.fs.GID != 0 || s.fs.FileMode != 0o7777 || s.fs.DirMode != 0o500 ||
		s.fs.PartSize != 256<<10 || s.fs.ReadAheadMaxBytes != 256<<10 || s.fs.ReadAheadBudget != 256<<10 {
		t.Fatalf("settings %+v", s.fs)
	}
	if s, err = settingsFor(t, "--duration", "12h", "--read-ahead", "0"); err != nil || s.creds.Duration.Hours() != 12 {
		t.Fatalf("--duration 12h: %v %v", s.creds.Duration, err)
	}
	if s.fs.ReadAheadBudget >= 256<<10 {
		t.Fatalf("--read-ahead 0 must turn read-ahead off (budget below one part), got budget %d", s.fs.ReadAheadBudget)
	}
}

// A value that does not even parse gets one line naming the option, not the
// whole help text.
func TestUnparsableValueIsOneLine(t *testing.T) {
	for _, args := range [][]string{{"--uid", "-1"}, {"--gid", "x"}, {"--duration", "1 hour"}, {"check", "--uid", "-1"}} {
		var out strings.Builder
		app := newApp()
		app.Writer, app.ErrWriter = &out, &out
		err := app.Run(append(append([]string{"ossmount"}, args...), "bucket", "/mnt"))
		name := args[len(args)-2]
		if err == nil || !strings.Contains(err.Error(), name) || strings.Contains(err.Error(), "\n") || out.Len() != 0 {
			t.Errorf("%v: err %v, printed %d bytes: want one line naming %s and nothing printed", args, err, out.Len(), name)
		}
	}
}

// ALIBABA_CLOUD_PROFILE and ALIBABA_CLOUD_CREDENTIALS_FILE belong to the
// credential chain, which reads them as the official one does (the profile
// picks a section in either file, the file names the INI file, and neither
// skips the environment key or the ECS role). Only --profile and
// --credentials-file limit the search to files.
func TestChainEnvironmentIsLeftToCreds(t *testing.T) {
	t.Setenv("ALIBABA_CLOUD_PROFILE", "envprofile")
	t.Setenv("ALIBABA_CLOUD_CREDENTIALS_FILE", "/env/credentials")
	s, err := settingsFor(t)
	if err != nil {
		t.Fatal(err)
	}
	if s.creds.Profile != "" || s.creds.CredentialsFile != "" {
		t.Errorf("environment became explicit choices: Profile %q, CredentialsFile %q", s.creds.Profile, s.creds.CredentialsFile)
	}
	if s, err = settingsFor(t, "--profile", "p", "--credentials-file", "/f"); err != nil || s.creds.Profile != "p" || s.creds.CredentialsFile != "/f" {
		t.Errorf("flags: Profile %q, CredentialsFile %q, %v", s.creds.Profile, s.creds.CredentialsFile, err)
	}
}

// --cache-size takes the sizes of today's disks: terabytes, up to 1 PiB.
func TestCacheSizeTakesTerabytes(t *testing.T) {
	for in, want := range map[string]int64{"4TiB": 4 << 40, "1024T": 1 << 50, "200GiB": 200 << 30} {
		s, err := settingsFor(t, "--cache-dir", t.TempDir(), "--cache-size", in)
		if err != nil || s.cache.Size != want {
			t.Errorf("--cache-size %s: %d, %v; want %d", in, s.cache.Size, err, want)
		}
	}
}
