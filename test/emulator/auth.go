package emulator

import (
	"context"
	"crypto/subtle"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss/credentials"
	"github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss/signer"
)

// maxSkew is how far a request's signing time may be from server time.
const maxSkew = 15 * time.Minute

// identity is who sent an OSS request.
type identity struct {
	anonymous   bool
	accessKeyID string
	token       *stsToken // nil for RAM users
}

// authHeader is a parsed Authorization header.
type authHeader struct {
	v4                bool
	accessKeyID       string
	additionalHeaders []string
	signature         string
}

func parseAuthorization(v string) (authHeader, bool) {
	if rest, ok := strings.CutPrefix(v, "OSS4-HMAC-SHA256 "); ok {
		a := authHeader{v4: true}
		for _, part := range strings.Split(rest, ",") {
			name, val, _ := strings.Cut(strings.TrimSpace(part), "=")
			switch name {
			case "Credential":
				ak, _, ok := strings.Cut(val, "/")
				if !ok {
					return a, false
				}
				a.accessKeyID = ak
			case "AdditionalHeaders":
				if val != "" {
					a.additionalHeaders = strings.Split(val, ";")
				}
			case "Signature":
				a.signature = val
			}
		}
		return a, a.accessKeyID != "" && a.signature != ""
	}
	if rest, ok := strings.CutPrefix(v, "OSS "); ok {
		ak, sig, ok := strings.Cut(rest, ":")
		return authHeader{accessKeyID: ak, signature: sig}, ok && ak != "" && sig != ""
	}
	return authHeader{}, false
}

// authenticate checks the Authorization header the way OSS does: signing
// time, AccessKeyId, security token, then the signature, recomputed with the
// official SDK signer.
func (s *Server) authenticate(r *http.Request, req ossRequest) (identity, *ossError) {
	raw := r.Header.Get("Authorization")
	if raw == "" {
		q := r.URL.Query()
		if q.Has("x-oss-signature") || q.Has("Signature") {
			return identity{}, errAccessDenied("The emulator does not accept signatures in the query string.")
		}
		return identity{anonymous: true}, nil
	}
	a, ok := parseAuthorization(raw)
	if !ok {
		return identity{}, &ossError{Status: 400, Code: "InvalidArgument", Message: "Authorization header is invalid."}
	}
	var signTime time.Time
	var err error
	if a.v4 {
		signTime, err = time.Parse("20060102T150405Z", r.Header.Get("x-oss-date"))
	} else {
		signTime, err = http.ParseTime(r.Header.Get("Date"))
	}
	if err != nil {
		return identity{}, errAccessDenied("The request has no valid signing date (x-oss-date for V4, Date for V1).")
	}
	now := s.now().UTC()
	if d := now.Sub(signTime); d > maxSkew || d < -maxSkew {
		return identity{}, &ossError{Status: 403, Code: "RequestTimeTooSkewed",
			Message: "The difference between the request time and the current time is too large.",
			Extra: []xmlExtra{extra("RequestTime", signTime.Format(time.RFC3339)),
				extra("ServerTime", now.Format(time.RFC3339))}}
	}
	secret, tok, ok := s.ids.credentialFor(a.accessKeyID)
	sentToken := r.Header.Get("x-oss-security-token")
	// Real OSS knows a temporary AccessKeyId only together with its token:
	// sent alone, it is as unknown as a made-up one (EC 0002-00000002).
	if !ok || (tok != nil && sentToken == "") {
		return identity{}, &ossError{Status: 403, Code: "InvalidAccessKeyId",
			Message: "The OSS Access Key Id you provided does not exist in our records.",
			EC:      "0002-00000002", Extra: []xmlExtra{extra("OSSAccessKeyId", a.accessKeyID)}}
	}
	if tok != nil {
		switch {
		case tok.revoked || subtle.ConstantTimeCompare([]byte(sentToken), []byte(tok.token)) != 1:
			return identity{}, &ossError{Status: 403, Code: "InvalidSecurityToken",
				Message: "The security token you provided is invalid.", EC: "0002-00000006"}
		case !now.Before(tok.expiration):
			return identity{}, &ossError{Status: 403, Code: "SecurityTokenExpired",
				Message: "The security token you provided has expired.", EC: "0002-00000007"}
		}
	}
	if a.v4 && r.Header.Get("x-oss-content-sha256") != "UNSIGNED-PAYLOAD" {
		return identity{}, &ossError{Status: 400, Code: "InvalidArgument",
			Message: "The value of x-oss-content-sha256 is invalid.", EC: "0002-00000214"}
	}
	want, stringToSign := s.resign(r, req, a, signTime, secret, sentToken)
	if subtle.ConstantTimeCompare([]byte(want), []byte(a.signature)) != 1 {
		e := &ossError{Status: 403, Code: "SignatureDoesNotMatch",
			Message: "The request signature we calculated does not match the signature you provided. Check your key and signing method.",
			EC:      "0002-00000040", Extra: []xmlExtra{extra("SignatureProvided", a.signature)}}
		if a.v4 {
			// The V4 string to sign holds only a hash of the canonical
			// request; the V1 one would echo the security token.
			e.Extra = append(e.Extra, extra("StringToSign", stringToSign))
		}
		return identity{}, e
	}
	return identity{accessKeyID: a.accessKeyID, token: tok}, nil
}

// resign signs a copy of r with the official SDK signer and returns the
// signature it computed.
func (s *Server) resign(r *http.Request, req ossRequest, a authHeader, signTime time.Time, secret, token string) (sig, stringToSign string) {
	c := &http.Request{Method: r.Method, URL: &url.URL{Path: r.URL.Path, RawQuery: r.URL.RawQuery},
		Header: r.Header.Clone()}
	c.Header.Del("Authorization")
	if r.Host != "" {
		c.Header.Set("Host", r.Host)
	}
	ctx := &signer.SigningContext{
		Product:           ptr("oss"),
		Region:            ptr(s.cfg.Region),
		Request:           c,
		AdditionalHeaders: a.additionalHeaders,
		Credentials: &credentials.Credentials{AccessKeyID: a.accessKeyID, AccessKeySecret: secret,
			SecurityToken: token},
		Time: signTime,
	}
	if req.bucket != "" {
		ctx.Bucket = ptr(req.bucket)
	}
	if req.hasKey {
		ctx.Key = ptr(req.key)
	}
	var sg signer.Signer = &signer.SignerV1{}
	if a.v4 {
		sg = &signer.SignerV4{}
	}
	if err := sg.Sign(context.Background(), ctx); err != nil {
		return "", ""
	}
	got, _ := parseAuthorization(c.Header.Get("Authorization"))
	return got.signature, ctx.StringToSign
}

func ptr[T any](v T) *T { return &v }
