package emulator

import (
	"slices"
	"sync"
)

// oidcTokens records the OIDC token of every AssumeRoleWithOIDC call, so
// that a test can tell which token a renewal used (the CSI driver rewrites
// a pod's token file on republish). The zero value is ready.
type oidcTokens struct {
	mu     sync.Mutex // guards tokens
	tokens []string
}

func (o *oidcTokens) record(token string) {
	o.mu.Lock()
	o.tokens = append(o.tokens, token)
	o.mu.Unlock()
}

// OIDCTokens returns the OIDCToken of each AssumeRoleWithOIDC call
// received so far (also failed ones), oldest first.
func (s *Server) OIDCTokens() []string {
	s.oidc.mu.Lock()
	defer s.oidc.mu.Unlock()
	return slices.Clone(s.oidc.tokens)
}
