package emulator

import (
	"net/http"
	"net/url"
	"strings"
)

// maxSymlinkHops bounds how far GetObject follows links. OSS refuses a
// link whose target is itself a link; the emulator follows one hop and
// answers a second as a missing target.
const maxSymlinkHops = 1

// AddSymlink makes key a symbolic link to target (both keys in bucket), as
// PutSymlink does: the target need not exist. Listings mark the link
// <Type>Symlink</Type>; GetObject and HeadObject of the link answer the
// target's metadata and bytes (with x-oss-object-type: Symlink), or 404
// SymlinkTargetNotExist when the target is missing; GetSymlink
// (GET /key?symlink) answers the target in x-oss-symlink-target.
func (s *Server) AddSymlink(bucket, key, target string) {
	s.store.putObject(bucket, key, []byte(target), "", nil, target)
}

// escapeSymlinkTarget is how the emulator sends x-oss-symlink-target: each
// path segment percent-encoded, as the SDKs that URL-encode the header on
// PutSymlink send it; a plain ASCII key is unchanged.
func escapeSymlinkTarget(target string) string {
	segs := strings.Split(target, "/")
	for i, seg := range segs {
		segs[i] = url.PathEscape(seg)
	}
	return strings.Join(segs, "/")
}

func errSymlinkTargetNotExist(key string) *ossError {
	return &ossError{Status: 404, Code: "SymlinkTargetNotExist", Message: "The symlink target object does not exist",
		Extra: []xmlExtra{extra("Key", key)}}
}

// serveGetSymlink answers GetSymlink: the link's own ETag and
// Last-Modified, the target in x-oss-symlink-target, no body. A key that
// is not a link is 400 NotSymlink, as OSS answers.
func (s *Server) serveGetSymlink(w http.ResponseWriter, r *http.Request, link objectInfo) {
	if link.Symlink == "" {
		s.writeError(w, r, &ossError{Status: 400, Code: "NotSymlink", Message: "The specified object is not a symlink."})
		return
	}
	h := w.Header()
	h.Set("ETag", link.ETag)
	h.Set("Last-Modified", link.LastModified.UTC().Format(http.TimeFormat))
	h.Set("x-oss-symlink-target", escapeSymlinkTarget(link.Symlink))
	h.Set("Content-Length", "0")
	w.WriteHeader(http.StatusOK)
}

// followSymlink returns what GetObject and HeadObject of info serve: info
// itself, or the target of a link. ok=false means the target is missing
// (or is a link itself).
func (st *store) followSymlink(bucketName string, info objectInfo) (objectInfo, bool, error) {
	for hops := 0; info.Symlink != ""; hops++ {
		if hops == maxSymlinkHops {
			return objectInfo{}, false, nil
		}
		target, ok, _, err := st.lookup(bucketName, info.Symlink, true)
		if err != nil || !ok {
			return objectInfo{}, false, err
		}
		info = target
	}
	return info, true, nil
}
