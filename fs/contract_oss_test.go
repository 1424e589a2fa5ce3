package fs

import (
	"context"
	"testing"

	"github.com/ossmount/ossmount/creds"
	"github.com/ossmount/ossmount/oss"
	"github.com/ossmount/ossmount/policy"
	"github.com/ossmount/ossmount/test/emulator"
)

// The store contract on the real stack: oss.Client signing with temporary
// credentials from creds.Manager, against the emulator. The same table runs
// on the fake store (TestFakeStoreContract), so the fake cannot drift.
func TestStoreContractOSSClient(t *testing.T) {
	storeContract(t, func(t *testing.T, objects map[string]string) Store {
		emu, err := emulator.Start(emulator.Config{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { emu.Close() })
		for key, data := range objects {
			emu.PutObject("contract", key, []byte(data))
		}
		sessionPolicy, err := policy.ReadOnlyJSON("contract", "")
		if err != nil {
			t.Fatal(err)
		}
		env := map[string]string{
			"ALIBABA_CLOUD_ACCESS_KEY_ID":         emulator.DemoAccessKeyID,
			"ALIBABA_CLOUD_ACCESS_KEY_SECRET":     emulator.DemoAccessKeySecret,
			"ALIBABA_CLOUD_ECS_METADATA_DISABLED": "true",
		}
		manager, err := creds.New(context.Background(), creds.Config{
			RoleARN:     emulator.DemoRoleARN,
			Policy:      sessionPolicy,
			STSEndpoint: emu.STSURL(),
			Getenv:      func(k string) string { return env[k] },
			HomeDir:     t.TempDir(),
		})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { manager.Close() })
		client, err := oss.New(oss.Config{Endpoint: emu.OSSURL(), Region: emu.Region(), Bucket: "contract", PathStyle: true}, manager)
		if err != nil {
			t.Fatal(err)
		}
		return client
	})
}
