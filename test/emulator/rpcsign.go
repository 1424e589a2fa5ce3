package emulator

import (
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"net/url"
	"sort"
	"strings"
)

// rpcPercentEncode is the RFC 3986 encoding of the Alibaba Cloud RPC
// signature (reference 7.2): unreserved characters kept, everything else
// %XX in upper case, space as %20.
func rpcPercentEncode(s string) string {
	e := url.QueryEscape(s)
	e = strings.ReplaceAll(e, "+", "%20")
	e = strings.ReplaceAll(e, "*", "%2A")
	return strings.ReplaceAll(e, "%7E", "~")
}

// rpcStringToSign builds METHOD&%2F&percentEncode(canonicalized query) over
// every parameter except Signature.
func rpcStringToSign(method string, params map[string]string) string {
	names := make([]string, 0, len(params))
	for k := range params {
		if k != "Signature" {
			names = append(names, k)
		}
	}
	sort.Strings(names)
	parts := make([]string, len(names))
	for i, k := range names {
		parts[i] = rpcPercentEncode(k) + "=" + rpcPercentEncode(params[k])
	}
	return method + "&" + rpcPercentEncode("/") + "&" + rpcPercentEncode(strings.Join(parts, "&"))
}

// rpcSignature is base64(HMAC-SHA1(secret + "&", stringToSign)).
func rpcSignature(secret, stringToSign string) string {
	h := hmac.New(sha1.New, []byte(secret+"&"))
	h.Write([]byte(stringToSign))
	return base64.StdEncoding.EncodeToString(h.Sum(nil))
}
