package policy

import (
	"strings"
	"testing"
)

func TestWildcardMatch(t *testing.T) {
	tests := []struct {
		pattern, s string
		want       bool
	}{
		{"", "", true},
		{"", "a", false},
		{"*", "", true},
		{"*", "anything/at/all", true},
		{"a*", "a", true},
		{"a*", "ba", false},
		{"a?c", "abc", true},
		{"a?c", "ac", false},
		{"a?c", "aéc", true}, // ? is one character, not one byte
		{"data/2024/*", "data/2024/", true},
		{"data/2024/*", "data/2024/x/y", true},
		{"data/2024/*", "data/2024", false},
		{"data/2024/*", "data/20245/", false},
		{"*b*b*", "abcbd", true},
		{"*b*b*", "abcd", false},
		{"acs:oss:*:*:bucket", "acs:oss:*:*:bucket", true},
		{"acs:oss:*:*:bucket", "acs:oss:*:*:bucket2", false},
		{"acs:oss:*:*:bucket/*", "acs:oss:*:*:bucket", false},
		{"**", "x", true},
		{"a*b?", "aXXbY", true},
		{"a*b?", "aXXb", false},
		{strings.Repeat("*a", 30) + "b", strings.Repeat("a", 200), false}, // must not explode
	}
	for _, tt := range tests {
		t.Run(tt.pattern+"~"+tt.s, func(t *testing.T) {
			if got := wildcardMatch(tt.pattern, tt.s); got != tt.want {
				t.Errorf("wildcardMatch(%q, %q) = %v, want %v", tt.pattern, tt.s, got, tt.want)
			}
		})
	}
}

func TestAllows(t *testing.T) {
	doc, err := Parse([]byte(`{"Version":"1","Statement":[
	 {"Effect":"Allow","Action":"oss:Get*","Resource":"acs:oss:*:*:b/*"},
	 {"Effect":"Deny","Action":["oss:GetObject"],"Resource":["acs:oss:*:*:b/secret/*"]},
	 {"Effect":"Allow","Action":["oss:ListObjects"],"Resource":["acs:oss:*:*:b"],
	  "Condition":{"StringLike":{"oss:Prefix":["pub/*","img/?/*"]},"StringEquals":{"oss:Delimiter":"/"}}},
	 {"Effect":"Allow","Action":["oss:ListObjects"],"Resource":["acs:oss:*:*:c"],
	  "Condition":{"StringNotLike":{"oss:Prefix":["private/*"]}}},
	 {"Effect":"Allow","Action":["oss:ListObjects"],"Resource":["acs:oss:*:*:d"],
	  "Condition":{"StringNotEquals":{"oss:Prefix":["x/"]},"StringEqualsIgnoreCase":{"oss:Delimiter":["%2F","/"]}}}
	]}`))
	if err != nil {
		t.Fatal(err)
	}
	list := func(bucket, prefix, delim string) Request {
		return Request{Action: "oss:ListObjects", Resource: BucketResource(bucket),
			Context: map[string]string{"oss:Prefix": prefix, "oss:Delimiter": delim}}
	}
	tests := []struct {
		name string
		r    Request
		want bool
	}{
		{"get object", Request{Action: "oss:GetObject", Resource: ObjectResource("b", "a/b")}, true},
		{"action case-insensitive", Request{Action: "OSS:getobject", Resource: ObjectResource("b", "k")}, true},
		{"resource case-sensitive", Request{Action: "oss:GetObject", Resource: ObjectResource("B", "k")}, false},
		{"action wildcard", Request{Action: "oss:GetObjectAcl", Resource: ObjectResource("b", "k")}, true},
		{"deny wins", Request{Action: "oss:GetObject", Resource: ObjectResource("b", "secret/k")}, false},
		{"other action", Request{Action: "oss:PutObject", Resource: ObjectResource("b", "k")}, false},
		{"other bucket", Request{Action: "oss:GetObject", Resource: ObjectResource("b2", "k")}, false},
		{"bucket resource for object action", Request{Action: "oss:GetObject", Resource: BucketResource("b")}, false},
		{"list in prefix", list("b", "pub/", "/"), true},
		{"list deeper", list("b", "pub/x/", "/"), true},
		{"list ? matches one", list("b", "img/1/", "/"), true},
		{"list ? not two", list("b", "img/12/", "/"), false},
		{"list wrong delimiter", list("b", "pub/", ""), false},
		{"list sibling", list("b", "pub2/", "/"), false},
		{"list root", list("b", "", "/"), false},
		{"list without prefix key", Request{Action: "oss:ListObjects", Resource: BucketResource("b"),
			Context: map[string]string{"oss:Delimiter": "/"}}, false},
		{"condition key case-insensitive", Request{Action: "oss:ListObjects", Resource: BucketResource("b"),
			Context: map[string]string{"OSS:prefix": "pub/", "oss:delimiter": "/"}}, true},
		{"not-like allows other", list("c", "public/", "/"), true},
		{"not-like denies match", list("c", "private/x", "/"), false},
		{"not-like needs key", Request{Action: "oss:ListObjects", Resource: BucketResource("c")}, false},
		{"not-equals and ignore-case", list("d", "y/", "%2f"), true},
		{"not-equals refuses", list("d", "x/", "/"), false},
		{"nothing matches", Request{Action: "oss:ListObjects", Resource: BucketResource("e")}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := doc.Allows(tt.r); got != tt.want {
				t.Errorf("Allows(%+v) = %v, want %v", tt.r, got, tt.want)
			}
		})
	}
}

func TestAllowsEmptyDocumentDenies(t *testing.T) {
	if (Document{}).Allows(Request{Action: "oss:GetObject", Resource: ObjectResource("b", "k")}) {
		t.Fatal("empty document allowed a request")
	}
}
