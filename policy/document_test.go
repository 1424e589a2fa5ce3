package policy

import (
	"reflect"
	"strings"
	"testing"
)

func TestParseAccepts(t *testing.T) {
	d, err := Parse([]byte(` {"Version":"1","Statement":[{"Effect":"Deny","Action":"oss:*","Resource":["acs:oss:*:*:b", "acs:oss:*:*:b/*"],
		"Condition":{"StringLike":{"oss:Prefix":"a/*"}}}]} `))
	if err != nil {
		t.Fatal(err)
	}
	want := Document{Version: "1", Statement: []Statement{{
		Effect: "Deny", Action: StringList{"oss:*"}, Resource: StringList{"acs:oss:*:*:b", "acs:oss:*:*:b/*"},
		Condition: map[string]map[string]StringList{"StringLike": {"oss:Prefix": {"a/*"}}},
	}}}
	if !reflect.DeepEqual(d, want) {
		t.Fatalf("got %#v\nwant %#v", d, want)
	}
	js := `{"Version":"1","Statement":[{"Effect":"Deny","Action":["oss:*"],"Resource":["acs:oss:*:*:b","acs:oss:*:*:b/*"],"Condition":{"StringLike":{"oss:Prefix":["a/*"]}}}]}`
	if got := d.JSON(); got != js {
		t.Fatalf("JSON() = %s\nwant     %s", got, js)
	}
}

func TestJSONStableAndUnescaped(t *testing.T) {
	d := Document{Version: "1", Statement: []Statement{{Effect: "Allow", Action: StringList{"oss:GetObject"},
		Resource: StringList{"acs:oss:*:*:b/<a&b>"},
		Condition: map[string]map[string]StringList{
			"StringLike": {"z": {"1"}, "a": {"2"}}, "StringEquals": {"m": {"3"}}}}}}
	first := d.JSON()
	for range 20 {
		if got := d.JSON(); got != first {
			t.Fatalf("JSON not stable: %s vs %s", got, first)
		}
	}
	if !strings.Contains(first, "<a&b>") {
		t.Errorf("JSON escaped HTML characters: %s", first)
	}
	if !strings.Contains(first, `"Condition":{"StringEquals":{"m":["3"]},"StringLike":{"a":["2"],"z":["1"]}}`) {
		t.Errorf("conditions not sorted: %s", first)
	}
}

func TestParseRejects(t *testing.T) {
	tests := []struct{ name, doc, want string }{
		{"not json", `{`, "not a valid policy document"},
		{"trailing data", `{"Version":"1","Statement":[{"Effect":"Allow","Action":"a","Resource":"r"}]} {}`, "after the closing brace"},
		{"version", `{"Version":"2","Statement":[{"Effect":"Allow","Action":"a","Resource":"r"}]}`, `Version must be "1"`},
		{"missing version", `{"Statement":[{"Effect":"Allow","Action":"a","Resource":"r"}]}`, `Version must be "1"`},
		{"no statements", `{"Version":"1","Statement":[]}`, "Statement is empty"},
		{"effect", `{"Version":"1","Statement":[{"Effect":"allow","Action":"a","Resource":"r"}]}`, "Statement[0]: Effect"},
		{"no action", `{"Version":"1","Statement":[{"Effect":"Allow","Resource":"r"}]}`, "Action is empty"},
		{"empty action item", `{"Version":"1","Statement":[{"Effect":"Allow","Action":["a",""],"Resource":"r"}]}`, "Action[1] is empty"},
		{"no resource", `{"Version":"1","Statement":[{"Effect":"Allow","Action":"a","Resource":[]}]}`, "Resource is empty"},
		{"action number", `{"Version":"1","Statement":[{"Effect":"Allow","Action":1,"Resource":"r"}]}`, "string or a list of strings"},
		{"unknown field", `{"Version":"1","Statement":[{"Effect":"Allow","NotAction":"a","Action":"a","Resource":"r"}]}`, "NotAction"},
		{"principal", `{"Version":"1","Statement":[{"Effect":"Allow","Principal":"*","Action":"a","Resource":"r"}]}`, "Principal"},
		{"unknown operator", `{"Version":"1","Statement":[{"Effect":"Allow","Action":"a","Resource":"r","Condition":{"IpAddress":{"acs:SourceIp":"1.2.3.4"}}}]}`, `unsupported operator "IpAddress"`},
		{"no condition keys", `{"Version":"1","Statement":[{"Effect":"Allow","Action":"a","Resource":"r","Condition":{"StringLike":{}}}]}`, "no keys"},
		{"no condition values", `{"Version":"1","Statement":[{"Effect":"Allow","Action":"a","Resource":"r","Condition":{"StringLike":{"k":[]}}}]}`, "no values"},
		{"second statement", `{"Version":"1","Statement":[{"Effect":"Allow","Action":"a","Resource":"r"},{"Effect":"Deny","Action":"a"}]}`, "Statement[1]: Resource is empty"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(tt.doc))
			if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.HasPrefix(err.Error(), "policy: ") {
				t.Fatalf("err = %v, want it to contain %q", err, tt.want)
			}
		})
	}
}

// FuzzParse checks that Parse never panics, that what it accepts survives a
// JSON round trip unchanged, and that evaluation of accepted documents
// terminates.
func FuzzParse(f *testing.F) {
	f.Add([]byte(ReadOnly("b", "p/").JSON()))
	f.Add([]byte(ReadOnly("b", "").JSON()))
	f.Fuzz(func(t *testing.T, data []byte) {
		d, err := Parse(data)
		if err != nil {
			return
		}
		js := d.JSON()
		d2, err := Parse([]byte(js))
		if err != nil {
			t.Fatalf("re-parse of %s: %v", js, err)
		}
		if js2 := d2.JSON(); js2 != js {
			t.Fatalf("round trip changed the document:\n%s\n%s", js, js2)
		}
		d.Allows(Request{Action: "oss:GetObject", Resource: ObjectResource("b", "p/k"),
			Context: map[string]string{KeyPrefix: "p/"}})
		CheckMountNeeds(d, "b", "p")
	})
}
