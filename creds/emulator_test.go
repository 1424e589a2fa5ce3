package creds_test

import (
	"os"
	"strings"
	"testing"
	"time"

	"github.com/ossmount/ossmount/creds"
	"github.com/ossmount/ossmount/policy"
	"github.com/ossmount/ossmount/test/emulator"
)

const (
	emuAK     = "LTAIemutestuser"
	emuSecret = "emu-secret-do-not-leak"
	emuRole   = "acs:ram::1234567890123456:role/ossmount-test"
)

func startEmulator(t *testing.T) (*emulator.Server, creds.Config) {
	t.Helper()
	s, err := emulator.Start(emulator.Config{TokenLifetime: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	s.AddUser(emuAK, emuSecret)
	s.AddRole(emuRole, `{"Version":"1","Statement":[{"Effect":"Allow","Action":"oss:*","Resource":"*"}]}`, emuAK)
	pol, err := policy.ReadOnlyJSON("bucket", "data/")
	if err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"ALIBABA_CLOUD_ACCESS_KEY_ID": emuAK, "ALIBABA_CLOUD_ACCESS_KEY_SECRET": emuSecret,
		"ALIBABA_CLOUD_ECS_METADATA_DISABLED": "true"}
	return s, creds.Config{RoleARN: emuRole, Policy: pol, STSEndpoint: s.STSURL(), HomeDir: t.TempDir(),
		Getenv: func(k string) string { return env[k] }}
}

func TestEmulatorOIDC(t *testing.T) {
	s, cfg := startEmulator(t)
	provider := "acs:ram::1234567890123456:oidc-provider/ack-rrsa-test"
	s.AddOIDCProvider(provider)
	tokenFile := t.TempDir() + "/token"
	if err := os.WriteFile(tokenFile, []byte("eyJhbGciOiJSUzI1NiJ9.payload.sig"), 0o600); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"ALIBABA_CLOUD_OIDC_PROVIDER_ARN": provider, "ALIBABA_CLOUD_OIDC_TOKEN_FILE": tokenFile,
		"ALIBABA_CLOUD_ECS_METADATA_DISABLED": "true"}
	cfg.Getenv = func(k string) string { return env[k] }
	m, err := creds.New(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if c, err := m.Retrieve(t.Context()); err != nil || !strings.HasPrefix(c.AccessKeyID, "STS.") {
		t.Fatalf("%v %v", c.AccessKeyID, err)
	}
	if got := s.Counters().Requests["AssumeRoleWithOIDC"]; got != 1 {
		t.Errorf("AssumeRoleWithOIDC calls = %d", got)
	}
}
