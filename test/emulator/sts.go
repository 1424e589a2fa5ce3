package emulator

import (
	"bytes"
	"crypto/subtle"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/ossmount/ossmount/policy"
)

// stsError is an STS JSON error (reference 7.4).
type stsError struct {
	Status        int
	Code, Message string
}

func (e *stsError) Error() string { return e.Code + ": " + e.Message }

var (
	roleARNPattern     = regexp.MustCompile(`^acs:ram::[0-9]+:role/[A-Za-z0-9._@\-/]+$`)
	sessionNamePattern = regexp.MustCompile(`^[A-Za-z0-9.@_\-]{2,64}$`)
)

type stsCredentials struct {
	AccessKeyID     string `json:"AccessKeyId"`
	AccessKeySecret string `json:"AccessKeySecret"`
	SecurityToken   string `json:"SecurityToken"`
	Expiration      string `json:"Expiration"`
}

type assumedRoleUser struct {
	Arn           string `json:"Arn"`
	AssumedRoleID string `json:"AssumedRoleId"`
}

type assumeRoleResponse struct {
	RequestID       string          `json:"RequestId"`
	AssumedRoleUser assumedRoleUser `json:"AssumedRoleUser"`
	Credentials     stsCredentials  `json:"Credentials"`
	OIDCTokenInfo   *oidcTokenInfo  `json:"OIDCTokenInfo,omitempty"`
}

type oidcTokenInfo struct {
	Subject   string `json:"Subject"`
	Issuer    string `json:"Issuer"`
	ClientIDs string `json:"ClientIds"`
}

// serveSTS answers the STS RPC endpoint: POST or GET /, parameters in the
// query and/or a form body.
func (s *Server) serveSTS(w http.ResponseWriter, r *http.Request) {
	defer discard(r)
	reqID := strings.ToUpper(fmt.Sprintf("%s-%s-%s-%s-%s", randomHex(4), randomHex(2), randomHex(2), randomHex(2), randomHex(6)))
	w.Header().Set("Date", s.now().UTC().Format(http.TimeFormat))
	params, perr := stsParams(r)
	action := params["Action"]
	op := action
	if op != "AssumeRole" && op != "AssumeRoleWithOIDC" {
		op = "Other"
	}
	var resp *assumeRoleResponse
	var err *stsError
	f, _ := s.faults.get()
	switch {
	case perr != nil:
		err = &stsError{400, "InvalidParameter", "The request body is not a valid form."}
	case f.STSOutage:
		err = &stsError{503, "ServiceUnavailable", "The request has failed due to a temporary failure of the server."}
	case f.STSThrottle:
		err = &stsError{400, "Throttling.User", "Request was denied due to user flow control."}
		w.Header().Set("x-ratelimit-user-api", "Limit:100,Remain:0,TimeLeft:1000,Reset:1")
	case action == "AssumeRole":
		resp, err = s.assumeRole(r.Method, params)
	case action == "AssumeRoleWithOIDC":
		resp, err = s.assumeRoleWithOIDC(params)
	default:
		err = &stsError{404, "InvalidAction.NotFound", "Specified api is not found, please check your url and method."}
	}
	if op != "Other" {
		d, _ := strconv.Atoi(params["DurationSeconds"])
		s.counts.assumeRole(AssumeRoleCall{AccessKeyID: params["AccessKeyId"], RoleARN: params["RoleArn"],
			RoleSessionName: params["RoleSessionName"], Policy: params["Policy"], DurationSeconds: d, Time: s.now()})
	}
	w.Header().Set("Content-Type", "application/json;charset=utf-8")
	status := http.StatusOK
	var body []byte
	if err != nil {
		status = err.Status
		body, _ = json.Marshal(map[string]string{"RequestId": reqID, "HostId": "sts.aliyuncs.com",
			"Code": err.Code, "Message": err.Message,
			"Recommend": "https://api.aliyun.com/troubleshoot?q=" + err.Code + "&product=Sts"})
	} else {
		resp.RequestID = reqID
		body, _ = json.Marshal(resp)
	}
	s.counts.request(op, status, false)
	s.log.Debug("sts", "op", op, "status", status)
	w.Header().Set("Content-Length", itoa(int64(len(body))))
	w.WriteHeader(status)
	s.writeBody(r.Context(), w, "sts", bytes.NewReader(body))
}

func randomHex(n int) string { return fmt.Sprintf("%x", randomBytes(n)) }

// stsParams merges query and form body; the first value of a name wins,
// the body before the query.
func stsParams(r *http.Request) (map[string]string, error) {
	if err := r.ParseForm(); err != nil {
		return map[string]string{}, err
	}
	p := make(map[string]string, len(r.Form))
	for k, v := range r.Form {
		if len(v) > 0 {
			p[k] = v[0]
		}
	}
	return p, nil
}

// checkTimestamp validates the Timestamp common parameter.
func (s *Server) checkTimestamp(v string) *stsError {
	if v == "" {
		return &stsError{400, "MissingTimestamp", "Timestamp is mandatory for this action."}
	}
	t, err := time.Parse("2006-01-02T15:04:05Z", v)
	if err != nil {
		return &stsError{400, "InvalidTimeStamp.Format", "Specified time stamp or date value is not well formatted."}
	}
	if d := s.now().Sub(t); d > maxSkew || d < -maxSkew {
		return &stsError{400, "InvalidTimeStamp.Expired", "Specified time stamp or date value is expired."}
	}
	return nil
}

// verifyRPC checks AccessKeyId, Timestamp, signature and nonce; it returns
// the caller's AccessKeyId.
func (s *Server) verifyRPC(method string, p map[string]string) *stsError {
	if p["SignatureMethod"] != "HMAC-SHA1" {
		return &stsError{400, "InvalidParameter.SignatureMethod", "The SignatureMethod must be HMAC-SHA1."}
	}
	if p["SignatureNonce"] == "" {
		return &stsError{400, "MissingSignatureNonce", "SignatureNonce is mandatory for this action."}
	}
	if p["Signature"] == "" {
		return &stsError{400, "MissingSignature", "Signature is mandatory for this action."}
	}
	if e := s.checkTimestamp(p["Timestamp"]); e != nil {
		return e
	}
	ak := p["AccessKeyId"]
	if ak == "" {
		return &stsError{400, "MissingAccessKeyId", "AccessKeyId is mandatory for this action."}
	}
	secret, tok, ok := s.ids.credentialFor(ak)
	if !ok {
		return &stsError{404, "InvalidAccessKeyId.NotFound", "Specified access key is not found."}
	}
	if tok != nil {
		switch {
		case p["SecurityToken"] == "":
			return &stsError{400, "MissingSecurityToken", "SecurityToken is mandatory for this action."}
		case tok.revoked || p["SecurityToken"] != tok.token:
			return &stsError{400, "InvalidSecurityToken.Malformed", "Specified SecurityToken is malformed."}
		case !s.now().Before(tok.expiration):
			return &stsError{400, "InvalidSecurityToken.Expired", "Specified SecurityToken is expired."}
		}
	}
	want := rpcSignature(secret, rpcStringToSign(method, p))
	if subtle.ConstantTimeCompare([]byte(want), []byte(p["Signature"])) != 1 {
		return &stsError{400, "SignatureDoesNotMatch", "Specified signature is not matched with our calculation."}
	}
	if !s.ids.useNonce(ak+"\x00"+p["SignatureNonce"], s.now()) {
		return &stsError{400, "SignatureNonceUsed", "Specified signature nonce was used already."}
	}
	if tok != nil {
		return &stsError{403, "NoPermission", "The emulator does not support role chaining: assume roles with a RAM user key."}
	}
	return nil
}

// useNonce records a nonce; false if it was seen within the skew window.
func (ids *identities) useNonce(n string, now time.Time) bool {
	ids.mu.Lock()
	defer ids.mu.Unlock()
	if now.After(ids.nextNonce) {
		for k, t := range ids.nonces {
			if now.Sub(t) > 2*maxSkew {
				delete(ids.nonces, k)
			}
		}
		ids.nextNonce = now.Add(maxSkew)
	}
	if _, used := ids.nonces[n]; used {
		return false
	}
	ids.nonces[n] = now
	return true
}

// sessionParams validates RoleArn, RoleSessionName, DurationSeconds and
// Policy, common to both actions.
func (s *Server) sessionParams(p map[string]string, requireSession bool) (r *role, dur time.Duration, sess *policy.Document, e *stsError) {
	arn := p["RoleArn"]
	if arn == "" {
		return nil, 0, nil, &stsError{400, "MissingRoleArn", "RoleArn is mandatory for this action."}
	}
	if !roleARNPattern.MatchString(arn) {
		return nil, 0, nil, &stsError{400, "InvalidParameter.RoleArn", "The parameter RoleArn is wrongly formed."}
	}
	s.ids.mu.Lock()
	r = s.ids.roles[arn]
	s.ids.mu.Unlock()
	if r == nil {
		return nil, 0, nil, &stsError{404, "EntityNotExist.Role", "The role not exists: " + arn + "."}
	}
	name, has := p["RoleSessionName"]
	if !has && requireSession {
		return nil, 0, nil, &stsError{400, "MissingRoleSessionName", "RoleSessionName is mandatory for this action."}
	}
	if has && !sessionNamePattern.MatchString(name) {
		return nil, 0, nil, &stsError{400, "InvalidParameter.RoleSessionName", "The parameter RoleSessionName is wrongly formed."}
	}
	dur = time.Hour
	if v, ok := p["DurationSeconds"]; ok {
		n, err := strconv.Atoi(v)
		if err != nil || n < 900 || time.Duration(n)*time.Second > r.maxDuration {
			return nil, 0, nil, &stsError{400, "InvalidParameter.DurationSeconds",
				fmt.Sprintf("The Min/Max value of DurationSeconds is 15min/%dhr.", int(r.maxDuration/time.Hour))}
		}
		dur = time.Duration(n) * time.Second
	}
	if v, ok := p["Policy"]; ok {
		if n := utf8.RuneCountInString(v); n < 1 || n > policy.MaxSize {
			return nil, 0, nil, &stsError{400, "InvalidParameter.PolicyGrammar",
				fmt.Sprintf("The parameter Policy has not passed grammar check: its length %d is outside 1..%d.", n, policy.MaxSize)}
		}
		d, err := policy.Parse([]byte(v))
		if err != nil {
			return nil, 0, nil, &stsError{400, "InvalidParameter.PolicyGrammar", "The parameter Policy has not passed grammar check."}
		}
		sess = &d
	}
	return r, dur, sess, nil
}

func (s *Server) assumeRole(method string, p map[string]string) (*assumeRoleResponse, *stsError) {
	if e := s.verifyRPC(method, p); e != nil {
		return nil, e
	}
	r, dur, sess, e := s.sessionParams(p, true)
	if e != nil {
		return nil, e
	}
	if !r.allowed[p["AccessKeyId"]] {
		return nil, &stsError{403, "NoPermission", "You are not authorized to do this action. You should be authorized by RAM."}
	}
	return s.respond(r, p["RoleSessionName"], sess, dur), nil
}

func (s *Server) assumeRoleWithOIDC(p map[string]string) (*assumeRoleResponse, *stsError) {
	if v := p["Timestamp"]; v != "" {
		if e := s.checkTimestamp(v); e != nil {
			return nil, e
		}
	}
	s.oidc.record(p["OIDCToken"])
	prov := p["OIDCProviderArn"]
	if prov == "" {
		return nil, &stsError{400, "MissingOIDCProviderArn", "OIDCProviderArn is mandatory for this action."}
	}
	if n := len(p["OIDCToken"]); n == 0 {
		return nil, &stsError{400, "MissingOIDCToken", "OIDCToken is mandatory for this action."}
	}
	s.ids.mu.Lock()
	known := s.ids.oidc[prov]
	s.ids.mu.Unlock()
	if !known {
		return nil, &stsError{404, "EntityNotExist.OIDCProvider", "The OIDC provider does not exist: " + prov + "."}
	}
	r, dur, sess, e := s.sessionParams(p, false)
	if e != nil {
		return nil, e
	}
	name := p["RoleSessionName"]
	if name == "" {
		name = "oidc-session"
	}
	resp := s.respond(r, name, sess, dur)
	resp.OIDCTokenInfo = &oidcTokenInfo{Subject: "system:serviceaccount:default:emulator",
		Issuer: "https://oidc.emulator.invalid", ClientIDs: "sts.aliyuncs.com"}
	return resp, nil
}

func (s *Server) respond(r *role, session string, sess *policy.Document, dur time.Duration) *assumeRoleResponse {
	t := s.issue(r.arn, session, sess, dur)
	account := strings.SplitN(r.arn, ":", 5)[3]
	return &assumeRoleResponse{
		AssumedRoleUser: assumedRoleUser{Arn: r.arn + "/" + session, AssumedRoleID: "3" + account[1:] + ":" + session},
		Credentials: stsCredentials{AccessKeyID: t.accessKeyID, AccessKeySecret: t.secret,
			SecurityToken: t.token, Expiration: t.expiration.Format("2006-01-02T15:04:05Z")},
	}
}
