// Command ossemu runs the local OSS + STS emulator (package
// test/emulator) on 127.0.0.1 for the demo, benchmarks and manual tests.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/ossmount/ossmount/test/emulator"
)

// listFlag collects a repeatable string flag.
type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ",") }
func (l *listFlag) Set(v string) error { *l = append(*l, v); return nil }

type options struct {
	dir           string
	sample        bool
	generate      listFlag
	publicRead    listFlag
	tokenLifetime time.Duration
	region        string
	ossAddr       string
	stsAddr       string
	latency       time.Duration
	bandwidth     int64
	errorRate     float64
	readyFile     string
	verbose       bool
}

func parseFlags(args []string, stderr io.Writer) (options, error) {
	var o options
	fs := flag.NewFlagSet("ossemu", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, `Usage: ossemu [options]

ossemu is a local Alibaba Cloud OSS + STS emulator for ossmount's demo,
benchmarks and tests. It listens on 127.0.0.1 only, verifies V4/V1 OSS
signatures and STS RPC signatures, issues temporary credentials for a demo
RAM user and role, and can inject faults. On start it prints the OSS
endpoint, the STS endpoint, the demo RAM user and the role ARN to use.

Admin endpoint (on the OSS listener, path-style):
  GET  /_emulator/faults          current faults as JSON
  POST /_emulator/faults          replace them, e.g. {"latency":"50ms","error_rate":0.1,
                                  "bandwidth_per_conn":1048576,"reset_rate":0.01,"hang":false,
                                  "throttle_rate":0,"wrong_content_length":false,
                                  "truncated_xml":false,"sts_outage":false,"sts_throttle":false}
  GET  /_emulator/counters        request counters as JSON
  POST /_emulator/counters/reset  zero the counters
  POST /_emulator/revoke          revoke every issued STS token

Options:
`)
		fs.PrintDefaults()
	}
	fs.StringVar(&o.dir, "dir", "", "serve `DIR`: each subdirectory is a bucket, each file below it an object keyed by its relative path")
	fs.BoolVar(&o.sample, "sample", false, `create a small varied demo bucket "demo" (nested dirs, text files, a 20 MiB generated file, the marker "empty-dir/", odd names)`)
	fs.Var(&o.generate, "generate", "add generated objects, `BUCKET:COUNT:SIZE` (repeatable): COUNT keys dir%04d/file%07d (1000 per directory) of SIZE bytes each; SIZE accepts K, M, G suffixes (powers of 1024)")
	fs.Var(&o.publicRead, "public-read", "make `BUCKET` public-read, readable without credentials (repeatable; the bucket is created if needed)")
	fs.DurationVar(&o.tokenLifetime, "token-lifetime", 0, "force the lifetime of every STS token, e.g. 30s, whatever DurationSeconds asks (0 = as asked)")
	fs.StringVar(&o.region, "region", "cn-hangzhou", "signing `REGION` requests must use")
	fs.StringVar(&o.ossAddr, "oss-addr", "127.0.0.1:0", "OSS listen `ADDR` (loopback only; port 0 picks a free port)")
	fs.StringVar(&o.stsAddr, "sts-addr", "127.0.0.1:0", "STS listen `ADDR` (loopback only; port 0 picks a free port)")
	fs.DurationVar(&o.latency, "latency", 0, "fault: delay before the first byte of every OSS response")
	fs.Int64Var(&o.bandwidth, "bandwidth", 0, "fault: response body `BYTES` per second per connection (0 = unlimited)")
	fs.Float64Var(&o.errorRate, "error-rate", 0, "fault: fraction (0..1) of OSS requests answered 500 InternalError or 503 ServiceUnavailable")
	fs.StringVar(&o.readyFile, "ready-file", "", "once listening, write `FILE` with JSON: oss_url, sts_url, admin_url, region, access_key_id, demo_access_key_secret, role_arn")
	fs.BoolVar(&o.verbose, "v", false, "log every request to stderr")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected arguments: %q", fs.Args())
	}
	if o.errorRate < 0 || o.errorRate > 1 {
		return o, fmt.Errorf("--error-rate %v is outside 0..1", o.errorRate)
	}
	return o, nil
}

// parseGenerate reads BUCKET:COUNT:SIZE.
func parseGenerate(v string) (string, emulator.Generated, error) {
	parts := strings.Split(v, ":")
	if len(parts) != 3 || parts[0] == "" {
		return "", emulator.Generated{}, fmt.Errorf("--generate %q: want BUCKET:COUNT:SIZE", v)
	}
	n, err := strconv.Atoi(parts[1])
	if err != nil || n < 1 {
		return "", emulator.Generated{}, fmt.Errorf("--generate %q: bad COUNT", v)
	}
	size, err := parseSize(parts[2])
	if err != nil {
		return "", emulator.Generated{}, fmt.Errorf("--generate %q: %w", v, err)
	}
	return parts[0], emulator.Generated{Count: n, KeyFormat: "dir%04d/file%07d", PerDir: 1000, Size: size, Seed: 1}, nil
}

func parseSize(s string) (int64, error) {
	mult := int64(1)
	switch {
	case strings.HasSuffix(s, "K"):
		mult, s = 1<<10, strings.TrimSuffix(s, "K")
	case strings.HasSuffix(s, "M"):
		mult, s = 1<<20, strings.TrimSuffix(s, "M")
	case strings.HasSuffix(s, "G"):
		mult, s = 1<<30, strings.TrimSuffix(s, "G")
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("bad SIZE %q", s)
	}
	return n * mult, nil
}

type readyInfo struct {
	OSSURL              string `json:"oss_url"`
	STSURL              string `json:"sts_url"`
	AdminURL            string `json:"admin_url"`
	Region              string `json:"region"`
	AccessKeyID         string `json:"access_key_id"`
	DemoAccessKeySecret string `json:"demo_access_key_secret"`
	RoleARN             string `json:"role_arn"`
}

func run(args []string, stdout, stderr io.Writer, stop <-chan os.Signal) int {
	o, err := parseFlags(args, stderr)
	if err == flag.ErrHelp {
		return 0
	}
	if err != nil {
		fmt.Fprintln(stderr, "ossemu:", err)
		return 2
	}
	level := slog.LevelInfo
	if o.verbose {
		level = slog.LevelDebug
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
	s, err := emulator.Start(emulator.Config{Region: o.region, TokenLifetime: o.tokenLifetime, Logger: log,
		OSSAddr: o.ossAddr, STSAddr: o.stsAddr})
	if err != nil {
		fmt.Fprintln(stderr, "ossemu:", err)
		return 1
	}
	defer s.Close()
	if err := populate(s, o); err != nil {
		fmt.Fprintln(stderr, "ossemu:", err)
		return 1
	}
	s.SetFaults(emulator.Faults{Latency: o.latency, BandwidthPerConn: o.bandwidth, ErrorRate: o.errorRate})
	info := readyInfo{OSSURL: s.OSSURL(), STSURL: s.STSURL(), AdminURL: s.AdminURL(), Region: o.region,
		AccessKeyID: emulator.DemoAccessKeyID, DemoAccessKeySecret: emulator.DemoAccessKeySecret,
		RoleARN: emulator.DemoRoleARN}
	fmt.Fprintf(stdout, "OSS endpoint:  %s (region %s, path-style or virtual-hosted)\n", info.OSSURL, info.Region)
	fmt.Fprintf(stdout, "STS endpoint:  %s\n", info.STSURL)
	fmt.Fprintf(stdout, "Admin:         %s\n", info.AdminURL)
	fmt.Fprintf(stdout, "Demo RAM user: AccessKeyId %s, AccessKeySecret %s (throwaway, emulator only)\n", info.AccessKeyID, info.DemoAccessKeySecret)
	fmt.Fprintf(stdout, "Role ARN:      %s\n", info.RoleARN)
	if o.readyFile != "" {
		data, _ := json.MarshalIndent(info, "", "  ")
		tmp := o.readyFile + ".tmp"
		if err := os.WriteFile(tmp, append(data, '\n'), 0o600); err != nil {
			fmt.Fprintln(stderr, "ossemu: ready file:", err)
			return 1
		}
		if err := os.Rename(tmp, o.readyFile); err != nil {
			fmt.Fprintln(stderr, "ossemu: ready file:", err)
			return 1
		}
	}
	<-stop
	log.Info("shutting down")
	return 0
}

func populate(s *emulator.Server, o options) error {
	if o.dir != "" {
		if err := s.AddDirectory(o.dir); err != nil {
			return err
		}
	}
	if o.sample {
		s.AddSample("demo")
	}
	for _, g := range o.generate {
		b, gen, err := parseGenerate(g)
		if err != nil {
			return err
		}
		s.AddGenerated(b, gen)
	}
	for _, b := range o.publicRead {
		s.CreateBucket(b, true)
	}
	return nil
}

func main() {
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, os.Interrupt, syscall.SIGTERM)
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr, stop))
}
