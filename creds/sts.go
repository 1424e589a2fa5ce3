package creds

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// stsTimeout bounds one STS call, connection to last byte.
const stsTimeout = 10 * time.Second

// maxSTSBody caps how much of an STS answer is read; real answers are a few KB.
const maxSTSBody = 1 << 20

// stsClient calls AssumeRole and AssumeRoleWithOIDC (reference 7.2-7.5).
type stsClient struct {
	endpoint string // scheme://host[:port], no path
	http     *http.Client
	now      func() time.Time
	timeout  time.Duration // bounds one call, connection to last byte; 0 means stsTimeout
}

// assumeParams are the parameters both calls share.
type assumeParams struct {
	RoleARN     string
	SessionName string
	Duration    time.Duration
	Policy      string // session policy JSON; "" sends none
}

// assumeResult is a successful answer.
type assumeResult struct {
	Creds     Credentials
	RoleARN   string // AssumedRoleUser.Arn
	RoleID    string // AssumedRoleUser.AssumedRoleId
	RequestID string
}

func (p assumeParams) form() url.Values {
	f := url.Values{}
	f.Set("RoleArn", p.RoleARN)
	f.Set("RoleSessionName", p.SessionName)
	f.Set("DurationSeconds", strconv.Itoa(int(p.Duration/time.Second)))
	if p.Policy != "" {
		f.Set("Policy", p.Policy)
	}
	return f
}

// assumeRole signs with src (which may itself be an STS triple: role
// chaining) and asks for a token of role p.RoleARN. Layout as credentials-go:
// common parameters and Signature in the query, AssumeRole's in the body;
// all but Signature are signed.
func (c *stsClient) assumeRole(ctx context.Context, src Credentials, p assumeParams) (assumeResult, error) {
	query := url.Values{}
	query.Set("Action", "AssumeRole")
	query.Set("Version", "2015-04-01")
	query.Set("Format", "JSON")
	query.Set("Timestamp", c.now().UTC().Format("2006-01-02T15:04:05Z"))
	query.Set("SignatureMethod", "HMAC-SHA1")
	query.Set("SignatureVersion", "1.0")
	query.Set("SignatureNonce", newNonce())
	query.Set("AccessKeyId", src.AccessKeyID)
	if !src.SecurityToken.IsZero() {
		query.Set("SecurityToken", src.SecurityToken.Reveal())
	}
	form := p.form()
	signed := map[string]string{}
	for _, v := range []url.Values{query, form} {
		for k := range v {
			signed[k] = v.Get(k)
		}
	}
	query.Set("Signature", rpcSignature(http.MethodPost, signed, src.AccessKeySecret))
	return c.post(ctx, query, form)
}

// assumeRoleWithOIDC exchanges an OIDC token; the call is anonymous (no
// AccessKeyId, no signature).
func (c *stsClient) assumeRoleWithOIDC(ctx context.Context, providerARN string, token Secret, p assumeParams) (assumeResult, error) {
	query := url.Values{}
	query.Set("Action", "AssumeRoleWithOIDC")
	query.Set("Version", "2015-04-01")
	query.Set("Format", "JSON")
	query.Set("Timestamp", c.now().UTC().Format("2006-01-02T15:04:05Z"))
	form := p.form()
	form.Set("OIDCProviderArn", providerARN)
	form.Set("OIDCToken", token.Reveal())
	return c.post(ctx, query, form)
}

func (c *stsClient) post(ctx context.Context, query, form url.Values) (assumeResult, error) {
	ctx, cancel := context.WithTimeout(ctx, cmp.Or(c.timeout, stsTimeout))
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.endpoint+"/?"+query.Encode(), strings.NewReader(form.Encode()))
	if err != nil {
		return assumeResult{}, fmt.Errorf("sts: build request: %w", redactURL(err))
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept-Encoding", "identity")
	resp, err := c.http.Do(req)
	if err != nil {
		return assumeResult{}, fmt.Errorf("sts: POST %s: %w", c.endpoint, redactURL(err))
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxSTSBody))
	if err != nil {
		return assumeResult{}, fmt.Errorf("sts: read answer from %s: %w", c.endpoint, err)
	}
	if resp.StatusCode != http.StatusOK {
		return assumeResult{}, parseSTSError(resp.StatusCode, body)
	}
	return parseAssumeResponse(body)
}

// redactURL drops the query (AccessKeyId, Signature, SecurityToken) from a
// *url.Error so that transport errors can be logged.
func redactURL(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		u, perr := url.Parse(ue.URL)
		if perr != nil {
			return &url.Error{Op: ue.Op, URL: "(STS endpoint)", Err: ue.Err}
		}
		u.RawQuery = ""
		return &url.Error{Op: ue.Op, URL: u.String(), Err: ue.Err}
	}
	return err
}

// stsAnswer is the success shape (reference 7.4); pointers tell missing
// fields from empty ones.
type stsAnswer struct {
	RequestID       string `json:"RequestId"`
	AssumedRoleUser struct {
		Arn           string `json:"Arn"`
		AssumedRoleID string `json:"AssumedRoleId"`
	} `json:"AssumedRoleUser"`
	Credentials *struct {
		AccessKeyID     string `json:"AccessKeyId"`
		AccessKeySecret string `json:"AccessKeySecret"`
		SecurityToken   string `json:"SecurityToken"`
		Expiration      string `json:"Expiration"`
	} `json:"Credentials"`
}

// parseAssumeResponse reads a 200 answer. It never echoes the body: it
// holds the secret and token.
func parseAssumeResponse(body []byte) (assumeResult, error) {
	var a stsAnswer
	if err := json.Unmarshal(body, &a); err != nil {
		return assumeResult{}, fmt.Errorf("sts: answer is not valid JSON (%d bytes)", len(body))
	}
	c := a.Credentials
	if c == nil || c.AccessKeyID == "" || c.AccessKeySecret == "" || c.SecurityToken == "" || c.Expiration == "" {
		return assumeResult{}, fmt.Errorf("sts: answer (request id %q) lacks Credentials.AccessKeyId, AccessKeySecret, SecurityToken or Expiration", a.RequestID)
	}
	exp, err := time.Parse(time.RFC3339, c.Expiration)
	if err != nil {
		return assumeResult{}, fmt.Errorf("sts: answer (request id %q) has a bad Expiration %q", a.RequestID, shorten(c.Expiration, 40))
	}
	return assumeResult{
		Creds: Credentials{
			AccessKeyID:     c.AccessKeyID,
			AccessKeySecret: NewSecret(c.AccessKeySecret),
			SecurityToken:   NewSecret(c.SecurityToken),
			Expiration:      exp,
		},
		RoleARN:   a.AssumedRoleUser.Arn,
		RoleID:    a.AssumedRoleUser.AssumedRoleID,
		RequestID: a.RequestID,
	}, nil
}

// newNonce returns a random UUID (version 4), as SignatureNonce wants.
func newNonce() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go 1.24+)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}
