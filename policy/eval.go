package policy

import (
	"strings"
	"unicode/utf8"
)

// Request is one access to evaluate: an action such as "oss:GetObject", a
// resource such as ObjectResource("b", "k"), and the condition keys the
// request carries (for a listing "oss:Prefix" and "oss:Delimiter"). A key
// absent from Context never satisfies a condition on it.
type Request struct {
	Action, Resource string
	Context          map[string]string
}

// Allows reports whether d permits r: an explicit Deny in a matching
// statement wins, otherwise a matching Allow is needed, otherwise the request
// is denied.
func (d Document) Allows(r Request) bool {
	allowed := false
	for _, st := range d.Statement {
		if !st.matches(r) {
			continue
		}
		switch st.Effect {
		case EffectDeny:
			return false
		case EffectAllow:
			allowed = true
		}
	}
	return allowed
}

func (st Statement) matches(r Request) bool {
	return anyMatch(st.Action, r.Action, true) &&
		anyMatch(st.Resource, r.Resource, false) &&
		conditionsHold(st.Condition, r.Context)
}

func anyMatch(patterns []string, s string, foldCase bool) bool {
	if foldCase {
		s = strings.ToLower(s)
	}
	for _, p := range patterns {
		if foldCase {
			p = strings.ToLower(p)
		}
		if wildcardMatch(p, s) {
			return true
		}
	}
	return false
}

// conditionsHold is the AND over operators and keys, the OR over each key's
// values; negated operators hold when no value matches.
func conditionsHold(cond map[string]map[string]StringList, ctx map[string]string) bool {
	for op, keys := range cond {
		for key, values := range keys {
			v, ok := lookupKey(ctx, key)
			if !ok || !operatorHolds(op, v, values) {
				return false
			}
		}
	}
	return true
}

// lookupKey finds key exactly, then ignoring case: condition key names are
// case-insensitive in RAM, values are not.
func lookupKey(ctx map[string]string, key string) (string, bool) {
	if v, ok := ctx[key]; ok {
		return v, true
	}
	for k, v := range ctx {
		if strings.EqualFold(k, key) {
			return v, true
		}
	}
	return "", false
}

func operatorHolds(op, v string, values []string) bool {
	var match func(pattern string) bool
	negate := false
	switch op {
	case OpStringEquals:
		match = func(p string) bool { return p == v }
	case OpStringNotEquals:
		match, negate = func(p string) bool { return p == v }, true
	case OpStringEqualsIgnoreCase:
		match = func(p string) bool { return strings.EqualFold(p, v) }
	case OpStringLike:
		match = func(p string) bool { return wildcardMatch(p, v) }
	case OpStringNotLike:
		match, negate = func(p string) bool { return wildcardMatch(p, v) }, true
	default:
		// Parse rejects unknown operators; a hand-built Document with one
		// gets the safe answer.
		return false
	}
	for _, p := range values {
		if match(p) {
			return !negate
		}
	}
	return negate
}

// wildcardMatch reports whether s matches pattern, where '*' matches any run
// of characters (also '/' and the empty run) and '?' exactly one character.
// It runs in O(len(pattern)·len(s)) at worst: on a mismatch it only moves
// the last star forward, so hostile patterns cannot make it explode.
func wildcardMatch(pattern, s string) bool {
	p, i := 0, 0
	starP, starI := -1, 0
	for i < len(s) {
		if p < len(pattern) {
			switch pc, pw := utf8.DecodeRuneInString(pattern[p:]); pc {
			case '*':
				starP, starI = p, i
				p += pw
				continue
			case '?':
				_, sw := utf8.DecodeRuneInString(s[i:])
				p, i = p+pw, i+sw
				continue
			default:
				sc, sw := utf8.DecodeRuneInString(s[i:])
				if pc == sc && pattern[p:p+pw] == s[i:i+sw] {
					p, i = p+pw, i+sw
					continue
				}
			}
		}
		if starP < 0 {
			return false
		}
		// Let the last star swallow one more character and retry.
		_, sw := utf8.DecodeRuneInString(s[starI:])
		starI += sw
		p, i = starP+1, starI
	}
	for p < len(pattern) && pattern[p] == '*' {
		p++
	}
	return p == len(pattern)
}
