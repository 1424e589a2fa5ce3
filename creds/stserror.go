package creds

import (
	"encoding/json"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/ossmount/ossmount/policy"
)

// STSError is an error answer from STS: HTTP status, the service's Code,
// Message and RequestId, and a hint with the likely fix for the common codes.
type STSError struct {
	StatusCode int
	Code       string
	Message    string
	RequestID  string
	Hint       string
}

// Error names the code, message, request id and hint.
func (e *STSError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "sts: %d", e.StatusCode)
	if e.Code != "" {
		fmt.Fprintf(&b, " %s", e.Code)
	}
	if e.Message != "" {
		fmt.Fprintf(&b, ": %s", e.Message)
	}
	if e.RequestID != "" {
		fmt.Fprintf(&b, " (request id %s)", e.RequestID)
	}
	if e.Hint != "" {
		fmt.Fprintf(&b, "; hint: %s", e.Hint)
	}
	return b.String()
}

// Temporary reports whether retrying later may succeed: throttling and
// server-side failures.
func (e *STSError) Temporary() bool {
	return e.StatusCode >= 500 || strings.HasPrefix(e.Code, "Throttling") || e.Code == "ServiceUnavailable"
}

// parseSTSError reads an error body leniently (reference 7.4): Code/code,
// Message/message, RequestId/requestId; a body that is not JSON becomes the
// message, cut short.
func parseSTSError(status int, body []byte) *STSError {
	var raw map[string]any
	e := &STSError{StatusCode: status}
	if json.Unmarshal(body, &raw) == nil {
		e.Code = firstString(raw, "Code", "code")
		e.Message = firstString(raw, "Message", "message")
		e.RequestID = firstString(raw, "RequestId", "requestId", "RequestID")
	} else {
		e.Message = shorten(strings.TrimSpace(string(body)), 200)
	}
	e.Hint = hintFor(e.Code)
	return e
}

func firstString(m map[string]any, keys ...string) string {
	for _, k := range keys {
		if s, ok := m[k].(string); ok && s != "" {
			return shorten(s, 500)
		}
	}
	return ""
}

func shorten(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "..."
}

// hintFor gives the likely fix for the codes users meet (reference 7.4).
func hintFor(code string) string {
	switch {
	case code == "NoPermission":
		return "the source identity may not assume this role: it must be a RAM user or role (not the root account) " +
			"with sts:AssumeRole (e.g. the AliyunSTSAssumeRoleAccess policy), and the role's trust policy must name its account"
	case code == "EntityNotExist.Role":
		return "the role does not exist: check the role ARN (acs:ram::<account-id>:role/<name>)"
	case code == "InvalidParameter.PolicyGrammar":
		return "STS rejected the session policy's grammar: check the policy file (Version \"1\", Effect, Action, Resource)"
	case strings.Contains(code, "Policy"):
		return fmt.Sprintf("the session policy is invalid or too large: STS accepts at most %d characters; use a shorter prefix or policy", policy.MaxSize)
	case code == "InvalidParameter.RoleArn":
		return "the role ARN is malformed: want acs:ram::<account-id>:role/<name>"
	case code == "InvalidParameter.RoleSessionName":
		return "the role session name must be 2-64 characters of letters, digits, '.', '@', '-', '_'"
	case code == "InvalidParameter.DurationSeconds":
		return "the duration must be between 15m and the role's maximum session duration (1h unless raised in RAM)"
	case strings.HasPrefix(code, "InvalidAccessKeyId"):
		return "the source AccessKey ID is unknown or disabled: check which credential source was used"
	case code == "SignatureDoesNotMatch":
		return "the AccessKey secret does not belong to the AccessKey ID (check the source credentials)"
	case strings.HasPrefix(code, "InvalidTimeStamp"):
		return "the local clock is more than 15 minutes off: synchronize it (NTP)"
	case strings.HasPrefix(code, "Throttling"):
		return "STS is rate-limiting this account; renewals back off and retry"
	case code == "InvalidSecurityToken.Expired" || code == "SecurityTokenExpired":
		return "the source credential is an expired STS token: refresh it"
	}
	return ""
}
