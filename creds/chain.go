package creds

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// source is where the credential that signs AssumeRole comes from. Exactly
// one of fetch and oidc is set.
type source struct {
	name    string // says which source and file/profile, for Status and errors
	roleARN string // the role the source itself names (RamRoleArn profiles), used when Config.RoleARN is empty
	fetch   func(ctx context.Context) (Credentials, error)
	oidc    *oidcSource
}

// oidcSource is AssumeRoleWithOIDC input; the token file is re-read for
// every exchange because kubelet rotates it.
type oidcSource struct {
	providerARN, tokenFile string
	readTimeout            time.Duration // 0 means fileReadTimeout
}

func (o *oidcSource) token() (Secret, error) {
	b, err := readSmallFile(o.tokenFile, cmp.Or(o.readTimeout, fileReadTimeout))
	if err != nil {
		return Secret{}, fmt.Errorf("creds: read OIDC token file: %w", err)
	}
	tok := strings.TrimSpace(string(b))
	if len(tok) < 4 {
		return Secret{}, fmt.Errorf("creds: OIDC token file %s is empty", o.tokenFile)
	}
	return NewSecret(tok), nil
}

// resolver walks the chain of reference 8.2: environment (the
// ALIBABA_CLOUD_ and OSS_ families), OIDC, the CLI's config.json, the
// credentials INI file, the ECS instance role. An explicit CredentialsFile
// or Profile limits the walk to files. The first source found wins; a
// source that is present but broken is an error, not a fall-through.
type resolver struct {
	cfg    Config // defaults filled
	sts    *stsClient
	imds   *imds
	looked []string // every place looked at, for the "nothing found" error
}

func (r *resolver) env(k string) string { return strings.TrimSpace(r.cfg.Getenv(k)) }

func (r *resolver) resolve(ctx context.Context) (source, error) {
	type step func(context.Context) (source, bool, error)
	steps := []step{r.fromEnv, r.fromOIDC, r.fromCLI, r.fromINI, r.fromECS}
	if r.cfg.CredentialsFile != "" {
		steps = []step{r.fromExplicitFile}
	} else if r.cfg.Profile != "" {
		steps = []step{r.fromCLI, r.fromINI}
	}
	for _, s := range steps {
		src, ok, err := s(ctx)
		if err != nil {
			return source{}, err
		}
		if ok {
			return src, nil
		}
	}
	return source{}, fmt.Errorf("creds: no source credentials found; looked at: %s", strings.Join(r.looked, "; "))
}

func static(c Credentials) func(context.Context) (Credentials, error) {
	return func(context.Context) (Credentials, error) { return c, nil }
}

func (r *resolver) fromEnv(context.Context) (source, bool, error) {
	families := []struct{ id, secret, token string }{
		{"ALIBABA_CLOUD_ACCESS_KEY_ID", "ALIBABA_CLOUD_ACCESS_KEY_SECRET", "ALIBABA_CLOUD_SECURITY_TOKEN"},
		{"OSS_ACCESS_KEY_ID", "OSS_ACCESS_KEY_SECRET", "OSS_SESSION_TOKEN"},
	}
	for _, f := range families {
		id, secret := r.env(f.id), r.env(f.secret)
		switch {
		case id != "" && secret != "":
			c := Credentials{AccessKeyID: id, AccessKeySecret: NewSecret(secret), SecurityToken: NewSecret(r.env(f.token))}
			return source{name: "environment " + f.id, fetch: static(c)}, true, nil
		case id != "" || secret != "":
			return source{}, false, fmt.Errorf("creds: environment: %s and %s must be set together", f.id, f.secret)
		}
		r.looked = append(r.looked, "environment "+f.id+"/"+f.secret+" (unset)")
	}
	return source{}, false, nil
}

func (r *resolver) fromOIDC(context.Context) (source, bool, error) {
	provider, file := r.env("ALIBABA_CLOUD_OIDC_PROVIDER_ARN"), r.env("ALIBABA_CLOUD_OIDC_TOKEN_FILE")
	if provider == "" || file == "" {
		r.looked = append(r.looked, "OIDC ALIBABA_CLOUD_OIDC_PROVIDER_ARN/ALIBABA_CLOUD_OIDC_TOKEN_FILE (unset)")
		return source{}, false, nil
	}
	return r.oidcSource("OIDC provider "+provider, provider, file, "")
}

func (r *resolver) oidcSource(name, provider, file, roleARN string) (source, bool, error) {
	if !oidcProviderARN.MatchString(provider) {
		return source{}, false, fmt.Errorf("creds: OIDC provider ARN %q is malformed: want acs:ram::<account-id>:oidc-provider/<name>", provider)
	}
	o := &oidcSource{providerARN: provider, tokenFile: file}
	if _, err := o.token(); err != nil {
		return source{}, false, err
	}
	return source{name: name, roleARN: roleARN, oidc: o}, true, nil
}

func (r *resolver) home() string {
	if r.cfg.HomeDir != "" {
		return r.cfg.HomeDir
	}
	h, _ := os.UserHomeDir()
	return h
}

// profileName is the explicit profile, else ALIBABA_CLOUD_PROFILE, else def.
func (r *resolver) profileName(def string) string {
	if r.cfg.Profile != "" {
		return r.cfg.Profile
	}
	if p := r.env("ALIBABA_CLOUD_PROFILE"); p != "" {
		return p
	}
	return def
}

// readChainFile reads the file envVar names, else ~/rel. A missing file is
// noted in looked and is not ok; any other failure is an error.
func (r *resolver) readChainFile(kind, envVar, rel string) (path string, data []byte, ok bool, err error) {
	path = r.env(envVar)
	if path == "" {
		path = filepath.Join(r.home(), rel)
	}
	data, err = readSecretFile(path, r.cfg.Logger)
	if errors.Is(err, os.ErrNotExist) {
		r.looked = append(r.looked, kind+" "+path+" (not found)")
		return path, nil, false, nil
	}
	if err != nil {
		return path, nil, false, fmt.Errorf("creds: %s: %w", kind, err)
	}
	return path, data, true, nil
}

func (r *resolver) fromCLI(ctx context.Context) (source, bool, error) {
	if strings.EqualFold(r.env("ALIBABA_CLOUD_CLI_PROFILE_DISABLED"), "true") {
		r.looked = append(r.looked, "CLI config (disabled by ALIBABA_CLOUD_CLI_PROFILE_DISABLED)")
		return source{}, false, nil
	}
	path, data, ok, err := r.readChainFile("CLI config", "ALIBABA_CLOUD_CONFIG_FILE", ".aliyun/config.json")
	if !ok {
		return source{}, false, err
	}
	return r.cliSource(ctx, path, data)
}

func (r *resolver) cliSource(ctx context.Context, path string, data []byte) (source, bool, error) {
	c, err := parseCLIConfig(data)
	if err != nil {
		return source{}, false, fmt.Errorf("creds: CLI config %s: %w", path, err)
	}
	name := r.profileName(c.Current)
	p, ok := c.profile(name)
	if !ok {
		r.looked = append(r.looked, fmt.Sprintf("CLI config %s (no profile %q)", path, name))
		return source{}, false, nil
	}
	where := fmt.Sprintf("CLI config %s profile %q", path, name)
	switch p.Mode {
	case "AK", "":
		return r.keySource(where, p.AccessKeyID, p.AccessKeySecret, "", "", roleHop{})
	case "StsToken":
		return r.keySource(where, p.AccessKeyID, p.AccessKeySecret, p.StsToken, "", roleHop{})
	case "RamRoleArn":
		hop := roleHop{arn: p.RoleArn, session: p.RoleSessionName, policy: p.Policy, duration: time.Duration(p.DurationSeconds) * time.Second}
		return r.keySource(where, p.AccessKeyID, p.AccessKeySecret, "", p.RoleArn, hop)
	case "EcsRamRole":
		return r.ecsSource(ctx, where, p.RoleName)
	case "OIDC":
		return r.oidcSource(where, p.OIDCProviderARN, p.OIDCTokenFile, p.RoleArn)
	}
	return source{}, false, fmt.Errorf("creds: %s: mode %q is not supported (use AK, StsToken, RamRoleArn, EcsRamRole or OIDC)", where, p.Mode)
}

// roleHop is the role a RamRoleArn profile names. When the mount assumes a
// different role, the source credential is first exchanged for this one
// (role chaining); otherwise it is the mount's role and no hop is needed.
type roleHop struct {
	arn, session, policy string
	duration             time.Duration
}

func (r *resolver) keySource(where, id, secret, token, profileRole string, hop roleHop) (source, bool, error) {
	if id == "" || secret == "" {
		return source{}, false, fmt.Errorf("creds: %s: access key id and secret must both be set", where)
	}
	c := Credentials{AccessKeyID: id, AccessKeySecret: NewSecret(secret), SecurityToken: NewSecret(token)}
	src := source{name: where, roleARN: profileRole, fetch: static(c)}
	if hop.arn == "" || r.cfg.RoleARN == "" || r.cfg.RoleARN == hop.arn {
		return src, true, nil
	}
	if err := ValidateRoleARN(hop.arn); err != nil {
		return source{}, false, fmt.Errorf("creds: %s: %w", where, err)
	}
	p := assumeParams{RoleARN: hop.arn, SessionName: hop.session, Duration: hop.duration, Policy: hop.policy}
	if p.SessionName == "" {
		p.SessionName = r.cfg.RoleSessionName
	}
	if p.Duration < MinDuration || p.Duration > MaxDuration {
		p.Duration = DefaultDuration
	}
	src.name += " via role " + hop.arn
	src.fetch = func(ctx context.Context) (Credentials, error) {
		res, err := r.sts.assumeRole(ctx, c, p)
		if err != nil {
			return Credentials{}, fmt.Errorf("creds: assume the profile's role %s: %w", hop.arn, err)
		}
		return res.Creds, nil
	}
	return src, true, nil
}

func (r *resolver) fromINI(ctx context.Context) (source, bool, error) {
	path, data, ok, err := r.readChainFile("credentials file", "ALIBABA_CLOUD_CREDENTIALS_FILE", ".alibabacloud/credentials")
	if !ok {
		return source{}, false, err
	}
	return r.iniSource(ctx, path, data)
}

func (r *resolver) iniSource(ctx context.Context, path string, data []byte) (source, bool, error) {
	f, err := parseINI(data)
	if err != nil {
		return source{}, false, fmt.Errorf("creds: credentials file %s: %w", path, err)
	}
	name := r.profileName("default")
	s, ok := f[name]
	if !ok {
		r.looked = append(r.looked, fmt.Sprintf("credentials file %s (no section [%s])", path, name))
		return source{}, false, nil
	}
	where := fmt.Sprintf("credentials file %s section [%s]", path, name)
	switch s["type"] {
	case "access_key":
		return r.keySource(where, s["access_key_id"], s["access_key_secret"], "", "", roleHop{})
	case "ram_role_arn":
		hop := roleHop{arn: s["role_arn"], session: s["role_session_name"], policy: s["policy"], duration: DefaultDuration}
		return r.keySource(where, s["access_key_id"], s["access_key_secret"], "", s["role_arn"], hop)
	case "ecs_ram_role":
		return r.ecsSource(ctx, where, s["role_name"])
	}
	return source{}, false, fmt.Errorf("creds: %s: type %q is not supported (use access_key, ecs_ram_role or ram_role_arn)", where, s["type"])
}

// fromExplicitFile reads Config.CredentialsFile in whichever format it has.
func (r *resolver) fromExplicitFile(ctx context.Context) (source, bool, error) {
	path := r.cfg.CredentialsFile
	data, err := readSecretFile(path, r.cfg.Logger)
	if err != nil {
		return source{}, false, fmt.Errorf("creds: credentials file: %w", err)
	}
	var src source
	var ok bool
	if t := strings.TrimSpace(string(data)); strings.HasPrefix(t, "{") {
		src, ok, err = r.cliSource(ctx, path, data)
	} else {
		src, ok, err = r.iniSource(ctx, path, data)
	}
	if err == nil && !ok {
		err = fmt.Errorf("creds: %s", strings.Join(r.looked, "; "))
	}
	return src, ok, err
}

func (r *resolver) fromECS(ctx context.Context) (source, bool, error) {
	if strings.EqualFold(r.env("ALIBABA_CLOUD_ECS_METADATA_DISABLED"), "true") {
		r.looked = append(r.looked, "ECS metadata (disabled by ALIBABA_CLOUD_ECS_METADATA_DISABLED)")
		return source{}, false, nil
	}
	role := r.env("ALIBABA_CLOUD_ECS_METADATA")
	if role == "" {
		var err error
		if role, err = r.imds.roleName(ctx); err != nil {
			r.looked = append(r.looked, fmt.Sprintf("ECS metadata %s (%v)", r.imds.endpoint, err))
			return source{}, false, nil
		}
	}
	return r.ecsSource(ctx, "ECS metadata "+r.imds.endpoint, role)
}

func (r *resolver) ecsSource(ctx context.Context, where, role string) (source, bool, error) {
	if role == "" {
		var err error
		if role, err = r.imds.roleName(ctx); err != nil {
			return source{}, false, fmt.Errorf("creds: %s: discover the ECS instance role at %s: %w", where, r.imds.endpoint, err)
		}
	}
	return source{
		name:  fmt.Sprintf("%s role %q", where, role),
		fetch: func(ctx context.Context) (Credentials, error) { return r.imds.credentials(ctx, role) },
	}, true, nil
}
