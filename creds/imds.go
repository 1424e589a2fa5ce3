package creds

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// imdsTimeout bounds each metadata request: the service answers in
// milliseconds on ECS, and off ECS nothing answers at all, so probing must
// give up quickly (credentials-go uses 1 s too).
const imdsTimeout = time.Second

// imds reads the ECS instance RAM role through the metadata service
// (reference 7.6): hardened mode (a session token from PUT /latest/api/token)
// first, plain GETs as a fallback unless v1 is disabled.
type imds struct {
	endpoint   string
	http       *http.Client
	v1Disabled bool
	timeout    time.Duration // bounds each request, connection to last byte; 0 means imdsTimeout
}

const imdsCredsPath = "/latest/meta-data/ram/security-credentials/"

func (m *imds) do(ctx context.Context, method, path string, header map[string]string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, cmp.Or(m.timeout, imdsTimeout))
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, m.endpoint+path, nil)
	if err != nil {
		return "", err
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := m.http.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if err != nil {
		return "", err
	}
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("%s %s: status %d", method, path, resp.StatusCode)
	}
	return string(body), nil
}

// token returns a hardened-mode session token, or "" to use v1.
func (m *imds) token(ctx context.Context) (string, error) {
	tok, err := m.do(ctx, http.MethodPut, "/latest/api/token",
		map[string]string{"X-aliyun-ecs-metadata-token-ttl-seconds": "21600"})
	if err != nil {
		if m.v1Disabled {
			return "", fmt.Errorf("metadata token (hardened mode, IMDSv1 disabled): %w", err)
		}
		return "", nil
	}
	return strings.TrimSpace(tok), nil
}

// get fetches path with the token, falling back to a plain GET when the
// tokenized one fails and v1 is allowed.
func (m *imds) get(ctx context.Context, path, token string) (string, error) {
	if token != "" {
		body, err := m.do(ctx, http.MethodGet, path, map[string]string{"X-aliyun-ecs-metadata-token": token})
		if err == nil || m.v1Disabled {
			return body, err
		}
	}
	return m.do(ctx, http.MethodGet, path, nil)
}

// roleName discovers the instance's role.
func (m *imds) roleName(ctx context.Context) (string, error) {
	tok, err := m.token(ctx)
	if err != nil {
		return "", err
	}
	body, err := m.get(ctx, imdsCredsPath, tok)
	if err != nil {
		return "", err
	}
	name := strings.TrimSpace(body)
	if name == "" || strings.ContainsAny(name, "/\n") {
		return "", fmt.Errorf("metadata service gave no usable role name")
	}
	return name, nil
}

// credentials returns the role's current temporary triple.
func (m *imds) credentials(ctx context.Context, role string) (Credentials, error) {
	tok, err := m.token(ctx)
	if err != nil {
		return Credentials{}, fmt.Errorf("creds: ECS metadata %s: %w", m.endpoint, err)
	}
	body, err := m.get(ctx, imdsCredsPath+role, tok)
	if err != nil {
		return Credentials{}, fmt.Errorf("creds: ECS metadata %s role %q: %w", m.endpoint, role, err)
	}
	return parseIMDSCredentials([]byte(body))
}

// parseIMDSCredentials accepts only Code "Success" with all three values
// (reference 7.6). Errors never include the body: it holds secrets.
func parseIMDSCredentials(body []byte) (Credentials, error) {
	var a struct {
		Code, AccessKeyID, AccessKeySecret, SecurityToken, Expiration string
	}
	if err := json.Unmarshal(body, &a); err != nil {
		return Credentials{}, fmt.Errorf("creds: ECS metadata answer is not valid JSON")
	}
	if a.Code != "Success" || a.AccessKeyID == "" || a.AccessKeySecret == "" || a.SecurityToken == "" {
		return Credentials{}, fmt.Errorf("creds: ECS metadata answer has Code %q or lacks AccessKeyId/AccessKeySecret/SecurityToken", shorten(a.Code, 40))
	}
	c := Credentials{AccessKeyID: a.AccessKeyID, AccessKeySecret: NewSecret(a.AccessKeySecret), SecurityToken: NewSecret(a.SecurityToken)}
	if a.Expiration != "" {
		exp, err := time.Parse(time.RFC3339, a.Expiration)
		if err != nil {
			return Credentials{}, fmt.Errorf("creds: ECS metadata answer has a bad Expiration %q", shorten(a.Expiration, 40))
		}
		c.Expiration = exp
	}
	return c, nil
}
