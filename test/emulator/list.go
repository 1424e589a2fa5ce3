package emulator

import (
	"bytes"
	"encoding/base64"
	"encoding/xml"
	"net/http"
	"net/url"
	"strconv"
)

type listContents struct {
	Key          string     `xml:"Key"`
	LastModified string     `xml:"LastModified"`
	ETag         string     `xml:"ETag"`
	Type         string     `xml:"Type"`
	Size         int64      `xml:"Size"`
	StorageClass string     `xml:"StorageClass"`
	Owner        *listOwner `xml:"Owner,omitempty"`
}

type listOwner struct {
	ID          string `xml:"ID"`
	DisplayName string `xml:"DisplayName"`
}

type commonPrefix struct {
	Prefix string `xml:"Prefix"`
}

// listBucketResult serves both versions; fields of the other version are
// left empty and omitted.
type listBucketResult struct {
	XMLName               xml.Name       `xml:"ListBucketResult"`
	Name                  string         `xml:"Name"`
	Prefix                string         `xml:"Prefix"`
	Marker                *string        `xml:"Marker,omitempty"`
	StartAfter            string         `xml:"StartAfter,omitempty"`
	ContinuationToken     string         `xml:"ContinuationToken,omitempty"`
	MaxKeys               int            `xml:"MaxKeys"`
	Delimiter             string         `xml:"Delimiter"`
	EncodingType          string         `xml:"EncodingType,omitempty"`
	IsTruncated           bool           `xml:"IsTruncated"`
	NextMarker            string         `xml:"NextMarker,omitempty"`
	NextContinuationToken string         `xml:"NextContinuationToken,omitempty"`
	Contents              []listContents `xml:"Contents"`
	CommonPrefixes        []commonPrefix `xml:"CommonPrefixes"`
	KeyCount              *int           `xml:"KeyCount,omitempty"`
}

var demoOwner = listOwner{ID: "1234567890123456", DisplayName: "1234567890123456"}

// serveList answers ListObjects (V1) and ListObjectsV2.
func (s *Server) serveList(w http.ResponseWriter, r *http.Request, req ossRequest) {
	q := r.URL.Query()
	v2 := req.op == "ListObjectsV2"
	if v2 && q.Get("list-type") != "2" {
		s.writeError(w, r, errInvalidArgument("list-type must be 2.", "list-type", q.Get("list-type")))
		return
	}
	max := 100
	if q.Has("max-keys") {
		n, err := strconv.Atoi(q.Get("max-keys"))
		if err != nil || n < 1 || n > 1000 {
			s.writeError(w, r, errInvalidArgument("Argument max-keys must be an integer between 1 and 1000.", "max-keys", q.Get("max-keys")))
			return
		}
		max = n
	}
	enc := q.Get("encoding-type")
	if enc != "" && enc != "url" {
		s.writeError(w, r, errInvalidArgument("The encoding-type must be url.", "encoding-type", enc))
		return
	}
	prefix, delim := q.Get("prefix"), q.Get("delimiter")
	if len(prefix) >= 1024 || len(q.Get("start-after")) >= 1024 || len(q.Get("marker")) >= 1024 {
		s.writeError(w, r, errInvalidArgument("The prefix, marker or start-after is too long.", "prefix", ""))
		return
	}
	marker := q.Get("marker")
	if v2 {
		marker = q.Get("start-after")
		if q.Has("continuation-token") {
			tok, err := base64.RawURLEncoding.DecodeString(q.Get("continuation-token"))
			if err != nil {
				s.writeError(w, r, errInvalidArgument("The continuation-token is not valid.", "continuation-token", q.Get("continuation-token")))
				return
			}
			if string(tok) > marker {
				marker = string(tok)
			}
		}
	}
	srcs, _ := s.store.snapshot(req.bucket)
	marker = s.bentMarker(marker, v2 && q.Has("continuation-token"))
	page := listKeys(srcs, prefix, delim, marker, max)

	e := func(v string) string {
		if enc == "url" {
			return url.QueryEscape(v)
		}
		return v
	}
	res := listBucketResult{Name: req.bucket, Prefix: e(prefix), MaxKeys: max, Delimiter: e(delim),
		EncodingType: enc, IsTruncated: page.Truncated}
	if v2 {
		res.StartAfter = e(q.Get("start-after"))
		res.ContinuationToken = e(q.Get("continuation-token"))
		if page.Truncated {
			res.NextContinuationToken = e(base64.RawURLEncoding.EncodeToString([]byte(page.Next)))
		}
		n := len(page.Keys) + len(page.CommonPrefixes)
		res.KeyCount = &n
		s.bendToken(&res)
	} else {
		m := e(marker)
		res.Marker = &m
		if page.Truncated {
			res.NextMarker = e(page.Next)
		}
	}
	fetchOwner := !v2 || q.Get("fetch-owner") == "true"
	for i, k := range page.Keys {
		info, ok := s.store.listedMeta(req.bucket, srcs, page.Src[i], page.Idx[i], k)
		if !ok {
			continue // removed meanwhile or unreadable file: skip as a racing delete
		}
		c := listContents{Key: e(k), LastModified: info.LastModified.UTC().Format("2006-01-02T15:04:05.000Z"),
			ETag: info.ETag, Type: "Normal", Size: info.Size, StorageClass: "Standard"}
		if info.Symlink != "" {
			c.Type = "Symlink"
		}
		if fetchOwner {
			c.Owner = &demoOwner
		}
		res.Contents = append(res.Contents, c)
	}
	for _, p := range page.CommonPrefixes {
		res.CommonPrefixes = append(res.CommonPrefixes, commonPrefix{Prefix: e(p)})
	}
	body, err := xml.Marshal(res)
	if err != nil {
		s.writeError(w, r, &ossError{Status: 500, Code: "InternalError", Message: err.Error()})
		return
	}
	body = append([]byte(xml.Header), body...)
	if f, _ := s.faults.get(); f.TruncatedXML {
		body = body[:len(body)/2]
	}
	w.Header().Set("Content-Type", "application/xml")
	w.Header().Set("Content-Length", itoa(int64(len(body))))
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		s.writeBody(r.Context(), w, "list", bytes.NewReader(body))
	}
}

type bucketInfoResult struct {
	XMLName xml.Name `xml:"BucketInfo"`
	Bucket  struct {
		Name             string `xml:"Name"`
		Location         string `xml:"Location"`
		CreationDate     string `xml:"CreationDate"`
		ExtranetEndpoint string `xml:"ExtranetEndpoint"`
		IntranetEndpoint string `xml:"IntranetEndpoint"`
		StorageClass     string `xml:"StorageClass"`
		AccessControl    string `xml:"AccessControlList>Grant"`
	} `xml:"Bucket"`
}

type locationResult struct {
	XMLName  xml.Name `xml:"LocationConstraint"`
	Location string   `xml:",chardata"`
}

// serveBucketInfo answers GetBucketInfo and GetBucketLocation.
func (s *Server) serveBucketInfo(w http.ResponseWriter, r *http.Request, req ossRequest) {
	var v any
	loc := "oss-" + s.cfg.Region
	if req.op == "GetBucketLocation" {
		v = locationResult{Location: loc}
	} else {
		var bi bucketInfoResult
		bi.Bucket.Name, bi.Bucket.Location = req.bucket, loc
		bi.Bucket.CreationDate = s.now().UTC().Format("2006-01-02T15:04:05.000Z")
		bi.Bucket.ExtranetEndpoint = loc + ".aliyuncs.com"
		bi.Bucket.IntranetEndpoint = loc + "-internal.aliyuncs.com"
		bi.Bucket.StorageClass = "Standard"
		bi.Bucket.AccessControl = "private"
		if s.store.isPublic(req.bucket) {
			bi.Bucket.AccessControl = "public-read"
		}
		v = bi
	}
	body, _ := xml.Marshal(v)
	body = append([]byte(xml.Header), body...)
	w.Header().Set("Content-Type", "application/xml")
	w.Header().Set("Content-Length", itoa(int64(len(body))))
	w.WriteHeader(http.StatusOK)
	w.Write(body)
}
