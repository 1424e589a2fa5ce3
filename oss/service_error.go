package oss

import (
	"encoding/base64"
	"encoding/xml"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// ServiceError is a non-2xx answer from OSS. Its fields come from the XML
// error document in the body or, for HEAD (which has no body), from the
// base64 x-oss-err header; when neither is there only StatusCode and the
// header fields are set.
//
// Callers test it with errors.Is against ErrNotFound, ErrAccessDenied,
// ErrPreconditionFailed and ErrCredentials, or take it apart with errors.As.
type ServiceError struct {
	StatusCode int
	Code       string // OSS error code, e.g. NoSuchKey; "" if the server sent none
	Message    string
	RequestID  string
	EC         string // fine-grained code; for logs only, never for decisions
	HostID     string
	Op         string // the client operation: list, head, get
	Key        string // the object key, or the prefix for list

	serverTime   time.Time // the response Date header, for clock-skew correction
	temporaryKey bool      // the request was signed with an STS triple (a SecurityToken)
}

// Error formats the error as
// "oss: <op> <key>: <status> <code>: <message> (request id X, ec Y)".
func (e *ServiceError) Error() string {
	var b strings.Builder
	b.WriteString("oss: ")
	b.WriteString(e.Op)
	b.WriteByte(' ')
	b.WriteString(strconv.Quote(e.Key))
	b.WriteString(": ")
	b.WriteString(strconv.Itoa(e.StatusCode))
	if e.Code != "" {
		b.WriteByte(' ')
		b.WriteString(e.Code)
	}
	if e.Message != "" {
		b.WriteString(": ")
		b.WriteString(e.Message)
	}
	if e.RequestID != "" || e.EC != "" {
		b.WriteString(" (request id ")
		b.WriteString(orDash(e.RequestID))
		if e.EC != "" {
			b.WriteString(", ec ")
			b.WriteString(e.EC)
		}
		b.WriteByte(')')
	}
	return b.String()
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// credentialCodes are the 403 codes that mean the credentials themselves
// were rejected: a fresh STS triple may succeed where these failed.
// InvalidAccessKeyId counts only for a temporary key (see rejectsCredentials).
var credentialCodes = map[string]bool{
	"SecurityTokenExpired":                true,
	"InvalidSecurityToken":                true,
	"AccessKeyIdAndSecurityTokenNotMatch": true,
	"InvalidAccessKeyId":                  true,
}

// rejectsCredentials reports a 403 that a new STS token may cure. OSS calls
// a temporary AccessKeyId it no longer knows (or one sent without its
// token) InvalidAccessKeyId; a long-term key it does not know stays unknown.
func (e *ServiceError) rejectsCredentials() bool {
	if e.StatusCode != http.StatusForbidden || !credentialCodes[e.Code] {
		return false
	}
	return e.Code != "InvalidAccessKeyId" || e.temporaryKey
}

// Is maps the error onto the package's sentinels by status and Code (never
// by EC, which OSS does not keep stable).
func (e *ServiceError) Is(target error) bool {
	switch target {
	case ErrNotFound:
		return e.StatusCode == http.StatusNotFound &&
			(e.Code == "" || e.Code == "NoSuchKey" || e.Code == "NoSuchBucket" || e.Code == codeSymlinkTargetNotExist)
	case ErrSymlinkTargetMissing:
		return e.StatusCode == http.StatusNotFound && e.Code == codeSymlinkTargetNotExist
	case ErrPreconditionFailed:
		return e.StatusCode == http.StatusPreconditionFailed
	case ErrCredentials:
		return e.rejectsCredentials()
	case ErrAccessDenied:
		return e.StatusCode == http.StatusForbidden && !e.rejectsCredentials()
	}
	return false
}

// maxErrorBody bounds how much of an error body is read and parsed.
const maxErrorBody = 64 << 10

// errorDoc is the <Error> document, matched by local names only.
type errorDoc struct {
	XMLName   xml.Name
	Code      string `xml:"Code"`
	Message   string `xml:"Message"`
	RequestID string `xml:"RequestId"`
	HostID    string `xml:"HostId"`
	EC        string `xml:"EC"`
}

// newServiceError builds a *ServiceError from a non-2xx response and
// consumes (but does not close) at most maxErrorBody bytes of its body.
func newServiceError(resp *http.Response, op, key string) *ServiceError {
	var body []byte
	if resp.Body != nil {
		body, _ = io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	}
	if len(body) == 0 {
		if h := resp.Header.Get("X-Oss-Err"); h != "" {
			if dec, err := base64.StdEncoding.DecodeString(strings.TrimSpace(h)); err == nil {
				body = dec
			}
		}
	}
	e := parseServiceError(resp.StatusCode, body)
	e.Op, e.Key = op, key
	if e.RequestID == "" {
		e.RequestID = resp.Header.Get("X-Oss-Request-Id")
	}
	if e.EC == "" {
		e.EC = resp.Header.Get("X-Oss-Ec")
	}
	if t, err := http.ParseTime(resp.Header.Get("Date")); err == nil {
		e.serverTime = t
	}
	return e
}

// parseServiceError parses an XML error document leniently: anything that
// is not one leaves only the status set. It never panics.
func parseServiceError(status int, body []byte) *ServiceError {
	e := &ServiceError{StatusCode: status}
	if len(body) == 0 {
		return e
	}
	var doc errorDoc
	if err := xml.Unmarshal(body, &doc); err != nil || doc.XMLName.Local != "Error" {
		return e
	}
	e.Code = strings.TrimSpace(doc.Code)
	e.Message = strings.TrimSpace(doc.Message)
	e.RequestID = strings.TrimSpace(doc.RequestID)
	e.HostID = strings.TrimSpace(doc.HostID)
	e.EC = strings.TrimSpace(doc.EC)
	return e
}

// asServiceError is errors.As for *ServiceError.
func asServiceError(err error) (*ServiceError, bool) {
	var se *ServiceError
	ok := errors.As(err, &se)
	return se, ok
}
