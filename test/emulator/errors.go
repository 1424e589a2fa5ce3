package emulator

import (
	"encoding/base64"
	"encoding/xml"
	"net/http"
)

// ossError is an OSS error answer (reference 6.1).
type ossError struct {
	Status  int
	Code    string
	Message string
	EC      string     // fine-grained code; "" when the real value is not documented
	Extra   []xmlExtra // operation-specific elements (Key, OSSAccessKeyId, ...)
}

type xmlExtra struct {
	XMLName xml.Name
	Value   string `xml:",chardata"`
}

func extra(name, value string) xmlExtra {
	return xmlExtra{XMLName: xml.Name{Local: name}, Value: value}
}

type errorDoc struct {
	XMLName      xml.Name `xml:"Error"`
	Code         string   `xml:"Code"`
	Message      string   `xml:"Message"`
	RequestID    string   `xml:"RequestId"`
	HostID       string   `xml:"HostId"`
	Extra        []xmlExtra
	EC           string `xml:"EC,omitempty"`
	RecommendDoc string `xml:"RecommendDoc,omitempty"`
}

func errAccessDenied(msg string) *ossError {
	return &ossError{Status: 403, Code: "AccessDenied", Message: msg}
}

func errNoSuchBucket(b string) *ossError {
	return &ossError{Status: 404, Code: "NoSuchBucket", Message: "The specified bucket does not exist.",
		Extra: []xmlExtra{extra("BucketName", b)}}
}

func errNoSuchKey(k string) *ossError {
	return &ossError{Status: 404, Code: "NoSuchKey", Message: "The specified key does not exist.",
		EC: "0026-00000001", Extra: []xmlExtra{extra("Key", k)}}
}

func errInvalidArgument(msg, name, value string) *ossError {
	return &ossError{Status: 400, Code: "InvalidArgument", Message: msg,
		Extra: []xmlExtra{extra("ArgumentName", name), extra("ArgumentValue", value)}}
}

// writeError sends e as OSS does: XML body, x-oss-ec header; for HEAD no
// body but the document base64-encoded in x-oss-err.
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, e *ossError) {
	doc := errorDoc{Code: e.Code, Message: e.Message, RequestID: w.Header().Get("x-oss-request-id"),
		HostID: r.Host, Extra: e.Extra, EC: e.EC}
	if e.EC != "" {
		doc.RecommendDoc = "https://api.aliyun.com/troubleshoot?q=" + e.EC
		w.Header().Set("x-oss-ec", e.EC)
	}
	body, err := xml.Marshal(doc)
	if err != nil {
		body = []byte("<Error><Code>InternalError</Code></Error>")
	}
	body = append([]byte(xml.Header), body...)
	h := w.Header()
	h.Set("Content-Type", "application/xml")
	if r.Method == http.MethodHead {
		h.Set("x-oss-err", base64.StdEncoding.EncodeToString(body))
		h.Set("Content-Length", "0")
		w.WriteHeader(e.Status)
		return
	}
	h.Set("Content-Length", itoa(int64(len(body))))
	w.WriteHeader(e.Status)
	w.Write(body)
}
