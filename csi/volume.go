package csi

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	csipb "github.com/container-storage-interface/spec/lib/go/csi"

	"github.com/ossmount/ossmount/csi/mountproto"
)

// Volume attributes (PV spec.csi.volumeAttributes, or an inline volume's
// volumeAttributes). Kubernetes adds keys under "csi.storage.k8s.io/".
const (
	attrTarget          = "target" // BUCKET[:/PREFIX]; default: the volume handle
	attrEndpoint        = "endpoint"
	attrRegion          = "region"
	attrSTSEndpoint     = "stsEndpoint"
	attrRoleARN         = "roleArn"
	attrOIDCProviderARN = "oidcProviderArn"
	attrPathStyle       = "pathStyle"
	attrMemoryLimit     = "memoryLimit"
	k8sPrefix           = "csi.storage.k8s.io/"
	attrTokens          = "csi.storage.k8s.io/serviceAccount.tokens"
	// TokenAudience is the audience the CSIDriver requests tokens for.
	TokenAudience = "sts.aliyuncs.com"
)

// volumeSpec is what one publish needs, parsed and checked.
type volumeSpec struct {
	target          string // BUCKET[:/PREFIX]
	args            []string
	roleARN         string
	oidcProviderARN string
	token           string // the pod's service account token for TokenAudience; "" if none
	accessKeyID     string // fallback source credential, from the publish secret
	accessKeySecret string
	memoryLimit     string
}

var (
	targetPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{1,61}[a-z0-9](:/?[^\x00]*)?$`)
)

// parseVolume reads the publish request into a volumeSpec. Every failure
// is a user error, for InvalidArgument.
func parseVolume(req *csipb.NodePublishVolumeRequest) (volumeSpec, error) {
	var v volumeSpec
	ctx := req.GetVolumeContext()
	for key := range ctx {
		switch key {
		case attrTarget, attrEndpoint, attrRegion, attrSTSEndpoint, attrRoleARN, attrOIDCProviderARN, attrPathStyle, attrMemoryLimit:
		default:
			if !strings.HasPrefix(key, k8sPrefix) {
				return v, fmt.Errorf("unknown volume attribute %q (known: target, endpoint, region, stsEndpoint, roleArn, oidcProviderArn, pathStyle, memoryLimit)", key)
			}
		}
	}
	v.target = ctx[attrTarget]
	if v.target == "" {
		v.target = req.GetVolumeId()
	}
	if !targetPattern.MatchString(v.target) {
		return v, fmt.Errorf("%q is not BUCKET[:/PREFIX]: set the volume attribute %q or use it as the volume handle", v.target, attrTarget)
	}
	endpoint := ctx[attrEndpoint]
	if endpoint == "" {
		return v, fmt.Errorf("volume attribute %q is required, e.g. https://oss-cn-hangzhou.aliyuncs.com", attrEndpoint)
	}
	v.args = append(v.args, "--endpoint="+endpoint)
	if r := ctx[attrRegion]; r != "" {
		v.args = append(v.args, "--region="+r)
	}
	if s := ctx[attrSTSEndpoint]; s != "" {
		v.args = append(v.args, "--sts-endpoint="+s)
	}
	if ctx[attrPathStyle] == "true" {
		v.args = append(v.args, "--path-style")
	}
	if v.memoryLimit = ctx[attrMemoryLimit]; v.memoryLimit != "" {
		if err := mountproto.CheckMemoryLimit(v.memoryLimit); err != nil {
			return v, fmt.Errorf("volume attribute %s: %w", attrMemoryLimit, err)
		}
	}
	v.roleARN, v.oidcProviderARN = ctx[attrRoleARN], ctx[attrOIDCProviderARN]
	if v.roleARN == "" {
		return v, fmt.Errorf("volume attribute %q is required: the RAM role that may read the bucket", attrRoleARN)
	}
	if err := v.readCredentials(ctx[attrTokens], req.GetSecrets()); err != nil {
		return v, err
	}
	opts, err := mountArgs(req.GetVolumeCapability().GetMount())
	if err != nil {
		return v, err
	}
	v.args = append(v.args, opts...)
	return v, nil
}

// readCredentials takes the pod's token for TokenAudience (RRSA) or, with
// no token, an AccessKey from the publish secret.
func (v *volumeSpec) readCredentials(tokensJSON string, secrets map[string]string) error {
	if tokensJSON != "" {
		token, err := audienceToken(tokensJSON)
		if err != nil {
			return err
		}
		if v.oidcProviderARN == "" {
			return fmt.Errorf("volume attribute %q is required with service account tokens (RRSA)", attrOIDCProviderARN)
		}
		v.token = token
		return nil
	}
	v.accessKeyID = firstOf(secrets, "akId", "accessKeyId", "AccessKeyId")
	v.accessKeySecret = firstOf(secrets, "akSecret", "accessKeySecret", "AccessKeySecret")
	if v.accessKeyID == "" || v.accessKeySecret == "" {
		return fmt.Errorf("no credentials: the CSIDriver must request service account tokens for audience %s (RRSA), or the volume needs a nodePublishSecretRef with akId and akSecret", TokenAudience)
	}
	return nil
}

// audienceToken extracts the token for TokenAudience from the JSON that
// kubelet passes: {"sts.aliyuncs.com":{"token":"...","expirationTimestamp":"..."}}.
func audienceToken(tokensJSON string) (string, error) {
	var tokens map[string]struct {
		Token string `json:"token"`
	}
	if err := json.Unmarshal([]byte(tokensJSON), &tokens); err != nil {
		return "", fmt.Errorf("volume context %s is not valid JSON", attrTokens)
	}
	t := tokens[TokenAudience].Token
	if t == "" {
		return "", fmt.Errorf("no service account token for audience %s: set tokenRequests audience %s in the CSIDriver", TokenAudience, TokenAudience)
	}
	return t, nil
}

func firstOf(m map[string]string, keys ...string) string {
	for _, k := range keys {
		if v := m[k]; v != "" {
			return v
		}
	}
	return ""
}

// ignoredOptions are mount options Kubernetes users write out of habit
// that the plugin sets itself on every mount.
var ignoredOptions = map[string]bool{"ro": true, "allow_other": true, "allow-other": true, "nodev": true, "nosuid": true, "_netdev": true}

// mountArgs turns the PV's mountOptions (each "key=value" or "key", or a
// comma-separated list, with '_' or '-') into ossmount options through the
// allowlist, and maps the fsGroup (VolumeMountGroup) to --gid with
// group-readable modes.
func mountArgs(m *csipb.VolumeCapability_MountVolume) ([]string, error) {
	var args []string
	set := map[string]bool{}
	for _, flag := range m.GetMountFlags() {
		for _, opt := range strings.Split(flag, ",") {
			opt = strings.TrimSpace(opt)
			if opt == "" || ignoredOptions[opt] {
				continue
			}
			key, value, hasValue := strings.Cut(opt, "=")
			name := strings.ReplaceAll(key, "_", "-")
			if !mountproto.Allowed(name) {
				return nil, fmt.Errorf("mount option %q is not allowed: a volume may set cache, read-ahead, ownership and log options, never a path or a credential", key)
			}
			arg := "--" + name
			if hasValue {
				arg += "=" + value
			}
			args = append(args, arg)
			set[name] = true
		}
	}
	if g := m.GetVolumeMountGroup(); g != "" {
		if _, err := strconv.ParseUint(g, 10, 32); err != nil {
			return nil, fmt.Errorf("volume mount group (fsGroup) %q is not a numeric gid", g)
		}
		if set["gid"] {
			return nil, fmt.Errorf("mount option gid conflicts with the pod's fsGroup %s", g)
		}
		args = append(args, "--gid="+g)
		if !set["file-mode"] {
			args = append(args, "--file-mode=0440")
		}
		if !set["dir-mode"] {
			args = append(args, "--dir-mode=0550")
		}
	}
	return args, nil
}
