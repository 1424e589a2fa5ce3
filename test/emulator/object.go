package emulator

import (
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// byteRange is the part of an object a GET returns.
type byteRange struct {
	start, n int64
	partial  bool // 206
}

// parseRange applies OSS range semantics (reference 5.2): legacy by default,
// standard with x-oss-range-behavior: standard. ok=false means 416.
func parseRange(h string, size int64, standard bool) (byteRange, bool) {
	whole := byteRange{start: 0, n: size}
	spec, found := strings.CutPrefix(strings.TrimSpace(h), "bytes=")
	if h == "" || !found || strings.Contains(spec, ",") {
		return whole, true
	}
	a, b, found := strings.Cut(spec, "-")
	if !found {
		return whole, true
	}
	num := func(s string) (int64, bool) {
		v, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
		return v, err == nil && v >= 0
	}
	var first, last int64
	switch {
	case a == "": // last n bytes
		n, ok := num(b)
		if !ok {
			return whole, true
		}
		if n == 0 || size == 0 {
			if standard {
				return byteRange{}, false
			}
			return whole, true
		}
		if n > size {
			if !standard {
				return whole, true
			}
			n = size
		}
		return byteRange{start: size - n, n: n, partial: true}, true
	case b == "":
		v, ok := num(a)
		if !ok {
			return whole, true
		}
		first, last = v, size-1
	default:
		v, ok1 := num(a)
		w, ok2 := num(b)
		if !ok1 || !ok2 || w < v {
			return whole, true
		}
		first, last = v, w
	}
	if first >= size {
		if standard {
			return byteRange{}, false
		}
		return whole, true
	}
	if last >= size {
		if !standard {
			return whole, true
		}
		last = size - 1
	}
	return byteRange{start: first, n: last - first + 1, partial: true}, true
}

// etagMatches reports whether an If-Match / If-None-Match value names etag.
func etagMatches(header, etag string) bool {
	for _, v := range strings.Split(header, ",") {
		v = strings.TrimSpace(v)
		if v == "*" || v == etag || `"`+v+`"` == etag {
			return true
		}
	}
	return false
}

// precondition returns 0 when the request may proceed, else 304 or 412.
func precondition(r *http.Request, info objectInfo) int {
	lm := info.LastModified.Truncate(time.Second)
	if v := r.Header.Get("If-Match"); v != "" {
		if !etagMatches(v, info.ETag) {
			return http.StatusPreconditionFailed
		}
	} else if v := r.Header.Get("If-Unmodified-Since"); v != "" {
		if t, err := http.ParseTime(v); err == nil && lm.After(t) {
			return http.StatusPreconditionFailed
		}
	}
	if v := r.Header.Get("If-None-Match"); v != "" {
		if etagMatches(v, info.ETag) {
			return http.StatusNotModified
		}
	} else if v := r.Header.Get("If-Modified-Since"); v != "" {
		if t, err := http.ParseTime(v); err == nil && !lm.After(t) {
			return http.StatusNotModified
		}
	}
	return 0
}

var responseOverrides = map[string]string{
	"response-content-type":        "Content-Type",
	"response-content-language":    "Content-Language",
	"response-expires":             "Expires",
	"response-cache-control":       "Cache-Control",
	"response-content-disposition": "Content-Disposition",
	"response-content-encoding":    "Content-Encoding",
}

// serveObject answers HeadObject, GetObjectMeta and GetObject.
func (s *Server) serveObject(w http.ResponseWriter, r *http.Request, req ossRequest) {
	info, ok, _, err := s.store.lookup(req.bucket, req.key, true)
	if err != nil {
		s.writeError(w, r, &ossError{Status: 500, Code: "InternalError", Message: "The emulator could not read the object."})
		return
	}
	if !ok {
		s.writeError(w, r, errNoSuchKey(req.key))
		return
	}
	if req.op == "GetSymlink" {
		s.serveGetSymlink(w, r, info)
		return
	}
	objectType := "Normal"
	if info.Symlink != "" {
		objectType = "Symlink"
		info, ok, err = s.store.followSymlink(req.bucket, info)
		if err != nil {
			s.writeError(w, r, &ossError{Status: 500, Code: "InternalError", Message: "The emulator could not read the object."})
			return
		}
		if !ok {
			s.writeError(w, r, errSymlinkTargetNotExist(req.key))
			return
		}
	}
	h := w.Header()
	h.Set("ETag", info.ETag)
	h.Set("Last-Modified", info.LastModified.UTC().Format(http.TimeFormat))
	if info.CRC != "" {
		h.Set("x-oss-hash-crc64ecma", info.CRC)
	}
	if req.op == "GetObjectMeta" {
		h.Set("Content-Length", itoa(info.Size))
		w.WriteHeader(http.StatusOK)
		return
	}
	switch precondition(r, info) {
	case http.StatusNotModified:
		w.WriteHeader(http.StatusNotModified)
		return
	case http.StatusPreconditionFailed:
		s.writeError(w, r, &ossError{Status: 412, Code: "PreconditionFailed",
			Message: "At least one of the pre-conditions you specified did not hold.",
			Extra:   []xmlExtra{extra("Condition", "If-Match")}})
		return
	}
	h.Set("Content-Type", info.ContentType)
	h.Set("x-oss-object-type", objectType)
	h.Set("x-oss-storage-class", "Standard")
	h.Set("Accept-Ranges", "bytes")
	for k, v := range info.Meta {
		h.Set("x-oss-meta-"+k, v)
	}
	if req.op == "HeadObject" {
		h.Set("Content-Length", itoa(info.Size))
		w.WriteHeader(http.StatusOK)
		return
	}
	q := r.URL.Query()
	for p, name := range responseOverrides {
		if v := q.Get(p); v != "" {
			h.Set(name, v)
		}
	}
	standard := strings.EqualFold(r.Header.Get("x-oss-range-behavior"), "standard")
	rg, ok := parseRange(r.Header.Get("Range"), info.Size, standard)
	if !ok {
		h.Set("Content-Range", "bytes */"+itoa(info.Size))
		s.writeError(w, r, &ossError{Status: 416, Code: "InvalidRange",
			Message: "The requested range cannot be satisfied.",
			Extra:   []xmlExtra{extra("RangeRequested", r.Header.Get("Range")), extra("ActualObjectSize", itoa(info.Size))}})
		return
	}
	s.sendBody(w, r, info, rg)
}

// sendBody streams the range, applying the body faults.
func (s *Server) sendBody(w http.ResponseWriter, r *http.Request, info objectInfo, rg byteRange) {
	ra, closeFn, err := info.open()
	if err != nil {
		s.writeError(w, r, &ossError{Status: 500, Code: "InternalError", Message: "The emulator could not open the object."})
		return
	}
	defer closeFn()
	f, _ := s.faults.get()
	declared := rg.n
	if f.WrongContentLength {
		declared = rg.n + 1 + rg.n/2
	}
	h := w.Header()
	h.Set("Content-Length", itoa(declared))
	status := http.StatusOK
	if rg.partial {
		status = http.StatusPartialContent
		h.Set("Content-Range", "bytes "+itoa(rg.start)+"-"+itoa(rg.start+rg.n-1)+"/"+itoa(info.Size))
	}
	w.WriteHeader(status)
	if r.Method == http.MethodHead {
		return
	}
	send := rg.n
	reset := rg.n > 1 && chance(f.ResetRate)
	if reset {
		send = rg.n / 2
	}
	src := io.NewSectionReader(ra, rg.start, send)
	if !reset {
		s.writeBody(r.Context(), w, "get", src)
		// With WrongContentLength net/http closes the connection after the
		// short body, as a server that lied about the length would.
		return
	}
	if _, err := io.Copy(w, src); err == nil {
		if fl, ok := w.(http.Flusher); ok {
			fl.Flush()
		}
		panic(http.ErrAbortHandler) // closes the connection mid-body
	}
}
