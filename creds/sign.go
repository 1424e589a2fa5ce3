package creds

import (
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"net/url"
	"sort"
	"strings"
)

// percentEncode is the RPC encoding (reference 7.2 step 1): RFC 3986, keep
// A-Z a-z 0-9 - _ . ~ and write every other byte as upper-case %XX.
func percentEncode(s string) string {
	e := url.QueryEscape(s)
	e = strings.ReplaceAll(e, "+", "%20")
	e = strings.ReplaceAll(e, "*", "%2A")
	return strings.ReplaceAll(e, "%7E", "~")
}

// canonicalQuery sorts params by name and joins name=value pairs, both
// percent-encoded, with '&' (reference 7.2 step 2).
func canonicalQuery(params map[string]string) string {
	names := make([]string, 0, len(params))
	for name := range params {
		names = append(names, name)
	}
	sort.Strings(names)
	var b strings.Builder
	for i, name := range names {
		if i > 0 {
			b.WriteByte('&')
		}
		b.WriteString(percentEncode(name))
		b.WriteByte('=')
		b.WriteString(percentEncode(params[name]))
	}
	return b.String()
}

// rpcStringToSign is METHOD&%2F&percentEncode(canonical query) (step 3).
func rpcStringToSign(method string, params map[string]string) string {
	return method + "&" + percentEncode("/") + "&" + percentEncode(canonicalQuery(params))
}

// rpcSignature is base64(HMAC-SHA1(secret + "&", string to sign)) (step 4).
// params must hold every parameter sent except Signature.
func rpcSignature(method string, params map[string]string, secret Secret) string {
	mac := hmac.New(sha1.New, []byte(secret.Reveal()+"&"))
	mac.Write([]byte(rpcStringToSign(method, params)))
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}
