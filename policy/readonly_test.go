package policy

import (
	"strings"
	"testing"
)

func TestNormalizePrefix(t *testing.T) {
	for in, want := range map[string]string{"": "", "/": "", "//": "", "p": "p/", "/p": "p/", "p/": "p/", "/a/b": "a/b/", "a/b/": "a/b/"} {
		if got := NormalizePrefix(in); got != want {
			t.Errorf("NormalizePrefix(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestReadOnlyJSONMatchesReference(t *testing.T) {
	// Reference 9.4 (b) without the optional GetBucketInfo statement, which a
	// mount does not need.
	got, err := ReadOnlyJSON("my-bucket", "data/2024")
	if err != nil {
		t.Fatal(err)
	}
	want := `{"Version":"1","Statement":[` +
		`{"Effect":"Allow","Action":["oss:ListObjects"],"Resource":["acs:oss:*:*:my-bucket"],"Condition":{"StringLike":{"oss:Prefix":["data/2024/*"]}}},` +
		`{"Effect":"Allow","Action":["oss:GetObject"],"Resource":["acs:oss:*:*:my-bucket/data/2024/*"]}]}`
	if got != want {
		t.Fatalf("got  %s\nwant %s", got, want)
	}
	got, err = ReadOnlyJSON("my-bucket", "/")
	if err != nil {
		t.Fatal(err)
	}
	want = `{"Version":"1","Statement":[` +
		`{"Effect":"Allow","Action":["oss:ListObjects"],"Resource":["acs:oss:*:*:my-bucket"]},` +
		`{"Effect":"Allow","Action":["oss:GetObject"],"Resource":["acs:oss:*:*:my-bucket/*"]}]}`
	if got != want {
		t.Fatalf("got  %s\nwant %s", got, want)
	}
	if _, err := Parse([]byte(got)); err != nil {
		t.Fatalf("built policy does not parse: %v", err)
	}
}

func TestReadOnlyAllowsOnlyBucketAndPrefix(t *testing.T) {
	list := func(bucket string, ctx map[string]string) Request {
		return Request{Action: ActionListObjects, Resource: BucketResource(bucket), Context: ctx}
	}
	lp := func(p string) map[string]string { return map[string]string{KeyPrefix: p, KeyDelimiter: "/"} }
	obj := func(action, bucket, key string) Request {
		return Request{Action: action, Resource: ObjectResource(bucket, key)}
	}
	type check struct {
		name string
		r    Request
		want bool
	}
	tests := []struct {
		bucket, prefix string
		checks         []check
	}{
		{"b", "", []check{
			{"list root", list("b", lp("")), true},
			{"list no prefix key", list("b", nil), true},
			{"list dir", list("b", lp("x/")), true},
			{"get", obj(ActionGetObject, "b", "x/y"), true},
			{"get other bucket", obj(ActionGetObject, "b2", "x"), false},
			{"list other bucket", list("b2", lp("")), false},
			{"list bucket prefix-named", list("bb", lp("")), false},
			{"put", obj("oss:PutObject", "b", "x"), false},
			{"delete", obj("oss:DeleteObject", "b", "x"), false},
			{"delete bucket", Request{Action: "oss:DeleteBucket", Resource: BucketResource("b")}, false},
			{"get on bucket resource", Request{Action: ActionGetObject, Resource: BucketResource("b")}, false},
			{"list on object resource", obj(ActionListObjects, "b", "x"), false},
		}},
		{"b", "/p", []check{
			{"list scope root", list("b", lp("p/")), true},
			{"list scope subdir", list("b", lp("p/q/")), true},
			{"list scope without delimiter", list("b", map[string]string{KeyPrefix: "p/"}), true},
			{"list p without slash", list("b", lp("p")), false},
			{"list sibling p2", list("b", lp("p2/")), false},
			{"list bucket root", list("b", lp("")), false},
			{"list no prefix key", list("b", nil), false},
			{"list other bucket", list("c", lp("p/")), false},
			{"get inside", obj(ActionGetObject, "b", "p/f"), true},
			{"get deep", obj(ActionGetObject, "b", "p/q/r/f"), true},
			{"get sibling", obj(ActionGetObject, "b", "p2/f"), false},
			{"get p itself", obj(ActionGetObject, "b", "p"), false},
			{"get outside", obj(ActionGetObject, "b", "f"), false},
			{"get other bucket", obj(ActionGetObject, "c", "p/f"), false},
			{"put inside", obj("oss:PutObject", "b", "p/f"), false},
			{"delete inside", obj("oss:DeleteObject", "b", "p/f"), false},
			{"acl inside", obj("oss:GetObjectAcl", "b", "p/f"), false},
		}},
	}
	for _, tt := range tests {
		d := ReadOnly(tt.bucket, tt.prefix)
		for _, c := range tt.checks {
			t.Run(tt.bucket+":"+tt.prefix+"/"+c.name, func(t *testing.T) {
				if got := d.Allows(c.r); got != c.want {
					t.Errorf("Allows(%+v) = %v, want %v\npolicy %s", c.r, got, c.want, d.JSON())
				}
			})
		}
	}
}

func TestReadOnlyJSONErrors(t *testing.T) {
	// Overhead of the prefixed policy for a 1-character bucket: the longest
	// prefix that still fits is MaxSize minus that overhead.
	base := len(ReadOnly("b", "x/").JSON()) - 2
	fits := strings.Repeat("a", (MaxSize-base)/2-1) + "/"
	if js, err := ReadOnlyJSON("b", fits); err != nil || len(js) > MaxSize {
		t.Fatalf("prefix of %d bytes: len %d, err %v", len(fits), len(js), err)
	}
	tests := []struct {
		name, bucket, prefix, want string
	}{
		{"too long", "b", strings.Repeat("a", 1100), "over the STS limit"},
		{"just too long", "b", strings.Repeat("a", len(fits)+1), "over the STS limit"},
		{"empty bucket", "", "", "bucket name is empty"},
		{"slash in bucket", "a/b", "", "not valid"},
		{"star in bucket", "a*", "", "not valid"},
		{"star in prefix", "b", "a*/", "wildcards"},
		{"question in prefix", "b", "a?", "wildcards"},
		{"bad utf8", "b", "a\xff", "UTF-8"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ReadOnlyJSON(tt.bucket, tt.prefix)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want it to contain %q", err, tt.want)
			}
		})
	}
}

func TestCheckMountNeeds(t *testing.T) {
	tests := []struct {
		name, policy, bucket, prefix string
		want                         []string
	}{
		{"generated", ReadOnly("b", "p").JSON(), "b", "p", nil},
		{"generated root", ReadOnly("b", "").JSON(), "b", "", nil},
		{"prefixed policy, root mount", ReadOnly("b", "p").JSON(), "b", "", []string{ActionListObjects, ActionGetObject}},
		{"other prefix", ReadOnly("b", "p").JSON(), "b", "q", []string{ActionListObjects, ActionGetObject}},
		{"other bucket", ReadOnly("b", "").JSON(), "c", "", []string{ActionListObjects, ActionGetObject}},
		{"get only", `{"Version":"1","Statement":[{"Effect":"Allow","Action":"oss:GetObject","Resource":"acs:oss:*:*:b/*"}]}`,
			"b", "", []string{ActionListObjects}},
		{"exact prefix only", `{"Version":"1","Statement":[{"Effect":"Allow","Action":"oss:*","Resource":["acs:oss:*:*:b","acs:oss:*:*:b/*"],
			"Condition":{"StringEquals":{"oss:Prefix":"p/"}}}]}`, "b", "p", []string{ActionListObjects, ActionGetObject}},
		{"full access", `{"Version":"1","Statement":[{"Effect":"Allow","Action":"oss:*","Resource":"*"}]}`, "b", "p", nil},
		{"deny get deeper", `{"Version":"1","Statement":[{"Effect":"Allow","Action":"oss:*","Resource":"*"},
			{"Effect":"Deny","Action":"oss:GetObject","Resource":"acs:oss:*:*:b/p/dir/*"}]}`, "b", "p", []string{ActionGetObject}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := Parse([]byte(tt.policy))
			if err != nil {
				t.Fatal(err)
			}
			got := CheckMountNeeds(d, tt.bucket, tt.prefix)
			if strings.Join(got, ",") != strings.Join(tt.want, ",") {
				t.Errorf("CheckMountNeeds = %q, want %q", got, tt.want)
			}
		})
	}
}
