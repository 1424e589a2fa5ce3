package creds

import (
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/ossmount/ossmount/policy"
)

// Config says which role to assume, with which session policy, and where
// the source credential and the services are. Zero values take the
// documented defaults.
type Config struct {
	// RoleARN is the role to assume, acs:ram::<account-id>:role/<name>.
	// Required, except that a RamRoleArn CLI profile, a ram_role_arn INI
	// section or an OIDC CLI profile may supply it. (ossmount fills it from
	// --role-arn or ALIBABA_CLOUD_ROLE_ARN; creds does not read that variable.)
	RoleARN string
	// RoleSessionName shows in ActionTrail; default "ossmount-<unix seconds>".
	RoleSessionName string
	// Duration is the requested token lifetime; default 1h, range 15m..12h.
	Duration time.Duration
	// Policy is the session policy JSON (policy.ReadOnlyJSON or a user's
	// file). Required: no token without one is ever requested.
	Policy string
	// STSEndpoint is the STS URL; default https://sts.aliyuncs.com, or
	// sts[-vpc].<ALIBABA_CLOUD_STS_REGION>.aliyuncs.com when that is set
	// (-vpc with ALIBABA_CLOUD_VPC_ENDPOINT_ENABLED=true). Without a scheme,
	// https is meant.
	STSEndpoint string
	// CredentialsFile and Profile pick the source explicitly: a file (INI or
	// CLI config.json, detected from its content) and/or a profile in the
	// default files. Either limits the search to files. The environment's
	// ALIBABA_CLOUD_CREDENTIALS_FILE and ALIBABA_CLOUD_PROFILE are not
	// explicit choices: the chain reads them where the official one does.
	CredentialsFile, Profile string
	// ECSMetadataEndpoint is the ECS metadata service; default
	// http://100.100.100.200.
	ECSMetadataEndpoint string
	// Getenv reads the environment; nil means os.Getenv.
	Getenv func(string) string
	// HomeDir holds .aliyun/config.json and .alibabacloud/credentials;
	// "" means os.UserHomeDir().
	HomeDir string
	// HTTPClient calls STS and the metadata service; nil means a client with
	// a 10 s response-header timeout. Each call also has its own deadline.
	HTTPClient *http.Client
	// Logger gets lifecycle (Info: renewed until T) and degradation (Warn:
	// renewal failed) records; nil discards.
	Logger *slog.Logger
	// Clock is the time renewals are scheduled by; nil means the system
	// clock.
	Clock Clock
	// RefreshFraction: renew once this fraction of the token's lifetime
	// (from the returned Expiration) remains, but never later than
	// min(180 s, two thirds of the lifetime) before expiry (reference 8.3); plus up
	// to 20% earlier as jitter. Default 0.2; range (0, 0.9].
	RefreshFraction float64
}

// DefaultRefreshFraction is the default Config.RefreshFraction.
const DefaultRefreshFraction = 0.2

func (c *Config) fill() error {
	if c.Getenv == nil {
		c.Getenv = os.Getenv
	}
	if c.Clock == nil {
		c.Clock = realClock{}
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if c.HTTPClient == nil {
		t := http.DefaultTransport.(*http.Transport).Clone()
		t.ResponseHeaderTimeout = stsTimeout
		c.HTTPClient = &http.Client{Transport: t}
	}
	if c.RoleSessionName == "" {
		c.RoleSessionName = fmt.Sprintf("ossmount-%d", c.Clock.Now().Unix())
	}
	if c.Duration == 0 {
		c.Duration = DefaultDuration
	}
	if c.RefreshFraction == 0 {
		c.RefreshFraction = DefaultRefreshFraction
	}
	if c.ECSMetadataEndpoint == "" {
		c.ECSMetadataEndpoint = "http://100.100.100.200"
	}
	c.ECSMetadataEndpoint = withScheme(c.ECSMetadataEndpoint, "http://")
	if c.STSEndpoint == "" {
		c.STSEndpoint = c.defaultSTSEndpoint()
	}
	c.STSEndpoint = withScheme(c.STSEndpoint, "https://")

	if c.RefreshFraction <= 0 || c.RefreshFraction > 0.9 {
		return fmt.Errorf("creds: refresh fraction %v is out of range (0, 0.9]", c.RefreshFraction)
	}
	if err := ValidateSessionName(c.RoleSessionName); err != nil {
		return err
	}
	if err := ValidateDuration(c.Duration); err != nil {
		return err
	}
	if c.Policy == "" {
		return fmt.Errorf("creds: no session policy: the token must be limited to the mount (build one with policy.ReadOnlyJSON)")
	}
	if len(c.Policy) > policy.MaxSize {
		return fmt.Errorf("creds: session policy is %d bytes, over the STS limit of %d", len(c.Policy), policy.MaxSize)
	}
	if _, err := policy.Parse([]byte(c.Policy)); err != nil {
		return fmt.Errorf("creds: session policy: %w", err)
	}
	return nil
}

func (c *Config) defaultSTSEndpoint() string {
	region := strings.TrimSpace(c.Getenv("ALIBABA_CLOUD_STS_REGION"))
	if region == "" {
		return "https://sts.aliyuncs.com"
	}
	prefix := "sts"
	if strings.EqualFold(c.Getenv("ALIBABA_CLOUD_VPC_ENDPOINT_ENABLED"), "true") {
		prefix = "sts-vpc"
	}
	return "https://" + prefix + "." + region + ".aliyuncs.com"
}

func withScheme(endpoint, scheme string) string {
	endpoint = strings.TrimRight(endpoint, "/")
	if !strings.Contains(endpoint, "://") {
		endpoint = scheme + endpoint
	}
	return endpoint
}
