package csi

import (
	"context"
	"slices"
	"strings"
	"testing"

	csipb "github.com/container-storage-interface/spec/lib/go/csi"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

const testTokens = `{"sts.aliyuncs.com":{"token":"pod-token","expirationTimestamp":"2030-01-01T00:00:00Z"}}`

func publishRequest(handle string, attrs map[string]string, group string, flags ...string) *csipb.NodePublishVolumeRequest {
	ctx := map[string]string{"endpoint": "https://oss-cn-hangzhou.aliyuncs.com", "roleArn": "acs:ram::1:role/r",
		"oidcProviderArn": "acs:ram::1:oidc-provider/p", attrTokens: testTokens, "csi.storage.k8s.io/pod.name": "p"}
	for k, v := range attrs {
		if v == "" {
			delete(ctx, k)
		} else {
			ctx[k] = v
		}
	}
	return &csipb.NodePublishVolumeRequest{VolumeId: handle, TargetPath: "/tmp/unused", VolumeContext: ctx,
		VolumeCapability: &csipb.VolumeCapability{AccessType: &csipb.VolumeCapability_Mount{
			Mount: &csipb.VolumeCapability_MountVolume{MountFlags: flags, VolumeMountGroup: group}}}}
}

func TestParseVolume(t *testing.T) {
	tests := []struct {
		name     string
		req      *csipb.NodePublishVolumeRequest
		secrets  map[string]string
		wantErr  string // substring; "" for success
		wantArgs []string
		check    func(t *testing.T, v volumeSpec)
	}{
		{name: "rrsa", req: publishRequest("bkt:/data", map[string]string{"region": "cn-hangzhou", "pathStyle": "true"}, ""),
			wantArgs: []string{"--endpoint=https://oss-cn-hangzhou.aliyuncs.com", "--region=cn-hangzhou", "--path-style"},
			check: func(t *testing.T, v volumeSpec) {
				if v.token != "pod-token" || v.target != "bkt:/data" || v.accessKeyID != "" {
					t.Errorf("spec %+v", v)
				}
			}},
		{name: "target attribute wins over the handle", req: publishRequest("csi-abc123", map[string]string{"target": "bkt"}, ""),
			check: func(t *testing.T, v volumeSpec) {
				if v.target != "bkt" {
					t.Errorf("target %q", v.target)
				}
			}},
		{name: "handle is not a bucket", req: publishRequest("Not_A_Bucket", nil, ""), wantErr: "not BUCKET"},
		{name: "no endpoint", req: publishRequest("bkt", map[string]string{"endpoint": ""}, ""), wantErr: `"endpoint" is required`},
		{name: "no role", req: publishRequest("bkt", map[string]string{"roleArn": ""}, ""), wantErr: `"roleArn" is required`},
		{name: "unknown attribute", req: publishRequest("bkt", map[string]string{"endpiont": "x"}, ""), wantErr: "unknown volume attribute"},
		{name: "token for another audience", req: publishRequest("bkt", map[string]string{attrTokens: `{"other":{"token":"t"}}`}, ""), wantErr: "audience sts.aliyuncs.com"},
		{name: "tokens not JSON", req: publishRequest("bkt", map[string]string{attrTokens: `{`}, ""), wantErr: "not valid JSON"},
		{name: "token without provider", req: publishRequest("bkt", map[string]string{"oidcProviderArn": ""}, ""), wantErr: "oidcProviderArn"},
		{name: "no credentials at all", req: publishRequest("bkt", map[string]string{attrTokens: ""}, ""), wantErr: "no credentials"},
		{name: "access key fallback", req: publishRequest("bkt", map[string]string{attrTokens: ""}, ""),
			secrets: map[string]string{"akId": "LTAIx", "akSecret": "s3cret"},
			check: func(t *testing.T, v volumeSpec) {
				if v.accessKeyID != "LTAIx" || v.accessKeySecret != "s3cret" || v.token != "" {
					t.Errorf("spec %+v", v)
				}
			}},
		{name: "bad memory limit", req: publishRequest("bkt", map[string]string{"memoryLimit": "lots"}, ""), wantErr: "memoryLimit"},
		{name: "allowed options, comma lists, habits ignored", req: publishRequest("bkt", nil, "", "metadata_ttl=5s,negative-ttl=1s", "ro", "allow_other"),
			wantArgs: []string{"--metadata-ttl=5s", "--negative-ttl=1s"}},
		{name: "credentials file refused", req: publishRequest("bkt", nil, "", "credentials_file=/etc/x"), wantErr: "not allowed"},
		{name: "policy file refused", req: publishRequest("bkt", nil, "", "policy-file=/x"), wantErr: "not allowed"},
		{name: "log file refused", req: publishRequest("bkt", nil, "", "log_file=/x"), wantErr: "not allowed"},
		{name: "metrics listener refused", req: publishRequest("bkt", nil, "", "metrics_addr=0.0.0.0:9"), wantErr: "not allowed"},
		{name: "fsGroup", req: publishRequest("bkt", nil, "1000"), wantArgs: []string{"--gid=1000", "--file-mode=0440", "--dir-mode=0550"}},
		{name: "fsGroup keeps explicit modes", req: publishRequest("bkt", nil, "1000", "file_mode=0444"),
			wantArgs: []string{"--file-mode=0444", "--gid=1000", "--dir-mode=0550"},
			check: func(t *testing.T, v volumeSpec) {
				if slices.Contains(v.args, "--file-mode=0440") {
					t.Errorf("args %v override the explicit file mode", v.args)
				}
			}},
		{name: "fsGroup conflicts with gid", req: publishRequest("bkt", nil, "1000", "gid=5"), wantErr: "conflicts"},
		{name: "fsGroup not numeric", req: publishRequest("bkt", nil, "staff"), wantErr: "numeric gid"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.secrets != nil {
				tt.req.Secrets = tt.secrets
			}
			v, err := parseVolume(tt.req)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			for _, a := range tt.wantArgs {
				if !slices.Contains(v.args, a) {
					t.Errorf("args %v lack %s", v.args, a)
				}
			}
			if tt.check != nil {
				tt.check(t, v)
			}
		})
	}
}

// Secrets never reach an error message.
func TestParseVolumeErrorsHoldNoSecrets(t *testing.T) {
	req := publishRequest("bkt", map[string]string{attrTokens: `{"sts.aliyuncs.com":{"token":"SECRET-TOKEN"}}`, "roleArn": ""}, "")
	if _, err := parseVolume(req); err == nil || strings.Contains(err.Error(), "SECRET-TOKEN") {
		t.Fatalf("error %v", err)
	}
	req = publishRequest("bkt", map[string]string{attrTokens: "{not json SECRET-TOKEN"}, "")
	if _, err := parseVolume(req); err == nil || strings.Contains(err.Error(), "SECRET-TOKEN") {
		t.Fatalf("error %v", err)
	}
}

// Bad requests fail with InvalidArgument before anything is mounted.
func TestPublishRejectsBadRequests(t *testing.T) {
	d, err := New(Config{NodeID: "n", MounterSocket: "/nonexistent.sock", StateDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	block := publishRequest("bkt", nil, "")
	block.VolumeCapability = &csipb.VolumeCapability{AccessType: &csipb.VolumeCapability_Block{Block: &csipb.VolumeCapability_BlockVolume{}}}
	noTarget := publishRequest("bkt", nil, "")
	noTarget.TargetPath = ""
	for name, req := range map[string]*csipb.NodePublishVolumeRequest{
		"block":      block,
		"no target":  noTarget,
		"bad option": publishRequest("bkt", nil, "", "cache_dir=/"),
	} {
		if _, err := d.NodePublishVolume(context.Background(), req); status.Code(err) != codes.InvalidArgument {
			t.Errorf("%s: %v, want InvalidArgument", name, err)
		}
	}
	// A valid request with the mounter down is Unavailable, not a mount.
	if _, err := d.NodePublishVolume(context.Background(), publishRequest("bkt", nil, "")); status.Code(err) != codes.Unavailable {
		t.Errorf("mounter down: %v, want Unavailable", err)
	}
	if _, err := d.NodeUnpublishVolume(context.Background(), &csipb.NodeUnpublishVolumeRequest{VolumeId: "bkt", TargetPath: t.TempDir() + "/missing"}); err != nil {
		t.Errorf("unpublish of a missing target: %v", err)
	}
}

// A second operation on a target while one runs is Aborted (kubelet
// retries), and the target is free again afterwards.
func TestLockTarget(t *testing.T) {
	d, err := New(Config{NodeID: "n", MounterSocket: "/nonexistent.sock", StateDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	unlock, err := d.lockTarget("/t")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.lockTarget("/t"); status.Code(err) != codes.Aborted {
		t.Errorf("second lock: %v, want Aborted", err)
	}
	if u, err := d.lockTarget("/other"); err != nil {
		t.Errorf("another target: %v", err)
	} else {
		u()
	}
	unlock()
	if u, err := d.lockTarget("/t"); err != nil {
		t.Errorf("after unlock: %v", err)
	} else {
		u()
	}
}
