package creds

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/ossmount/ossmount/test/mounttest"
)

// TestSecretsNeverLeak drives the manager through success, renewal, STS
// failures and transport failures with a source triple that has a token,
// capturing every log record and error text, and greps them for secrets.
func TestSecretsNeverLeak(t *testing.T) {
	f := newFakeSTS(t, time.Hour)
	f.addUser(imdsAK, imdsSecret)
	f.mu.Lock()
	f.tokens[imdsAK] = imdsToken
	f.mu.Unlock()
	var logs bytes.Buffer
	cfg := Config{RoleARN: testRole, Policy: testPolicy, STSEndpoint: f.srv.URL, HomeDir: t.TempDir(),
		Logger: slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Getenv: envMap("ALIBABA_CLOUD_ACCESS_KEY_ID", imdsAK, "ALIBABA_CLOUD_ACCESS_KEY_SECRET", imdsSecret,
			"ALIBABA_CLOUD_SECURITY_TOKEN", imdsToken, "ALIBABA_CLOUD_ECS_METADATA_DISABLED", "true")}
	clock := f.simulate(&cfg)
	m := newManager(t, cfg)
	var texts []string
	c, err := m.Retrieve(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	js, _ := json.Marshal(c)
	texts = append(texts, fmt.Sprintf("%v %+v %#v %s", c, c, c, js))
	cfg.Logger.Info("credentials", "creds", c, "secret", c.AccessKeySecret)
	clock.fireNext(t)
	mounttest.Await(t, "a renewal", func() bool { return m.Status().Renewals >= 1 })
	f.failAlways.Store(true)
	clock.Advance(time.Hour)
	mounttest.Await(t, "Retrieve to fail", func() bool { _, err := m.Retrieve(t.Context()); return err != nil })
	_, err = m.Retrieve(t.Context())
	texts = append(texts, err.Error(), fmt.Sprintf("%+v", m.Status()))
	m.Close()

	// Transport failure with the token in the query string.
	closed := httptest.NewServer(http.NotFoundHandler())
	closed.Close()
	cfg.STSEndpoint = closed.URL
	_, err = New(t.Context(), cfg)
	if err == nil {
		t.Fatal("New against a closed port succeeded")
	}
	texts = append(texts, err.Error())
	// Bad file syntax must not quote file content.
	_, err = parseCLIConfig([]byte(`{"profiles":[{"access_key_secret":` + imdsSecret + `}]}`))
	texts = append(texts, err.Error())
	_, err = parseINI([]byte("[a]\n" + imdsSecret + "\n"))
	texts = append(texts, err.Error())
	_, err = parseIMDSCredentials([]byte(`{"AccessKeySecret":"` + imdsSecret + `","Code":"x"}`))
	texts = append(texts, err.Error())
	_, err = parseAssumeResponse([]byte(`{"Credentials":{"AccessKeySecret":"` + imdsSecret + `","Expiration":"x"}}`))
	texts = append(texts, err.Error())

	all := logs.String() + "\n" + strings.Join(texts, "\n")
	f.mu.Lock()
	secrets := []string{imdsSecret, imdsToken, "Signature="}
	for ak, s := range f.secrets {
		if strings.HasPrefix(ak, "STS.key") {
			secrets = append(secrets, s, f.tokens[ak])
		}
	}
	f.mu.Unlock()
	if len(secrets) < 5 {
		t.Fatalf("only %d secrets to look for", len(secrets))
	}
	for _, s := range secrets {
		if strings.Contains(all, s) {
			t.Errorf("secret %.12s... leaked into logs or errors", s)
		}
	}
	if !strings.Contains(all, "REDACTED") || !strings.Contains(logs.String(), "token renewed") {
		t.Errorf("capture looks empty: %.300s", all)
	}
}
