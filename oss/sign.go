package oss

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"hash"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ossmount/ossmount/creds"
)

// Wire names used by the signers. Header names are in canonical MIME form so
// that http.Header lookups and direct map writes agree without allocating.
const (
	algorithmV4     = "OSS4-HMAC-SHA256"
	unsignedPayload = "UNSIGNED-PAYLOAD"
	v4TimeLayout    = "20060102T150405Z"

	hdrAuthorization   = "Authorization"
	hdrDate            = "Date"
	hdrOSSDate         = "X-Oss-Date"
	hdrContentSHA256   = "X-Oss-Content-Sha256"
	hdrSecurityToken   = "X-Oss-Security-Token"
	hdrRangeBehavior   = "X-Oss-Range-Behavior"
	hdrContentType     = "Content-Type"
	hdrContentMD5      = "Content-Md5"
	ossHeaderPrefix    = "x-oss-"
	signatureV1        = "v1"
	signatureV4        = "v4"
	productOSS         = "oss"
	productOSSCloudBox = "oss-cloudbox"
)

// signer signs requests for one bucket in one region. It is safe for
// concurrent use; the only shared state is a one-entry cache of the V4
// signing key, which changes once a day or when the credentials change.
type signer struct {
	v1      bool
	bucket  string
	region  string
	product string

	key atomic.Pointer[v4Key]
}

// v4Key is a derived V4 signing key plus a pool of HMAC states keyed with it,
// so that a request costs one HMAC reset instead of five HMAC constructions.
type v4Key struct {
	secret string // the AccessKeySecret it was derived from
	date   string // yyyymmdd
	pool   sync.Pool
}

// signScratch is per-call working memory, pooled to keep signing
// allocation-free apart from the header values it must produce.
type signScratch struct {
	buf     []byte
	pairs   []queryPair
	headers []headerName
}

type queryPair struct{ name, value string }

type headerName struct{ low, key string }

var scratchPool = sync.Pool{New: func() any { return &signScratch{buf: make([]byte, 0, 1024)} }}

// signRequest sets the date headers, x-oss-content-sha256 (V4), the security
// token and Authorization on req. key is the raw object key; objectLevel is
// false for bucket-level requests such as ListObjectsV2, whose resource is
// "/bucket/". t is the signing time, already corrected for clock skew.
// additional names extra headers to sign (V4); subresources names extra
// query parameters to sign (V1). The request's URL.RawQuery must already be
// encoded as on the wire.
func (s *signer) signRequest(req *http.Request, key string, cred creds.Credentials, t time.Time, additional, subresources []string) {
	t = t.UTC()
	if tok := cred.SecurityToken.Reveal(); tok != "" {
		req.Header[hdrSecurityToken] = []string{tok}
	} else {
		delete(req.Header, hdrSecurityToken)
	}
	if s.v1 {
		req.Header[hdrDate] = []string{t.Format(http.TimeFormat)}
		req.Header[hdrAuthorization] = []string{s.authV1(req, key, cred, subresources)}
		return
	}
	req.Header[hdrOSSDate] = []string{t.Format(v4TimeLayout)}
	req.Header[hdrDate] = []string{t.Format(http.TimeFormat)}
	req.Header[hdrContentSHA256] = []string{unsignedPayload}
	req.Header[hdrAuthorization] = []string{s.authV4(req, key, cred, t, additional)}
}

// authV4 computes the OSS4-HMAC-SHA256 Authorization value (protocol 1.1).
func (s *signer) authV4(req *http.Request, key string, cred creds.Credentials, t time.Time, additional []string) string {
	sc := scratchPool.Get().(*signScratch)
	defer scratchPool.Put(sc)

	var dt [16]byte
	datetime := t.AppendFormat(dt[:0], v4TimeLayout)
	date := datetime[:8]

	addl := additionalHeaders(req.Header, additional)

	// Canonical request.
	b := sc.buf[:0]
	b = append(b, req.Method...)
	b = append(b, '\n')
	b = append(b, '/')
	b = appendEscapedPath(b, s.bucket)
	b = append(b, '/')
	b = appendEscapedPath(b, key)
	b = append(b, '\n')
	b = appendCanonicalQuery(b, sc, req.URL.RawQuery)
	b = append(b, '\n')
	b = appendCanonicalHeaders(b, sc, req.Header, addl, false)
	b = append(b, '\n')
	for i, h := range addl {
		if i > 0 {
			b = append(b, ';')
		}
		b = append(b, h...)
	}
	b = append(b, '\n')
	payload := unsignedPayload
	if v := req.Header.Get(hdrContentSHA256); v != "" {
		payload = v
	}
	b = append(b, payload...)
	crHash := sha256.Sum256(b)

	// String to sign, hashed straight into the signing HMAC.
	k := s.signingKey(cred.AccessKeySecret.Reveal(), date)
	mac := k.pool.Get().(hash.Hash)
	mac.Reset()
	b = b[:0]
	b = append(b, algorithmV4...)
	b = append(b, '\n')
	b = append(b, datetime...)
	b = append(b, '\n')
	scopeStart := len(b)
	b = appendScope(b, date, s.region, s.product)
	scopeEnd := len(b)
	b = append(b, '\n')
	b = hex.AppendEncode(b, crHash[:])
	mac.Write(b)
	var sum [sha256.Size]byte
	sig := mac.Sum(sum[:0])
	k.pool.Put(mac)

	// Authorization header value.
	var out strings.Builder
	out.Grow(len(algorithmV4) + 13 + len(cred.AccessKeyID) + (scopeEnd - scopeStart) + 80)
	out.WriteString(algorithmV4)
	out.WriteString(" Credential=")
	out.WriteString(cred.AccessKeyID)
	out.WriteByte('/')
	out.Write(b[scopeStart:scopeEnd])
	if len(addl) > 0 {
		out.WriteString(",AdditionalHeaders=")
		for i, h := range addl {
			if i > 0 {
				out.WriteByte(';')
			}
			out.WriteString(h)
		}
	}
	out.WriteString(",Signature=")
	var hexSig [2 * sha256.Size]byte
	hex.Encode(hexSig[:], sig)
	out.Write(hexSig[:])
	sc.buf = b
	return out.String()
}

func appendScope(b, date []byte, region, product string) []byte {
	b = append(b, date...)
	b = append(b, '/')
	b = append(b, region...)
	b = append(b, '/')
	b = append(b, product...)
	b = append(b, "/aliyun_v4_request"...)
	return b
}

// signingKey returns the derived key for (secret, date), deriving it on a
// cache miss. Concurrent misses may derive twice; both results are equal.
func (s *signer) signingKey(secret string, date []byte) *v4Key {
	if k := s.key.Load(); k != nil && k.date == string(date) && k.secret == secret {
		return k
	}
	mac := func(key []byte, data string) []byte {
		h := hmac.New(sha256.New, key)
		h.Write([]byte(data))
		return h.Sum(nil)
	}
	kd := mac([]byte("aliyun_v4"+secret), string(date))
	kr := mac(kd, s.region)
	kp := mac(kr, s.product)
	ks := mac(kp, "aliyun_v4_request")
	k := &v4Key{secret: secret, date: string(date)}
	k.pool.New = func() any { return hmac.New(sha256.New, ks) }
	s.key.Store(k)
	return k
}

// additionalHeaders returns the lower-cased, sorted names from requested that
// are not signed anyway and are present in h (protocol 1.1.1).
func additionalHeaders(h http.Header, requested []string) []string {
	if len(requested) == 0 {
		return nil
	}
	var out []string
	for _, name := range requested {
		low := strings.ToLower(name)
		if isDefaultSignedHeader(low) || h.Get(low) == "" || slices.Contains(out, low) {
			continue
		}
		out = append(out, low)
	}
	slices.Sort(out)
	return out
}

func isDefaultSignedHeader(low string) bool {
	return strings.HasPrefix(low, ossHeaderPrefix) || low == "content-type" || low == "content-md5"
}

// lowerHeader lower-cases a header name, without allocating for the names
// this package sets itself.
func lowerHeader(k string) string {
	switch k {
	case hdrOSSDate:
		return "x-oss-date"
	case hdrContentSHA256:
		return "x-oss-content-sha256"
	case hdrSecurityToken:
		return "x-oss-security-token"
	case hdrRangeBehavior:
		return "x-oss-range-behavior"
	case hdrContentType:
		return "content-type"
	case hdrContentMD5:
		return "content-md5"
	}
	return strings.ToLower(k)
}

// appendCanonicalHeaders writes "name:value\n" for every signed header,
// sorted by name; values are trimmed and repeated values joined by ",".
// V1 (ossOnly) signs only the x-oss-* headers there.
func appendCanonicalHeaders(b []byte, sc *signScratch, h http.Header, addl []string, ossOnly bool) []byte {
	names := sc.headers[:0]
	for k, vs := range h {
		if len(vs) == 0 {
			continue
		}
		// Decide on the name as given before lower-casing it, so that
		// unsigned headers (Range, If-Match, User-Agent) cost nothing.
		oss := len(k) >= len(ossHeaderPrefix) && strings.EqualFold(k[:len(ossHeaderPrefix)], ossHeaderPrefix)
		if !oss && (ossOnly || !(strings.EqualFold(k, "content-type") || strings.EqualFold(k, "content-md5") ||
			slices.ContainsFunc(addl, func(a string) bool { return strings.EqualFold(a, k) }))) {
			continue
		}
		names = append(names, headerName{low: lowerHeader(k), key: k})
	}
	slices.SortFunc(names, func(a, b headerName) int { return strings.Compare(a.low, b.low) })
	for _, n := range names {
		b = append(b, n.low...)
		b = append(b, ':')
		for i, v := range h[n.key] {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, strings.TrimSpace(v)...)
		}
		b = append(b, '\n')
	}
	sc.headers = names[:0]
	return b
}

// appendCanonicalQuery sorts the wire query by encoded name and writes
// "name=value" pairs, or just "name" for an empty value. Like the SDK it
// reads "+" on the wire as an encoded space.
func appendCanonicalQuery(b []byte, sc *signScratch, raw string) []byte {
	if strings.Contains(raw, "+") {
		raw = strings.ReplaceAll(raw, "+", "%20")
	}
	pairs := sc.pairs[:0]
	for raw != "" {
		var p string
		p, raw, _ = strings.Cut(raw, "&")
		if p == "" {
			continue
		}
		name, value, _ := strings.Cut(p, "=")
		pairs = append(pairs, queryPair{name, value})
	}
	slices.SortStableFunc(pairs, func(a, b queryPair) int { return strings.Compare(a.name, b.name) })
	for i, p := range pairs {
		if i > 0 {
			b = append(b, '&')
		}
		b = append(b, p.name...)
		if p.value != "" {
			b = append(b, '=')
			b = append(b, p.value...)
		}
	}
	sc.pairs = pairs[:0]
	return b
}
