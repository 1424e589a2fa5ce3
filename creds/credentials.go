package creds

import (
	"context"
	"log/slog"
	"time"
)

// Secret holds a credential secret or security token. It cannot be converted
// to a string by accident: every printing path (fmt, %#v, slog, JSON) shows
// "REDACTED". Only request signers call Reveal.
type Secret struct {
	value string
}

// NewSecret wraps s.
func NewSecret(s string) Secret { return Secret{value: s} }

// Reveal returns the secret text. Call it only to sign a request.
func (s Secret) Reveal() string { return s.value }

// IsZero reports whether the secret is empty.
func (s Secret) IsZero() bool { return s.value == "" }

// String redacts the secret.
func (s Secret) String() string {
	if s.value == "" {
		return ""
	}
	return "REDACTED"
}

// GoString redacts the secret for %#v.
func (s Secret) GoString() string { return `creds.Secret("` + s.String() + `")` }

// LogValue redacts the secret for log/slog.
func (s Secret) LogValue() slog.Value { return slog.StringValue(s.String()) }

// MarshalJSON redacts the secret for encoding/json.
func (s Secret) MarshalJSON() ([]byte, error) { return []byte(`"` + s.String() + `"`), nil }

// MarshalText redacts the secret for encoders that use encoding.TextMarshaler.
func (s Secret) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// Credentials is one AccessKey triple. A temporary (STS) triple has a
// SecurityToken and an Expiration; the three values are only valid together.
type Credentials struct {
	AccessKeyID                    string
	AccessKeySecret, SecurityToken Secret
	Expiration                     time.Time // zero: never expires
}

// Expired reports whether c is no longer valid at now.
func (c Credentials) Expired(now time.Time) bool {
	return !c.Expiration.IsZero() && !now.Before(c.Expiration)
}

// Provider returns credentials that are valid now.
//
// Retrieve is safe for concurrent use. It returns an error (never zero
// Credentials with a nil error) when it has nothing valid to give; ctx bounds
// only the caller's wait, not shared work such as a refresh.
type Provider interface {
	Retrieve(ctx context.Context) (Credentials, error)
}

// Invalidator is implemented by providers that can renew on demand. A client
// that had stale credentials rejected by the server (expired or revoked token)
// passes the rejected value, so that N readers failing with the same token
// cause one renewal, not N.
type Invalidator interface {
	Invalidate(stale Credentials)
}
