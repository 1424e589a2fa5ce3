package policy

import (
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"
)

// Actions a read-only mount uses (reference 9.2): ListObjects(V2) needs
// oss:ListObjects on the bucket; HeadObject and GetObject need oss:GetObject
// on the object.
const (
	ActionListObjects = "oss:ListObjects"
	ActionGetObject   = "oss:GetObject"
)

// Condition keys the OSS listing carries.
const (
	KeyPrefix    = "oss:Prefix"
	KeyDelimiter = "oss:Delimiter"
)

// BucketResource is the resource of bucket-level actions such as
// oss:ListObjects: acs:oss:*:*:bucket.
func BucketResource(bucket string) string { return "acs:oss:*:*:" + bucket }

// ObjectResource is the resource of object-level actions such as
// oss:GetObject: acs:oss:*:*:bucket/key.
func ObjectResource(bucket, key string) string { return BucketResource(bucket) + "/" + key }

// NormalizePrefix turns a mount prefix into the form the mount lists with:
// no leading "/", one trailing "/", or "" for the whole bucket.
func NormalizePrefix(prefix string) string {
	prefix = strings.TrimLeft(prefix, "/")
	if prefix == "" || strings.HasSuffix(prefix, "/") {
		return prefix
	}
	return prefix + "/"
}

// ReadOnly is the smallest session policy a read-only mount of bucket (and,
// when prefix is not empty, only of prefix) needs:
//
//   - without a prefix: oss:ListObjects on the bucket and oss:GetObject on
//     bucket/*;
//   - with prefix "p/": oss:ListObjects on the bucket only when oss:Prefix is
//     StringLike "p/*" (the mount always lists with a prefix ending in "/",
//     so "p" alone is not needed), and oss:GetObject on bucket/p/*.
//
// The prefix is normalized with NormalizePrefix. ReadOnly does not check its
// input; ReadOnlyJSON does, and is what callers should send to STS.
func ReadOnly(bucket, prefix string) Document {
	prefix = NormalizePrefix(prefix)
	list := Statement{
		Effect:   EffectAllow,
		Action:   StringList{ActionListObjects},
		Resource: StringList{BucketResource(bucket)},
	}
	if prefix != "" {
		list.Condition = map[string]map[string]StringList{
			OpStringLike: {KeyPrefix: {prefix + "*"}},
		}
	}
	get := Statement{
		Effect:   EffectAllow,
		Action:   StringList{ActionGetObject},
		Resource: StringList{ObjectResource(bucket, prefix+"*")},
	}
	return Document{Version: "1", Statement: []Statement{list, get}}
}

// ReadOnlyJSON returns ReadOnly(bucket, prefix) as compact JSON, or an error
// when the inputs cannot be expressed safely: an empty bucket or one with
// '/', ':' or wildcards; a prefix that is not valid UTF-8 or contains '*' or
// '?' (RAM patterns have no escape, so the policy would grant more than the
// prefix); or a result longer than MaxSize bytes.
func ReadOnlyJSON(bucket, prefix string) (string, error) {
	if bucket == "" {
		return "", errors.New("policy: bucket name is empty")
	}
	if strings.ContainsAny(bucket, "/:*?") || !utf8.ValidString(bucket) {
		return "", fmt.Errorf("policy: bucket name %q is not valid", bucket)
	}
	if !utf8.ValidString(prefix) {
		return "", fmt.Errorf("policy: prefix %q is not valid UTF-8", prefix)
	}
	if strings.ContainsAny(prefix, "*?") {
		return "", fmt.Errorf("policy: prefix %q contains '*' or '?', which a RAM policy treats as wildcards: "+
			"the policy would grant more than the prefix; write a policy file instead", prefix)
	}
	js := ReadOnly(bucket, prefix).JSON()
	if len(js) > MaxSize {
		return "", fmt.Errorf("policy: the session policy for bucket %q and prefix %q is %d bytes, over the STS limit of %d; "+
			"use a shorter prefix or a policy file with a wildcard", bucket, NormalizePrefix(prefix), len(js), MaxSize)
	}
	return js, nil
}

// CheckMountNeeds returns the actions a read-only mount of bucket and prefix
// needs that d does not allow, in a stable order, or nil when d is enough.
// It probes what the mount does: list the mount root and a subdirectory
// (oss:Prefix set to the normalized prefix, resp. a path below it, and
// oss:Delimiter "/"), and get an object at the root and one deeper.
func CheckMountNeeds(d Document, bucket, prefix string) []string {
	prefix = NormalizePrefix(prefix)
	listCtx := func(p string) map[string]string {
		return map[string]string{KeyPrefix: p, KeyDelimiter: "/"}
	}
	probes := []Request{
		{Action: ActionListObjects, Resource: BucketResource(bucket), Context: listCtx(prefix)},
		{Action: ActionListObjects, Resource: BucketResource(bucket), Context: listCtx(prefix + "dir/")},
		{Action: ActionGetObject, Resource: ObjectResource(bucket, prefix+"file")},
		{Action: ActionGetObject, Resource: ObjectResource(bucket, prefix+"dir/file")},
	}
	var missing []string
	seen := map[string]bool{}
	for _, r := range probes {
		if !d.Allows(r) && !seen[r.Action] {
			seen[r.Action] = true
			missing = append(missing, r.Action)
		}
	}
	return missing
}
