package emulator

import (
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"math/big"
	"sync"
	"time"

	"github.com/ossmount/ossmount/policy"
)

// The demo identity Start creates, for `make demo` and tests. The secret is
// a throwaway value that only this emulator knows.
const (
	DemoAccessKeyID     = "LTAI5tDemoUserAccessKey"
	DemoAccessKeySecret = "DemoUserSecretForTheLocalEmulatorOnly0000"
	DemoRoleARN         = "acs:ram::1234567890123456:role/ossmount-demo"
	// DemoRolePolicy allows oss:GetObject and oss:ListObjects everywhere.
	DemoRolePolicy = `{"Version":"1","Statement":[{"Effect":"Allow","Action":["oss:GetObject","oss:ListObjects"],"Resource":["acs:oss:*:*:*"]}]}`
	// DemoOIDCProviderARN is registered by Start for AssumeRoleWithOIDC;
	// DemoRoleARN trusts it.
	DemoOIDCProviderARN = "acs:ram::1234567890123456:oidc-provider/ossmount-demo"
)

type role struct {
	arn         string
	policy      policy.Document
	policyErr   error
	allowed     map[string]bool // RAM user AKs that may assume it
	maxDuration time.Duration
}

// stsToken is one issued set of temporary credentials.
type stsToken struct {
	accessKeyID, secret, token string
	roleARN, sessionName       string
	session                    *policy.Document // nil: no session policy
	expiration                 time.Time
	revoked                    bool
}

// identities holds RAM users, roles, OIDC providers and issued tokens; mu
// guards all of them.
type identities struct {
	mu        sync.Mutex
	users     map[string]string // AK -> secret
	roles     map[string]*role
	oidc      map[string]bool
	tokens    map[string]*stsToken // by AccessKeyId
	nonces    map[string]time.Time
	nextNonce time.Time // nonces older than the skew window are dropped after it
}

func newIdentities() *identities {
	return &identities{users: map[string]string{}, roles: map[string]*role{},
		oidc: map[string]bool{}, tokens: map[string]*stsToken{}, nonces: map[string]time.Time{}}
}

// AddUser adds (or replaces) a RAM user with a static AccessKey. Static keys
// may do everything on every bucket.
func (s *Server) AddUser(accessKeyID, secret string) {
	s.ids.mu.Lock()
	defer s.ids.mu.Unlock()
	s.ids.users[accessKeyID] = secret
}

// AddRole adds (or replaces) a RAM role with the given permission policy,
// assumable by the listed RAM users (by AccessKeyId) and, when an OIDC
// provider is registered, by AssumeRoleWithOIDC. Its MaxSessionDuration is
// 3600 s. A policy that does not parse makes every request with the role's
// tokens denied.
func (s *Server) AddRole(arn, policyJSON string, allowedUsers ...string) {
	doc, err := policy.Parse([]byte(policyJSON))
	r := &role{arn: arn, policy: doc, policyErr: err, allowed: map[string]bool{}, maxDuration: time.Hour}
	for _, u := range allowedUsers {
		r.allowed[u] = true
	}
	s.ids.mu.Lock()
	defer s.ids.mu.Unlock()
	s.ids.roles[arn] = r
}

// AddOIDCProvider registers an OIDC provider ARN; AssumeRoleWithOIDC then
// accepts any non-empty OIDCToken for it.
func (s *Server) AddOIDCProvider(arn string) {
	s.ids.mu.Lock()
	defer s.ids.mu.Unlock()
	s.ids.oidc[arn] = true
}

// RevokeTokens invalidates every STS token issued so far: requests signed
// with them get 403 InvalidSecurityToken. Later AssumeRole calls work.
func (s *Server) RevokeTokens() {
	s.ids.mu.Lock()
	defer s.ids.mu.Unlock()
	for _, t := range s.ids.tokens {
		t.revoked = true
	}
}

// IssueToken mints STS credentials for roleARN directly, without an STS
// call (for tests that do not exercise STS). sessionPolicy may be "".
func (s *Server) IssueToken(roleARN, sessionName, sessionPolicy string, lifetime time.Duration) (accessKeyID, secret, token string, expiration time.Time, err error) {
	var sess *policy.Document
	if sessionPolicy != "" {
		d, err := policy.Parse([]byte(sessionPolicy))
		if err != nil {
			return "", "", "", time.Time{}, fmt.Errorf("emulator: session policy: %w", err)
		}
		sess = &d
	}
	s.ids.mu.Lock()
	_, ok := s.ids.roles[roleARN]
	s.ids.mu.Unlock()
	if !ok {
		return "", "", "", time.Time{}, fmt.Errorf("emulator: no role %q", roleARN)
	}
	t := s.issue(roleARN, sessionName, sess, lifetime)
	return t.accessKeyID, t.secret, t.token, t.expiration, nil
}

func (s *Server) issue(roleARN, sessionName string, sess *policy.Document, lifetime time.Duration) *stsToken {
	if s.cfg.TokenLifetime > 0 {
		lifetime = s.cfg.TokenLifetime
	}
	t := &stsToken{
		accessKeyID: "STS." + randomString(24),
		secret:      randomString(40),
		token:       "CAIS" + base64.StdEncoding.EncodeToString(randomBytes(240)),
		roleARN:     roleARN, sessionName: sessionName, session: sess,
		expiration: s.now().UTC().Add(lifetime).Truncate(time.Second),
	}
	s.ids.mu.Lock()
	defer s.ids.mu.Unlock()
	s.ids.tokens[t.accessKeyID] = t
	return t
}

const alnum = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

func randomString(n int) string {
	b := make([]byte, n)
	for i := range b {
		v, _ := rand.Int(rand.Reader, big.NewInt(int64(len(alnum))))
		b[i] = alnum[v.Int64()]
	}
	return string(b)
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	rand.Read(b)
	return b
}

// credentialFor returns the secret for an AccessKeyId and the token record
// if it is a temporary key.
func (ids *identities) credentialFor(ak string) (secret string, tok *stsToken, ok bool) {
	ids.mu.Lock()
	defer ids.mu.Unlock()
	if sec, ok := ids.users[ak]; ok {
		return sec, nil, true
	}
	if t, ok := ids.tokens[ak]; ok {
		c := *t
		return t.secret, &c, true
	}
	return "", nil, false
}

// allows evaluates role policy ∩ session policy for a temporary key.
func (ids *identities) allows(tok *stsToken, req policy.Request) bool {
	ids.mu.Lock()
	r := ids.roles[tok.roleARN]
	ids.mu.Unlock()
	if r == nil || r.policyErr != nil || !r.policy.Allows(req) {
		return false
	}
	return tok.session == nil || tok.session.Allows(req)
}
