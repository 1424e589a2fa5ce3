package oss

import (
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"net/http"
	"slices"
	"strings"

	"github.com/ossmount/ossmount/creds"
)

// v1SubResources are the query parameters V1 signs (protocol 1.2), in
// addition to every x-oss-* parameter.
var v1SubResources = map[string]bool{
	"acl": true, "bucketInfo": true, "location": true, "stat": true, "delete": true, "append": true,
	"tagging": true, "objectMeta": true, "uploads": true, "uploadId": true, "partNumber": true,
	"security-token": true, "position": true, "response-content-type": true,
	"response-content-language": true, "response-expires": true, "response-cache-control": true,
	"response-content-disposition": true, "response-content-encoding": true, "restore": true,
	"callback": true, "callback-var": true, "versions": true, "versioning": true, "versionId": true,
	"sequential": true, "continuation-token": true, "regionList": true, "cloudboxes": true, "symlink": true,
}

// authV1 computes the legacy "OSS AK:signature" Authorization value.
func (s *signer) authV1(req *http.Request, key string, cred creds.Credentials, extra []string) string {
	sc := scratchPool.Get().(*signScratch)
	defer scratchPool.Put(sc)

	b := sc.buf[:0]
	b = append(b, req.Method...)
	b = append(b, '\n')
	b = append(b, req.Header.Get(hdrContentMD5)...)
	b = append(b, '\n')
	b = append(b, req.Header.Get(hdrContentType)...)
	b = append(b, '\n')
	b = append(b, req.Header.Get(hdrDate)...)
	b = append(b, '\n')
	b = appendCanonicalHeaders(b, sc, req.Header, nil, true)
	b = append(b, '/')
	b = append(b, s.bucket...)
	b = append(b, '/')
	b = append(b, key...)

	pairs := sc.pairs[:0]
	if req.URL.RawQuery != "" {
		for name, vs := range req.URL.Query() {
			if v1SubResources[name] || strings.HasPrefix(name, ossHeaderPrefix) || slices.Contains(extra, name) {
				v := ""
				if len(vs) > 0 {
					v = vs[0]
				}
				pairs = append(pairs, queryPair{name, v})
			}
		}
	}
	slices.SortFunc(pairs, func(a, b queryPair) int { return strings.Compare(a.name, b.name) })
	for i, p := range pairs {
		if i == 0 {
			b = append(b, '?')
		} else {
			b = append(b, '&')
		}
		b = append(b, p.name...)
		if p.value != "" {
			b = append(b, '=')
			b = append(b, p.value...)
		}
	}
	sc.pairs = pairs[:0]

	mac := hmac.New(sha1.New, []byte(cred.AccessKeySecret.Reveal()))
	mac.Write(b)
	var sum [sha1.Size]byte
	sig := mac.Sum(sum[:0])
	sc.buf = b

	var out strings.Builder
	out.Grow(5 + len(cred.AccessKeyID) + base64.StdEncoding.EncodedLen(len(sig)))
	out.WriteString("OSS ")
	out.WriteString(cred.AccessKeyID)
	out.WriteByte(':')
	var enc [28]byte
	base64.StdEncoding.Encode(enc[:], sig)
	out.Write(enc[:])
	return out.String()
}
