package emulator

import (
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/ossmount/ossmount/policy"
)

// ossRequest is an incoming OSS request after addressing is resolved.
type ossRequest struct {
	bucket string
	key    string
	hasKey bool
	op     string
}

// resolve finds bucket and key: virtual-hosted when the Host's first label
// names an existing bucket (and the host is not an IP address), path-style
// otherwise.
func (s *Server) resolve(r *http.Request) ossRequest {
	host := r.Host
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	p := r.URL.Path
	if net.ParseIP(host) == nil {
		if label, _, ok := strings.Cut(host, "."); ok && s.store.hasBucket(label) {
			key := strings.TrimPrefix(p, "/")
			return ossRequest{bucket: label, key: key, hasKey: key != ""}
		}
	}
	p = strings.TrimPrefix(p, "/")
	b, key, _ := strings.Cut(p, "/")
	return ossRequest{bucket: b, key: key, hasKey: key != ""}
}

func operation(r *http.Request, req ossRequest) string {
	q := r.URL.Query()
	switch r.Method {
	case http.MethodGet, http.MethodHead:
	default:
		return "Write"
	}
	switch {
	case req.bucket == "":
		return "ListBuckets"
	case req.hasKey && r.Method == http.MethodGet && q.Has("symlink"):
		return "GetSymlink"
	case req.hasKey && r.Method == http.MethodGet:
		return "GetObject"
	case req.hasKey && q.Has("objectMeta"):
		return "GetObjectMeta"
	case req.hasKey:
		return "HeadObject"
	case r.Method == http.MethodHead:
		return "Other"
	case q.Has("bucketInfo"):
		return "GetBucketInfo"
	case q.Has("location"):
		return "GetBucketLocation"
	case q.Has("list-type"):
		return "ListObjectsV2"
	case len(q) == 0 || onlyListParams(q):
		return "ListObjects"
	}
	return "Other"
}

func onlyListParams(q map[string][]string) bool {
	for k := range q {
		switch k {
		case "prefix", "delimiter", "marker", "max-keys", "encoding-type":
		default:
			return false
		}
	}
	return true
}

// serveOSS is the OSS handler: addressing, faults, authentication,
// authorization, then the operation.
func (s *Server) serveOSS(rw http.ResponseWriter, r *http.Request) {
	defer discard(r)
	h := rw.Header()
	h.Set("x-oss-request-id", newRequestID())
	h.Set("Date", s.now().UTC().Format(http.TimeFormat))
	h.Set("Server", "AliyunOSS")
	req := s.resolve(r)
	if "/"+req.bucket == adminPrefix { // path-style only: "_" is not allowed in bucket names

		s.serveAdmin(rw, r)
		return
	}
	req.op = operation(r, req)
	s.counts.serving(1)
	defer s.counts.serving(-1)
	lim, _ := r.Context().Value(connKey{}).(*connLimiter)
	w := &bodyWriter{ResponseWriter: rw, s: s, ctx: r.Context(), lim: lim, op: req.op}
	start := time.Now()
	defer func() {
		w.record() // for requests that ended without a response
		s.log.Debug("oss", "op", req.op, "bucket", req.bucket, "key", req.key, "status", w.status,
			"elapsed", time.Since(start))
	}()

	if !s.waitHang(r.Context()) {
		w.status = 499 // client gone or server closing: nothing is sent
		return
	}
	f, _ := s.faults.get()
	if !s.wait(r.Context(), f.Latency) {
		w.status = 499
		return
	}
	switch {
	case chance(f.ErrorRate):
		if chance(0.5) {
			s.writeError(w, r, &ossError{Status: 500, Code: "InternalError", Message: "We encountered an internal error. Please try again."})
		} else {
			s.writeError(w, r, &ossError{Status: 503, Code: "ServiceUnavailable", Message: "Thread pool is almost full, please try again later."})
		}
		return
	case s.faults.throttle():
		s.writeError(w, r, &ossError{Status: 503, Code: "TotalQpsLimitExceeded", Message: "Please reduce your request rate."})
		return
	case s.rate.over(time.Now()):
		s.writeError(w, r, &ossError{Status: 503, Code: "SlowDown", Message: "Please reduce your request rate."})
		return
	}

	if req.op == "ListBuckets" {
		s.writeError(w, r, errAccessDenied("The emulator does not list buckets."))
		return
	}
	if !s.store.hasBucket(req.bucket) {
		s.writeError(w, r, errNoSuchBucket(req.bucket))
		return
	}
	id, aerr := s.authenticate(r, req)
	if aerr != nil {
		w.denied = true
		s.writeError(w, r, aerr)
		return
	}
	if req.op == "Write" {
		w.denied = true
		s.writeError(w, r, errAccessDenied("The emulator is read-only: write operations are denied."))
		return
	}
	if aerr := s.authorize(r, req, id); aerr != nil {
		w.denied = true
		s.writeError(w, r, aerr)
		return
	}
	switch req.op {
	case "ListObjectsV2", "ListObjects":
		s.serveList(w, r, req)
	case "HeadObject", "GetObjectMeta", "GetObject", "GetSymlink":
		s.serveObject(w, r, req)
	case "GetBucketInfo", "GetBucketLocation":
		s.serveBucketInfo(w, r, req)
	default:
		s.writeError(w, r, &ossError{Status: 501, Code: "NotImplemented", Message: "The emulator does not implement this operation."})
	}
}

// authorize applies role policy ∩ session policy to temporary keys and the
// bucket ACL to anonymous requests; static keys may do everything.
func (s *Server) authorize(r *http.Request, req ossRequest, id identity) *ossError {
	if id.anonymous {
		if s.store.isPublic(req.bucket) {
			return nil
		}
		return errAccessDenied("You have no right to access this object because of bucket acl.")
	}
	if id.token == nil {
		return nil
	}
	pr := policy.Request{Context: map[string]string{}}
	switch req.op {
	case "ListObjectsV2", "ListObjects":
		pr.Action, pr.Resource = "oss:ListObjects", policy.BucketResource(req.bucket)
		q := r.URL.Query()
		if q.Has("prefix") {
			pr.Context["oss:Prefix"] = q.Get("prefix")
		}
		if q.Has("delimiter") {
			pr.Context["oss:Delimiter"] = q.Get("delimiter")
		}
	case "HeadObject", "GetObjectMeta", "GetObject", "GetSymlink":
		pr.Action, pr.Resource = "oss:GetObject", policy.ObjectResource(req.bucket, req.key)
	case "GetBucketInfo":
		pr.Action, pr.Resource = "oss:GetBucketInfo", policy.BucketResource(req.bucket)
	case "GetBucketLocation":
		pr.Action, pr.Resource = "oss:GetBucketLocation", policy.BucketResource(req.bucket)
	default:
		return errAccessDenied("The emulator does not authorize this operation for temporary keys.")
	}
	if s.ids.allows(id.token, pr) {
		return nil
	}
	return errAccessDenied("You have no right to access this object because of the policy of your STS token.")
}
