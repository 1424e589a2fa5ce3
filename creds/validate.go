package creds

import (
	"fmt"
	"regexp"
	"time"
)

// Limits STS enforces (reference 7.2); checked before calling so that the
// error is immediate and says what to fix.
const (
	MinDuration = 15 * time.Minute
	MaxDuration = 12 * time.Hour
)

// DefaultDuration is the default Config.Duration: the token lifetime
// requested when nothing else is asked for.
const DefaultDuration = time.Hour

var (
	roleARNPattern     = regexp.MustCompile(`^acs:ram::[0-9]+:role/[A-Za-z0-9._@-]{1,64}$`)
	sessionNamePattern = regexp.MustCompile(`^[A-Za-z0-9.@_-]{2,64}$`)
	oidcProviderARN    = regexp.MustCompile(`^acs:ram::[0-9]+:oidc-provider/\S+$`)
)

// ValidateRoleARN checks the form acs:ram::<account-id>:role/<name>.
func ValidateRoleARN(arn string) error {
	if arn == "" {
		return fmt.Errorf("creds: no role ARN: set --role-arn or ALIBABA_CLOUD_ROLE_ARN to the role to assume (acs:ram::<account-id>:role/<name>)")
	}
	if !roleARNPattern.MatchString(arn) {
		return fmt.Errorf("creds: role ARN %q is malformed: want acs:ram::<account-id>:role/<name>", arn)
	}
	return nil
}

// ValidateSessionName checks STS's rule: 2-64 of letters, digits, . @ - _.
func ValidateSessionName(name string) error {
	if !sessionNamePattern.MatchString(name) {
		return fmt.Errorf("creds: role session name %q is invalid: want 2-64 characters of letters, digits, '.', '@', '-', '_'", name)
	}
	return nil
}

// ValidateDuration checks that d is within STS's 900..43200 s and a whole
// number of seconds.
func ValidateDuration(d time.Duration) error {
	if d < MinDuration || d > MaxDuration || d%time.Second != 0 {
		return fmt.Errorf("creds: duration %v is invalid: want whole seconds between %v and %v (and at most the role's maximum session duration)", d, MinDuration, MaxDuration)
	}
	return nil
}
